//! The `objectives eval` contract, on hand-made `.npy` files, as a new user would run it.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

/// `objectives metric` (in this binary: one link of burn fewer).
#[path = "parts/metric.rs"]
mod metric;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use npyz::WriterBuilder;

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")))
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    fn f32(&self, name: &str, shape: &[u64], v: &[f32]) -> PathBuf {
        write(&self.path(name), shape, v)
    }
    fn i64(&self, name: &str, shape: &[u64], v: &[i64]) -> PathBuf {
        write(&self.path(name), shape, v)
    }
    fn i32(&self, name: &str, shape: &[u64], v: &[i32]) -> PathBuf {
        write(&self.path(name), shape, v)
    }
    fn bool(&self, name: &str, shape: &[u64], v: &[bool]) -> PathBuf {
        write(&self.path(name), shape, v)
    }
}

fn write<T: npyz::Serialize + npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], v: &[T]) -> PathBuf {
    let mut buf = vec![];
    let mut w = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut buf)
        .begin_nd()
        .unwrap_or_else(|e| panic!("{e}"));
    w.extend(v.iter().copied()).unwrap_or_else(|e| panic!("{e}"));
    w.finish().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(path, buf).unwrap_or_else(|e| panic!("{e}"));
    path.to_path_buf()
}

fn read_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap_or_else(|e| panic!("{e}"));
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap_or_else(|e| panic!("{e}")))
}

fn eval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objectives"))
        .arg("eval")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running objectives: {e}"))
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * b.abs().max(1.0)
}

/// Keras's `MeanSquaredErrorTest` fixtures A and B.
fn fixtures(d: &Dir) -> (PathBuf, PathBuf) {
    (d.f32("t.npy", &[2, 3], &[1., 9., 2., -5., -2., 6.]), d.f32("p.npy", &[2, 3], &[4., 8., 12., 8., 1., 3.]))
}

#[test]
fn mse_by_alias_matches_keras() {
    let d = Dir::new();
    let (t, p) = fixtures(&d);
    let v = json(&eval(&["--loss", "mse", "--y-true", s(&t), "--y-pred", s(&p), "--json"]));
    assert!(close(v["value"].as_f64().unwrap_or(f64::NAN), 49.5), "{v}");
    let out = eval(&["--loss", "MeanSquaredError", "--y-true", s(&t), "--y-pred", s(&p)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("49.5"));
}

#[test]
fn per_sample_weights_on_a_sequence_loss_weigh_samples() {
    // (B, T, 1) predictions → MSE over the last axis gives a (B, T) loss; (B,) weights.
    let d = Dir::new();
    let t = d.f32("t.npy", &[2, 3, 1], &[1., 9., 2., -5., -2., 6.]);
    let p = d.f32("p.npy", &[2, 3, 1], &[4., 8., 12., 8., 1., 3.]);
    let w = d.f32("w.npy", &[2], &[1.2, 3.4]);
    let w2 = d.f32("w2.npy", &[2, 1], &[1.2, 3.4]);
    let a = json(&eval(&["--loss", "mse", "--y-true", s(&t), "--y-pred", s(&p), "--sample-weight", s(&w), "--json"]));
    let b = json(&eval(&["--loss", "mse", "--y-true", s(&t), "--y-pred", s(&p), "--sample-weight", s(&w2), "--json"]));
    // Keras's MeanSquaredErrorTest.test_sample_weighted value, same as Keras with (B, 1) weights.
    assert!(close(a["value"].as_f64().unwrap_or(f64::NAN), 127.96667), "{a}");
    assert_eq!(a["value"], b["value"]);
}

#[test]
fn all_masked_batch_gives_zero() {
    let d = Dir::new();
    let (t, p) = fixtures(&d);
    let m = d.bool("m.npy", &[2], &[false, false]);
    for r in ["sum_over_batch_size", "mean_with_sample_weight", "sum"] {
        let loss = format!(r#"{{"class_name": "MeanSquaredError", "config": {{"reduction": "{r}"}}}}"#);
        let v = json(&eval(&["--loss", &loss, "--y-true", s(&t), "--y-pred", s(&p), "--mask", s(&m), "--json"]));
        assert_eq!(v["value"].as_f64(), Some(0.0), "{r}: {v}");
    }
}

#[test]
fn mask_divides_by_valid_count_and_grad_is_written() {
    let d = Dir::new();
    let (t, p) = fixtures(&d);
    let m = d.bool("m.npy", &[2], &[true, false]);
    let out = d.path("loss.npy");
    let grad = d.path("grad.npy");
    let v = json(&eval(&[
        "--loss",
        "mse",
        "--y-true",
        s(&t),
        "--y-pred",
        s(&p),
        "--mask",
        s(&m),
        "--out",
        s(&out),
        "--grad",
        s(&grad),
        "--json",
    ]));
    // Only the first sample (loss 110/3) is valid: Σ v·m / Σm = 36.6667.
    assert!(close(v["value"].as_f64().unwrap_or(f64::NAN), 110.0 / 3.0), "{v}");
    let (shape, loss) = read_f32(&out);
    assert_eq!(shape, Vec::<u64>::new());
    assert!(close(f64::from(loss[0]), 110.0 / 3.0));
    let (shape, g) = read_f32(&grad);
    assert_eq!(shape, vec![2, 3]);
    // d/dp of (1/1)·mean((p − t)²) over the valid row: 2(p − t)/3; zero for the masked row.
    let expected = [2.0, -2.0 / 3.0, 20.0 / 3.0, 0.0, 0.0, 0.0];
    for (g, e) in g.iter().zip(expected) {
        assert!(close(f64::from(*g), e), "{g} vs {e}");
    }
}

#[test]
fn no_reduction_writes_the_per_sample_array() {
    let d = Dir::new();
    let (t, p) = fixtures(&d);
    let cfg = d.path("loss.json");
    std::fs::write(&cfg, r#"{"module": "keras.losses", "class_name": "MeanSquaredError", "config": {"reduction": null}, "registered_name": null}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let out = d.path("o.npy");
    let loss = format!("@{}", s(&cfg));
    let v = json(&eval(&["--loss", &loss, "--y-true", s(&t), "--y-pred", s(&p), "--out", s(&out), "--json"]));
    assert_eq!(v["shape"], serde_json::json!([2]));
    let (shape, vals) = read_f32(&out);
    assert_eq!(shape, vec![2]);
    assert!(close(f64::from(vals[0]), 110.0 / 3.0) && close(f64::from(vals[1]), 187.0 / 3.0), "{vals:?}");
}

#[test]
fn integer_labels_work() {
    let d = Dir::new();
    let t = d.i64("t.npy", &[2, 2], &[0, 1, 0, 0]);
    let p = d.f32("p.npy", &[2, 2], &[0.6, 0.4, 0.4, 0.6]);
    let v = json(&eval(&["--loss", "hinge", "--y-true", s(&t), "--y-pred", s(&p), "--json"]));
    assert!(close(v["value"].as_f64().unwrap_or(f64::NAN), 1.3), "{v}");
}

fn assert_fails(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "`{needle}` not in: {err}");
}

#[test]
fn bad_input_is_one_line_and_exit_code_2_with_no_output_file() {
    let d = Dir::new();
    let (t, p) = fixtures(&d);
    let bad = d.f32("bad.npy", &[3, 3], &[0.; 9]);
    let out = d.path("never.npy");
    assert_fails(&eval(&["--loss", "mse", "--y-true", s(&t), "--y-pred", s(&bad), "--out", s(&out)]), "[3, 3]");
    assert!(!out.exists());
    assert_fails(
        &eval(&["--loss", "mse", "--y-true", s(&t), "--y-pred", s(&p), "--sample-weight", s(&bad)]),
        "sample_weight",
    );
    assert_fails(&eval(&["--loss", "msee", "--y-true", s(&t), "--y-pred", s(&p)]), "unknown loss `msee`");
    assert_fails(&eval(&["--loss", "mse", "--y-true", s(&d.path("missing.npy")), "--y-pred", s(&p)]), "missing.npy");
    let cfg = r#"{"class_name": "Huber", "config": {"delta": "two"}}"#;
    assert_fails(&eval(&["--loss", cfg, "--y-true", s(&t), "--y-pred", s(&p)]), "Huber");
    let nodir = d.path("no/such/dir/o.npy");
    assert_fails(&eval(&["--loss", "mse", "--y-true", s(&t), "--y-pred", s(&p), "--out", s(&nodir)]), "does not exist");
    std::fs::write(d.path("junk.npy"), b"not an npy file").unwrap_or_else(|e| panic!("{e}"));
    assert_fails(&eval(&["--loss", "mse", "--y-true", s(&d.path("junk.npy")), "--y-pred", s(&p)]), "not a .npy file");
}

#[test]
fn sparse_int_labels_with_channels_first_logits() {
    let d = Dir::new();
    // Labels (2, 2) as int32, logits (2, 3, 2): class axis 1. Logits favour class 0 by ln 2 only
    // at position [0, 0]; elsewhere uniform, so each position costs ln 3 except [0, 0].
    let t = d.i32("t.npy", &[2, 2], &[0, 2, 1, 255]);
    let mut x = vec![0.0f32; 12];
    x[0] = std::f32::consts::LN_2; // sample 0, class 0, position 0
    let p = d.f32("x.npy", &[2, 3, 2], &x);
    let cfg = r#"{"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": true, "axis": 1, "ignore_class": 255}}"#;
    let v = json(&eval(&["--loss", cfg, "--y-true", s(&t), "--y-pred", s(&p), "--json"]));
    // Position [0,0]: −log(2/4) = ln 2; two more valid positions cost ln 3; 255 is ignored.
    let expected = (std::f64::consts::LN_2 + 2.0 * 3f64.ln()) / 3.0;
    assert!(close(v["value"].as_f64().unwrap_or(f64::NAN), expected), "{v}");
    // Without ignore_class, 255 is an out-of-range label: an error naming value and position.
    let cfg = r#"{"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": true, "axis": 1}}"#;
    assert_fails(&eval(&["--loss", cfg, "--y-true", s(&t), "--y-pred", s(&p)]), "label 255 at position [1, 1]");
    // With the default axis (-1) the shapes do not pair: the error says which axis to set.
    assert_fails(&eval(&["--loss", "sparse_categorical_crossentropy", "--y-true", s(&t), "--y-pred", s(&p)]), "axis=1");
}

#[test]
fn explain_prints_the_motivating_plan() {
    let out = Command::new(env!("CARGO_BIN_EXE_objectives"))
        .args(["explain", "--loss", r#"{"class_name": "MeanSquaredError", "config": {"axis": 1}}"#])
        .args(["--y-pred-shape", "64,7,16,16", "--sample-weight-shape", "64,16,16"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("reduces axis 1") && text.contains("[64, 16, 16]") && text.contains("/ 16384"), "{text}");
    let bad = Command::new(env!("CARGO_BIN_EXE_objectives"))
        .args(["explain", "--loss", "mse", "--y-pred-shape", "64,x"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_fails(&bad, "--y-pred-shape");
}

#[test]
fn list_names_every_loss_and_metric_in_aligned_columns() {
    let out = Command::new(env!("CARGO_BIN_EXE_objectives"))
        .arg("list")
        .output()
        .unwrap_or_else(|e| panic!("running objectives: {e}"));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let (losses, metrics) = text.split_once("\nmetrics:\n").unwrap_or_else(|| panic!("{text}"));
    let lines: Vec<&str> = losses.lines().skip(1).collect();
    assert_eq!(lines.len(), 1 + objectives::registry::ALL_LOSSES.len(), "{text}");
    // The function column starts at the same offset on every row, the longest class name included.
    let header = lines[0].find("function").unwrap_or_else(|| panic!("{text}"));
    for (line, e) in lines[1..].iter().zip(objectives::registry::ALL_LOSSES) {
        assert!(line.starts_with(e.class_name), "{line}");
        assert_eq!(line.find(e.function_name), Some(header), "misaligned row: {line:?}\n{text}");
    }
    let lines: Vec<&str> = metrics.lines().collect();
    let all = objectives::metrics::registry::all();
    assert_eq!(lines.len(), 1 + all.len(), "{text}");
    let header = lines[0].find("name").unwrap_or_else(|| panic!("{text}"));
    for (line, e) in lines[1..].iter().zip(all) {
        assert!(line.starts_with(e.class_name), "{line}");
        assert_eq!(line[header..].split(' ').next(), Some(e.names()[1].as_str()), "misaligned row: {line:?}");
    }
}
