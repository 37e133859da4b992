//! `explain`: how a loss turns `y_pred` of a given shape into the number it returns, shape by
//! shape — the axis its function reduces and why, how the sample weight and mask are aligned and
//! rescaled, and the final sum and divisor. It also says where Keras 3 would behave differently.
//!
//! ```
//! use objectives::prelude::*;
//! let mse = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
//! let plan = objectives::explain(&mse, None, &[64, 7, 16, 16], Some(&[64, 16, 16]), None)?;
//! let text = plan.to_string();
//! assert!(text.contains("[64, 16, 16]") && text.contains("16384"));
//! # Ok::<(), objectives::Error>(())
//! ```

use std::fmt;

use burn::tensor::FloatDType;

use crate::error::{Error, Result};
use crate::losses::loss::{Loss, LossValues};
use crate::reduce::semantics::Semantics;
use crate::reduce::{Divisor, MaskRule, ReducePlan, Reduction};
use crate::tensor::dyn_tensor::DynTensor;
use crate::tensor::shape::squeeze_or_expand_to_same_rank;

/// The largest tensor `explain` builds (it runs the loss on zero-filled tensors of the shapes).
const MAX_ELEMENTS: usize = 1 << 24;

/// One step of a [`Plan`].
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// What happens.
    pub what: String,
    /// The shape after the step.
    pub shape: Vec<usize>,
    /// The formula or rule applied.
    pub formula: String,
}

/// The reduction plan of a loss for given input shapes; `Display` prints it as text.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The loss's name and class.
    pub loss: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Where Keras 3 would raise or compute something else for these shapes.
    pub warnings: Vec<String>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.loss)?;
        let what = self.steps.iter().map(|s| s.what.chars().count()).max().unwrap_or(0);
        let shapes: Vec<String> = self.steps.iter().map(|s| format!("{:?}", s.shape)).collect();
        let shape = shapes.iter().map(String::len).max().unwrap_or(0);
        for (i, (s, sh)) in self.steps.iter().zip(&shapes).enumerate() {
            let line = format!("{:>2}. {:<what$}  {:<shape$}  {}", i + 1, s.what, sh, s.formula);
            writeln!(f, "{}", line.trim_end())?;
        }
        for w in &self.warnings {
            writeln!(f, "note: {w}")?;
        }
        Ok(())
    }
}

fn zeros(shape: &[usize], what: &str) -> Result<DynTensor> {
    let n: usize = shape.iter().product();
    if n > MAX_ELEMENTS {
        return Err(Error::Data(format!(
            "explain runs the loss on zero-filled tensors; {what} of shape {shape:?} has {n} elements (more than \
             {MAX_ELEMENTS}): explain a smaller batch, the plan is the same"
        )));
    }
    DynTensor::full(shape, 0.0, FloatDType::F32, &crate::tensor::place::host_device())
}

/// Explains how `loss` reduces a `y_pred` of shape `y_pred`, with `y_true` of shape `y_true`
/// (default: `y_pred`'s shape, or its shape without the class axis for sparse losses), and
/// optional `sample_weight` and `mask` shapes. The reduction shown is Keras 3's.
///
/// # Errors
/// The errors the loss would raise for these shapes (so a bad combination is explained by the
/// same message the call would give), or [`Error::Data`] for shapes too large to try.
pub fn explain<L: Loss + ?Sized>(
    loss: &L,
    y_true: Option<&[usize]>,
    y_pred: &[usize],
    sample_weight: Option<&[usize]>,
    mask: Option<&[usize]>,
) -> Result<Plan> {
    let mut steps = vec![];
    let mut warnings = vec![];
    let p = zeros(y_pred, "y_pred")?;
    let (t, values) = match y_true {
        Some(s) => {
            let t = zeros(s, "y_true")?;
            let v = loss.per_sample(&t, &p)?;
            (t, v)
        }
        None => {
            let t = zeros(y_pred, "y_true")?;
            match loss.per_sample(&t, &p) {
                Ok(v) => (t, v),
                Err(Error::SparseShapeMismatch { expected, .. }) => {
                    let t = zeros(&expected, "y_true")?;
                    let v = loss.per_sample(&t, &p)?;
                    (t, v)
                }
                Err(e) => return Err(e),
            }
        }
    };
    let LossValues { values, mask: own_mask } = values;
    steps.push(Step { what: "y_true".into(), shape: t.shape().to_vec(), formula: String::new() });
    steps.push(Step { what: "y_pred".into(), shape: y_pred.to_vec(), formula: String::new() });
    let (ta, pa) = squeeze_or_expand_to_same_rank(t.clone(), p.clone());
    if ta.shape() != t.shape() || pa.shape() != p.shape() {
        steps.push(Step {
            what: "Keras's wrapper aligns the ranks".into(),
            shape: pa.shape().to_vec(),
            formula: format!(
                "y_true {:?}, y_pred {:?} (trailing size-1 axis squeezed/expanded)",
                ta.shape(),
                pa.shape()
            ),
        });
    }

    // The loss function and the axis it reduces.
    let config = loss.to_keras_json();
    let axis = match config["config"].get("axis") {
        None => "axis -1 (the default, as in Keras)".to_string(),
        Some(serde_json::Value::Null) => "every axis (its `axis` is None)".to_string(),
        Some(serde_json::Value::Number(a)) if a.as_i64() == Some(-1) => {
            "axis -1 (the default, as in Keras)".to_string()
        }
        Some(a) => format!("axis {a} (its `axis`)"),
    };
    let formula =
        if loss.formula().is_empty() { "see the loss's documentation".to_string() } else { loss.formula().to_string() };
    steps.push(Step {
        what: format!("{}: reduces {axis}", loss.class_name()),
        shape: values.shape().to_vec(),
        formula,
    });
    let reduction = loss.reduction();
    // The reducer's own plan for these shapes: every step below reads it.
    let plan = ReducePlan::new(reduction, values.shape(), sample_weight, mask)?;
    let rescale = plan.mask_rule == MaskRule::Rescale;
    if own_mask.is_some() {
        steps.push(Step {
            what: "the loss masks its own output".into(),
            shape: values.shape().to_vec(),
            formula: if rescale {
                "e.g. ignore_class: m = 0 there, rescaled by total/valid like a mask".into()
            } else {
                "e.g. ignore_class: m = 0 there".into()
            },
        });
    }

    let batch = values.shape().first().copied().unwrap_or(1);
    // Where our per-sample extension of Keras's rank rules applies, Keras 3 raises.
    let keras3_note = |what: &str, given: &[usize], losses: &[usize]| {
        if given.len() == 1 && losses.len() >= 2 && given[0] == losses[0] {
            let second = losses[1];
            let silent = if second == given[0] {
                format!(" — and here, since axis 1 also has size {second}, it would silently weight that axis instead")
            } else {
                String::new()
            };
            Some(format!(
                "Keras 3 raises \"Incompatible shapes\" for a {what} of shape {given:?} on losses of shape {losses:?}{silent}; \
                 objectives applies it per sample (as shape [{batch}, 1, …]). Pass shape [{batch}, 1] to get the same in Keras."
            ))
        } else {
            None
        }
    };

    if let Some(m) = &plan.mask {
        let total: usize = m.given.iter().product();
        steps.push(Step {
            what: "mask".into(),
            shape: m.aligned.clone(),
            formula: plan.mask_rule.describe(reduction, total),
        });
        warnings.extend(keras3_note("mask", &m.given, values.shape()));
    }
    if let Some(w) = &plan.sample_weight {
        let how =
            if w.aligned == w.given { "as given".to_string() } else { format!("{:?} → {:?}", w.given, w.aligned) };
        steps.push(Step {
            what: "sample_weight".into(),
            shape: w.aligned.clone(),
            formula: format!("aligned {how}{}", if mask.is_some() { ", then multiplied by the mask" } else { "" }),
        });
        warnings.extend(keras3_note("sample_weight", &w.given, values.shape()));
    }
    let weighted = plan.weighted.clone();
    let n = plan.count();
    if plan.sample_weight.is_some() || plan.mask.is_some() {
        steps.push(Step {
            what: "weighted losses".into(),
            shape: weighted.clone(),
            formula: "v · w (NumPy broadcasting)".into(),
        });
    }
    let masked = mask.is_some() || own_mask.is_some();
    let m_sym = if masked { "·m" } else { "" };
    let w_sym = if sample_weight.is_some() { "·w" } else { "" };
    let (what, formula) = match (reduction, plan.divisor) {
        (_, Divisor::Unreduced) => ("returned unreduced (reduction \"none\")".to_string(), format!("v{w_sym}{m_sym}")),
        (_, Divisor::One) => ("sum (reduction \"sum\")".to_string(), format!("Σ v{w_sym}{m_sym} over {n} elements")),
        (Reduction::MeanWithSampleWeight, Divisor::WeightSum) => (
            "weighted mean (reduction \"mean_with_sample_weight\")".to_string(),
            if sample_weight.is_some() {
                format!("Σ v{w_sym}{m_sym} / Σ(w{m_sym}) (weights as aligned, not broadcast)")
            } else {
                "Σ v·m / Σm".to_string()
            },
        ),
        (Reduction::MeanWithSampleWeight, _) if masked => {
            ("weighted mean (reduction \"mean_with_sample_weight\")".to_string(), "Σ v·m / Σm".to_string())
        }
        (Reduction::MeanWithSampleWeight, _) => {
            ("weighted mean (reduction \"mean_with_sample_weight\")".to_string(), format!("Σ v / {n}"))
        }
        (_, _) => (
            format!("mean (reduction \"{reduction}\")"),
            format!(
                "Σ v{w_sym}{m_sym} / {n}  (the divisor is the element count of {weighted:?}, never Σw){}",
                if masked { "; with the rescaled mask this is Σ v·w·m / Σm" } else { "" }
            ),
        ),
    };
    let out_shape = if reduction == Reduction::None { weighted.clone() } else { vec![] };
    steps.push(Step { what, shape: out_shape, formula });
    if loss.semantics() != Semantics::Keras3 {
        warnings.push(format!(
            "this loss reduces with {} semantics; the plan above shows Keras 3's",
            loss.semantics().as_str()
        ));
    }
    Ok(Plan { loss: format!("{} ({}, reduction={})", loss.name(), loss.class_name(), reduction), steps, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MeanSquaredError, MeanSquaredErrorConfig};

    #[test]
    fn motivating_case_plan() -> Result<()> {
        let mse = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
        let plan = explain(&mse, None, &[64, 7, 16, 16], Some(&[64, 16, 16]), None)?;
        let per_sample = &plan.steps[2];
        assert_eq!(per_sample.shape, vec![64, 16, 16]);
        assert!(per_sample.what.contains("axis 1"), "{plan}");
        let last = plan.steps.last().map(|s| s.formula.clone()).unwrap_or_default();
        assert!(last.contains("/ 16384"), "{plan}");
        assert!(plan.warnings.is_empty(), "{plan}");
        Ok(())
    }

    #[test]
    fn sequence_loss_with_per_sample_weights_warns_about_keras_3() -> Result<()> {
        let plan = explain(&MeanSquaredError::default(), None, &[32, 20, 8], Some(&[32]), None)?;
        assert!(plan.steps.iter().any(|s| s.what == "sample_weight" && s.shape == vec![32, 1]), "{plan}");
        assert!(plan.warnings.iter().any(|w| w.contains("Incompatible shapes")), "{plan}");
        let silent = explain(&MeanSquaredError::default(), None, &[20, 20, 8], Some(&[20]), None)?;
        assert!(silent.warnings.iter().any(|w| w.contains("silently weight")), "{silent}");
        Ok(())
    }

    #[test]
    fn bad_shapes_are_the_calls_errors() {
        assert!(explain(&MeanSquaredError::default(), None, &[4, 3], Some(&[5]), None).is_err());
        assert!(explain(&MeanSquaredError::default(), None, &[1 << 20, 1 << 10], None, None).is_err());
    }
}
