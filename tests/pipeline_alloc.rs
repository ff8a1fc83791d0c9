//! No allocation per frame: the whole pipeline (synthetic capture thread, ring buffers,
//! every stage on the worker pool, JSON lines, profiling, ground-truth scoring) runs
//! 200 frames after warm-up without touching the heap, proven with a counting global
//! allocator that sees every thread.

use std::sync::atomic::{AtomicBool, Ordering};

mod common;
use common::counting::{ALLOCATIONS, COUNTING, Counting};

use frameline::pipeline::{self, Hooks, InspectConfig};

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARMUP: u64 = 20;
const MEASURED: u64 = 200;

#[test]
fn pipeline_allocates_nothing_per_frame() {
    // Replay pacing (the worker takes every frame), then live pacing at a rate the
    // worker cannot keep up with, so the drop-oldest path runs under the counter too.
    for (threshold, live) in [
        ("fixed", false),
        ("otsu", false),
        ("sauvola", false),
        ("fixed", true),
    ] {
        let mut cfg = InspectConfig::default();
        cfg.source.width = 640;
        cfg.source.height = 480;
        cfg.source.as_fast_as_possible = !live;
        cfg.source.fps = Some(5000.0);
        cfg.threshold.method = threshold.into();
        cfg.run.frames = None; // the hook below stops the run
        cfg.run.status_interval = 0.0;
        cfg.threads.pin = false;
        let (source, stages) = pipeline::build(&cfg).unwrap();
        let stop = AtomicBool::new(false);
        let count = |n: u64| {
            if n == WARMUP {
                ALLOCATIONS.store(0, Ordering::SeqCst);
                COUNTING.store(true, Ordering::SeqCst);
            } else if n == WARMUP + MEASURED {
                COUNTING.store(false, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
            }
        };
        let hooks = Hooks {
            after_frame: Some(&count),
        };
        let mut sink = std::io::sink();
        let s = pipeline::run(&cfg, source, stages, Some(&mut sink), &stop, &hooks).unwrap();
        eprintln!(
            "{threshold} live={live}: {} processed, {} dropped",
            s.frames, s.dropped_behind
        );
        assert!(s.frames >= WARMUP + MEASURED);
        assert!(s.detection.unwrap().is_perfect());
        let n = ALLOCATIONS.load(Ordering::SeqCst);
        assert_eq!(n, 0, "{threshold}: {n} allocations in {MEASURED} frames");
    }
}
