//! The module graph of `src/`, one unit per file, and the layering it must follow.
//!
//! A unit is one source file (`metrics/registry.rs` is `metrics::registry`, `fused/mod.rs` is
//! `fused`); files compiled only for tests (`#[cfg(test)] mod tests;` and what is below it) are
//! not units, and `#[cfg(test)]` items are left out of the others. An edge is a path in a unit's
//! code — `crate::…`, `$crate::…`, `super::…`, `self::…`, or a child module's name — resolved to
//! the file that defines the item: through submodules, and through the `use` declarations
//! (re-exports included) of the modules on the way, so `super::Metric` is an edge to the file
//! that defines `Metric`, not to the `mod.rs` that re-exports it.
//!
//! The rules:
//! 1. no cycles among units;
//! 2. no upward edge: every unit has a layer ([`LAYERS`]), and names only units of its own layer
//!    or lower ones;
//! 3. inside `losses/` and `metrics/`, the shared modules sit below the families and the families
//!    below the registry ([`FAMILIES`], [`ABOVE_FAMILIES`]), and a family names no other family.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first, by a unit's first path segment (its top-level module). A unit may
/// name units of its own layer and of lower layers.
const LAYERS: &[&[&str]] = &[
    // The error type; writing files (no dependency at all).
    &["error", "atomic"],
    // Tensor plumbing (DynTensor, shapes, labels, math, where a device computes); Keras's
    // argument checks and JSON envelope, shared by losses and metrics.
    &["tensor", "keras"],
    // Backend choice: devices by name, the f64 probe, the test device.
    &["backend"],
    // The reducer, its plan, the older Keras reductions, partials.
    &["reduce"],
    // The fused kernels (they read the reducer's plan; they know no loss).
    &["fused"],
    // The loss API and the losses.
    &["losses"],
    // Metrics (they reuse the loss functions).
    &["metrics"],
    // The prelude (it names everything).
    &["prelude"],
];

/// The families inside a folder: the units below each (e.g. `metrics::iou`, `metrics::iou::args`).
const FAMILIES: &[(&str, &[&str])] = &[
    ("losses", &["regression", "probabilistic", "hinge", "segmentation", "metric_learning"]),
    (
        "metrics",
        &[
            "reduction",
            "regression",
            "probabilistic",
            "hinge",
            "correlation",
            "accuracy",
            "confusion",
            "f_score",
            "iou",
        ],
    ),
];

/// Units above the families of their folder: the registries (they list the families) and what
/// builds on them.
const ABOVE_FAMILIES: &[&str] = &["losses::registry", "metrics::registry", "metrics::spec"];

/// Edges of the current code that break a rule, each to be removed (issue 22). The test fails when
/// one of them is gone, so the list only shrinks.
const KNOWN: &[(&str, &str)] = &[];

/// A source file as a unit: its code (comments and test code removed) and its child modules.
struct Unit {
    code: String,
    children: BTreeSet<String>,
}

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

/// The text without comments (line, block and doc comments); string literals are kept as they are.
fn strip_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' && i + 1 < b.len() {
                out.push_str(&text[i..i + 2]);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
        } else if c == b'"' {
            // A char literal '"' is not a string.
            if !(i > 0 && b[i - 1] == b'\'' && b.get(i + 1) == Some(&b'\'')) {
                in_str = true;
            }
        } else if text[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if text[i..].starts_with("/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            i = end;
            continue;
        }
        let ch = text[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The index just past the item that starts at `from`: through its matching `}` if a `{` comes
/// before any `;`, else through the `;`.
fn item_end(text: &str, from: usize) -> usize {
    let rest = &text[from..];
    let semi = rest.find(';');
    let brace = rest.find('{');
    match (brace, semi) {
        (Some(b), s) if s.is_none_or(|s| b < s) => {
            let mut depth = 0usize;
            for (k, ch) in rest[b..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return from + b + k + 1;
                        }
                    }
                    _ => {}
                }
            }
            text.len()
        }
        (_, Some(s)) => from + s + 1,
        _ => text.len(),
    }
}

/// Removes `#[cfg(test)]` items; returns the code and the names of test-only child modules.
fn strip_test_code(text: &str) -> (String, BTreeSet<String>) {
    let mut out = String::new();
    let mut test_children = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let mut j = i + "#[cfg(test)]".len();
        // Further attributes.
        loop {
            let t = rest[j..].trim_start();
            j = rest.len() - t.len();
            if t.starts_with("#[") {
                j += t.find(']').unwrap() + 1;
            } else {
                break;
            }
        }
        let item = rest[j..].trim_start();
        let words: Vec<&str> = item.split(|c: char| c.is_whitespace() || c == ';' || c == '{').take(3).collect();
        let name = match words.as_slice() {
            ["mod", n, ..] => Some(*n),
            [vis, "mod", n] if vis.starts_with("pub") => Some(*n),
            _ => None,
        };
        let end = item_end(rest, j);
        if let Some(n) = name
            && rest[j..end].trim_end().ends_with(';')
        {
            test_children.insert(n.to_string());
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    (out, test_children)
}

/// Child modules declared by `mod name;` (any visibility, any attributes).
fn declared_children(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for stmt in code.split(';') {
        let mut text = stmt.trim_start_matches(|c: char| c.is_whitespace() || c == '}' || c == '{').to_string();
        // Leading attributes (`#[cfg(feature = "cube")]`).
        while text.starts_with("#[") {
            let Some(end) = text.find(']') else { break };
            text = text[end + 1..].trim_start().to_string();
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["mod", name] => out.insert((*name).to_string()),
            [vis, "mod", name] if vis.starts_with("pub") => out.insert((*name).to_string()),
            _ => false,
        };
    }
    out
}

fn units() -> BTreeMap<Vec<String>, Unit> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = vec![];
    files(&src, &mut all);
    all.sort();
    let mut parsed = BTreeMap::new();
    let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
    for f in &all {
        let rel = f.strip_prefix(&src).unwrap().with_extension("");
        let mut path: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if path.last().is_some_and(|p| p == "mod" || p == "lib") {
            path.pop();
        }
        let text = strip_comments(&std::fs::read_to_string(f).unwrap());
        let (code, tests) = strip_test_code(&text);
        for t in tests {
            let mut p = path.clone();
            p.push(t);
            test_only.insert(p);
        }
        let children = declared_children(&code);
        parsed.insert(path, Unit { code, children });
    }
    parsed.retain(|p, _| !test_only.iter().any(|t| p.starts_with(t)));
    parsed
}

/// One `use` tree (`a::{b, c::d as e, self}`) expanded into `(path, name it is known by)`.
fn expand_use(tree: &str, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let mut base = prefix.to_vec();
        base.extend(segments(tree[..open].trim_end_matches("::")));
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        let mut depth = 0;
        let mut start = 0;
        for (k, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_use(&inner[start..k], &base, out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        expand_use(&inner[start..], &base, out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    full.extend(segments(path));
    if full.last().is_some_and(|s| s == "self") {
        full.pop();
    }
    let name = alias.unwrap_or_else(|| full.last().cloned().unwrap_or_default());
    if name != "*" && name != "_" {
        out.push((full, name));
    } else if name == "*" {
        out.push((full, "*".into()));
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// The `use` declarations of a unit's code (every visibility), and the code without them.
fn uses(code: &str) -> (Vec<(Vec<String>, String)>, String) {
    let mut out = vec![];
    let mut rest_code = String::new();
    let mut rest = code;
    loop {
        // A `use` at the start of a statement: after `;`, `{`, `}`, `]` or a visibility.
        let Some(i) = find_use(rest) else {
            rest_code.push_str(rest);
            break;
        };
        rest_code.push_str(&rest[..i]);
        let end = i + rest[i..].find(';').unwrap();
        expand_use(&rest[i + "use ".len()..end], &[], &mut out);
        rest = &rest[end + 1..];
    }
    (out, rest_code)
}

fn find_use(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = text[from..].find("use ") {
        let i = from + k;
        let before = text[..i].trim_end();
        let ok = before.is_empty()
            || before.ends_with(';')
            || before.ends_with('{')
            || before.ends_with('}')
            || before.ends_with(']')
            || before.ends_with("pub")
            || before.ends_with(')') && before.rsplit_once("pub(").is_some_and(|(_, v)| !v.contains(' '));
        let word_start = i == 0 || !text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if ok && word_start {
            return Some(i);
        }
        from = i + 4;
    }
    None
}

/// Every path in `code` that starts with `crate`, `$crate`, `super`, `self` or a child module.
fn code_paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = vec![];
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    let mut i = 0;
    while i < b.len() {
        if !ident(b[i]) || (i > 0 && (ident(b[i - 1]) || code[..i].ends_with("::"))) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && (ident(b[j]) || code[j..].starts_with("::")) {
            j += if code[j..].starts_with("::") { 2 } else { 1 };
        }
        let path = segments(&code[i..j]);
        if path.len() >= 2 {
            let first = path[0].as_str();
            if matches!(first, "crate" | "$crate" | "super" | "self") || children.contains(first) {
                out.push(path);
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// The graph: unit → the units its code names.
struct Graph {
    units: BTreeMap<Vec<String>, Unit>,
    uses: BTreeMap<Vec<String>, Vec<(Vec<String>, String)>>,
}

impl Graph {
    fn new() -> Self {
        let units = units();
        let uses = units.iter().map(|(p, u)| (p.clone(), uses(&u.code).0)).collect();
        Self { units, uses }
    }

    /// A unit, or a folder of units (an inline `mod name { mod file; }`).
    fn is_module(&self, path: &[String]) -> bool {
        self.units.keys().any(|u| u.starts_with(path))
    }

    /// The absolute path of `path` as written in module `at`, or `None` for a path outside the crate.
    fn absolute(&self, at: &[String], path: &[String]) -> Option<Vec<String>> {
        let mut cur = at.to_vec();
        let mut k = 0;
        match path.first()?.as_str() {
            "crate" | "$crate" => {
                cur.clear();
                k = 1;
            }
            "self" => k = 1,
            "super" => {
                while path.get(k).is_some_and(|s| s == "super") {
                    cur.pop()?;
                    k += 1;
                }
            }
            first if self.units.get(at).is_some_and(|u| u.children.contains(first)) => {}
            first if self.is_module(&[at, &[first.to_string()]].concat()) => {}
            _ => return None,
        }
        cur.extend(path[k..].iter().cloned());
        Some(cur)
    }

    /// The unit defining the item at absolute `path` (through submodules and `use`s).
    fn resolve(&self, path: &[String], depth: usize) -> Option<Vec<String>> {
        if depth > 16 {
            return None;
        }
        let mut cur: Vec<String> = vec![];
        for (k, seg) in path.iter().enumerate() {
            if seg.starts_with('$') && seg != "$crate" {
                return Some(cur); // a macro variable: the item is somewhere below `cur`
            }
            let mut next = cur.clone();
            next.push(seg.clone());
            if self.is_module(&next) {
                cur = next;
                continue;
            }
            let imported = self.uses.get(&cur).and_then(|u| u.iter().find(|(_, name)| name == seg));
            if let Some((target, _)) = imported {
                // `pub(crate) use name;` of a macro defined here: the item is here.
                let Some(mut t) = self.absolute(&cur, target) else { return Some(cur) };
                t.extend(path[k + 1..].iter().cloned());
                return self.resolve(&t, depth + 1);
            }
            return Some(cur);
        }
        Some(cur)
    }

    fn edges(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (p, u) in &self.units {
            if p.is_empty() {
                continue; // lib.rs: declares and re-exports
            }
            let (used, rest) = uses(&u.code);
            let mut paths: Vec<Vec<String>> = used.into_iter().map(|(path, _)| path).collect();
            paths.extend(code_paths(&rest, &u.children));
            for path in paths {
                let Some(abs) = self.absolute(p, &path) else { continue };
                let Some(target) = self.resolve(&abs, 0) else { continue };
                if !target.is_empty() && target != *p {
                    edges.entry(p.join("::")).or_default().insert(target.join("::"));
                }
            }
        }
        edges
    }
}

fn layer(unit: &str) -> usize {
    let top = unit.split("::").next().unwrap();
    LAYERS.iter().position(|l| l.contains(&top)).unwrap_or_else(|| panic!("unit {unit}: add `{top}` to LAYERS"))
}

/// `(folder, rank, family)`: rank 0 shared, 1 a family, 2 above the families.
fn inner_rank(unit: &str) -> Option<(&'static str, usize, Option<String>)> {
    let segs: Vec<&str> = unit.split("::").collect();
    let (folder, families) = FAMILIES.iter().find(|(f, _)| segs.first() == Some(f))?;
    let first = segs.get(1)?;
    if families.contains(first) {
        return Some((folder, 1, Some((*first).to_string())));
    }
    let above = ABOVE_FAMILIES.iter().any(|a| unit == *a || unit.starts_with(&format!("{a}::")));
    Some((folder, if above { 2 } else { 0 }, None))
}

/// Why the edge `from → to` breaks the layering, if it does.
fn violation(from: &str, to: &str) -> Option<String> {
    let (lf, lt) = (layer(from), layer(to));
    if lt > lf {
        return Some(format!("{from} (layer {lf}) names {to} (layer {lt}, above it)"));
    }
    if let (Some((ff, rf, famf)), Some((ft, rt, famt))) = (inner_rank(from), inner_rank(to))
        && ff == ft
    {
        if rt > rf {
            let what = ["a shared module", "a family", "a registry"];
            return Some(format!("{from} ({}) names {to} ({}, above it)", what[rf], what[rt]));
        }
        if rf == 1 && rt == 1 && famf != famt {
            return Some(format!("{from} (family {}) names {to} (family {})", famf.unwrap(), famt.unwrap()));
        }
    }
    None
}

fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
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
        visit(n, edges, &mut vec![], &mut done, &mut cycles);
    }
    cycles
}

/// The graph without the [`KNOWN`] edges.
fn checked_edges() -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = Graph::new().edges();
    let gone: Vec<String> = KNOWN
        .iter()
        .filter(|(from, to)| !edges.get_mut(*from).is_some_and(|e| e.remove(*to)))
        .map(|(from, to)| format!("{from} -> {to}"))
        .collect();
    assert!(gone.is_empty(), "KNOWN lists edges that are gone; remove them:\n  {}", gone.join("\n  "));
    edges
}

#[test]
fn the_graph_is_read() {
    let edges = Graph::new().edges();
    let has = |a: &str, b: &str| edges.get(a).is_some_and(|e| e.contains(b));
    // A `super::` path, a `crate::` path through a re-export, a child module, a macro's `$crate`.
    assert!(edges.len() > 40, "the graph was not read: {edges:?}");
    assert!(edges.values().flatten().any(|t| t.starts_with("metrics::")), "no metric unit named: {edges:?}");
    assert!(has("fused::dispatch", "reduce::plan"), "a `crate::` path through a re-export not seen: {edges:?}");
    assert!(has("fused::backend::flex", "fused::backend"), "a `super::` path not seen: {edges:?}");
    assert!(has("fused::cube", "fused::cube::common"), "a child module's path not seen: {edges:?}");
    assert!(has("metrics::hinge", "metrics::mean"), "a macro's path not seen: {edges:?}");
}

#[test]
fn no_unit_depends_on_itself_through_others() {
    let cycles = cycles(&checked_edges());
    assert!(cycles.is_empty(), "import cycles between files:\n  {}", cycles.join("\n  "));
}

#[test]
fn every_import_runs_down() {
    let mut bad = vec![];
    for (from, tos) in checked_edges() {
        for to in tos {
            if let Some(why) = violation(&from, &to) {
                bad.push(why);
            }
        }
    }
    assert!(bad.is_empty(), "imports that run up the layers:\n  {}", bad.join("\n  "));
}

/// The checker itself: a cycle, an upward edge and a family naming another family are found.
#[test]
fn the_checker_finds_what_it_must() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("metrics::registry".into()).or_default().insert("metrics::iou".into());
    g.entry("metrics::iou".into()).or_default().insert("metrics::registry".into());
    assert_eq!(cycles(&g).len(), 1);
    assert!(violation("metrics::iou", "metrics::registry").is_some());
    assert!(violation("metrics::iou", "metrics::accuracy").is_some());
    assert!(violation("metrics::iou::args", "metrics::iou").is_none());
    assert!(violation("tensor::dyn_tensor", "backend").is_some());
    assert!(violation("fused::dispatch", "losses::loss").is_some());
    assert!(violation("losses::regression::huber", "losses::registry").is_some());
    assert!(violation("losses::hinge::hinge", "losses::regression::huber").is_some());
    assert!(violation("metrics::regression", "losses::regression::huber").is_none());
}

/// No metric implements `Metric` by hand: `MetricObject` is its one implementation, and a metric
/// implements `StatefulMetric` (issue 22).
#[test]
fn only_metric_object_implements_metric() {
    let mut found = vec![];
    for (path, unit) in &Graph::new().units {
        for (i, _) in unit.code.match_indices("impl") {
            let header: String = unit.code[i..].chars().take_while(|&c| c != '{' && c != ';').collect();
            let words: Vec<&str> = header.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
            if words.windows(2).any(|w| w == ["Metric", "for"]) {
                found.push(format!("{}: {}", path.join("::"), header.split_whitespace().collect::<Vec<_>>().join(" ")));
            }
        }
    }
    assert_eq!(
        found,
        ["metrics::metric: impl<K: StatefulMetric> Metric for MetricObject<K>"],
        "implement StatefulMetric (wrapped in MetricObject) instead"
    );
}

/// One module convention: a module is a file, a folder's module is its `mod.rs` (no `x.rs` beside
/// a folder `x/`), and no module is written inline (`mod x { … }`) outside test code.
#[test]
fn one_module_convention() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = vec![];
    files(&src, &mut all);
    let mut bad = vec![];
    for f in &all {
        if f.with_extension("").is_dir() {
            bad.push(format!("{} beside the folder {} (use mod.rs)", f.display(), f.with_extension("").display()));
        }
    }
    for (path, unit) in &Graph::new().units {
        let words: Vec<&str> = unit.code.split_whitespace().collect();
        for w in words.windows(3) {
            if w[0] == "mod" && (w[2] == "{" || w[1].ends_with('{')) {
                bad.push(format!("{}: inline `mod {}`", path.join("::"), w[1].trim_end_matches('{')));
            }
        }
    }
    assert!(bad.is_empty(), "module convention:\n  {}", bad.join("\n  "));
}

/// No production file over 500 lines (a file's test module goes to its own `tests.rs` when that is
/// what makes it longer).
#[test]
fn no_production_file_over_500_lines() {
    const MAX: usize = 500;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let units = Graph::new().units;
    let mut all = vec![];
    files(&src, &mut all);
    let mut long = vec![];
    for f in &all {
        let rel = f.strip_prefix(&src).unwrap().with_extension("");
        let mut path: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if path.last().is_some_and(|p| p == "mod" || p == "lib") {
            path.pop();
        }
        let lines = std::fs::read_to_string(f).unwrap().lines().count();
        if units.contains_key(&path) && lines > MAX {
            long.push(format!("{} ({lines} lines)", f.strip_prefix(&src).unwrap().display()));
        }
    }
    assert!(long.is_empty(), "production files over {MAX} lines:\n  {}", long.join("\n  "));
}
