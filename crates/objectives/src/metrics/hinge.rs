//! Hinge metrics (`keras/src/metrics/hinge_metrics.py`, Keras 3.15.1): the weighted mean over
//! samples of the matching loss function — `Hinge`, `SquaredHinge` and `CategoricalHinge`.
//!
//! `axis` is objectives' extension (default -1, Keras's behaviour, not written to the config):
//! the axis the loss reduces (the class axis of `CategoricalHinge`).

use super::mean::loss_axis_metric;

loss_axis_metric!(
    /// `keras.metrics.Hinge`: the weighted mean over samples of [`crate::hinge()`],
    /// `mean(max(1 − y·y_pred, 0), axis)` with labels `{0, 1}` mapped to `y ∈ {−1, 1}`.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// let d = Device::flex();
    /// let mut m = objectives::metrics::get("hinge")?;
    /// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
    /// let p: DynTensor = Tensor::<2>::from_floats([[0.6, 0.4], [0.4, 0.6]], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert!((m.result().scalar()? - 1.3).abs() < 1e-6);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    Hinge,
    "Hinge",
    "hinge",
    hinge,
    HingeConfig
);

loss_axis_metric!(
    /// `keras.metrics.SquaredHinge`: the weighted mean over samples of [`crate::squared_hinge`],
    /// `mean(max(1 − y·y_pred, 0)², axis)` with labels `{0, 1}` mapped to `y ∈ {−1, 1}`.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// let d = Device::flex();
    /// let mut m = objectives::metrics::get("squared_hinge")?;
    /// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
    /// let p: DynTensor = Tensor::<2>::from_floats([[0.6, 0.4], [0.4, 0.6]], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert!((m.result().scalar()? - 1.86).abs() < 1e-6);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    SquaredHinge,
    "SquaredHinge",
    "squared_hinge",
    squared_hinge,
    SquaredHingeConfig
);

loss_axis_metric!(
    /// `keras.metrics.CategoricalHinge`: the weighted mean over samples of
    /// [`crate::categorical_hinge`], `max(0, max_axis((1 − y_true)·y_pred) − Σ_axis y_true·y_pred + 1)`.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// let d = Device::flex();
    /// let mut m = objectives::metrics::get("categorical_hinge")?;
    /// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
    /// let p: DynTensor = Tensor::<2>::from_floats([[0.6, 0.4], [0.4, 0.6]], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert!((m.result().scalar()? - 1.4).abs() < 1e-6);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    CategoricalHinge,
    "CategoricalHinge",
    "categorical_hinge",
    categorical_hinge,
    CategoricalHingeConfig
);

#[cfg(test)]
mod tests {
    use super::super::metric::Metric;
    use crate::testing::d2;

    fn get(name: &str) -> Box<dyn Metric> {
        super::super::get(name).unwrap()
    }

    #[test]
    fn docstring_examples() {
        let t = d2(&[[0., 1.], [0., 0.]]);
        let p = d2(&[[0.6, 0.4], [0.4, 0.6]]);
        let d = crate::backend::test_device();
        let w = crate::DynTensor::from_data(burn::tensor::TensorData::new(vec![1f32, 0.], vec![2]), &d).unwrap();
        for (name, a, b) in [("hinge", 1.3, 1.1), ("squared_hinge", 1.86, 1.46), ("categorical_hinge", 1.4000001, 1.2)]
        {
            let mut m = get(name);
            assert_eq!(m.name(), name);
            m.update_state(&t, &p, None).unwrap();
            assert!((m.result().scalar().unwrap() - a).abs() < 1e-6, "{name}");
            m.reset_state();
            m.update_state(&t, &p, Some(&w)).unwrap();
            assert!((m.result().scalar().unwrap() - b).abs() < 1e-6, "{name} weighted");
        }
    }

    #[test]
    fn default_axis_is_not_written() {
        assert!(!get("Hinge").config().contains_key("axis"));
        let m = super::super::from_keras_json(&serde_json::json!({"class_name": "Hinge", "config": {"axis": 0}}));
        assert_eq!(m.unwrap().config()["axis"], 0);
    }
}
