//! Choosing a burn backend by name, and what this build and this device can do.
//!
//! The library itself never picks a backend: every function takes tensors that already live on
//! a [`Device`]. The CLI, the training job and the test suite pick one by name through
//! [`BackendName`]: `flex` (burn's pure-Rust CPU backend, always built), `wgpu` (Vulkan, Metal
//! or DX12 through burn's CubeCL runtime; cargo feature `wgpu`), `cuda` (feature `cuda`) and
//! `ndarray` (feature `ndarray`). A name whose feature was not compiled in is a typed error that
//! says how to rebuild.
//!
//! ```
//! use objectives::device::BackendName;
//! let device = "flex".parse::<BackendName>()?.device()?;
//! assert_eq!(objectives::device::describe(&device), "flex (burn's pure-Rust CPU backend)");
//! # Ok::<(), objectives::Error>(())
//! ```
//!
//! f64 on GPU backends: Debian 12's Mesa 22 software Vulkan driver sums f64 wrongly (a sum of
//! 131,072 ones gives 131,066), and on Vulkan (Mesa 22 and 25 alike) f64 `exp`, `log`, `tanh` and
//! `pow` return garbage (`exp(1) ≈ 7e-315`): Vulkan defines them for 16- and 32-bit floats only.
//! [`f64_is_reliable`] probes a device once (known sums, and those functions at a few points) and
//! losses asked to compute in f64 on a device that fails the probe return
//! [`Error::UnreliableF64`] instead of a wrong number. The accurate sums themselves never need
//! f64 off the CPU: see [`crate::DynTensor::sum_all`].

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use burn::backend::DispatchDevice;
use burn::tensor::{DType, Device, Tensor, TensorData};

use crate::error::{Error, Result};
pub use crate::tensor::place::host_device;
use crate::tensor::place::is_host_cpu;

/// The environment variable the test suite reads its device from ([`from_env`]).
pub const DEVICE_ENV: &str = "OBJECTIVES_TEST_DEVICE";

/// A burn backend, by the name the CLI and the environment use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendName {
    /// burn's pure-Rust CPU backend (threads and SIMD); the fused kernels' CPU home.
    Flex,
    /// burn's wgpu runtime (Vulkan, Metal, DX12; WGSL kernels), default adapter.
    Wgpu,
    /// burn's CUDA runtime, device 0.
    Cuda,
    /// burn's deprecated NdArray CPU backend (composed path only).
    NdArray,
}

impl BackendName {
    /// Every name, in the order the CLI lists them.
    pub const ALL: [BackendName; 4] = [BackendName::Flex, BackendName::Wgpu, BackendName::Cuda, BackendName::NdArray];

    /// The name (`flex`, `wgpu`, `cuda`, `ndarray`).
    pub fn as_str(self) -> &'static str {
        match self {
            BackendName::Flex => "flex",
            BackendName::Wgpu => "wgpu",
            BackendName::Cuda => "cuda",
            BackendName::NdArray => "ndarray",
        }
    }

    /// Whether this build has the backend (its cargo feature was on).
    pub fn compiled_in(self) -> bool {
        match self {
            BackendName::Flex => cfg!(feature = "flex"),
            BackendName::Wgpu => cfg!(feature = "wgpu"),
            BackendName::Cuda => cfg!(feature = "cuda"),
            BackendName::NdArray => cfg!(feature = "ndarray"),
        }
    }

    /// The backend's default device (lazy: GPU runtimes open the adapter on first use).
    pub fn device(self) -> Result<Device> {
        let missing = || Error::BackendNotBuilt { backend: self.as_str() };
        match self {
            #[cfg(feature = "flex")]
            BackendName::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            BackendName::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(feature = "cuda")]
            BackendName::Cuda => Ok(Device::cuda(0)),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)] // burn deprecates NdArray; users may still choose it
            BackendName::NdArray => Ok(Device::ndarray()),
            #[allow(unreachable_patterns)] // every arm is compiled in under all features
            _ => Err(missing()),
        }
    }
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        BackendName::ALL
            .into_iter()
            .find(|b| b.as_str() == s.to_ascii_lowercase())
            .ok_or_else(|| Error::UnknownBackend(s.to_string()))
    }
}

/// The device named by [`DEVICE_ENV`] (`flex` when unset): how every test gets its device, so
/// one test body runs on each backend (`OBJECTIVES_TEST_DEVICE=wgpu cargo test --features wgpu`).
pub fn from_env() -> Result<Device> {
    match std::env::var(DEVICE_ENV) {
        Ok(name) if !name.is_empty() => name.parse::<BackendName>()?.device(),
        _ => BackendName::Flex.device(),
    }
}

/// [`from_env`] for tests and examples: the device, or a panic that says what to fix.
///
/// # Panics
/// When [`DEVICE_ENV`] names an unknown backend or one this build lacks.
#[allow(clippy::panic)] // a test helper: a misconfigured run must stop, loudly
pub fn test_device() -> Device {
    match from_env() {
        Ok(d) => d,
        Err(e) => panic!("{DEVICE_ENV}: {e}"),
    }
}

/// The backend a device belongs to (autodiff looked through).
pub fn backend_of(device: &Device) -> Option<BackendName> {
    fn of(d: &DispatchDevice) -> Option<BackendName> {
        match d {
            #[cfg(feature = "flex")]
            DispatchDevice::Flex(_) => Some(BackendName::Flex),
            #[cfg(feature = "ndarray")]
            DispatchDevice::NdArray(_) => Some(BackendName::NdArray),
            #[cfg(feature = "cube")]
            DispatchDevice::Cube(c) => match c {
                cubecl::Device::Cuda(_) => Some(BackendName::Cuda),
                cubecl::Device::Wgpu(_) => Some(BackendName::Wgpu),
                _ => None,
            },
            DispatchDevice::Autodiff(inner) => of(inner),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
    of(device.as_dispatch())
}

/// A line saying which backend and adapter a device is, e.g.
/// `wgpu: llvmpipe (LLVM 15.0.6, 256 bits)`.
pub fn describe(device: &Device) -> String {
    match backend_of(device) {
        Some(BackendName::Flex) => "flex (burn's pure-Rust CPU backend)".to_string(),
        Some(BackendName::NdArray) => "ndarray (burn's NdArray CPU backend)".to_string(),
        #[cfg(feature = "cube")]
        Some(b @ (BackendName::Wgpu | BackendName::Cuda)) => match device.identity() {
            Some(id) => format!("{b}: {}", id.name),
            None => format!("{b}: {device:?}"),
        },
        _ => format!("{device:?}"),
    }
}

/// Whether the device computes f64 correctly: probed once per device (a sum of 131,072 ones, of
/// 1..=4096 alternating in sign, and `exp`, `log`, `log1p`, `tanh`, `powf` at five points against
/// the CPU to 1e-12), `true` on host CPU backends without probing.
pub fn f64_is_reliable(device: &Device) -> bool {
    if is_host_cpu(device) {
        return true;
    }
    if !device.supports_dtype(DType::F64) {
        return false;
    }
    static PROBED: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let key = format!("{:?}", device.clone().inner());
    let cache = PROBED.get_or_init(Default::default);
    if let Some(&ok) = cache.lock().ok().and_then(|c| c.get(&key).copied()).as_ref() {
        return ok;
    }
    let ok = probe_f64(&device.clone().inner());
    if let Ok(mut c) = cache.lock() {
        c.insert(key, ok);
    }
    ok
}

fn probe_f64(device: &Device) -> bool {
    let read = |t: Tensor<1>| -> Option<Vec<f64>> { t.into_data().convert::<f64>().try_to_vec::<f64>().ok() };
    let tensor = |values: Vec<f64>| {
        let n = values.len();
        Tensor::<1>::from_data(TensorData::new(values, [n]), (device, DType::F64))
    };
    let sum = |values: Vec<f64>| read(tensor(values).sum()).and_then(|v| v.first().copied());
    let ones = sum(vec![1.0; 131_072]);
    // 1 - 2 + 3 - 4 + … - 4096 = -2048.
    let alternating = sum((1..=4096).map(|i| if i % 2 == 1 { i as f64 } else { -(i as f64) }).collect());
    // The transcendental functions the losses use: Vulkan's GLSL.std.450 defines exp, log, tanh and
    // pow for 16- and 32-bit floats only, and lavapipe returns garbage for f64 (exp(1) ≈ 7e-315).
    let x = vec![0.5, 1.0, 2.0, 3.0, 10.0];
    let close = |got: Option<Vec<f64>>, f: fn(f64) -> f64| {
        got.is_some_and(|g| {
            g.len() == x.len() && g.iter().zip(&x).all(|(g, &a)| (g - f(a)).abs() <= 1e-12 * f(a).abs().max(1.0))
        })
    };
    ones == Some(131_072.0)
        && alternating == Some(-2048.0)
        && close(read(tensor(x.clone()).exp()), f64::exp)
        && close(read(tensor(x.clone()).log()), f64::ln)
        && close(read(tensor(x.clone()).log1p()), f64::ln_1p)
        && close(read(tensor(x.clone()).tanh()), f64::tanh)
        && close(read(tensor(x.clone()).powf_scalar(1.5)), |a| a.powf(1.5))
}

/// Refuses f64 on a device whose f64 sums were found wrong ([`f64_is_reliable`]).
pub(crate) fn check_f64(device: &Device, what: &str) -> Result<()> {
    if f64_is_reliable(device) {
        Ok(())
    } else {
        Err(Error::UnreliableF64 { device: describe(device), what: what.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_say_how_to_build_what_is_missing() {
        for b in BackendName::ALL {
            assert_eq!(b.as_str().parse::<BackendName>().ok(), Some(b));
            match b.device() {
                Ok(d) => assert_eq!(backend_of(&d), Some(b)),
                Err(e) => {
                    assert!(!b.compiled_in());
                    let msg = e.to_string();
                    assert!(msg.contains(&format!("--features {b}")), "{msg}");
                }
            }
        }
        let err = "tpu".parse::<BackendName>().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("tpu") && err.contains("flex, wgpu, cuda, ndarray"), "{err}");
    }

    #[test]
    fn the_cpu_sums_f64_right_and_the_env_device_answers_the_probe() -> Result<()> {
        assert!(f64_is_reliable(&Device::flex()));
        let device = from_env()?;
        // On a GPU device this runs the probe; whatever it says, check_f64 agrees with it.
        assert_eq!(check_f64(&device, "test").is_ok(), f64_is_reliable(&device));
        Ok(())
    }
}
