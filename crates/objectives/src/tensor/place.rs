//! Where a device computes, as the tensor plumbing needs to know it: on the host CPU (where f64 is
//! native and exact, and views need no copy), or elsewhere. Choosing a backend by name, and what a
//! device can do, is [`crate::backend`]'s.

use burn::backend::DispatchDevice;
use burn::tensor::Device;

/// Whether a device computes on the host CPU (burn's Flex or NdArray, autodiff looked through),
/// where f64 is native and exact.
pub fn is_host_cpu(device: &Device) -> bool {
    fn of(d: &DispatchDevice) -> bool {
        match d {
            #[cfg(feature = "flex")]
            DispatchDevice::Flex(_) => true,
            #[cfg(feature = "ndarray")]
            DispatchDevice::NdArray(_) => true,
            DispatchDevice::Autodiff(inner) => of(inner),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
    of(device.as_dispatch())
}

/// A device for host-side work on small tensors (e.g. the zero-filled shapes of
/// [`crate::explain()`]): Flex where it is built, else burn's default device.
pub fn host_device() -> Device {
    #[cfg(feature = "flex")]
    return Device::flex();
    #[cfg(not(feature = "flex"))]
    return Device::default();
}
