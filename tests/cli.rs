//! The `frameline` binary: the bench JSON contract, apply on real files, and one-line
//! errors (non-zero exit, no panic, no backtrace) for every kind of bad input.

mod common;

use common::{frameline, temp_dir};
use frameline::AnyImage;
use frameline::image::{load, save};
use frameline::kernels::lut::Lut;
use frameline::testing::random_u8;

fn run(args: &[&str]) -> (bool, String, String) {
    run_env(args, &[])
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = frameline();
    cmd.args(args).env("RUST_BACKTRACE", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("frameline runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Fails unless the command failed with exactly one line on stderr mentioning `want`.
fn assert_one_line_error(args: &[&str], env: &[(&str, &str)], want: &str) {
    let (ok, _, err) = run_env(args, env);
    assert!(!ok, "{args:?} should fail");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: one line expected, got: {err}"
    );
    assert!(
        err.contains(want),
        "{args:?}: '{err}' should mention '{want}'"
    );
}

#[test]
fn bench_json_has_the_contract_fields() {
    let (ok, out, err) = run(&[
        "bench",
        "lut",
        "--size",
        "64x48",
        "--threads",
        "1",
        "--repeats",
        "3",
        "--warmup",
        "1",
        "--param",
        "gamma=0.7",
        "--json",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 1);
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    for field in [
        "op",
        "size",
        "dtype",
        "threads",
        "simd",
        "median_ms",
        "min_ms",
        "max_ms",
        "mpix_per_s",
        "gb_per_s",
        "params",
    ] {
        assert!(v.get(field).is_some(), "missing field {field} in {v}");
    }
    assert_eq!(v["op"], "lut");
    assert_eq!(v["size"], "64x48");
    assert_eq!(v["dtype"], "u8");
    assert_eq!(v["threads"], 1);
    assert_eq!(v["repeats"], 3);
    assert_eq!(v["params"]["gamma"], 0.7);
    assert_eq!(v["simd"], frameline::simd::level().unwrap().name());
    assert!(v["gb_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["min_ms"].as_f64() <= v["median_ms"].as_f64());
    assert!(v["median_ms"].as_f64() <= v["max_ms"].as_f64());
}

#[test]
fn bench_runs_on_a_recorded_frame() {
    let dir = temp_dir("bench-input");
    let frame = dir.join("frame.npy");
    save(
        &frame,
        AnyImage::from(random_u8(37, 21, 5).unwrap()).as_view(),
    )
    .unwrap();
    let path = frame.to_str().unwrap();
    let (ok, out, err) = run(&[
        "bench",
        "otsu",
        "--input",
        path,
        "--threads",
        "1",
        "--repeats",
        "2",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["size"], "37x21");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(37), Some(21))
    );
    assert_eq!(v["input"], "frame.npy");
    let (ok, out, _) = run(&["bench", "otsu", "--size", "8x8", "--repeats", "1", "--json"]);
    assert!(ok && out.contains("\"input\":\"generated\""), "{out}");
    // An f32 op on a u8 frame, a missing file, and a size beside the frame are errors.
    assert_one_line_error(&["bench", "row_ema", "--input", path], &[], "u8");
    let missing = dir.join("missing.npy");
    assert_one_line_error(
        &["bench", "otsu", "--input", missing.to_str().unwrap()],
        &[],
        "missing.npy",
    );
    let (ok, _, err) = run(&["bench", "otsu", "--input", path, "--size", "8x8"]);
    assert!(!ok && !err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_every_registered_op_and_simd_override() {
    for spec in frameline::ops::REGISTRY {
        let (ok, out, err) = run(&[
            "bench",
            spec.name,
            "--size",
            "40x8",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--json",
        ]);
        assert!(ok, "{}: {err}", spec.name);
        assert!(out.contains(&format!("\"op\":\"{}\"", spec.name)));
    }
    let (ok, out, err) = run(&[
        "bench",
        "copy",
        "--size",
        "16x16",
        "--simd",
        "scalar",
        "--repeats",
        "1",
        "--json",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("\"simd\":\"scalar\""), "{out}");
    let (ok, out, _) = run_env(
        &[
            "bench",
            "copy",
            "--size",
            "16x16",
            "--repeats",
            "1",
            "--json",
        ],
        &[("FRAMELINE_SIMD", "scalar")],
    );
    assert!(ok && out.contains("\"simd\":\"scalar\""), "{out}");
    let (ok, out, _) = run(&["bench", "--list"]);
    assert!(ok && out.contains("gamma_naive") && out.contains("gamma"));
}

#[test]
fn apply_writes_what_the_library_computes() {
    let dir = temp_dir("apply");
    let input = dir.join("in.png");
    let src = random_u8(37, 19, 4).unwrap();
    save(&input, AnyImage::from(src.clone()).as_view()).unwrap();
    for (out_name, params) in [("out.png", vec![]), ("out.npy", vec!["-p", "gamma=2.2"])] {
        let output = dir.join(out_name);
        let mut args = vec![
            "apply",
            "lut",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ];
        args.extend(params.iter().copied());
        let (ok, _, err) = run(&args);
        assert!(ok, "{err}");
        let gamma = if params.is_empty() { 0.5 } else { 2.2 };
        let lut = Lut::gamma(gamma).unwrap();
        let got = load(&output).unwrap();
        let want =
            frameline::Image::from_fn(37, 19, |x, y| lut.table()[src.get(x, y).unwrap() as usize])
                .unwrap();
        assert_eq!(got, AnyImage::from(want), "{out_name}");
    }
    // Ops that are not u8 -> u8 still work through .npy.
    let npy_in = dir.join("f.npy");
    save(
        &npy_in,
        frameline::testing::random_image(frameline::DType::F32, 5, 4, 1)
            .unwrap()
            .as_view(),
    )
    .unwrap();
    let npy_out = dir.join("g.npy");
    let (ok, _, err) = run(&[
        "apply",
        "copy",
        "-p",
        "dtype=f32",
        npy_in.to_str().unwrap(),
        npy_out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(load(&npy_out).unwrap(), load(&npy_in).unwrap());
}

#[test]
fn bad_input_gives_one_line_errors() {
    let dir = temp_dir("cli-errors");
    let good = dir.join("good.png");
    save(&good, AnyImage::from(random_u8(8, 8, 1).unwrap()).as_view()).unwrap();
    let corrupt = dir.join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\nthis is not a png").unwrap();
    let g = good.to_str().unwrap();
    let out = dir.join("out.png");
    let o = out.to_str().unwrap();
    let missing = dir.join("missing.png");
    let m = missing.to_str().unwrap();
    let c = corrupt.to_str().unwrap();
    assert_one_line_error(&["apply", "lut", m, o], &[], "missing.png");
    assert_one_line_error(&["apply", "lut", c, o], &[], "corrupt.png");
    assert_one_line_error(&["apply", "nosuchop", g, o], &[], "unknown op 'nosuchop'");
    assert_one_line_error(&["apply", "lut", "-p", "gamma=-1", g, o], &[], "gamma");
    assert_one_line_error(&["apply", "lut", "-p", "gamma=abc", g, o], &[], "gamma");
    assert_one_line_error(&["apply", "lut", "-p", "colour=1", g, o], &[], "colour");
    assert_one_line_error(&["apply", "lut", "-p", "gamma", g, o], &[], "key=value");
    assert_one_line_error(&["apply", "lut", "-p", "table=sepia", g, o], &[], "table");
    assert_one_line_error(
        &[
            "apply",
            "lut",
            "-p",
            "table=threshold",
            "-p",
            "threshold=300",
            g,
            o,
        ],
        &[],
        "threshold",
    );
    assert_one_line_error(&["apply", "copy", "-p", "dtype=f32", g, o], &[], "f32");
    assert_one_line_error(
        &["apply", "lut", g, dir.join("out.tiff").to_str().unwrap()],
        &[],
        "out.tiff",
    );
    assert_one_line_error(&["bench", "nosuchop"], &[], "unknown op");
    assert_one_line_error(&["bench", "lut", "--size", "0x10"], &[], "zero");
    assert_one_line_error(&["bench", "lut", "--simd", "sse9"], &[], "sse9");
    let missing_level = if cfg!(target_arch = "x86_64") {
        "neon"
    } else {
        "avx2"
    };
    assert_one_line_error(
        &["bench", "lut", "--simd", missing_level],
        &[],
        "not available",
    );
    assert_one_line_error(
        &["bench", "lut"],
        &[("FRAMELINE_SIMD", "bogus")],
        "FRAMELINE_SIMD",
    );
    assert!(!out.exists(), "no output is written on error");
}

#[test]
fn ladder_and_info_run() {
    let (ok, out, err) = run(&[
        "ladder",
        "--size",
        "64x32",
        "--repeats",
        "1",
        "--warmup",
        "0",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("identical output"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.contains("LUT")).count(),
        3,
        "{out}"
    );
    let (ok, out, _) = run(&[
        "ladder",
        "--size",
        "64x32",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--json",
    ]);
    assert!(ok);
    assert_eq!(out.lines().count(), 5);
    let (ok, out, err) = run(&["info"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("simd chosen") && out.contains("rayon pool"),
        "{out}"
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let exe = env!("CARGO_BIN_EXE_frameline");
    let runner = std::env::var("FRAMELINE_TEST_RUNNER").unwrap_or_default();
    let script = format!(
        "{runner} {exe} bench --list | head -c 1 >/dev/null; {runner} {exe} ladder --size 32x8 --repeats 1 --json | head -c 1"
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn apply_runs_the_filter_ops_on_files() {
    let dir = temp_dir("apply-filters");
    let input = dir.join("in.png");
    save(
        &input,
        AnyImage::from(random_u8(50, 30, 6).unwrap()).as_view(),
    )
    .unwrap();
    let i = input.to_str().unwrap();
    for (op, params, out_name, dtype, size) in [
        (
            "gaussian",
            vec!["-p", "ksize=5"],
            "g.png",
            frameline::DType::U8,
            (50, 30),
        ),
        (
            "box",
            vec!["-p", "ksize=4"],
            "b.pgm",
            frameline::DType::U8,
            (50, 30),
        ),
        (
            "box",
            vec!["-p", "normalize=0"],
            "bs.npy",
            frameline::DType::U32,
            (50, 30),
        ),
        (
            "integral",
            vec![],
            "ii.npy",
            frameline::DType::U32,
            (51, 31),
        ),
        (
            "local_std",
            vec!["-p", "ksize=7", "-p", "dtype=u8"],
            "sd.npy",
            frameline::DType::F32,
            (50, 30),
        ),
        (
            "sauvola",
            vec!["-p", "window=15"],
            "s.png",
            frameline::DType::U8,
            (50, 30),
        ),
        (
            "sauvola",
            vec!["-p", "output=map"],
            "sm.npy",
            frameline::DType::F32,
            (50, 30),
        ),
        (
            "adaptive_threshold",
            vec!["-p", "method=niblack", "-p", "k=-0.2"],
            "a.png",
            frameline::DType::U8,
            (50, 30),
        ),
    ] {
        let out = dir.join(out_name);
        let mut args = vec!["apply", op, i, out.to_str().unwrap()];
        args.extend(params.iter().copied());
        let (ok, _, err) = run(&args);
        assert!(ok, "{op}: {err}");
        let got = load(&out).unwrap();
        assert_eq!((got.dtype(), got.size()), (dtype, size), "{op}");
    }
    assert_one_line_error(
        &["apply", "gaussian", "-p", "ksize=4", i, "x.png"],
        &[],
        "ksize",
    );
    assert_one_line_error(
        &["apply", "gaussian", "-p", "ksize=0", i, "x.png"],
        &[],
        "sigma",
    );
    assert_one_line_error(
        &["apply", "gaussian", "-p", "method=fft", i, "x.png"],
        &[],
        "method",
    );
    assert_one_line_error(
        &["apply", "box", "-p", "ksize=5000", i, "x.png"],
        &[],
        "ksize",
    );
    assert_one_line_error(&["apply", "sauvola", "-p", "r=0", i, "x.png"], &[], "r");
    assert_one_line_error(
        &["apply", "local_std", "-p", "dtype=u16", i, "x.npy"],
        &[],
        "dtype",
    );
}
