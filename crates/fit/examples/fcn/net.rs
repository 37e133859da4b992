//! The fully convolutional network of the main job, shared with the `train_step` benchmark:
//! `Conv2d 3→width 3×3 same → ReLU → Conv2d width→width 3×3 same → ReLU → Conv2d width→7 1×1`,
//! from `(N, 3, H, W)` inputs to a channels-first `(N, 7, H, W)` output.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use objectives::DynTensor;
use objectives_fit::Model;

/// Two 3×3 "same" convolutions with ReLU and a 1×1 head to 7 features per position.
#[derive(Module, Debug)]
pub struct Fcn {
    conv1: Conv2d,
    conv2: Conv2d,
    head: Conv2d,
}

impl Fcn {
    /// A freshly initialised network with `width` hidden channels (burn's default initialisers).
    pub fn new(width: usize, device: &Device) -> Self {
        let same = PaddingConfig2d::Same;
        Self {
            conv1: Conv2dConfig::new([3, width], [3, 3]).with_padding(same.clone()).init(device),
            conv2: Conv2dConfig::new([width, width], [3, 3]).with_padding(same).init(device),
            head: Conv2dConfig::new([width, 7], [1, 1]).init(device),
        }
    }

    /// The network's output `(N, 7, H, W)` as a plain burn tensor.
    pub fn features(&self, x: Tensor<4>) -> Tensor<4> {
        let h = relu(self.conv1.forward(x));
        let h = relu(self.conv2.forward(h));
        self.head.forward(h)
    }
}

impl Model<4> for Fcn {
    fn forward(&self, x: Tensor<4>) -> Vec<DynTensor> {
        vec![self.features(x).into()]
    }
}
