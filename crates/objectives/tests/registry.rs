//! The registry is the list of losses: everything else about a loss is checked against it, and
//! this test names whatever piece of a registered loss is missing (CONTRIBUTING.md, "Adding a loss").
//!
//! For every entry of `registry::ALL_LOSSES`:
//! 1. its file `src/<family>/<function_name>.rs` exists, with a doc example (`# Example`);
//! 2. its test variants are JSON objects that build, and round-trip through Keras JSON;
//! 3. `testdata/keras-losses-vectors.json` has at least one Keras vector for its class;
//! 4. README.md's table of losses has a row for it;
//! 5. its fused kernels (if any) suit its domain;
//!
//! and every file of a loss family folder is registered.
//!
//! The property, gradient and fused-vs-composed suites enumerate the registry themselves, so a
//! new loss is tested there without editing them.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use std::path::{Path, PathBuf};

use objectives::domain::Domain;
use objectives::registry::ALL_LOSSES;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_registered_loss_has_all_its_pieces() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&src, &mut files);
    let vectors: serde_json::Value =
        serde_json::from_str(&read(&root().join("testdata/keras-losses-vectors.json"))).unwrap();
    let vectors = vectors["vectors"].as_array().cloned().unwrap_or_default();
    let readme = read(&root().join("README.md"));
    let mut missing = vec![];
    for e in ALL_LOSSES {
        let class = e.class_name;
        // 1. One file per loss, with a runnable example.
        let file = format!("{}.rs", e.function_name);
        let is_loss_file = |p: &&std::path::PathBuf| {
            p.file_name().is_some_and(|n| n == file.as_str()) && p.starts_with(src.join("losses"))
        };
        match files.iter().find(is_loss_file) {
            None => {
                missing.push(format!("{class}: no source file `{file}` under crates/objectives/src/losses/<family>/"))
            }
            Some(p) if !read(p).contains("# Example") => {
                missing.push(format!("{class}: `{}` has no `# Example` in its doc comment", p.display()));
            }
            Some(_) => {}
        }
        // 2. Variants build and round-trip.
        match e.configs() {
            Err(err) => missing.push(format!("{class}: {err}")),
            Ok(configs) => {
                for config in configs {
                    match e.build(&config) {
                        Err(err) => missing.push(format!("{class}: test variant {config:?} does not build: {err}")),
                        Ok(loss) => {
                            let json = loss.to_keras_json();
                            let again = objectives::from_keras_json(&json).map(|l| l.to_keras_json());
                            if again.as_ref().ok() != Some(&json) {
                                missing.push(format!("{class}: {config:?} does not round-trip through Keras JSON"));
                            }
                            // 5. Fused kernels suit the domain the tests generate for.
                            let fits = match (loss.fused().map(|k| k.family()), e.domain) {
                                (None, _) => true,
                                (Some("sparse_softmax"), d) => d == Domain::ClassIndices,
                                (Some(_), d) => matches!(d, Domain::Dense { .. }),
                            };
                            if !fits {
                                missing.push(format!(
                                    "{class}: {config:?} has a fused kernel {:?} that its domain {:?} cannot feed",
                                    loss.fused(),
                                    e.domain
                                ));
                            }
                        }
                    }
                }
            }
        }
        // 3. Keras's own numbers.
        if !vectors.iter().any(|v| v["loss"].as_str().is_some_and(|l| l.eq_ignore_ascii_case(class))) {
            missing.push(format!(
                "{class}: no vector in testdata/keras-losses-vectors.json (\"loss\": \"{class}\"); add Keras-computed cases"
            ));
        }
        // 4. The README says it exists, and how well.
        let row = readme.lines().any(|l| {
            l.starts_with('|') && l.split('|').nth(1).is_some_and(|c| c.split(',').any(|n| n.trim() == class))
        });
        if !row {
            missing.push(format!("{class}: no row in README.md's table of losses (`| {class} | aliases | status |`)"));
        }
    }
    // And the other way round: every loss file is registered.
    for f in &files {
        let family = f.parent().and_then(Path::file_name).and_then(|n| n.to_str()).unwrap_or("");
        let stem = f.file_stem().and_then(|n| n.to_str()).unwrap_or("");
        let in_losses = f.parent().and_then(Path::parent).is_some_and(|p| p == src.join("losses"));
        if in_losses
            && FAMILIES.contains(&family)
            && stem != "mod"
            && !ALL_LOSSES.iter().any(|e| e.function_name == stem)
        {
            missing.push(format!(
                "src/losses/{family}/{stem}.rs: no entry in registry::ALL_LOSSES with function name `{stem}`"
            ));
        }
    }
    assert!(missing.is_empty(), "losses with missing pieces:\n  {}", missing.join("\n  "));
}

/// The folders of loss files under `src/losses/`, one file per loss.
const FAMILIES: [&str; 5] = ["regression", "probabilistic", "hinge", "segmentation", "metric_learning"];

#[test]
fn the_fused_kernels_are_reachable_from_the_registry() {
    // Every fused kernel family is exercised by some registered loss's variant (the
    // fused-vs-composed test runs exactly those).
    let mut kinds = [false; 4];
    for e in ALL_LOSSES {
        for config in e.configs().unwrap() {
            if let Some(kernel) = e.build(&config).unwrap().fused() {
                let i = ["elementwise", "hinge", "softmax", "sparse_softmax"]
                    .iter()
                    .position(|f| *f == kernel.family())
                    .unwrap_or_else(|| panic!("unknown kernel family {}", kernel.family()));
                kinds[i] = true;
            }
        }
    }
    assert_eq!(
        kinds, [true; 4],
        "fused kernel families without a registry variant (elementwise, hinge, softmax, sparse)"
    );
}
