//! `frameline record`: saves N frames from any source to a raw frame file (`.raw`,
//! replayed with `--source replay:FILE`) or to a folder of PNG files.

use std::path::PathBuf;
use std::time::Duration;

use frameline::capture::{self, Frame, Grab, RawFrameWriter};
use frameline::pipeline::config::SourceConfig;

use crate::source_args::SourceArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: SourceArgs,
    /// Frames to record.
    #[arg(long, default_value_t = 30)]
    frames: u64,
    /// Output: a .raw frame file, or a folder for PNG files.
    output: PathBuf,
}

pub fn run(args: Args) -> frameline::Result<()> {
    let mut cfg = SourceConfig::default();
    args.source.apply(&mut cfg);
    let mut source = capture::open(&cfg.spec()?, &cfg.options())?;
    let (w, h) = source.size();
    eprintln!("source: {}", source.describe());
    let mut frame = Frame::new(w, h)?;
    let raw = args.output.extension().is_some_and(|e| e == "raw");
    let mut writer = if raw {
        Some(RawFrameWriter::create(&args.output, w, h, cfg.fps)?)
    } else {
        std::fs::create_dir_all(&args.output).map_err(|e| frameline::Error::io(&args.output, e))?;
        None
    };
    let mut got = 0u64;
    let mut timeouts = 0u32;
    while got < args.frames {
        match source.next_frame(&mut frame, Duration::from_secs(1))? {
            Grab::Frame => {
                match writer.as_mut() {
                    Some(wr) => wr.write(&frame)?,
                    None => {
                        capture::replay::save_png(&args.output, got, &frame.image)?;
                    }
                }
                got += 1;
                timeouts = 0;
            }
            Grab::Timeout => {
                timeouts += 1;
                if timeouts >= 10 {
                    return Err(frameline::Error::Capture {
                        source_name: cfg.spec.clone(),
                        reason: "no frame for 10 s".into(),
                    });
                }
            }
            Grab::End => break,
        }
    }
    if let Some(wr) = writer {
        wr.finish()?;
    }
    eprintln!(
        "recorded {got} frames of {w}x{h} to {}",
        args.output.display()
    );
    Ok(())
}
