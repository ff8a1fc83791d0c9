//! `frameline ladder`: the chapter's Code 8.2.2, gamma 0.5 on a 1920x1080 u8 frame.

use frameline::ladder::{LadderConfig, run_ladder};
use frameline::simd::{self, SimdLevel};

#[derive(clap::Args)]
pub struct Args {
    /// Frame size.
    #[arg(long, default_value = "1920x1080", value_parser = super::parse_size)]
    size: (usize, usize),
    /// Gamma exponent.
    #[arg(long, default_value_t = 0.5)]
    gamma: f64,
    /// Timed runs per tier (the median is reported).
    #[arg(long, default_value_t = 7)]
    repeats: usize,
    /// Untimed runs per tier first.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Threads of the top tier (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// SIMD level of the SIMD tiers (default: best available).
    #[arg(long)]
    simd: Option<SimdLevel>,
    /// One JSON object per tier instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> frameline::Result<()> {
    let cfg = LadderConfig {
        width: args.size.0,
        height: args.size.1,
        gamma: args.gamma,
        warmup: args.warmup,
        repeats: args.repeats,
        threads: args.threads.unwrap_or_else(super::available_cores),
        simd: match args.simd {
            Some(l) => l,
            None => simd::level()?,
        },
    };
    let report = run_ladder(&cfg)?;
    if args.json {
        for t in &report.tiers {
            let line = serde_json::json!({
                "tier": t.number, "name": t.name, "size": format!("{}x{}", cfg.width, cfg.height),
                "dtype": "u8", "threads": t.threads, "simd": t.simd.name(),
                "median_ms": t.timing.median_ms, "min_ms": t.timing.min_ms, "max_ms": t.timing.max_ms,
                "speedup": report.speedup(t), "gamma": cfg.gamma, "cpu": simd::cpu_model(),
            });
            outln!("{line}");
        }
        return Ok(());
    }
    outln!(
        "gamma {} on a {}x{} u8 frame | cpu: {} | simd: {} | threads (top tier): {}",
        cfg.gamma,
        cfg.width,
        cfg.height,
        simd::cpu_model(),
        cfg.simd,
        report.tiers.last().map_or(1, |t| t.threads)
    );
    outln!(
        "{:<5} {:<26} {:>7} {:>11} {:>10} {:>10} {:>9}",
        "tier",
        "method",
        "threads",
        "simd",
        "median ms",
        "min ms",
        "speed-up"
    );
    for t in &report.tiers {
        outln!(
            "{:<5} {:<26} {:>7} {:>11} {:>10.3} {:>10.3} {:>8.0}x",
            t.number,
            t.name,
            t.threads,
            t.simd.name(),
            t.timing.median_ms,
            t.timing.min_ms,
            report.speedup(t)
        );
    }
    outln!("all tiers produced identical output (checked)");
    Ok(())
}
