//! `frameline bench`.

use frameline::bench::{BenchConfig, bench_op};
use frameline::ops::{self, REGISTRY};
use frameline::simd::SimdLevel;

#[derive(clap::Args)]
pub struct Args {
    /// The op to measure (see --list).
    #[arg(required_unless_present = "list")]
    op: Option<String>,
    /// List ops and their parameters.
    #[arg(long)]
    list: bool,
    /// Frame size.
    #[arg(long, default_value = "1920x1080", value_parser = super::parse_size)]
    size: (usize, usize),
    /// Run on this frame (PNG, PGM, JPEG or .npy, of the op's input type) instead of the
    /// op's generated one; its size replaces --size.
    #[arg(long, conflicts_with = "size")]
    input: Option<std::path::PathBuf>,
    /// Threads (default: all cores); 1 runs on exactly one thread.
    #[arg(long)]
    threads: Option<usize>,
    /// Timed runs (the median is reported).
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Force a SIMD level: scalar, avx2, avx512, avx512vbmi, neon.
    #[arg(long)]
    simd: Option<SimdLevel>,
    /// An op parameter, key=value (repeatable).
    #[arg(long = "param", short = 'p')]
    params: Vec<String>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> frameline::Result<()> {
    if args.list {
        for spec in REGISTRY {
            outln!("{:<14} {}", spec.name, spec.summary);
            for p in spec.params {
                outln!("    {:<12} default {:<8} {}", p.name, p.default, p.help);
            }
        }
        return Ok(());
    }
    let spec = ops::find(args.op.as_deref().unwrap_or_default())?;
    let cfg = BenchConfig {
        width: args.size.0,
        height: args.size.1,
        threads: args.threads.unwrap_or_else(super::available_cores),
        warmup: args.warmup,
        repeats: args.repeats,
        simd: args.simd,
        input: args.input,
    };
    let r = bench_op(spec, &args.params, &cfg)?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string(&r).expect("a record always serializes")
        );
    } else {
        outln!(
            "{} {} {} | threads {} | simd {} | median {:.3} ms (min {:.3}, max {:.3}) | {:.0} Mpix/s | {:.2} GB/s | {}",
            r.op,
            r.size,
            r.dtype,
            r.threads,
            r.simd,
            r.median_ms,
            r.min_ms,
            r.max_ms,
            r.mpix_per_s,
            r.gb_per_s,
            r.params
        );
    }
    Ok(())
}
