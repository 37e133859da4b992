//! A metric's state: named arrays of [`ExactSum`] cells, merged by adding cell by cell.

use super::exact::ExactSum;
use crate::error::{Error, Result};

/// One state variable: Keras's `add_variable(shape, name)`, e.g. AUC's `true_positives` of shape
/// `[num_thresholds]` or IoU's `total_confusion_matrix` of shape `[K, K]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    /// Keras's variable name.
    pub name: String,
    /// Its shape (`[]` for a scalar), row-major.
    pub shape: Vec<usize>,
    /// The cells, `shape.iter().product()` of them.
    pub cells: Vec<ExactSum>,
}

impl Variable {
    /// A zero variable.
    pub fn zeros(name: impl Into<String>, shape: &[usize]) -> Self {
        let n = shape.iter().product();
        Self { name: name.into(), shape: shape.to_vec(), cells: vec![ExactSum::default(); n] }
    }

    /// The cells rounded to f64.
    pub fn values(&self) -> Vec<f64> {
        self.cells.iter().map(ExactSum::value).collect()
    }

    /// The single cell of a scalar variable, rounded to f64.
    pub fn scalar(&self) -> f64 {
        self.cells.first().map_or(0.0, ExactSum::value)
    }
}

/// A metric's whole state: plain data. Any split of the data along the batch axis, updated part by
/// part and merged in any order, gives exactly the state of one update on everything.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct State {
    /// The variables, in the metric's order.
    pub vars: Vec<Variable>,
}

impl State {
    /// A zero state with these variables.
    pub fn new(layout: Vec<Variable>) -> Self {
        Self { vars: layout }
    }

    /// A zero state with the same variables as `self`.
    pub fn zeroed(&self) -> Self {
        Self { vars: self.vars.iter().map(|v| Variable::zeros(v.name.clone(), &v.shape)).collect() }
    }

    /// Resets every cell to zero.
    pub fn clear(&mut self) {
        self.vars.iter_mut().flat_map(|v| v.cells.iter_mut()).for_each(ExactSum::clear);
    }

    /// Variable `i` (in layout order).
    ///
    /// # Panics
    /// Never for an index within the metric's own layout; the metric implementations index
    /// their own variables.
    pub fn var(&self, i: usize) -> &Variable {
        &self.vars[i]
    }

    /// Variable `i`, mutably.
    pub fn var_mut(&mut self, i: usize) -> &mut Variable {
        &mut self.vars[i]
    }

    /// The variables' names and shapes, in order.
    pub fn layout(&self) -> Vec<(String, Vec<usize>)> {
        self.vars.iter().map(|v| (v.name.clone(), v.shape.clone())).collect()
    }

    /// Adds the cells of each variable of `other` into this state's variable of the same name
    /// and shape, if it has one (a state built on the first batch takes in what the unbuilt one
    /// held).
    pub fn add_matching(&mut self, other: &State) {
        for b in &other.vars {
            if let Some(a) = self.vars.iter_mut().find(|a| a.name == b.name && a.shape == b.shape) {
                a.cells.iter_mut().zip(&b.cells).for_each(|(x, y)| x.merge(y));
            }
        }
    }

    /// Adds `other` cell by cell (the exact merge).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the two states do not have the same variables and
    /// shapes (states of differently configured metrics).
    pub fn merge(&mut self, other: &State, metric: &str) -> Result<()> {
        if self.layout() != other.layout() {
            return Err(Error::InvalidConfig {
                name: metric.to_string(),
                message: format!(
                    "cannot merge a state with variables {:?} into one with {:?}; merge states of identically \
                     configured metrics",
                    other.layout(),
                    self.layout()
                ),
            });
        }
        for (a, b) in self.vars.iter_mut().zip(&other.vars) {
            for (x, y) in a.cells.iter_mut().zip(&b.cells) {
                x.merge(y);
            }
        }
        Ok(())
    }
}
