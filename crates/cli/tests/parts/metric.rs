//! `objectives metric` as a new user runs it, on hand-made .npy files. Expected values were
//! computed with Keras 3.15.1 (JAX backend) on the same arrays fed in the same chunks
//! (`m.update_state(t[i:i+n], p[i:i+n], w[i:i+n])` for each chunk, then `m.result()`).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use npyz::WriterBuilder;

fn write<T: npyz::Serialize + npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], v: &[T]) -> PathBuf {
    let mut buf = vec![];
    let mut w = npyz::WriteOptions::<T>::new().default_dtype().shape(shape).writer(&mut buf).begin_nd().unwrap();
    w.extend(v.iter().copied()).unwrap();
    w.finish().unwrap();
    std::fs::write(path, buf).unwrap();
    path.to_path_buf()
}

fn read_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

fn metric(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objectives")).arg("metric").args(args).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * b.abs().max(1.0)
}

struct Files {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        Files { _dir: dir, root }
    }
    fn f32(&self, name: &str, shape: &[u64], v: &[f32]) -> PathBuf {
        write(&self.root.join(name), shape, v)
    }
    fn i64(&self, name: &str, shape: &[u64], v: &[i64]) -> PathBuf {
        write(&self.root.join(name), shape, v)
    }
}

/// Binary labels, scores and weights of 8 samples.
fn binary(f: &Files) -> (PathBuf, PathBuf, PathBuf) {
    (
        f.f32("t.npy", &[8], &[0., 1., 1., 0., 1., 0., 1., 1.]),
        f.f32("p.npy", &[8], &[0.1, 0.8, 0.45, 0.55, 0.3, 0.2, 0.9, 0.6]),
        f.f32("w.npy", &[8], &[1., 2., 1., 0.5, 1., 1., 3., 1.]),
    )
}

#[test]
fn auc_with_a_thresholds_list_in_batches_of_3_with_weights() {
    let f = Files::new();
    let (t, p, w) = binary(&f);
    let spec = r#"{"module": "keras.metrics", "class_name": "AUC", "config": {"thresholds": [0.3, 0.5, 0.7]}, "registered_name": null}"#;
    let out = metric(&[
        "--metric",
        spec,
        "--y-true",
        s(&t),
        "--y-pred",
        s(&p),
        "--sample-weight",
        s(&w),
        "--batch-size",
        "3",
        "--json",
    ]);
    let j = json(&out);
    assert_eq!(j["updates"], 3);
    assert!(close(j["value"].as_f64().unwrap(), 0.887499988079071), "{j}");
    // Default AUC by name, every row at once.
    let j = json(&metric(&["--metric", "auc", "--y-true", s(&t), "--y-pred", s(&p), "--json"]));
    assert!(close(j["value"].as_f64().unwrap(), 0.8666666746139526), "{j}");
}

#[test]
fn precision_with_a_thresholds_list_writes_a_1d_result() {
    let f = Files::new();
    let (t, p, _) = binary(&f);
    let cfg = f.root.join("precision.json");
    std::fs::write(&cfg, r#"{"class_name": "Precision", "config": {"thresholds": [0.3, 0.5, 0.7]}}"#).unwrap();
    let out_path = f.root.join("r.npy");
    let at = format!("@{}", s(&cfg));
    let out =
        metric(&["--metric", &at, "--y-true", s(&t), "--y-pred", s(&p), "--batch-size", "3", "--out", s(&out_path)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (shape, v) = read_f32(&out_path);
    assert_eq!(shape, vec![3]);
    for (g, e) in v.iter().zip([0.800000011920929, 0.75, 1.0]) {
        assert!(close(f64::from(*g), e), "{v:?}");
    }
}

/// (2, 3, 2, 2) logits with the classes on axis 1, (2, 2, 2) integer labels.
fn segmentation(f: &Files) -> (PathBuf, PathBuf, PathBuf) {
    let logits = [
        2., 0., 1., 0., 1., 3., 0., 0.5, 0., 1., 2., 0.1, // sample 0: class planes 0, 1, 2
        0., 0., 5., 1., 1., 2., 1., 1., 3., 1., 0., 2., // sample 1
    ];
    (
        f.i64("labels.npy", &[2, 2, 2], &[0, 2, 2, 1, 1, 1, 0, 0]),
        f.f32("logits.npy", &[2, 3, 2, 2], &logits),
        f.f32("pw.npy", &[2, 2, 2], &[1., 1., 0.5, 2., 1., 0., 1., 1.]),
    )
}

#[test]
fn mean_iou_on_channels_first_logits_with_axis_1() {
    let f = Files::new();
    let (t, p, w) = segmentation(&f);
    let spec = r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "sparse_y_pred": false, "axis": 1}}"#;
    // Keras 3.15.1's MeanIoU(axis=1) accumulates this confusion matrix, [[2,0,1],[0,2,1],[0,1,1]],
    // but its result() then sums the per-class IoU over `axis` too and raises; with the classes
    // moved last and axis=-1 it gives 0.472222238779068 (unweighted), 0.3888889253139496 (weighted).
    let j = json(&metric(&["--metric", spec, "--y-true", s(&t), "--y-pred", s(&p), "--batch-size", "1", "--json"]));
    assert!(close(j["value"].as_f64().unwrap(), 0.472222238779068), "{j}");
    assert_eq!(j["updates"], 2);
    let j =
        json(&metric(&["--metric", spec, "--y-true", s(&t), "--y-pred", s(&p), "--sample-weight", s(&w), "--json"]));
    assert!(close(j["value"].as_f64().unwrap(), 0.3888889253139496), "{j}");
    let iou = r#"{"class_name": "IoU", "config": {"num_classes": 3, "target_class_ids": [0, 2], "sparse_y_pred": false, "axis": 1}}"#;
    let j = json(&metric(&["--metric", iou, "--y-true", s(&t), "--y-pred", s(&p), "--batch-size", "2", "--json"]));
    assert!(close(j["value"].as_f64().unwrap(), 0.4583333432674408), "{j}");
}

#[test]
fn precision_and_recall_with_top_k() {
    let f = Files::new();
    let t = f.f32("t.npy", &[3, 4], &[0., 1., 1., 0., 1., 0., 0., 1., 0., 0., 1., 1.]);
    let p = f.f32("p.npy", &[3, 4], &[0.9, 0.8, 0.1, 0.3, 0.2, 0.7, 0.6, 0.9, 0.5, 0.4, 0.3, 0.8]);
    let spec = r#"{"class_name": "Precision", "config": {"top_k": 2}}"#;
    let j = json(&metric(&["--metric", spec, "--y-true", s(&t), "--y-pred", s(&p), "--batch-size", "2", "--json"]));
    assert!(close(j["value"].as_f64().unwrap(), 0.5), "{j}");
    let spec = r#"{"class_name": "Recall", "config": {"top_k": 2, "class_id": 3}}"#;
    let j = json(&metric(&["--metric", spec, "--y-true", s(&t), "--y-pred", s(&p), "--json"]));
    assert!(close(j["value"].as_f64().unwrap(), 1.0), "{j}");
    // F1 with average=None: a vector.
    let spec = r#"{"class_name": "F1Score", "config": {"average": null, "threshold": 0.5}}"#;
    let j = json(&metric(&["--metric", spec, "--y-true", s(&t), "--y-pred", s(&p), "--json"]));
    let got: Vec<f64> = j["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    for (g, e) in got.iter().zip([0.0, 0.666666567325592, 0.0, 1.0]) {
        assert!(close(*g, e), "{got:?}");
    }
}

fn assert_fails(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
}

#[test]
fn bad_input_is_one_line_and_exit_code_2_with_no_output_file() {
    let f = Files::new();
    let (t, p, _) = segmentation(&f);
    let out_path = f.root.join("never.npy");
    let bad_labels = f.i64("bad.npy", &[2, 2, 2], &[0, 2, 2, 1, 1, 7, 0, 0]);
    let spec = r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "sparse_y_pred": false, "axis": 1}}"#;
    let out = metric(&["--metric", spec, "--y-true", s(&bad_labels), "--y-pred", s(&p), "--out", s(&out_path)]);
    assert_fails(&out, "7");
    assert!(!out_path.exists());
    assert_fails(&metric(&["--metric", "no_such_metric", "--y-true", s(&t), "--y-pred", s(&p)]), "unknown metric");
    assert_fails(&metric(&["--metric", "mean_io_u", "--y-true", s(&t), "--y-pred", s(&p)]), "num_classes");
    assert_fails(
        &metric(&["--metric", "auc", "--y-true", s(&t), "--y-pred", s(&p), "--batch-size", "0"]),
        "--batch-size",
    );
    let (bt, bp, _) = binary(&f);
    let spec = r#"{"class_name": "AUC", "config": {"thresholds": [0.5, 1.5]}}"#;
    assert_fails(&metric(&["--metric", spec, "--y-true", s(&bt), "--y-pred", s(&bp)]), "1.5");
    let short = f.f32("short.npy", &[3], &[1., 1., 1.]);
    assert_fails(
        &metric(&[
            "--metric",
            "auc",
            "--y-true",
            s(&bt),
            "--y-pred",
            s(&bp),
            "--sample-weight",
            s(&short),
            "--batch-size",
            "4",
        ]),
        "--sample-weight",
    );
}

#[test]
fn acc_picks_the_accuracy_from_the_shapes_as_compile_does() {
    let f = Files::new();
    let t = f.i64("labels.npy", &[3], &[0, 3, 1]);
    let p = f.f32("p.npy", &[3, 4], &[0.9, 0.8, 0.1, 0.3, 0.2, 0.7, 0.6, 0.9, 0.5, 0.4, 0.3, 0.8]);
    let j = json(&metric(&["--metric", "acc", "--y-true", s(&t), "--y-pred", s(&p), "--json"]));
    assert_eq!(j["class_name"], "SparseCategoricalAccuracy");
    assert_eq!(j["metric"], "acc");
    assert!(close(j["value"].as_f64().unwrap(), 2.0 / 3.0), "{j}");
    // `accuracy` is keras.metrics.get's: the Accuracy class (y_true == y_pred).
    let same = f.f32("same.npy", &[2, 2], &[1., 2., 3., 4.]);
    let other = f.f32("other.npy", &[2, 2], &[1., 0., 3., 4.]);
    let j = json(&metric(&["--metric", "accuracy", "--y-true", s(&same), "--y-pred", s(&other), "--json"]));
    assert_eq!(j["class_name"], "Accuracy");
    assert!(close(j["value"].as_f64().unwrap(), 0.75), "{j}");
}
