//! `frameline bench`: one op, one deterministic frame, honest timing, one record with
//! the fields other tools rely on (see [`BenchRecord`]; extend, never rename).

use serde::Serialize;

use crate::image::AnyImage;
use crate::ops::OpSpec;
use crate::simd::{self, SimdLevel};
use crate::timing::measure;
use crate::{Error, Result};

/// How to measure.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub width: usize,
    pub height: usize,
    /// Threads in the pool the op runs on; 1 really means one thread.
    pub threads: usize,
    pub warmup: usize,
    pub repeats: usize,
    /// Forced SIMD level; `None` uses [`simd::level`].
    pub simd: Option<SimdLevel>,
    /// A recorded frame to run on instead of the op's generated one (its size wins over
    /// `width` and `height`).
    pub input: Option<std::path::PathBuf>,
}

/// One benchmark result. Field names are a stable interface (`--json`).
#[derive(Clone, Debug, Serialize)]
pub struct BenchRecord {
    pub op: String,
    /// `"WIDTHxHEIGHT"`.
    pub size: String,
    pub width: usize,
    pub height: usize,
    /// Input pixel type.
    pub dtype: String,
    pub out_dtype: String,
    pub threads: usize,
    pub simd: String,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub p99_ms: f64,
    pub repeats: usize,
    pub warmup: usize,
    /// Input megapixels per second at the median time.
    pub mpix_per_s: f64,
    /// Bytes read plus written per second at the median time (1 GB = 1e9 bytes).
    pub gb_per_s: f64,
    pub bytes_per_run: u64,
    pub params: serde_json::Value,
    /// `"generated"` (the op's deterministic frame) or the file name of `--input`.
    pub input: String,
    pub cpu: String,
    pub arch: String,
    pub version: String,
}

/// Errors unless at least one timed run is asked for.
pub fn check_repeats(repeats: usize) -> Result<()> {
    if repeats == 0 {
        return Err(Error::bad_param("repeats", "must be at least 1"));
    }
    Ok(())
}

/// Most threads a pool may have (more only measures the scheduler).
pub const MAX_THREADS: usize = 1024;

/// A rayon pool of exactly `threads` threads (1..=[`MAX_THREADS`]).
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    if !(1..=MAX_THREADS).contains(&threads) {
        return Err(Error::bad_param(
            "threads",
            format!("must be in 1..={MAX_THREADS}, got {threads}"),
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::ThreadPool(e.to_string()))
}

/// Measures `spec` with `params` (`key=value` strings) under `cfg`.
pub fn bench_op<S: AsRef<str>>(
    spec: &OpSpec,
    params: &[S],
    cfg: &BenchConfig,
) -> Result<BenchRecord> {
    check_repeats(cfg.repeats)?;
    match cfg.simd {
        Some(level) => simd::with_forced_level(level, || bench_at(spec, params, cfg, level))?,
        None => bench_at(spec, params, cfg, simd::level()?),
    }
}

fn bench_at<S: AsRef<str>>(
    spec: &OpSpec,
    params: &[S],
    cfg: &BenchConfig,
    level: SimdLevel,
) -> Result<BenchRecord> {
    let (mut op, params) = spec.build(params)?;
    let pool = thread_pool(cfg.threads)?;
    let (input, input_name) = match &cfg.input {
        Some(path) => {
            let image = crate::image::load(path)?;
            crate::ops::check_input(spec.name, op.as_ref(), &image.as_view())?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            (image, name.into_owned())
        }
        None => (
            op.bench_input(cfg.width, cfg.height)?,
            "generated".to_string(),
        ),
    };
    let size = input.as_view().size();
    let (ow, oh) = op.output_size(size);
    let mut output = AnyImage::new(op.output_dtype(), ow, oh)?;
    op.prepare(size)?;
    let timing = pool.install(|| {
        measure(cfg.warmup, cfg.repeats, || {
            op.run(input.as_view(), output.as_view_mut())
        })
    })?;
    let bytes = op.bytes_moved(size);
    let secs = timing.median_ms / 1e3;
    Ok(BenchRecord {
        op: spec.name.to_string(),
        size: format!("{}x{}", size.0, size.1),
        width: size.0,
        height: size.1,
        dtype: op.input_dtype().name().to_string(),
        out_dtype: op.output_dtype().name().to_string(),
        threads: pool.current_num_threads(),
        simd: if op.uses_simd() {
            level
        } else {
            SimdLevel::Scalar
        }
        .name()
        .to_string(),
        median_ms: timing.median_ms,
        min_ms: timing.min_ms,
        max_ms: timing.max_ms,
        mean_ms: timing.mean_ms,
        p99_ms: timing.p99_ms,
        repeats: timing.count,
        warmup: cfg.warmup,
        mpix_per_s: (size.0 * size.1) as f64 / 1e6 / secs,
        gb_per_s: bytes as f64 / 1e9 / secs,
        bytes_per_run: bytes,
        params: params.to_json(),
        input: input_name,
        cpu: simd::cpu_model(),
        arch: std::env::consts::ARCH.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}
