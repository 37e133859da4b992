//! The kernels against f64 references of the composed formulas (values and gradients, every
//! weight layout, odd shapes), the vectorised math against std, and the elementwise losses
//! against burn autodiff of the composed implementations. Shared here: test data, the weight
//! layouts and the comparison; by concern in the submodules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod elementwise;
mod math;
mod softmax;

use super::categorical::Probabilities;
use super::elementwise::elementwise_with;
use super::layout::CHUNK;
use super::pointwise::Run;
use super::softmax::softmax_rows;
use super::sparse::Labels;
use super::*;
use elementwise::{elementwise_kinds, inputs, ref_elementwise, ref_point};
use softmax::{logits, ref_cce, ref_scce};

/// xorshift64*: deterministic test data without a dependency.
pub(super) struct Rng(pub(super) u64);
impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * u
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(super) fn chance(&mut self, p: f32) -> bool {
        self.uniform(0.0, 1.0) < p
    }
}

/// An owned weight configuration.
pub(super) struct WeightCase {
    name: &'static str,
    sample: Option<(Vec<f32>, usize)>,
    mask: Option<(Vec<f32>, usize)>,
    rescale: Option<f32>,
}

impl WeightCase {
    fn weights(&self) -> Weights<'_> {
        Weights {
            sample: self.sample.as_ref().map(|(data, repeat)| Factor { data, repeat: *repeat }),
            mask: self.mask.as_ref().map(|(data, repeat)| Factor { data, repeat: *repeat }),
            mask_rescale: self.rescale,
        }
    }
}

pub(super) fn weight_cases(dims: Dims, rng: &mut Rng) -> Vec<WeightCase> {
    let reduced = dims.reduced();
    let per_leading: Vec<f32> = (0..dims.pre).map(|_| rng.uniform(0.0, 2.0)).collect();
    let full: Vec<f32> = (0..reduced).map(|_| rng.uniform(-0.5, 2.0)).collect();
    let mask: Vec<f32> = (0..reduced).map(|_| if rng.chance(0.3) { 0.0 } else { 1.0 }).collect();
    let mask_leading: Vec<f32> = (0..dims.pre).map(|i| if i % 3 == 1 { 0.0 } else { 1.0 }).collect();
    let post = dims.post.max(1);
    vec![
        WeightCase { name: "none", sample: None, mask: None, rescale: None },
        WeightCase { name: "sample per leading", sample: Some((per_leading.clone(), post)), mask: None, rescale: None },
        WeightCase { name: "scalar sample", sample: Some((vec![0.7], usize::MAX)), mask: None, rescale: None },
        WeightCase { name: "raw mask", sample: None, mask: Some((mask.clone(), 1)), rescale: None },
        WeightCase {
            name: "sample + rescaled mask",
            sample: Some((per_leading, post)),
            mask: Some((mask, 1)),
            rescale: Some(1.6),
        },
        WeightCase {
            name: "full sample + mask per leading",
            sample: Some((full, 1)),
            mask: Some((mask_leading, post)),
            rescale: None,
        },
    ]
}

pub(super) fn ref_weight(w: &Weights<'_>, r: usize) -> f64 {
    let at = |f: &Factor<'_>| f64::from(f.data[r / f.repeat]);
    let s = w.sample.as_ref().map_or(1.0, at);
    let m = match (&w.mask, w.mask_rescale) {
        (None, _) => 1.0,
        (Some(f), None) => at(f),
        (Some(f), Some(rescale)) => {
            if at(f) != 0.0 {
                f64::from(rescale)
            } else {
                0.0
            }
        }
    };
    s * m
}

/// Calls `f(i, j, l, e, r)` for every element.
pub(super) fn for_each_element(dims: Dims, mut f: impl FnMut(usize, usize, usize, usize, usize)) {
    for i in 0..dims.pre {
        for j in 0..dims.c {
            for l in 0..dims.post {
                f(i, j, l, (i * dims.c + j) * dims.post + l, i * dims.post + l);
            }
        }
    }
}

/// Value within `1e-5` of the reference (relative to `Σ|w·v|`), gradient within `1e-5`
/// relative plus `1e-6` of the largest reference gradient.
pub(super) fn assert_matches(what: &str, value: f64, grad: &[f32], ref_value: f64, magnitude: f64, ref_grad: &[f64]) {
    assert!(
        (value - ref_value).abs() <= 1e-5 * magnitude.max(ref_value.abs()) + 1e-30,
        "{what}: value {value} vs reference {ref_value} (Σ|w·v| = {magnitude})"
    );
    assert_eq!(grad.len(), ref_grad.len());
    let gmax = ref_grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for (e, (&g, &r)) in grad.iter().zip(ref_grad).enumerate() {
        assert!(
            (f64::from(g) - r).abs() <= 1e-5 * r.abs() + 1e-6 * gmax,
            "{what}: grad[{e}] = {g} vs reference {r} (max |grad| {gmax})"
        );
    }
}

/// A kernel's result against its reference: finite, then [`assert_matches`].
pub(super) fn check_against(what: &str, value: f64, grad: &[f32], reference: (f64, f64, Vec<f64>)) {
    assert!(value.is_finite() && grad.iter().all(|g| g.is_finite()), "{what}: not finite");
    let (ref_value, magnitude, ref_grad) = reference;
    assert_matches(what, value, grad, ref_value, magnitude, &ref_grad);
}

/// The references' gradients are the derivatives of their values (away from kinks).
#[test]
fn references_match_finite_differences() {
    let mut rng = Rng(7);
    for kind in elementwise_kinds() {
        let (t, p) = inputs(kind, 400, &mut rng, false);
        for (&t, &p) in t.iter().zip(&p) {
            let p = f64::from(p) + f64::from(rng.uniform(0.01, 0.02)); // off the grid of kinks
            let h = 1e-6 * p.abs().max(1.0);
            let (_, d) = ref_point(kind, t, p, false);
            let (up, _) = ref_point(kind, t, p + h, false);
            let (down, _) = ref_point(kind, t, p - h, false);
            let fd = (up - down) / (2.0 * h);
            assert!((fd - d).abs() <= 1e-5 * (1.0 + d.abs()), "{kind:?} t={t} p={p}: d = {d}, fd = {fd}");
        }
    }
    // Softmax references.
    let dims = Dims { pre: 2, c: 5, post: 3 };
    let z: Vec<f32> = (0..dims.len()).map(|_| rng.uniform(-4.0, 4.0)).collect();
    let t: Vec<f32> = (0..dims.len()).map(|_| rng.uniform(0.0, 1.0)).collect();
    let labels: Vec<i64> = (0..dims.reduced()).map(|_| rng.below(5) as i64).collect();
    let w = Weights::default();
    let (_, _, g) = ref_cce(&t, &z, dims, 0.1, &w, 1.0);
    let (_, _, gs) = ref_scce(&labels, &z, dims, None, &w, 1.0);
    for e in 0..dims.len() {
        let h = 1e-3f32;
        let (mut up, mut down) = (z.clone(), z.clone());
        up[e] += h;
        down[e] -= h;
        let h = f64::from(up[e]) - f64::from(down[e]);
        let fd = (ref_cce(&t, &up, dims, 0.1, &w, 1.0).0 - ref_cce(&t, &down, dims, 0.1, &w, 1.0).0) / h;
        assert!((fd - g[e]).abs() <= 1e-5, "cce grad[{e}] {} vs fd {fd}", g[e]);
        let fd = (ref_scce(&labels, &up, dims, None, &w, 1.0).0 - ref_scce(&labels, &down, dims, None, &w, 1.0).0) / h;
        assert!((fd - gs[e]).abs() <= 1e-5, "scce grad[{e}] {} vs fd {fd}", gs[e]);
    }
}

#[test]
fn mask_sum_is_exact_enough() {
    let mut rng = Rng(3);
    for n in [0usize, 1, 7, 16, 1000, CHUNK + 3, 5 * CHUNK] {
        let m: Vec<f32> = (0..n).map(|_| rng.uniform(0.0, 1.0)).collect();
        let reference: f64 = m.iter().map(|&v| f64::from(v)).sum();
        assert!((mask_sum(&m) - reference).abs() <= 1e-12 * reference.max(1.0), "n = {n}");
    }
}

/// The results do not depend on the number of threads (fixed chunking, ordered sums).
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut rng = Rng(5);
    let dims = Dims { pre: 8, c: 3000, post: 3 };
    let (t, p) = inputs(Elementwise::LogCosh, dims.len(), &mut rng, false);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut g1 = vec![0.0; dims.len()];
            let mut g2 = vec![0.0; dims.len()];
            let v1 = elementwise(Elementwise::LogCosh, &t, &p, dims, Weights::default(), 1.0, &mut g1);
            let v2 = softmax_crossentropy(&t, &p, dims, 0.0, Weights::default(), 1.0, &mut g2);
            (v1.to_bits(), v2.to_bits(), g1, g2)
        })
    };
    assert_eq!(run(1), run(3));
}

/// The paths with and without fused multiply-adds agree (the tests above run the one this CPU
/// takes).
#[test]
fn fma_and_plain_paths_agree() {
    let mut rng = Rng(23);
    let wide = |g: &[f32]| g.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    for &(pre, c, post) in &[(3, 5, 7), (4, 300, 1), (2, 3, 9000)] {
        let dims = Dims { pre, c, post };
        let (mut g1, mut g2) = (vec![0.0; dims.len()], vec![0.0; dims.len()]);
        let cases = weight_cases(dims, &mut rng);
        let w = cases[4].weights();
        for kind in elementwise_kinds() {
            let (t, p) = inputs(kind, dims.len(), &mut rng, true);
            let v1 =
                elementwise_with(kind, Run::<false> { y_true: &t, y_pred: &p, dims, w, scale: 0.5, grad: &mut g1 });
            let v2 = elementwise_with(kind, Run::<true> { y_true: &t, y_pred: &p, dims, w, scale: 0.5, grad: &mut g2 });
            let (_, magnitude, _) = ref_elementwise(kind, &t, &p, dims, &w, 0.5);
            assert_matches(&format!("{kind:?} {dims:?}"), v1, &g1, v2, magnitude, &wide(&g2));
        }
        let z = logits(dims.len(), &mut rng, true);
        let t: Vec<f32> = (0..dims.len()).map(|_| rng.uniform(0.0, 1.0)).collect();
        let v1 = softmax_rows::<_, false>(&Probabilities::new(0.1, dims.c), &t, &z, dims, w, 0.5, &mut g1);
        let v2 = softmax_rows::<_, true>(&Probabilities::new(0.1, dims.c), &t, &z, dims, w, 0.5, &mut g2);
        let (_, magnitude, _) = ref_cce(&t, &z, dims, 0.1, &w, 0.5);
        assert_matches(&format!("cce {dims:?}"), v1, &g1, v2, magnitude, &wide(&g2));
        let labels: Vec<i64> = (0..dims.reduced()).map(|_| rng.below(c) as i64).collect();
        let v1 = softmax_rows::<_, false>(&Labels { ignore_class: Some(0) }, &labels, &z, dims, w, 0.5, &mut g1);
        let v2 = softmax_rows::<_, true>(&Labels { ignore_class: Some(0) }, &labels, &z, dims, w, 0.5, &mut g2);
        let (_, magnitude, _) = ref_scce(&labels, &z, dims, Some(0), &w, 0.5);
        assert_matches(&format!("scce {dims:?}"), v1, &g1, v2, magnitude, &wide(&g2));
    }
}
