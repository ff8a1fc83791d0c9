//! The performance ladder (the chapter's Code 8.2.2): the same gamma correction five
//! ways, each rung moving more of the inner loop into cheaper work. Every tier's output
//! is checked against tier 0 before its time is reported.

use crate::image::Image;
use crate::kernels::gamma::{RowScratch, gamma_naive, gamma_row_float};
use crate::kernels::lut::{Lut, apply_lut_at};
use crate::simd::SimdLevel;
use crate::timing::{Summary, measure};
use crate::{Error, Result};

/// What to run.
#[derive(Clone, Debug)]
pub struct LadderConfig {
    pub width: usize,
    pub height: usize,
    pub gamma: f64,
    pub warmup: usize,
    pub repeats: usize,
    /// Threads of the top tier (all cores by default).
    pub threads: usize,
    /// SIMD level of the SIMD tiers.
    pub simd: SimdLevel,
}

/// One measured rung.
#[derive(Clone, Debug)]
pub struct Tier {
    pub number: usize,
    pub name: &'static str,
    pub threads: usize,
    pub simd: SimdLevel,
    pub timing: Summary,
}

/// All rungs, lowest first.
#[derive(Clone, Debug)]
pub struct LadderReport {
    pub config: LadderConfig,
    pub tiers: Vec<Tier>,
}

impl LadderReport {
    /// Median speed-up of `tier` over tier 0.
    pub fn speedup(&self, tier: &Tier) -> f64 {
        self.tiers[0].timing.median_ms / tier.timing.median_ms
    }
}

/// Runs every tier on a seeded random u8 frame and checks all outputs are identical.
pub fn run_ladder(cfg: &LadderConfig) -> Result<LadderReport> {
    let simd = cfg.simd.check()?;
    crate::bench::check_repeats(cfg.repeats)?;
    let src = crate::testing::random_u8(cfg.width, cfg.height, crate::ops::BENCH_SEED)?;
    let src = src.as_view();
    let lut = Lut::gamma(cfg.gamma)?;
    let one = crate::bench::thread_pool(1)?;
    let all = crate::bench::thread_pool(cfg.threads)?;

    let time = |pool: &rayon::ThreadPool, run: &mut (dyn FnMut() -> Result<()> + Send)| {
        pool.install(|| measure(cfg.warmup, cfg.repeats, run))
    };

    let mut reference = Image::<u8>::new(cfg.width, cfg.height)?;
    let tier0 = time(&one, &mut || {
        gamma_naive(&src, &mut reference.as_view_mut(), cfg.gamma)
    })?;
    let mut tiers = vec![Tier {
        number: 0,
        name: "f64 powf per pixel",
        threads: 1,
        simd: SimdLevel::Scalar,
        timing: tier0,
    }];

    let mut out = Image::<u8>::new(cfg.width, cfg.height)?;
    let mut scratch = RowScratch::for_width(cfg.width);
    let rungs: [(&'static str, SimdLevel, &rayon::ThreadPool); 4] = [
        ("whole-row f32 arithmetic", SimdLevel::Scalar, &one),
        ("scalar LUT", SimdLevel::Scalar, &one),
        ("SIMD LUT", simd, &one),
        ("SIMD LUT, all cores", simd, &all),
    ];
    for (number, (name, level, pool)) in (1..).zip(rungs) {
        out.as_view_mut().fill(0);
        let timing = if number == 1 {
            time(pool, &mut || {
                gamma_row_float(&src, &mut out.as_view_mut(), cfg.gamma, &mut scratch)
            })?
        } else {
            time(pool, &mut || {
                apply_lut_at(level, &src, &mut out.as_view_mut(), &lut)
            })?
        };
        if out != reference {
            return Err(Error::Mismatch(format!(
                "ladder tier {number} ({name}) differs from tier 0"
            )));
        }
        tiers.push(Tier {
            number,
            name,
            threads: pool.current_num_threads(),
            simd: level,
            timing,
        });
    }
    Ok(LadderReport {
        config: cfg.clone(),
        tiers,
    })
}
