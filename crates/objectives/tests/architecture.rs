//! The module graph of `src/` has no cycles: shared helpers live in shared modules (`shape`,
//! `labels`, `math`, `reduce`), never in a loss file, and the fused path does not reach back into
//! the loss trait or a loss. A module here is a top-level file or folder (`fused/`, `reduce/`),
//! or one loss file (`probabilistic::categorical_crossentropy`); an edge is a `crate::…` path in
//! its non-test code.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const FAMILIES: [&str; 5] = ["regression", "probabilistic", "hinge", "segmentation", "metric_learning"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The unit a module path (`a::b::c`) belongs to.
fn unit(path: &[&str]) -> String {
    match path {
        [family, file, ..] if FAMILIES.contains(family) => format!("{family}::{file}"),
        [first, ..] => (*first).to_string(),
        [] => String::new(),
    }
}

/// The code of a file without comments and without its `#[cfg(test)] mod tests { … }`.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = vec![];
    files(&src, &mut all);
    let mut units = BTreeSet::new();
    let mut of_file = vec![];
    for f in &all {
        let rel = f.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let u = unit(&parts);
        if !u.is_empty() {
            units.insert(u.clone());
        }
        of_file.push((f.clone(), u));
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (f, u) in of_file {
        if u.is_empty() {
            continue; // lib.rs: declares and re-exports, refers to everything
        }
        let text = code(&std::fs::read_to_string(&f).unwrap());
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let path: Vec<&str> = rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .take_while(|s| s.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                .collect();
            let target = unit(&path);
            if units.contains(&target) && target != u {
                edges.entry(u.clone()).or_default().insert(target);
            }
        }
    }
    edges
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let edges = graph();
    assert!(edges.get("fused").is_some_and(|e| e.contains("reduce")), "the graph was not read: {edges:?}");
    // Depth-first search for a back edge; report every cycle's path.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(i) = stack.iter().position(|s| s == n) {
            cycles.push(format!("{} -> {n}", stack[i..].join(" -> ")));
            return;
        }
        if !done.insert(n.to_string()) {
            return;
        }
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, stack, done, cycles);
        }
        stack.pop();
    }
    let mut cycles = vec![];
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        visit(n, &edges, &mut vec![], &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles between modules:\n  {}", cycles.join("\n  "));
}
