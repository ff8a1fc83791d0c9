//! Frame sources behind one trait: a V4L2 camera, replay of recorded frames, and a
//! synthetic camera with ground truth.
//!
//! A source copies each frame into a caller-owned [`Frame`] (a slot of the pipeline's
//! pool), so it never hands out memory that a driver may overwrite, and it never
//! allocates per frame.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::image::Image;
use crate::{Error, Result};

pub mod replay;
pub mod synthetic;
#[cfg(all(target_os = "linux", feature = "v4l2"))]
pub mod v4l2;

pub use replay::{RawFrameFile, RawFrameWriter, ReplaySource};
pub use synthetic::{Defect, SyntheticCamera, SyntheticConfig};

/// What a source knows about one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameMeta {
    /// The source's frame counter (the driver's sequence number for a camera).
    pub sequence: u64,
    /// The source's timestamp of the frame (driver time for a camera, recorded time for
    /// a replay, time since start for the synthetic camera).
    pub timestamp: Duration,
    /// When the frame was complete in our slot.
    pub arrived: Instant,
    /// How old the frame already was when it arrived (driver timestamp to dequeue), where
    /// the source can tell; zero otherwise.
    pub age_at_arrival: Duration,
    /// Time spent getting the frame into the slot (conversion and copy, not waiting).
    pub copy_time: Duration,
}

impl FrameMeta {
    fn empty() -> Self {
        FrameMeta {
            sequence: 0,
            timestamp: Duration::ZERO,
            arrived: Instant::now(),
            age_at_arrival: Duration::ZERO,
            copy_time: Duration::ZERO,
        }
    }

    /// Time from capture to `now`.
    pub fn latency_at(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.arrived) + self.age_at_arrival
    }
}

/// One gray frame and its metadata: a slot of the pipeline's pool.
#[derive(Clone, Debug)]
pub struct Frame {
    pub image: Image<u8>,
    pub meta: FrameMeta,
}

impl Frame {
    pub fn new(width: usize, height: usize) -> Result<Self> {
        Ok(Frame {
            image: Image::new(width, height)?,
            meta: FrameMeta::empty(),
        })
    }
}

/// What one call of [`Source::next_frame`] produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grab {
    /// The frame was written.
    Frame,
    /// Nothing arrived within the timeout; the frame is untouched.
    Timeout,
    /// The source has no more frames.
    End,
}

/// How a pipeline should treat a source when its workers fall behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// A live camera: frames keep coming; drop the oldest queued frame and count it.
    Live,
    /// Recorded frames: wait for the workers, lose nothing.
    Replay,
}

/// A source of gray frames of a fixed size.
pub trait Source: Send {
    /// A one-line description (device, format, size, rate).
    fn describe(&self) -> String;
    /// `(width, height)` of every frame.
    fn size(&self) -> (usize, usize);
    fn pacing(&self) -> Pacing;
    /// Writes the next frame into `frame` (whose image has [`Self::size`]), waiting at
    /// most `timeout` for it.
    fn next_frame(&mut self, frame: &mut Frame, timeout: Duration) -> Result<Grab>;
    /// Frames the source itself lost (sequence gaps of a camera), so far.
    fn dropped(&self) -> u64 {
        0
    }
    /// Times the source recovered from a stream error by reopening, so far.
    fn recoveries(&self) -> u64 {
        0
    }
    /// The defects injected into frame `sequence`, for a source that knows them.
    fn ground_truth(&self) -> Option<GroundTruth> {
        None
    }
}

/// Ground truth of a synthetic source, shareable with the thread that scores results.
#[derive(Clone, Debug)]
pub struct GroundTruth {
    camera: SyntheticConfig,
}

impl GroundTruth {
    /// Writes the defects injected into frame `sequence` into `out` (cleared first).
    pub fn defects(&self, sequence: u64, out: &mut Vec<Defect>) {
        synthetic::defects_for(&self.camera, sequence, out);
    }

    /// The most defects any frame holds (to size buffers once).
    pub fn max_defects(&self) -> usize {
        self.camera.defects
    }
}

/// Where frames come from, as given on the command line or in a config file.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceSpec {
    /// The synthetic camera.
    Synthetic,
    /// A raw frame file (see [`RawFrameFile`]) or a folder of PNG files.
    Replay(PathBuf),
    /// A V4L2 device node such as `/dev/video0`.
    V4l2(PathBuf),
}

impl SourceSpec {
    /// Parses `synthetic`, `replay:PATH` or `v4l:/dev/videoN`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::bad_param("source", format!("'{s}': {reason}"));
        if s == "synthetic" {
            return Ok(SourceSpec::Synthetic);
        }
        match s.split_once(':') {
            Some(("replay", p)) if !p.is_empty() => Ok(SourceSpec::Replay(p.into())),
            Some(("v4l" | "v4l2", p)) if !p.is_empty() => Ok(SourceSpec::V4l2(p.into())),
            _ => Err(bad("expected synthetic, replay:PATH or v4l:/dev/videoN")),
        }
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Synthetic => write!(f, "synthetic"),
            SourceSpec::Replay(p) => write!(f, "replay:{}", p.display()),
            SourceSpec::V4l2(p) => write!(f, "v4l:{}", p.display()),
        }
    }
}

/// Options that apply to opening any source.
#[derive(Clone, Debug)]
pub struct SourceOptions {
    /// Frame size asked of a camera, or rendered by the synthetic camera.
    pub width: usize,
    pub height: usize,
    /// Frame rate asked of a camera, rendered by the synthetic camera, or used to pace
    /// a replay; `None` for a replay means the recorded rate.
    pub fps: Option<f64>,
    /// Replay (and synthetic) as fast as the workers go instead of in real time.
    pub as_fast_as_possible: bool,
    /// Pixel format asked of a camera (`GREY`, `YUYV`, `MJPG`); `None` picks the first
    /// supported one the camera offers.
    pub fourcc: Option<String>,
    /// Driver buffers for a camera (3 or 4 is typical).
    pub buffers: u32,
    /// Defects per synthetic frame, and the seed of their positions.
    pub defects: usize,
    pub seed: u64,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            width: 1920,
            height: 1080,
            fps: None,
            as_fast_as_possible: false,
            fourcc: None,
            buffers: 4,
            defects: 6,
            seed: 1,
        }
    }
}

/// Opens the source `spec` names.
pub fn open(spec: &SourceSpec, opts: &SourceOptions) -> Result<Box<dyn Source>> {
    Ok(match spec {
        SourceSpec::Synthetic => {
            Box::new(SyntheticCamera::new(SyntheticConfig::from_options(opts))?)
        }
        SourceSpec::Replay(path) => Box::new(ReplaySource::open(path, opts)?),
        SourceSpec::V4l2(path) => open_v4l2(path, opts)?,
    })
}

#[cfg(all(target_os = "linux", feature = "v4l2"))]
fn open_v4l2(path: &std::path::Path, opts: &SourceOptions) -> Result<Box<dyn Source>> {
    Ok(Box::new(v4l2::V4l2Camera::open(path, opts)?))
}

#[cfg(not(all(target_os = "linux", feature = "v4l2")))]
fn open_v4l2(path: &std::path::Path, _opts: &SourceOptions) -> Result<Box<dyn Source>> {
    Err(Error::Capture {
        source_name: format!("v4l:{}", path.display()),
        reason: "this build has no V4L2 support (Linux with the `v4l2` feature)".into(),
    })
}

/// Checks that `src` holds `h` rows of `row_bytes` bytes, `stride` bytes apart, for a
/// `w`×`h` frame.
fn check_rows(src: &[u8], stride: usize, row_bytes: usize, (w, h): (usize, usize)) -> Result<()> {
    let needed = stride * (h - 1) + row_bytes;
    if stride < row_bytes || src.len() < needed {
        return Err(Error::BufferTooShort {
            len: src.len(),
            needed,
            width: w,
            height: h,
            stride,
        });
    }
    Ok(())
}

/// Copies gray rows of `width` bytes from `src` (rows `stride` bytes apart) into `dst`.
pub(crate) fn copy_gray(src: &[u8], stride: usize, dst: &mut Image<u8>) -> Result<()> {
    let (w, h) = dst.size();
    check_rows(src, stride, w, (w, h))?;
    for y in 0..h {
        dst.row_mut(y)
            .copy_from_slice(&src[y * stride..y * stride + w]);
    }
    Ok(())
}

/// Converts packed YUYV rows to gray (the Y bytes) while copying into `dst`.
pub(crate) fn copy_yuyv_luma(src: &[u8], stride: usize, dst: &mut Image<u8>) -> Result<()> {
    let (w, h) = dst.size();
    check_rows(src, stride, 2 * w, (w, h))?;
    for y in 0..h {
        let row = &src[y * stride..y * stride + 2 * w];
        for (d, pair) in dst.row_mut(y).iter_mut().zip(row.chunks_exact(2)) {
            *d = pair[0];
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(
            SourceSpec::parse("synthetic").unwrap(),
            SourceSpec::Synthetic
        );
        assert_eq!(
            SourceSpec::parse("replay:a/b.raw").unwrap(),
            SourceSpec::Replay("a/b.raw".into())
        );
        assert_eq!(
            SourceSpec::parse("v4l:/dev/video0").unwrap(),
            SourceSpec::V4l2("/dev/video0".into())
        );
        for bad in ["", "camera", "replay:", "v4l:", "file:x"] {
            assert!(SourceSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn yuyv_takes_luma_and_checks_lengths() {
        let mut dst = Image::<u8>::new(3, 2).unwrap();
        let src: Vec<u8> = (0..16).collect(); // stride 8: 6 bytes of pixels + 2 padding
        copy_yuyv_luma(&src, 8, &mut dst).unwrap();
        assert_eq!(dst.row(0), &[0, 2, 4]);
        assert_eq!(dst.row(1), &[8, 10, 12]);
        assert!(copy_yuyv_luma(&src[..13], 8, &mut dst).is_err());
        assert!(copy_yuyv_luma(&src, 5, &mut dst).is_err());
        assert!(copy_gray(&src, 8, &mut dst).is_ok());
        assert!(copy_gray(&src, 2, &mut dst).is_err());
    }
}
