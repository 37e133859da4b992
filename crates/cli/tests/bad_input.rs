//! Every bad input gives one error line on stderr and exit code 2: never a panic (no "internal
//! error"), never an output file. The cases are one list below (`cases`); each is run against the
//! real binary with `--out` pointing into a fresh directory that must stay empty.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A bad input: the arguments after `objectives` and a piece of the expected error line.
struct Case {
    name: &'static str,
    args: Vec<OsString>,
    needle: &'static str,
}

/// A `.npy` file: preamble of `version` (1 → u16 header length, 2/3 → u32), header, data.
fn npy(version: u8, header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY".to_vec();
    v.extend_from_slice(&[version, 0]);
    if version == 1 {
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        v.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    v.extend_from_slice(header);
    v.extend_from_slice(data);
    v
}

/// A v1 `.npy` with the given `descr`, `fortran_order` and `shape` texts.
fn with(descr: &str, fortran: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let h = format!("{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}\n");
    npy(1, h.as_bytes(), data)
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn os(s: &str) -> OsString {
    OsString::from(s)
}

fn run(args: &[OsString]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objectives"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running objectives: {e}"))
}

struct Fixture {
    dir: tempfile::TempDir,
    /// Valid `(2, 3)` f32 targets and predictions.
    t: PathBuf,
    p: PathBuf,
    /// Where `--out` points: inside `out_dir`, which must stay empty.
    out_dir: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t.npy");
        let p = dir.path().join("p.npy");
        let body = f32_bytes(&[1., 9., 2., -5., -2., 6.]);
        std::fs::write(&t, with("'<f4'", "False", "(2, 3)", &body)).unwrap();
        std::fs::write(&p, with("'<f4'", "False", "(2, 3)", &f32_bytes(&[4., 8., 12., 8., 1., 3.]))).unwrap();
        let out_dir = dir.path().join("out");
        std::fs::create_dir(&out_dir).unwrap();
        Fixture { dir, t, p, out_dir }
    }

    fn file(&self, name: impl AsRef<OsStr>, bytes: &[u8]) -> OsString {
        let path = self.dir.path().join(name.as_ref());
        std::fs::write(&path, bytes).unwrap();
        path.into_os_string()
    }

    fn out(&self) -> OsString {
        self.out_dir.join("o.npy").into_os_string()
    }

    /// `eval --loss mse` with `y_pred` replaced by `bytes` (written to a file), and `--out`.
    fn pred(&self, name: &'static str, bytes: &[u8], needle: &'static str) -> Case {
        let f = self.file(format!("{name}.npy"), bytes);
        Case { name, args: self.eval("mse", &self.t.clone().into_os_string(), &f), needle }
    }

    fn eval(&self, loss: &str, t: &OsStr, p: &OsStr) -> Vec<OsString> {
        vec![
            os("eval"),
            os("--loss"),
            os(loss),
            os("--y-true"),
            t.into(),
            os("--y-pred"),
            p.into(),
            os("--out"),
            self.out(),
        ]
    }

    /// `eval` with the loss given as raw `OsString` (valid inputs).
    fn loss(&self, name: &'static str, loss: OsString, needle: &'static str) -> Case {
        let mut args = self.eval("mse", self.t.as_os_str(), self.p.as_os_str());
        args[2] = loss;
        Case { name, args, needle }
    }

    fn explain(&self, name: &'static str, extra: &[&str], needle: &'static str) -> Case {
        let mut args = vec![os("explain")];
        args.extend(extra.iter().map(|s| os(s)));
        Case { name, args, needle }
    }
}

/// The bad inputs. Their count is reported by `every_bad_input_is_one_line_and_exit_code_2`.
fn cases(fx: &Fixture) -> Vec<Case> {
    let body = f32_bytes(&[0.; 6]);
    let t = fx.t.as_os_str();
    let p = fx.p.as_os_str();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        // --- .npy files (as --y-pred) ---
        fx.pred("empty file", b"", "the file is empty"),
        fx.pred("text file", b"not an npy file", "not a .npy file"),
        fx.pred("bad magic", &npy(1, b"{}", b"")[1..], "not a .npy file"),
        fx.pred("truncated magic", b"\x93NUM", "truncated inside the .npy preamble"),
        fx.pred("no header length", b"\x93NUMPY\x01\x00\x10", "truncated inside the .npy preamble"),
        fx.pred("version 9.9", b"\x93NUMPY\x09\x09\x10\x00{}", "version 9.9 is not supported"),
        fx.pred("version 1.1", b"\x93NUMPY\x01\x01\x10\x00{}", "version 1.1 is not supported"),
        fx.pred("header longer than file", b"\x93NUMPY\x01\x00\xe8\x03{'descr'", "declares a header of 1000 bytes"),
        fx.pred("v2 header length 4 GiB", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{", "more than the 65536"),
        fx.pred("header is a list", &npy(1, b"[1, 2]\n", b""), "not a Python dict literal"),
        fx.pred("header is not text", &npy(1, b"\xff\xfe\x00\x01", b""), "not a Python dict literal"),
        fx.pred("header string not UTF-8", &npy(3, b"{'descr': '<f\xff', }", b""), "not UTF-8"),
        fx.pred("header unterminated string", &npy(1, b"{'descr': '<f4", b""), "unterminated string"),
        fx.pred("header escape in string", &npy(1, b"{'descr': '<f\\x34'}", b""), "escapes"),
        fx.pred(
            "header text after dict",
            &npy(1, b"{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", b""),
            "text after the dict",
        ),
        fx.pred("header missing comma", &npy(1, b"{'descr': '<f4' 'shape': ()}", b""), "expected ',' or '}'"),
        fx.pred("header missing colon", &npy(1, b"{'descr' '<f4'}", b""), "expected ':'"),
        fx.pred("header non-string key", &npy(1, b"{1: 2}", b""), "expected a quoted string"),
        fx.pred("missing shape", &npy(1, b"{'descr': '<f4', 'fortran_order': False}", b""), "'shape' is missing"),
        fx.pred("missing descr", &npy(1, b"{'fortran_order': False, 'shape': ()}", b""), "'descr' is missing"),
        fx.pred("missing fortran_order", &npy(1, b"{'descr': '<f4', 'shape': ()}", b""), "'fortran_order' is missing"),
        fx.pred("empty dict", &npy(1, b"{}", b""), "is missing"),
        fx.pred(
            "extra key",
            &npy(1, b"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", b""),
            "unexpected key \"x\"",
        ),
        fx.pred("duplicate key", &npy(1, b"{'descr': '<f4', 'descr': '<f4'}", b""), "appears twice"),
        fx.pred("fortran order", &with("'<f4'", "True", "(2, 3)", &body), "Fortran order"),
        fx.pred("fortran_order not a bool", &with("'<f4'", "1", "(2, 3)", &body), "not True or False"),
        fx.pred("shape is a list", &with("'<f4'", "False", "[2, 3]", &body), "'shape' is not a tuple"),
        fx.pred("shape is an int", &with("'<f4'", "False", "6", &body), "'shape' is not a tuple"),
        fx.pred("negative dimension", &with("'<f4'", "False", "(-1, 3)", &body), "non-negative integers"),
        fx.pred("float dimension", &with("'<f4'", "False", "(2.5,)", &body), "expected ',' or ')' in 'shape'"),
        fx.pred("unclosed shape", &with("'<f4'", "False", "(2 3)", &body), "expected ',' or ')'"),
        fx.pred("descr not a string", &with("4", "False", "(2, 3)", &body), "expected a quoted string"),
        fx.pred("unicode dtype", &with("'<U1'", "False", "(2, 3)", &[0; 24]), "dtype \"<U1\""),
        fx.pred("complex64", &with("'<c8'", "False", "(2, 3)", &[0; 48]), "dtype \"<c8\""),
        fx.pred("complex128", &with("'<c16'", "False", "(2, 3)", &[0; 96]), "dtype \"<c16\""),
        fx.pred("object dtype", &with("'|O'", "False", "(2, 3)", &[0; 48]), "dtype \"|O\""),
        fx.pred("float16", &with("'<f2'", "False", "(2, 3)", &[0; 12]), "dtype \"<f2\""),
        fx.pred("bytes dtype", &with("'|S4'", "False", "(2, 3)", &[0; 24]), "dtype \"|S4\""),
        fx.pred("datetime dtype", &with("'<M8[ns]'", "False", "(2, 3)", &[0; 48]), "dtype \"<M8[ns]\""),
        fx.pred("int3 dtype", &with("'<i3'", "False", "(2, 3)", &[0; 18]), "dtype \"<i3\""),
        fx.pred("empty dtype", &with("''", "False", "(2, 3)", &body), "dtype \"\""),
        fx.pred("structured dtype", &with("[('a', '<f4')]", "False", "(2, 3)", &body), "structured array"),
        fx.pred("rank 9", &with("'<f4'", "False", "(1, 1, 1, 1, 1, 1, 1, 1, 1)", &[0; 4]), "rank 9"),
        fx.pred(
            "rank 10000",
            &with("'<f4'", "False", &format!("({})", "1, ".repeat(10_000)), &[0; 4]),
            "rank 10000 (shape [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, …])",
        ),
        fx.pred(
            "shape 2**40 x 2**40",
            &with("'<f4'", "False", "(1099511627776, 1099511627776)", &body),
            "more elements than this machine can address",
        ),
        fx.pred(
            "shape product overflows usize",
            &with("'<f8'", "False", "(4294967296, 4294967296, 2)", &body),
            "more elements than this machine can address",
        ),
        fx.pred(
            "bytes overflow usize",
            &with("'<f8'", "False", "(2305843009213693952, 2)", &body),
            "more elements than this machine can address",
        ),
        fx.pred(
            "dimension beyond u64",
            &with("'<f4'", "False", "(99999999999999999999999,)", &body),
            "more elements than this machine can address",
        ),
        fx.pred(
            "shape 2**40 (fits usize)",
            &with("'<f8'", "False", "(1099511627776,)", &body),
            "needs 8796093022208 bytes of data but the file has 24",
        ),
        fx.pred(
            "truncated body",
            &with("'<f4'", "False", "(2, 3)", &body[..20]),
            "needs 24 bytes of data but the file has 20 after its header (truncated",
        ),
        fx.pred("body of odd length", &with("'<f4'", "False", "(2, 3)", &body[..23]), "the file has 23"),
        fx.pred("header claims more", &with("'<f4'", "False", "(3, 3)", &body), "needs 36 bytes"),
        fx.pred("header claims fewer", &with("'<f4'", "False", "(2,)", &body), "claims fewer elements than it holds"),
        fx.pred("header only", &with("'<f4'", "False", "(2, 3)", b""), "the file has 0"),
        fx.pred("zero-size shape with data", &with("'<f4'", "False", "(0, 3)", &body), "claims fewer"),
        Case {
            name: "directory as --y-true",
            args: fx.eval("mse", fx.dir.path().as_os_str(), p),
            needle: "is a directory",
        },
        Case {
            name: "missing --y-pred file",
            args: fx.eval("mse", t, fx.dir.path().join("missing.npy").as_os_str()),
            needle: "missing.npy",
        },
        Case {
            name: "non-UTF-8 path, missing",
            args: fx.eval("mse", t, fx.dir.path().join(OsStr::from_bytes(b"\xffmissing.npy")).as_os_str()),
            needle: "\u{FFFD}missing.npy",
        },
        Case {
            name: "non-UTF-8 path, bad file",
            args: fx.eval("mse", t, &fx.file(OsStr::from_bytes(b"\xfebad.npy"), b"junk")),
            needle: "\u{FFFD}bad.npy: not a .npy file",
        },
        // --- the other inputs ---
        {
            let mut a = fx.eval("mse", t, p);
            a.extend([os("--sample-weight"), fx.file("w.npy", &with("'<U1'", "False", "(2,)", &[0; 8]))]);
            Case { name: "sample weight of dtype <U1", args: a, needle: "--sample-weight" }
        },
        {
            let mut a = fx.eval("mse", t, p);
            a.extend([os("--mask"), fx.file("m.npy", &with("'|b1'", "False", "(2,)", b"\x01"))]);
            Case { name: "truncated mask", args: a, needle: "--mask" }
        },
        {
            let mut a = fx.eval("mse", t, p);
            a.extend([os("--sample-weight"), fx.file("w3.npy", &with("'<f4'", "False", "(3,)", &[0; 12]))]);
            Case { name: "sample weight that does not broadcast", args: a, needle: "sample_weight" }
        },
        Case {
            name: "mismatched shapes",
            args: fx.eval("mse", t, &fx.file("p33.npy", &with("'<f4'", "False", "(3, 3)", &[0; 36]))),
            needle: "[3, 3]",
        },
        Case {
            name: "0-d y_pred against (2, 3)",
            args: fx.eval("mse", t, &fx.file("p0.npy", &with("'<f4'", "False", "()", &[0; 4]))),
            needle: "y_pred",
        },
        // --- outputs ---
        {
            let mut a = fx.eval("mse", t, p);
            a[8] = fx.dir.path().join("no/such/dir/o.npy").into_os_string();
            Case { name: "--out in a missing directory", args: a, needle: "does not exist" }
        },
        {
            let mut a = fx.eval("mse", t, p);
            a[8] = fx.dir.path().join("no").into_os_string();
            std::fs::create_dir_all(fx.dir.path().join("no")).unwrap();
            Case { name: "--out is a directory", args: a, needle: "is a directory" }
        },
        {
            let mut a = fx.eval("mse", t, p);
            a.extend([os("--grad"), fx.dir.path().join("no/such/g.npy").into_os_string()]);
            Case { name: "--grad in a missing directory (with a good --out)", args: a, needle: "--grad" }
        },
        // --- the loss ---
        fx.loss("unknown loss name", os("msee"), "unknown loss `msee`"),
        fx.loss("malformed JSON", os(r#"{"class_name": "#), "malformed JSON"),
        fx.loss("JSON with trailing garbage", os(r#"{"class_name": "MeanSquaredError"} x"#), "malformed JSON"),
        fx.loss("unknown class", os(r#"{"class_name": "NoSuchLoss", "config": {}}"#), "NoSuchLoss"),
        fx.loss("class_name not a string", os(r#"{"class_name": 3, "config": {}}"#), "--loss"),
        fx.loss("config wrong type", os(r#"{"class_name": "Huber", "config": {"delta": "two"}}"#), "Huber"),
        fx.loss("config is a list", os(r#"{"class_name": "Huber", "config": [1]}"#), "`config` must be an object"),
        fx.loss("unknown config key", os(r#"{"class_name": "Huber", "config": {"deltaa": 1.0}}"#), "deltaa"),
        fx.loss("bad reduction", os(r#"{"class_name": "MeanSquaredError", "config": {"reduction": "avg"}}"#), "avg"),
        fx.loss("JSON string", os(r#""mse"#), "--loss"),
        fx.loss("JSON array", os("[1, 2]"), "--loss"),
        fx.loss("JSON nested 10000 deep", os(&format!("{{\"a\": {}}}", &deep[90_000..110_000])), "--loss"),
        fx.loss(
            "@ file with JSON nested 100000 deep",
            {
                let mut at = os("@");
                at.push(fx.file("deep.json", format!("{{\"a\": {deep}}}").as_bytes()));
                at
            },
            "--loss",
        ),
        fx.loss("empty loss", os(""), "--loss"),
        fx.loss("loss not UTF-8", OsStr::from_bytes(b"ms\xffe").into(), "--loss: ms\u{FFFD}e is not UTF-8"),
        fx.loss("@ missing file", os("@/nonexistent/loss.json"), "cannot read /nonexistent/loss.json"),
        fx.loss("@ directory", format!("@{}", fx.dir.path().display()).into(), "--loss: cannot read"),
        fx.loss(
            "@ file not UTF-8",
            [b"@".as_slice(), fx.file("l.json", b"{\"\xff\"}").as_bytes()].concat().to_os_str(),
            "--loss: cannot read",
        ),
        fx.loss(
            "@ non-UTF-8 path",
            OsStr::from_bytes(b"@/nonexistent/\xff.json").into(),
            "cannot read /nonexistent/\u{FFFD}.json",
        ),
        // --- shape strings (explain) ---
        fx.explain("shape with a letter", &["--loss", "mse", "--y-pred-shape", "64,x"], "--y-pred-shape"),
        fx.explain("negative dimension", &["--loss", "mse", "--y-pred-shape=-1,2"], "is not a shape"),
        fx.explain("empty dimension", &["--loss", "mse", "--y-pred-shape", "1,,2"], "is not a shape"),
        fx.explain(
            "dimension beyond usize",
            &["--loss", "mse", "--y-pred-shape", "99999999999999999999999"],
            "is not a shape",
        ),
        fx.explain(
            "element count overflow",
            &["--loss", "mse", "--y-pred-shape", "4294967296,4294967296"],
            "more elements than this machine can address",
        ),
        fx.explain("rank 9", &["--loss", "mse", "--y-pred-shape", "1,1,1,1,1,1,1,1,1"], "rank 9"),
        fx.explain(
            "too large to explain",
            &["--loss", "mse", "--y-pred-shape", "100000,100000"],
            "explain a smaller batch",
        ),
        fx.explain(
            "bad sample weight shape",
            &["--loss", "mse", "--y-pred-shape", "4,3", "--sample-weight-shape", "5"],
            "sample_weight",
        ),
        fx.explain(
            "bad mask shape text",
            &["--loss", "mse", "--y-pred-shape", "4,3", "--mask-shape", "4;3"],
            "--mask-shape",
        ),
        fx.explain("bad loss", &["--loss", "{", "--y-pred-shape", "4,3"], "--loss"),
        // --- the command line itself ---
        fx.explain("missing --y-pred-shape", &["--loss", "mse"], "--y-pred-shape"),
        Case { name: "no subcommand", args: vec![], needle: "no subcommand" },
        Case { name: "unknown subcommand", args: vec![os("evaluate")], needle: "evaluate" },
        Case {
            name: "missing --y-true",
            args: vec![os("eval"), os("--loss"), os("mse"), os("--y-pred"), p.into()],
            needle: "--y-true",
        },
        Case { name: "unknown flag", args: [fx.eval("mse", t, p), vec![os("--bogus")]].concat(), needle: "--bogus" },
        Case { name: "flag without value", args: vec![os("eval"), os("--loss")], needle: "--loss" },
    ]
}

trait ToOsString {
    fn to_os_str(&self) -> OsString;
}

impl ToOsString for Vec<u8> {
    fn to_os_str(&self) -> OsString {
        OsStr::from_bytes(self).into()
    }
}

fn check(case: &Case, out: &Output, out_dir: &Path) -> Result<(), String> {
    let err = String::from_utf8_lossy(&out.stderr);
    let mut problems = vec![];
    if out.status.code() != Some(2) {
        problems.push(format!("exit code {:?}", out.status.code()));
    }
    if err.trim_end().lines().count() != 1 || !err.starts_with("error: ") {
        problems.push("not one `error: …` line".to_string());
    }
    if err.contains("internal error") {
        problems.push("a panic".to_string());
    }
    if !err.contains(case.needle) {
        problems.push(format!("no `{}`", case.needle));
    }
    let left: Vec<_> = std::fs::read_dir(out_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    if !left.is_empty() {
        problems.push(format!("files left in the output directory: {left:?}"));
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("{}: {} — stderr: {err}", case.name, problems.join(", "))) }
}

#[test]
fn every_bad_input_is_one_line_and_exit_code_2() {
    let fx = Fixture::new();
    let cases = cases(&fx);
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c, &run(&c.args), &fx.out_dir).err()).collect();
    println!("{} bad inputs tried, {} failed", cases.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs misbehaved:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 90, "the list shrank: {}", cases.len());
}

/// The fixture's good files, a non-UTF-8 path, big-endian data and an empty batch all work.
#[test]
fn good_inputs_still_work() {
    let fx = Fixture::new();
    let out = run(&fx.eval("mse", fx.t.as_os_str(), fx.p.as_os_str()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(fx.out_dir.join("o.npy").exists());
    std::fs::remove_file(fx.out_dir.join("o.npy")).unwrap();

    // Big-endian f8 predictions under a non-UTF-8 file name: Keras's 49.5.
    let be: Vec<u8> = [4., 8., 12., 8., 1., 3.].iter().flat_map(|x: &f64| x.to_be_bytes()).collect();
    let p = fx.file(OsStr::from_bytes(b"\xff.npy"), &with("'>f8'", "False", "(2, 3)", &be));
    let out = run(&[fx.eval("mse", fx.t.as_os_str(), &p), vec![os("--json")]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("49.5"));
    std::fs::remove_file(fx.out_dir.join("o.npy")).unwrap();

    // An empty batch is not an error (and must not panic).
    let e = fx.file("e.npy", &with("'<f4'", "False", "(0, 3)", b""));
    let out = run(&fx.eval("mse", &e, &e));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("internal error") && matches!(out.status.code(), Some(0 | 2)), "{err}");
}

/// A failing stdout (here /dev/full) is an error line and exit code 2, not a panic.
#[test]
fn unwritable_stdout_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else { return };
    let out = Command::new(env!("CARGO_BIN_EXE_objectives"))
        .arg("list")
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: stdout") && err.trim_end().lines().count() == 1, "{err}");
}
