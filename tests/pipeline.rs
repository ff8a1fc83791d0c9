//! The live pipeline end to end: the synthetic camera's injected defects are all found
//! (and nothing else), replays reproduce live results, the live policy drops the oldest
//! frames when the worker falls behind while a replay waits, and bad input gives errors.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use frameline::capture::{self, Frame, Grab, RawFrameWriter, Source, SourceSpec};
use frameline::pipeline::{self, Hooks, InspectConfig, RunSummary};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("frameline-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Process ids are reused: clear what an earlier run with this id left behind.
    let path = dir.join(name);
    let _ = std::fs::remove_dir_all(&path);
    let _ = std::fs::remove_file(&path);
    path
}

fn synthetic(w: usize, h: usize, frames: u64) -> InspectConfig {
    let mut cfg = InspectConfig::default();
    cfg.source.width = w;
    cfg.source.height = h;
    cfg.source.as_fast_as_possible = true;
    cfg.run.frames = Some(frames);
    cfg.run.warmup = 2;
    cfg.run.status_interval = 0.0;
    cfg.threads.pin = false;
    cfg
}

fn run(cfg: &InspectConfig) -> (RunSummary, Vec<serde_json::Value>) {
    let (source, stages) = pipeline::build(cfg).unwrap();
    let mut out = Vec::new();
    let stop = AtomicBool::new(false);
    let summary = pipeline::run(
        cfg,
        source,
        stages,
        Some(&mut out),
        &stop,
        &Hooks::default(),
    )
    .unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (summary, lines)
}

#[test]
fn synthetic_defects_all_found_and_nothing_else() {
    for (w, h, threshold) in [
        (640, 480, "fixed"),
        (1001, 677, "fixed"),
        (640, 480, "sauvola"),
    ] {
        let mut cfg = synthetic(w, h, 40);
        cfg.threshold.method = threshold.into();
        cfg.threshold.window = 51;
        cfg.threshold.k = 0.25;
        let (s, lines) = run(&cfg);
        assert_eq!(s.error, None);
        assert_eq!(s.frames, 40);
        let d = s.detection.expect("synthetic source has ground truth");
        assert!(d.injected >= 40 * 5, "{d:?}");
        assert!(d.is_perfect(), "{w}x{h} {threshold}: {d:?}");
        assert_eq!(lines.len(), 40);
        assert_eq!(lines[3]["seq"], 3);
        // Reported areas and boxes match the truth closely (blur and opening move
        // edges by a pixel at most).
        let mut truth = Vec::new();
        let gt = capture::SyntheticCamera::new(capture::SyntheticConfig::from_options(
            &cfg.source.options(),
        ))
        .unwrap()
        .ground_truth()
        .unwrap();
        for line in &lines {
            gt.defects(line["seq"].as_u64().unwrap(), &mut truth);
            for t in &truth {
                let found = line["defects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|d| {
                        let cx = d["cx"].as_f64().unwrap();
                        let cy = d["cy"].as_f64().unwrap();
                        (cx - (t.left as f64 + t.width as f64 / 2.0)).abs() < 1.5
                            && (cy - (t.top as f64 + t.height as f64 / 2.0)).abs() < 1.5
                    })
                    .expect("centroid within 1.5 px");
                let area = found["area"].as_f64().unwrap();
                assert!(
                    (area / t.area as f64 - 1.0).abs() < 0.3,
                    "area {area} vs {}",
                    t.area
                );
                let fw = found["w"].as_i64().unwrap();
                assert!(
                    (fw - t.width as i64).abs() <= 3,
                    "width {fw} vs {}",
                    t.width
                );
            }
        }
    }
}

#[test]
fn flat_field_matters() {
    // Without correction the vignetted corners fall below the fixed level: false defects.
    let mut cfg = synthetic(640, 480, 5);
    cfg.calibration.disabled = true;
    cfg.threshold.level = 110;
    let (s, _) = run(&cfg);
    assert!(!s.detection.unwrap().is_perfect());
}

#[test]
fn replay_reproduces_the_live_run() {
    let cfg = synthetic(320, 240, 12);
    let (live, live_lines) = run(&cfg);
    // Record the same frames, then replay them with the same calibration.
    let path = tmp("replay.raw");
    let mut cam = capture::open(&SourceSpec::Synthetic, &cfg.source.options()).unwrap();
    let mut wr = RawFrameWriter::create(&path, 320, 240, Some(30.0)).unwrap();
    let mut frame = Frame::new(320, 240).unwrap();
    for _ in 0..12 {
        assert_eq!(
            cam.next_frame(&mut frame, Duration::from_secs(1)).unwrap(),
            Grab::Frame
        );
        wr.write(&frame).unwrap();
    }
    wr.finish().unwrap();
    let (darks, flats) = capture::SyntheticCamera::new(capture::SyntheticConfig::from_options(
        &cfg.source.options(),
    ))
    .unwrap()
    .calibration_frames(8)
    .unwrap();
    let dark = tmp("dark.raw");
    let flat = tmp("flat.raw");
    for (p, frames) in [(&dark, &darks), (&flat, &flats)] {
        let mut wr = RawFrameWriter::create(p, 320, 240, None).unwrap();
        for img in frames {
            frame.image = img.clone();
            wr.write(&frame).unwrap();
        }
        wr.finish().unwrap();
    }
    let mut replay = cfg.clone();
    replay.source.spec = format!("replay:{}", path.display());
    replay.calibration.dark = Some(dark);
    replay.calibration.flat = Some(flat);
    let (s, lines) = run(&replay);
    assert_eq!(s.frames, 12);
    assert!(s.detection.is_none());
    assert_eq!(s.defects, live.defects);
    for (a, b) in lines.iter().zip(&live_lines) {
        assert_eq!(a["seq"], b["seq"]);
        assert_eq!(a["defects"], b["defects"]);
    }
}

#[test]
fn live_drops_oldest_when_behind_replay_waits() {
    // A worker that takes 15 ms per frame behind a 200 fps camera must drop frames;
    // the same worker behind a replay processes every frame.
    let slow = |_: u64| std::thread::sleep(Duration::from_millis(15));
    let hooks = Hooks {
        after_frame: Some(&slow),
    };
    let mut cfg = synthetic(160, 120, 40);
    cfg.source.as_fast_as_possible = false;
    cfg.source.fps = Some(200.0);
    let (source, stages) = pipeline::build(&cfg).unwrap();
    let stop = AtomicBool::new(false);
    let s = pipeline::run(&cfg, source, stages, None, &stop, &hooks).unwrap();
    assert!(s.dropped_behind > 0, "{s:?}");
    assert_eq!(s.frames + s.dropped_behind, 40);
    assert!(
        s.detection.unwrap().is_perfect(),
        "dropped frames are not misses"
    );

    cfg.source.as_fast_as_possible = true;
    let (source, stages) = pipeline::build(&cfg).unwrap();
    let s = pipeline::run(&cfg, source, stages, None, &stop, &hooks).unwrap();
    assert_eq!((s.frames, s.dropped_behind), (40, 0));
}

#[test]
fn stop_flag_ends_the_run() {
    let mut cfg = synthetic(160, 120, 1_000_000);
    cfg.run.frames = None;
    let (source, stages) = pipeline::build(&cfg).unwrap();
    let stop = AtomicBool::new(false);
    let stopper = |n: u64| {
        if n == 25 {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    };
    let hooks = Hooks {
        after_frame: Some(&stopper),
    };
    let s = pipeline::run(&cfg, source, stages, None, &stop, &hooks).unwrap();
    assert!(s.frames >= 25 && s.frames < 1000, "{}", s.frames);
    assert_eq!(s.error, None);
}

#[test]
fn bad_input_gives_errors() {
    let err = |cfg: &InspectConfig| pipeline::build(cfg).err().expect("an error").to_string();
    let mut cfg = synthetic(320, 240, 5);
    cfg.source.spec = "replay:/no/such/file.raw".into();
    assert!(err(&cfg).contains("/no/such/file.raw"));
    let corrupt = tmp("corrupt.raw");
    std::fs::write(&corrupt, b"FRAMELN1 but then nothing useful").unwrap();
    cfg.source.spec = format!("replay:{}", corrupt.display());
    assert!(!err(&cfg).is_empty());

    // Calibration frames of the wrong size.
    let small = tmp("small.png");
    frameline::image::save(
        &small,
        frameline::AnyView::U8(frameline::Image::<u8>::new(10, 10).unwrap().as_view()),
    )
    .unwrap();
    let mut cfg = synthetic(320, 240, 5);
    cfg.calibration.dark = Some(small.clone());
    cfg.calibration.flat = Some(small);
    assert!(err(&cfg).contains("size mismatch"), "{}", err(&cfg));

    let mut cfg = synthetic(320, 240, 5);
    cfg.threshold.method = "magic".into();
    assert!(err(&cfg).contains("magic"));
    let mut cfg = synthetic(320, 240, 5);
    cfg.components.conn = 6;
    assert!(err(&cfg).contains("4 or 8"));
    let mut cfg = synthetic(320, 240, 5);
    cfg.blur.ksize = 4;
    assert!(!err(&cfg).is_empty());
    let mut cfg = synthetic(0, 240, 5);
    cfg.source.width = 0;
    assert!(err(&cfg).contains("non-zero"));
    let mut cfg = synthetic(320, 240, 5);
    cfg.source.spec = "v4l:/dev/frameline-no-such-camera".into();
    let e = err(&cfg);
    assert!(e.contains("frameline-no-such-camera"), "{e}");
    assert_eq!(e.lines().count(), 1);
}
