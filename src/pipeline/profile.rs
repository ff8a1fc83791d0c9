//! Per-stage timing without allocation: fixed log-linear histograms (about 3 %
//! resolution, exact minimum and maximum), a stage table, and the periodic report.

use std::fmt::Write as _;
use std::time::Duration;

/// Sub-buckets per power of two (resolution 1/32 ≈ 3 %).
const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
/// Powers of two covered: up to 2^42 ns ≈ 73 minutes.
const EXPONENTS: usize = 42;

/// A histogram of durations in nanoseconds; `record` never allocates.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Box<[u32]>,
    n: u64,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; SUB * (EXPONENTS - SUB_BITS as usize + 1)].into_boxed_slice(),
            n: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    fn bucket(ns: u64) -> usize {
        if ns < SUB as u64 {
            return ns as usize;
        }
        let exp = 63 - ns.leading_zeros();
        let sub = ((ns >> (exp - SUB_BITS)) as usize) & (SUB - 1);
        ((exp - SUB_BITS + 1) as usize * SUB + sub)
            .min(SUB * (EXPONENTS - SUB_BITS as usize + 1) - 1)
    }

    /// The smallest value that falls into `bucket`.
    fn bucket_low(bucket: usize) -> u64 {
        if bucket < SUB {
            return bucket as u64;
        }
        let exp = (bucket / SUB) as u32 + SUB_BITS - 1;
        ((SUB + bucket % SUB) as u64) << (exp - SUB_BITS)
    }

    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[Self::bucket(ns)] += 1;
        self.n += 1;
        self.sum_ns += u128::from(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    pub fn mean(&self) -> Duration {
        if self.n == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos((self.sum_ns / u128::from(self.n)) as u64)
    }

    /// The `q` quantile (0..=1): the middle of the bucket holding it, clamped to the
    /// exact minimum and maximum.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.n == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.n as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                let (lo, hi) = (Self::bucket_low(b), Self::bucket_low(b + 1));
                let mid = lo + (hi - lo) / 2;
                return Duration::from_nanos(mid.clamp(self.min_ns, self.max_ns));
            }
        }
        self.max()
    }

    pub fn median(&self) -> Duration {
        self.quantile(0.5)
    }
}

/// Timings of the pipeline's stages, the capture copy and the capture→result latency.
#[derive(Clone, Debug)]
pub struct Profile {
    names: Vec<&'static str>,
    stages: Vec<Histogram>,
    pub capture: Histogram,
    pub total: Histogram,
    pub latency: Histogram,
}

impl Profile {
    pub fn new(stage_names: &[&'static str]) -> Self {
        Profile {
            names: stage_names.to_vec(),
            stages: stage_names.iter().map(|_| Histogram::new()).collect(),
            capture: Histogram::new(),
            total: Histogram::new(),
            latency: Histogram::new(),
        }
    }

    pub fn stage_mut(&mut self, i: usize) -> &mut Histogram {
        &mut self.stages[i]
    }

    /// `(name, histogram)` of every row of the table, in pipeline order.
    pub fn rows(&self) -> impl Iterator<Item = (&'static str, &Histogram)> {
        std::iter::once(("capture copy", &self.capture))
            .chain(self.names.iter().copied().zip(&self.stages))
            .chain([
                ("all stages", &self.total),
                ("capture->result", &self.latency),
            ])
    }

    /// The stage table: median, p99 and max per stage in milliseconds.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<18} {:>8} {:>10} {:>10} {:>10} {:>10}",
            "stage", "frames", "mean ms", "median ms", "p99 ms", "max ms"
        );
        for (name, h) in self.rows() {
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            let _ = writeln!(
                s,
                "{:<18} {:>8} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
                name,
                h.count(),
                ms(h.mean()),
                ms(h.median()),
                ms(h.quantile(0.99)),
                ms(h.max())
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for ns in 0..100_000u64 {
            let b = Histogram::bucket(ns);
            assert!(b >= last);
            last = b;
        }
        for ns in (0..100_000u64).chain((1..41).flat_map(|e| [(1u64 << e) - 1, 1 << e])) {
            let b = Histogram::bucket(ns);
            assert!(Histogram::bucket_low(b) <= ns && ns < Histogram::bucket_low(b + 1));
            // Bucket width is at most 1/32 of its values.
            assert!(Histogram::bucket_low(b + 1) - Histogram::bucket_low(b) <= ns / 32 + 1);
        }
    }

    #[test]
    fn quantiles_within_resolution() {
        let mut h = Histogram::new();
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us));
        }
        let close = |d: Duration, us: f64| (d.as_secs_f64() * 1e6 / us - 1.0).abs() < 0.04;
        assert!(close(h.median(), 500.0), "{:?}", h.median());
        assert!(close(h.quantile(0.99), 990.0), "{:?}", h.quantile(0.99));
        assert_eq!(h.max(), Duration::from_micros(1000));
        assert_eq!(h.quantile(0.0), Duration::from_micros(1));
        assert_eq!(h.count(), 1000);
        assert_eq!(Histogram::new().median(), Duration::ZERO);
    }
}
