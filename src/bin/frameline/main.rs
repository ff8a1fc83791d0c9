//! The `frameline` command line. Each subcommand lives in its own file; errors end the
//! program with one line on stderr and a non-zero exit code, never a panic.

/// `println!` that ends the program quietly when stdout is closed (`frameline ... | head`)
/// instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("frameline: error: stdout: {e}");
            std::process::exit(1);
        }
    }};
}

mod apply;
mod bench;
mod calibrate;
mod info;
mod inspect;
mod ladder;
mod record;
mod source_args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "frameline",
    version,
    about = "Real-time image processing for edge boards"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CPU, its SIMD features, the chosen level, cores and thread-pool size.
    Info,
    /// Run the performance ladder: gamma correction from per-pixel powf to SIMD LUT on all cores.
    Ladder(ladder::Args),
    /// Measure one op on a deterministic random frame.
    Bench(bench::Args),
    /// Apply one op to an image file and write the result.
    Apply(apply::Args),
    /// Live inspection: capture, flat-field, blur, threshold, morphology, components,
    /// defects; per-stage timing.
    Inspect(Box<inspect::Args>),
    /// Save frames from a source to a raw frame file or a PNG folder.
    Record(record::Args),
    /// Capture and average dark or flat frames for flat-field correction.
    Calibrate(calibrate::Args),
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // Usage errors in one line too, like every other error.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("frameline: {first} (see --help)");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Info => info::run(),
        Command::Ladder(args) => ladder::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Inspect(args) => inspect::run(*args),
        Command::Record(args) => record::run(args),
        Command::Calibrate(args) => calibrate::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frameline: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parses `WIDTHxHEIGHT`.
fn parse_size(text: &str) -> Result<(usize, usize), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("size '{text}' is not WIDTHxHEIGHT"))?;
    let w: usize = w
        .trim()
        .parse()
        .map_err(|_| format!("bad width in '{text}'"))?;
    let h: usize = h
        .trim()
        .parse()
        .map_err(|_| format!("bad height in '{text}'"))?;
    if w == 0 || h == 0 {
        return Err(format!("size '{text}' has a zero dimension"));
    }
    Ok((w, h))
}

/// Number of CPUs this process may use.
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
