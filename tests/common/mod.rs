//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod counting;

use frameline::testing::SplitMix64;
use frameline::{Image, SimdLevel};

/// Widths that stress every vector length we use (16, 32, 64 lanes): 1, lanes-1,
/// lanes, lanes+1, 2*lanes+3, plus a full HD row.
pub fn awkward_widths() -> Vec<usize> {
    let mut w = vec![1, 2, 3, 4, 7];
    for lanes in [16usize, 32, 64] {
        w.extend([lanes - 1, lanes, lanes + 1, 2 * lanes + 3]);
    }
    w.push(1920);
    w.sort_unstable();
    w.dedup();
    w
}

/// Odd and tiny heights.
pub const AWKWARD_HEIGHTS: [usize; 4] = [1, 2, 3, 7];

/// Every SIMD level this CPU offers, scalar first; printed so a log shows what ran.
pub fn levels() -> Vec<SimdLevel> {
    let levels = SimdLevel::supported();
    eprintln!(
        "testing SIMD levels: {}",
        levels
            .iter()
            .map(|l| l.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    levels
}

/// A random u8 image inside a larger one, so the view has a stride and an offset.
/// Returns the big image and the rectangle (x, y) of the view.
pub fn embedded_u8(width: usize, height: usize, seed: u64) -> (Image<u8>, usize, usize) {
    let mut rng = SplitMix64::new(seed);
    let big = Image::from_fn(width + 13, height + 5, |_, _| rng.next_u64() as u8).unwrap();
    (big, 5, 3)
}

/// A `pool` with exactly `threads` threads.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    frameline::bench::thread_pool(threads).unwrap()
}

/// Command for the `frameline` binary; under cross testing, `FRAMELINE_TEST_RUNNER`
/// (e.g. qemu-aarch64-static) runs it, since the host cannot exec it directly.
pub fn frameline() -> std::process::Command {
    let exe = env!("CARGO_BIN_EXE_frameline");
    match std::env::var("FRAMELINE_TEST_RUNNER") {
        Ok(runner) if !runner.is_empty() => {
            let mut c = std::process::Command::new(runner);
            c.arg(exe);
            c
        }
        _ => std::process::Command::new(exe),
    }
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("frameline-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
