//! Honest timing (the chapter's Code 8.2.1): warm-up runs absorb one-time costs
//! (thread-pool start, page faults on fresh buffers, lazy initialization), then the
//! median of the repeats resists scheduling noise. Min, max and p99 come with it.

use std::time::Instant;

use serde::Serialize;

use crate::Result;

/// Summary statistics of a set of durations, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Nearest-rank 99th percentile; equals the maximum below 100 samples.
    pub p99_ms: f64,
}

impl Summary {
    /// Summarizes samples (sorted in place). `None` for no samples.
    pub fn from_samples(samples_ms: &mut [f64]) -> Option<Summary> {
        if samples_ms.is_empty() {
            return None;
        }
        samples_ms.sort_by(f64::total_cmp);
        let n = samples_ms.len();
        let median_ms = if n % 2 == 1 {
            samples_ms[n / 2]
        } else {
            0.5 * (samples_ms[n / 2 - 1] + samples_ms[n / 2])
        };
        Some(Summary {
            count: n,
            median_ms,
            min_ms: samples_ms[0],
            max_ms: samples_ms[n - 1],
            mean_ms: samples_ms.iter().sum::<f64>() / n as f64,
            p99_ms: percentile_sorted(samples_ms, 99.0).expect("non-empty"),
        })
    }
}

/// Nearest-rank percentile of sorted samples; `None` when there are none.
pub fn percentile_sorted(sorted: &[f64], pct: f64) -> Option<f64> {
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

/// Runs `f` `warmup` times untimed, then `repeats` (at least 1) times timed.
pub fn measure(
    warmup: usize,
    repeats: usize,
    mut f: impl FnMut() -> Result<()>,
) -> Result<Summary> {
    for _ in 0..warmup {
        f()?;
    }
    let mut samples = Vec::with_capacity(repeats.max(1));
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        f()?;
        samples.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Summary::from_samples(&mut samples).expect("at least one sample"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_statistics() {
        let mut s = [5.0, 1.0, 3.0, 2.0, 4.0];
        let sum = Summary::from_samples(&mut s).unwrap();
        assert_eq!(
            (sum.median_ms, sum.min_ms, sum.max_ms, sum.mean_ms),
            (3.0, 1.0, 5.0, 3.0)
        );
        let mut even = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(Summary::from_samples(&mut even).unwrap().median_ms, 2.5);
        assert!(Summary::from_samples(&mut []).is_none());
        let mut many: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(Summary::from_samples(&mut many).unwrap().p99_ms, 198.0);
    }

    #[test]
    fn measure_runs_warmup_plus_repeats() {
        let mut calls = 0;
        let s = measure(2, 5, || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((calls, s.count), (7, 5));
        let failing = measure(0, 3, || Err(crate::Error::Mismatch("x".into())));
        assert!(failing.is_err());
    }
}
