//! `objectives eval --device wgpu` gives `--device flex`'s numbers: every conformance vector's
//! inputs (Keras's own test cases) through the binary on both backends, loss and gradient, to
//! 1e-5 relative. Built only with the `wgpu` feature (`cargo test -p objectives-cli --features
//! wgpu`); it needs a Vulkan driver (Mesa's software one will do, see `.ci/install_vulkan.sh`).

#![cfg(feature = "wgpu")]
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use std::path::{Path, PathBuf};
use std::process::Command;

use npyz::WriterBuilder;
use serde_json::Value;

fn vectors() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/keras-losses-vectors.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A value or `@fixture`, flattened: (shape, values).
fn array(fixtures: &Value, v: &Value) -> (Vec<u64>, Vec<f32>) {
    let v = match v.as_str().and_then(|s| s.strip_prefix('@')) {
        Some(name) => &fixtures[name],
        None => v,
    };
    fn walk(v: &Value, depth: usize, shape: &mut Vec<u64>, out: &mut Vec<f32>) {
        match v {
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len() as u64);
                }
                for i in items {
                    walk(i, depth + 1, shape, out);
                }
            }
            Value::Bool(b) => out.push(f32::from(u8::from(*b))),
            other => out.push(other.as_f64().unwrap_or(f64::NAN) as f32),
        }
    }
    let (mut shape, mut out) = (vec![], vec![]);
    walk(v, 0, &mut shape, &mut out);
    (shape, out)
}

fn write(path: &Path, (shape, v): &(Vec<u64>, Vec<f32>)) -> PathBuf {
    let mut buf = vec![];
    let mut w = npyz::WriteOptions::<f32>::new().default_dtype().shape(shape).writer(&mut buf).begin_nd().unwrap();
    w.extend(v.iter().copied()).unwrap();
    w.finish().unwrap();
    std::fs::write(path, buf).unwrap();
    path.to_path_buf()
}

fn read(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    npyz::NpyFile::new(&bytes[..]).unwrap().into_vec::<f32>().unwrap()
}

/// `eval --json --grad` on `device`: (values, gradient), or the error line.
fn eval(device: &str, loss: &str, files: &[(&str, &Path)], dir: &Path) -> Result<(Vec<f64>, Vec<f32>), String> {
    let grad = dir.join(format!("grad_{device}.npy"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_objectives"));
    cmd.args(["eval", "--json", "--device", device, "--loss", loss]).arg("--grad").arg(&grad);
    for (flag, path) in files {
        cmd.arg(flag).arg(path);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let values = match (&json["value"], &json["values"]) {
        (Value::Number(n), _) => vec![n.as_f64().unwrap()],
        (_, Value::Array(a)) => a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect(),
        _ => panic!("no value in {json}"),
    };
    if device != "flex" {
        let described = json["device"].as_str().unwrap_or_default();
        assert!(described.starts_with(device), "--device {device} ran on {described}");
    }
    Ok((values, read(&grad)))
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-5 * scale.max(1e-6) || (a.is_nan() && b.is_nan())
}

#[test]
fn eval_on_wgpu_gives_flexs_numbers_on_every_conformance_input() {
    let vs = vectors();
    let dir = tempfile::tempdir().unwrap();
    let (mut compared, mut failures) = (0, vec![]);
    for (k, v) in vs["vectors"].as_array().unwrap().iter().enumerate() {
        // The CLI takes (y_true, y_pred[, sample_weight]); circle's reference embeddings are not
        // CLI arguments, and the ExampleLoss vectors test Keras's base class, not a loss.
        let class = v["loss"].as_str().unwrap_or_default();
        if v.get("call_kwargs").is_some() || class.starts_with("ExampleLoss") {
            continue;
        }
        let config = v.get("args").cloned().unwrap_or_else(|| Value::Object(Default::default()));
        let loss = serde_json::json!({ "class_name": class, "config": config }).to_string();
        let yt = write(&dir.path().join(format!("{k}_t.npy")), &array(&vs["fixtures"], &v["y_true"]));
        let yp = write(&dir.path().join(format!("{k}_p.npy")), &array(&vs["fixtures"], &v["y_pred"]));
        let mut files = vec![("--y-true", yt.as_path()), ("--y-pred", yp.as_path())];
        let sw;
        if let Some(w) = v.get("sample_weight").filter(|w| !w.is_null()) {
            sw = write(&dir.path().join(format!("{k}_w.npy")), &array(&vs["fixtures"], w));
            files.push(("--sample-weight", sw.as_path()));
        }
        let test = v["test"].as_str().unwrap_or("?");
        match (eval("flex", &loss, &files, dir.path()), eval("wgpu", &loss, &files, dir.path())) {
            (Ok((v0, g0)), Ok((v1, g1))) => {
                compared += 1;
                let scale = v0.iter().fold(1.0f64, |m, x| m.max(x.abs()));
                if v0.len() != v1.len() || v0.iter().zip(&v1).any(|(a, b)| !close(*a, *b, scale)) {
                    failures.push(format!("{test}: flex {v0:?} vs wgpu {v1:?}"));
                }
                let gs = g0.iter().fold(1e-2f64, |m, x| m.max(f64::from(x.abs())));
                if g0.len() != g1.len() || g0.iter().zip(&g1).any(|(a, b)| !close(f64::from(*a), f64::from(*b), gs)) {
                    failures.push(format!("{test}: gradients differ: flex {g0:?} vs wgpu {g1:?}"));
                }
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "{test}: both refused, differently"),
            (a, b) => failures.push(format!("{test}: flex {:?} vs wgpu {:?}", a.map(|r| r.0), b.map(|r| r.0))),
        }
    }
    assert!(failures.is_empty(), "{} of {compared} differ:\n  {}", failures.len(), failures.join("\n  "));
    assert!(compared > 70, "only {compared} vectors compared");
}
