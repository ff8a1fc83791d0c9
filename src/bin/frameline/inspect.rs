//! `frameline inspect`: the live inspection pipeline. Status every few seconds and the
//! final stage table on stderr; one JSON line per frame to `--json`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use frameline::pipeline::{self, Hooks, InspectConfig, RunSummary};

use crate::source_args::SourceArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Settings file (TOML; see the README). Flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    source: SourceArgs,
    /// Stop after N frames (including warm-up).
    #[arg(long)]
    frames: Option<u64>,
    /// Stop after S seconds.
    #[arg(long)]
    seconds: Option<f64>,
    /// Frames left out of the timing statistics at the start.
    #[arg(long)]
    warmup: Option<u64>,
    /// Dark frame for flat-field correction (PNG/PGM, or a .raw recording to average).
    #[arg(long, requires = "flat")]
    dark: Option<PathBuf>,
    /// Flat frame for flat-field correction.
    #[arg(long, requires = "dark")]
    flat: Option<PathBuf>,
    /// No flat-field correction.
    #[arg(long)]
    no_flat_field: bool,
    /// Gaussian blur kernel size (0 = none).
    #[arg(long)]
    blur: Option<usize>,
    /// Threshold method: fixed, otsu or sauvola.
    #[arg(long)]
    threshold: Option<String>,
    /// Level of the fixed threshold.
    #[arg(long)]
    level: Option<u8>,
    /// dark (defects darker than the part) or bright.
    #[arg(long)]
    polarity: Option<String>,
    /// open, close or none.
    #[arg(long)]
    morphology: Option<String>,
    /// Smallest and largest defect area in pixels.
    #[arg(long)]
    min_area: Option<u64>,
    #[arg(long)]
    max_area: Option<u64>,
    /// JSON lines, one per frame: a file, or - for stdout.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Folder for annotated PNG snapshots of frames with defects (one per second at most).
    #[arg(long)]
    snapshots: Option<PathBuf>,
    /// Do not pin threads to cores.
    #[arg(long)]
    no_pin: bool,
    /// Write the run summary (stage table, drops, detection score) as JSON here.
    #[arg(long)]
    summary_json: Option<PathBuf>,
}

static STOP: AtomicBool = AtomicBool::new(false);

fn config(args: &Args) -> frameline::Result<InspectConfig> {
    let mut cfg = match &args.config {
        Some(p) => InspectConfig::from_toml_file(p)?,
        None => InspectConfig::default(),
    };
    args.source.apply(&mut cfg.source);
    let r = &mut cfg.run;
    if args.frames.is_some() {
        r.frames = args.frames;
    }
    if args.seconds.is_some() {
        r.seconds = args.seconds;
    }
    if let Some(w) = args.warmup {
        r.warmup = w;
    }
    if args.dark.is_some() {
        cfg.calibration.dark = args.dark.clone();
        cfg.calibration.flat = args.flat.clone();
    }
    cfg.calibration.disabled |= args.no_flat_field;
    if let Some(k) = args.blur {
        cfg.blur.ksize = k;
    }
    let t = &mut cfg.threshold;
    if let Some(m) = &args.threshold {
        t.method = m.clone();
    }
    if let Some(l) = args.level {
        t.level = l;
    }
    if let Some(p) = &args.polarity {
        t.polarity = p.clone();
    }
    if let Some(m) = &args.morphology {
        cfg.morphology.op = m.clone();
    }
    if let Some(a) = args.min_area {
        cfg.defects.min_area = a;
    }
    if let Some(a) = args.max_area {
        cfg.defects.max_area = a;
    }
    if args.json.is_some() {
        cfg.output.json = args.json.clone();
    }
    if args.snapshots.is_some() {
        cfg.output.snapshots = args.snapshots.clone();
    }
    cfg.threads.pin &= !args.no_pin;
    Ok(cfg)
}

pub fn run(args: Args) -> frameline::Result<()> {
    let cfg = config(&args)?;
    let (source, stages) = pipeline::build(&cfg)?;
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::Relaxed) {
            std::process::exit(130); // a second Ctrl-C: stop now
        }
    });
    eprintln!("source: {}", source.describe());
    eprintln!("stages: {}", stages.names().join(" -> "));
    let mut file;
    let mut stdout;
    let sink: Option<&mut (dyn Write + Send)> = match &cfg.output.json {
        None => None,
        Some(p) if p.as_os_str() == "-" => {
            stdout = std::io::stdout();
            Some(&mut stdout)
        }
        Some(p) => {
            file = std::io::BufWriter::new(
                std::fs::File::create(p).map_err(|e| frameline::Error::io(p, e))?,
            );
            Some(&mut file)
        }
    };
    let summary = pipeline::run(&cfg, source, stages, sink, &STOP, &Hooks::default())?;
    print_summary(&summary);
    if let Some(p) = &args.summary_json {
        let text = serde_json::to_string_pretty(&summary_json(&summary)).expect("JSON values");
        std::fs::write(p, text + "\n").map_err(|e| frameline::Error::io(p, e))?;
    }
    match summary.error {
        Some(e) => Err(frameline::Error::Capture {
            source_name: "inspect".into(),
            reason: e,
        }),
        None => Ok(()),
    }
}

fn print_summary(s: &RunSummary) {
    let pinned = match s.capture_core {
        Some(c) => format!("capture on core {c}, workers on cores {:?}", s.worker_cores),
        None => "threads not pinned".into(),
    };
    eprintln!(
        "\n{} frames of {}x{} in {:.2} s ({:.1} fps); {pinned}",
        s.frames,
        s.size.0,
        s.size.1,
        s.elapsed.as_secs_f64(),
        s.fps()
    );
    eprintln!(
        "dropped: {} (workers behind), {} (source gaps); {} timeouts, {} stream recoveries; {} snapshots",
        s.dropped_behind, s.dropped_source, s.timeouts, s.recoveries, s.snapshots
    );
    eprint!("\n{}", s.profile.table());
    match &s.detection {
        Some(d) => eprintln!(
            "\ndetection: found {} of {} injected defects in {} frames; {} missed, {} false; {} frames not exactly right",
            d.found, d.injected, d.frames, d.missed, d.false_detections, d.frames_wrong
        ),
        None => eprintln!("\ndefects reported: {}", s.defects),
    }
}

fn summary_json(s: &RunSummary) -> serde_json::Value {
    let stages: Vec<_> = s
        .profile
        .rows()
        .map(|(name, h)| {
            serde_json::json!({
                "stage": name,
                "frames": h.count(),
                "mean_ms": h.mean().as_secs_f64() * 1e3,
                "median_ms": h.median().as_secs_f64() * 1e3,
                "p99_ms": h.quantile(0.99).as_secs_f64() * 1e3,
                "max_ms": h.max().as_secs_f64() * 1e3,
            })
        })
        .collect();
    serde_json::json!({
        "source": s.source,
        "width": s.size.0,
        "height": s.size.1,
        "frames": s.frames,
        "seconds": s.elapsed.as_secs_f64(),
        "fps": s.fps(),
        "dropped_behind": s.dropped_behind,
        "dropped_source": s.dropped_source,
        "timeouts": s.timeouts,
        "recoveries": s.recoveries,
        "defects": s.defects,
        "detection": s.detection,
        "simd": frameline::simd::level().map(|l| l.to_string()).unwrap_or_default(),
        "capture_core": s.capture_core,
        "worker_cores": s.worker_cores,
        "stages": stages,
        "error": s.error,
    })
}
