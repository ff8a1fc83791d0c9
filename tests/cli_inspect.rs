//! `frameline inspect`, `record` and `calibrate` as a user runs them: the synthetic
//! camera end to end, record → replay with files from `calibrate`, and one-line errors.

mod common;

use common::{frameline, temp_dir};

fn run(args: &[&str]) -> (bool, String, String) {
    let out = frameline()
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("frameline runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line_error(args: &[&str], want: &str) {
    let (ok, _, err) = run(args);
    assert!(!ok, "{args:?} should fail");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: expected '{want}' in: {err}");
}

#[test]
fn inspect_synthetic_reports_every_defect() {
    let dir = temp_dir("inspect");
    let json = dir.join("defects.jsonl");
    let summary = dir.join("summary.json");
    let snaps = dir.join("snaps");
    let (ok, out, err) = run(&[
        "inspect",
        "--source",
        "synthetic",
        "--size",
        "640x480",
        "--fast",
        "--frames",
        "30",
        "--no-pin",
        "--json",
        json.to_str().unwrap(),
        "--summary-json",
        summary.to_str().unwrap(),
        "--snapshots",
        snaps.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.is_empty(), "JSON goes to the file");
    for want in [
        "capture->result",
        "median ms",
        "p99 ms",
        "found 180 of 180",
        "0 false",
    ] {
        assert!(err.contains(want), "'{want}' missing in:\n{err}");
    }
    let lines = std::fs::read_to_string(&json).unwrap();
    assert_eq!(lines.lines().count(), 30);
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["defects"].as_array().unwrap().len(), 6, "{line}");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(s["frames"], 30);
    assert_eq!(s["detection"]["missed"], 0);
    assert!(s["stages"].as_array().unwrap().len() >= 7);
    let pngs = std::fs::read_dir(&snaps).unwrap().count();
    assert!(pngs >= 1, "a snapshot of a frame with defects");
}

#[test]
fn record_calibrate_and_replay() {
    let dir = temp_dir("record");
    let rec = dir.join("rec.raw");
    let pngs = dir.join("pngs");
    let dark = dir.join("dark.png");
    let flat = dir.join("flat.raw");
    let synth = ["--source", "synthetic", "--size", "320x240", "--fast"];
    for args in [
        vec!["record", "--frames", "12", rec.to_str().unwrap()],
        vec!["record", "--frames", "3", pngs.to_str().unwrap()],
        vec!["calibrate", "dark", "--frames", "4", dark.to_str().unwrap()],
        vec!["calibrate", "flat", "--frames", "4", flat.to_str().unwrap()],
    ] {
        let mut args = args;
        args.extend(synth);
        let (ok, _, err) = run(&args);
        assert!(ok, "{args:?}: {err}");
    }
    let replay = format!("replay:{}", rec.display());
    let (ok, out, err) = run(&[
        "inspect",
        "--source",
        &replay,
        "--fast",
        "--dark",
        dark.to_str().unwrap(),
        "--flat",
        flat.to_str().unwrap(),
        "--json",
        "-",
        "--no-pin",
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("12 frames of 320x240"), "{err}");
    assert_eq!(out.lines().count(), 12);
    let found: usize = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["defects"].as_array().unwrap().len()
        })
        .sum();
    assert_eq!(found, 12 * 6, "same defects as live");
    let replay = format!("replay:{}", pngs.display());
    let (ok, _, err) = run(&[
        "inspect",
        "--source",
        &replay,
        "--no-flat-field",
        "--no-pin",
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("3 frames of 320x240"), "{err}");
}

#[test]
fn inspect_errors_are_one_line() {
    let dir = temp_dir("inspect-errors");
    assert_one_line_error(
        &["inspect", "--source", "v4l:/dev/frameline-no-such-camera"],
        "no such device",
    );
    assert_one_line_error(&["inspect", "--source", "webcam"], "expected synthetic");
    assert_one_line_error(
        &["inspect", "--source", "replay:/no/such.raw"],
        "/no/such.raw",
    );
    let bad = dir.join("bad.raw");
    std::fs::write(
        &bad,
        b"FRAMELN1\x10\0\0\0\x10\0\0\0GREY\x05\0\0\0\0\0\0\0\0\0\0\0",
    )
    .unwrap();
    assert_one_line_error(
        &["inspect", "--source", &format!("replay:{}", bad.display())],
        "truncated",
    );
    let toml = dir.join("bad.toml");
    std::fs::write(&toml, "[blur]\nkernel = 5\n").unwrap();
    assert_one_line_error(
        &["inspect", "--config", toml.to_str().unwrap()],
        "unknown field",
    );
    let small = dir.join("small.png");
    let img = frameline::Image::<u8>::new(8, 8).unwrap();
    frameline::image::save(&small, frameline::AnyView::U8(img.as_view())).unwrap();
    assert_one_line_error(
        &[
            "inspect",
            "--dark",
            small.to_str().unwrap(),
            "--flat",
            small.to_str().unwrap(),
        ],
        "size mismatch",
    );
    assert_one_line_error(&["inspect", "--threshold", "magic"], "magic");
    assert_one_line_error(&["inspect", "--size", "0x10"], "zero");
}

#[test]
fn ctrl_c_stops_cleanly_with_the_final_table() {
    use std::io::BufRead;
    let mut child = frameline()
        .args(["inspect", "--size", "320x240", "--no-pin"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            if line.starts_with("stages:") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // "stages:" is printed once the Ctrl-C handler is in place (slow under qemu).
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .expect("inspect starts");
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Through a runner (qemu-user), the child is the emulator, which passes SIGINT on.
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let err = reader.join().unwrap();
    assert!(exit.success(), "{exit}: {err}");
    assert!(
        err.contains("capture->result"),
        "final table printed: {err}"
    );
    assert!(err.contains("detection: found"), "{err}");
}

#[test]
fn the_readme_settings_example_parses() {
    // The TOML example in the README's "Live inspection" section is a real config.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("block end");
    let cfg = frameline::pipeline::InspectConfig::from_toml(&readme[start..end])
        .expect("the README's settings parse");
    cfg.validate().expect("and are valid");
    assert_eq!(cfg.source.spec, "v4l:/dev/video0");
    assert_eq!(cfg.threads.worker_cores, Some(vec![1, 2, 3]));
}
