//! `frameline calibrate dark|flat`: averages N frames of a source into the dark or flat
//! frame that flat-field correction needs (cover the lens for dark; point the camera at
//! a uniform bright target for flat). A `.raw` output keeps every frame instead (the
//! pipeline averages them when it loads the calibration).

use std::path::PathBuf;
use std::time::Duration;

use frameline::capture::{self, Frame, Grab, RawFrameWriter, SyntheticCamera, SyntheticConfig};
use frameline::pipeline::config::SourceConfig;
use frameline::{AnyView, Image};

use crate::source_args::SourceArgs;

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dark,
    Flat,
}

#[derive(clap::Args)]
pub struct Args {
    /// Which calibration frame to capture.
    kind: Kind,
    #[command(flatten)]
    source: SourceArgs,
    /// Frames to average.
    #[arg(long, default_value_t = 16)]
    frames: u64,
    /// Output: an image file (.png, .pgm) holding the average, or a .raw frame file.
    output: PathBuf,
}

pub fn run(args: Args) -> frameline::Result<()> {
    let mut cfg = SourceConfig::default();
    args.source.apply(&mut cfg);
    let spec = cfg.spec()?;
    let frames: Vec<Image<u8>> = if spec == capture::SourceSpec::Synthetic {
        // The synthetic camera renders its own dark and flat frames.
        let cam = SyntheticCamera::new(SyntheticConfig::from_options(&cfg.options()))?;
        let (darks, flats) = cam.calibration_frames(args.frames as usize)?;
        if args.kind == Kind::Dark {
            darks
        } else {
            flats
        }
    } else {
        capture_frames(&cfg, &spec, args.frames)?
    };
    let (w, h) = frames[0].size();
    if args.output.extension().is_some_and(|e| e == "raw") {
        let mut wr = RawFrameWriter::create(&args.output, w, h, None)?;
        let mut f = Frame::new(w, h)?;
        for (i, img) in frames.iter().enumerate() {
            f.image.as_view_mut().copy_from(&img.as_view())?;
            f.meta.sequence = i as u64;
            wr.write(&f)?;
        }
        wr.finish()?;
    } else {
        let n = frames.len() as u32;
        let mean = Image::from_fn(w, h, |x, y| {
            let sum: u32 = frames.iter().map(|f| u32::from(f.row(y)[x])).sum();
            ((sum + n / 2) / n) as u8
        })?;
        frameline::image::save(&args.output, AnyView::U8(mean.as_view()))?;
    }
    eprintln!(
        "{} frames of {w}x{h} averaged into {}",
        frames.len(),
        args.output.display()
    );
    Ok(())
}

fn capture_frames(
    cfg: &SourceConfig,
    spec: &capture::SourceSpec,
    count: u64,
) -> frameline::Result<Vec<Image<u8>>> {
    let mut source = capture::open(spec, &cfg.options())?;
    eprintln!("source: {}", source.describe());
    let (w, h) = source.size();
    let mut frame = Frame::new(w, h)?;
    let mut out = Vec::new();
    let mut timeouts = 0;
    while (out.len() as u64) < count.max(1) {
        match source.next_frame(&mut frame, Duration::from_secs(1))? {
            Grab::Frame => out.push(frame.image.clone()),
            Grab::Timeout if timeouts < 10 => timeouts += 1,
            Grab::Timeout | Grab::End => break,
        }
    }
    if out.is_empty() {
        return Err(frameline::Error::Capture {
            source_name: spec.to_string(),
            reason: "no frames to calibrate from".into(),
        });
    }
    Ok(out)
}
