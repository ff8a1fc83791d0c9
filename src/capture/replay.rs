//! Replay of recorded frames: a raw frame file read through `memmap2`, or a folder of
//! PNG files; and the writer behind `frameline record`.
//!
//! ## The raw frame file
//!
//! Little-endian throughout. A 32-byte header:
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | magic `FRAMELN1` |
//! | 8..12 | width (u32) |
//! | 12..16 | height (u32) |
//! | 16..20 | pixel format fourcc, `GREY` (the only one so far) |
//! | 20..24 | frame count (u32; 0 = unknown, e.g. a recording that was cut off) |
//! | 24..28 | recorded rate in millihertz (u32; 0 = unknown) |
//! | 28..32 | reserved, 0 |
//!
//! then per frame a 16-byte header (sequence u64, timestamp in ns u64) and
//! `width × height` bytes of pixels, rows packed.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Frame, Grab, Pacing, Source, SourceOptions};
use crate::image::{AnyImage, Image};
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"FRAMELN1";
const HEADER: usize = 32;
const FRAME_HEADER: usize = 16;

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::Decode {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// A raw frame file, mapped into memory and checked.
pub struct RawFrameFile {
    path: PathBuf,
    map: memmap2::Mmap,
    width: usize,
    height: usize,
    frames: usize,
    rate_hz: Option<f64>,
}

impl RawFrameFile {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the mapping is read-only and private to this process. If another
        // process truncates the file while it is mapped, reads past the new end raise
        // SIGBUS; frameline's own recordings are written completely before replay, and
        // the length is checked against the header below.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let b = &map[..];
        if b.len() < HEADER || &b[..8] != MAGIC {
            return Err(corrupt(path, "not a frameline raw frame file (bad magic)"));
        }
        let (width, height) = (u32_at(b, 8) as usize, u32_at(b, 12) as usize);
        if width == 0 || height == 0 {
            return Err(corrupt(path, format!("frame size {width}x{height}")));
        }
        if &b[16..20] != b"GREY" {
            return Err(corrupt(
                path,
                format!(
                    "pixel format '{}' is not supported (GREY only)",
                    String::from_utf8_lossy(&b[16..20])
                ),
            ));
        }
        let frame_bytes = width
            .checked_mul(height)
            .and_then(|n| n.checked_add(FRAME_HEADER))
            .ok_or_else(|| corrupt(path, format!("frame size {width}x{height} too large")))?;
        let held = (b.len() - HEADER) / frame_bytes;
        let partial = (b.len() - HEADER) % frame_bytes;
        let count = u32_at(b, 20) as usize;
        let frames = if count == 0 {
            if partial != 0 {
                log::warn!(
                    "{}: frame count unknown; ignoring a partial last frame of {partial} bytes",
                    path.display()
                );
            }
            held
        } else if held < count {
            return Err(corrupt(
                path,
                format!("truncated: header says {count} frames, the file holds {held}"),
            ));
        } else {
            count
        };
        if frames == 0 {
            return Err(corrupt(path, "no frames"));
        }
        let milli = u32_at(b, 24);
        Ok(RawFrameFile {
            path: path.to_path_buf(),
            map,
            width,
            height,
            frames,
            rate_hz: (milli > 0).then(|| f64::from(milli) / 1000.0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    pub fn len(&self) -> usize {
        self.frames
    }

    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    /// Recorded rate, if known.
    pub fn rate_hz(&self) -> Option<f64> {
        self.rate_hz
    }

    /// `(sequence, timestamp, pixels)` of frame `i`.
    pub fn frame(&self, i: usize) -> Option<(u64, Duration, &[u8])> {
        if i >= self.frames {
            return None;
        }
        let n = self.width * self.height;
        let at = HEADER + i * (FRAME_HEADER + n);
        let b = &self.map[at..at + FRAME_HEADER + n];
        Some((
            u64_at(b, 0),
            Duration::from_nanos(u64_at(b, 8)),
            &b[FRAME_HEADER..],
        ))
    }
}

/// Writes a raw frame file (see the module docs).
pub struct RawFrameWriter {
    out: BufWriter<File>,
    path: PathBuf,
    size: (usize, usize),
    frames: u32,
}

impl RawFrameWriter {
    pub fn create(path: &Path, width: usize, height: usize, rate_hz: Option<f64>) -> Result<Self> {
        let (w, h) = (
            u32::try_from(width).ok().filter(|&w| w > 0),
            u32::try_from(height).ok().filter(|&h| h > 0),
        );
        let (Some(w), Some(h)) = (w, h) else {
            return Err(Error::ZeroSize { width, height });
        };
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let milli = rate_hz.map_or(0, |r| {
            (r * 1000.0).round().clamp(0.0, u32::MAX as f64) as u32
        });
        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&w.to_le_bytes());
        header[12..16].copy_from_slice(&h.to_le_bytes());
        header[16..20].copy_from_slice(b"GREY");
        header[24..28].copy_from_slice(&milli.to_le_bytes());
        out.write_all(&header).map_err(|e| Error::io(path, e))?;
        Ok(RawFrameWriter {
            out,
            path: path.to_path_buf(),
            size: (width, height),
            frames: 0,
        })
    }

    /// Appends one frame.
    pub fn write(&mut self, frame: &Frame) -> Result<()> {
        crate::image::check_same_size("recorded frame", self.size, frame.image.size())?;
        let io = |e| Error::io(&self.path, e);
        let mut head = [0u8; FRAME_HEADER];
        head[..8].copy_from_slice(&frame.meta.sequence.to_le_bytes());
        let ns = u64::try_from(frame.meta.timestamp.as_nanos()).unwrap_or(u64::MAX);
        head[8..].copy_from_slice(&ns.to_le_bytes());
        self.out.write_all(&head).map_err(io)?;
        for y in 0..self.size.1 {
            self.out.write_all(frame.image.row(y)).map_err(io)?;
        }
        self.frames += 1;
        Ok(())
    }

    /// Writes the frame count into the header and closes the file.
    pub fn finish(mut self) -> Result<u32> {
        let io = |e| Error::io(&self.path, e);
        self.out.flush().map_err(io)?;
        let file = self.out.get_mut();
        file.seek(SeekFrom::Start(20)).map_err(io)?;
        file.write_all(&self.frames.to_le_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(self.frames)
    }
}

enum Recording {
    Raw(RawFrameFile),
    /// PNG files in name order (decoded one by one; decoding allocates).
    Pngs(Vec<PathBuf>),
}

/// Replays a raw frame file or a folder of PNGs, at the recorded rate or as fast as the
/// pipeline takes them.
pub struct ReplaySource {
    path: PathBuf,
    recording: Recording,
    size: (usize, usize),
    next: usize,
    /// Seconds per frame when pacing by a fixed rate.
    period: Option<f64>,
    /// Pace a raw file by its recorded timestamps (no `--fps` given).
    use_timestamps: bool,
    start: Option<(Instant, Duration)>,
}

impl ReplaySource {
    pub fn open(path: &Path, opts: &SourceOptions) -> Result<Self> {
        let (recording, size, recorded_rate) = if path.is_dir() {
            let mut pngs: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
                .collect();
            pngs.sort();
            let first = pngs
                .first()
                .ok_or_else(|| corrupt(path, "the folder holds no .png files"))?;
            let size = crate::image::load(first)?.size();
            (Recording::Pngs(pngs), size, None)
        } else {
            let raw = RawFrameFile::open(path)?;
            let (size, rate) = (raw.size(), raw.rate_hz());
            (Recording::Raw(raw), size, rate)
        };
        let period = if opts.as_fast_as_possible {
            None
        } else {
            match opts.fps {
                Some(fps) if fps.is_finite() && fps > 0.0 => Some(1.0 / fps),
                Some(fps) => {
                    return Err(Error::bad_param("fps", format!("must be > 0, got {fps}")));
                }
                None => recorded_rate.map(|r| 1.0 / r),
            }
        };
        // Recorded timestamps pace a raw file unless a rate was given.
        let use_timestamps = opts.fps.is_none();
        Ok(ReplaySource {
            path: path.to_path_buf(),
            recording,
            size,
            next: 0,
            period,
            use_timestamps,
            start: None,
        })
    }

    pub fn len(&self) -> usize {
        match &self.recording {
            Recording::Raw(r) => r.len(),
            Recording::Pngs(p) => p.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until frame `i` is due (recorded timestamps, or a fixed rate).
    fn pace(&mut self, i: usize, timestamp: Duration, timeout: Duration) -> bool {
        let Some(period) = self.period else {
            return true;
        };
        let (t0, ts0) = *self.start.get_or_insert((Instant::now(), timestamp));
        let due = if self.use_timestamps
            && matches!(self.recording, Recording::Raw(_))
            && timestamp > ts0
        {
            timestamp - ts0
        } else {
            Duration::try_from_secs_f64(i as f64 * period).unwrap_or(Duration::MAX)
        };
        let wait = due.saturating_sub(t0.elapsed());
        if wait > timeout {
            std::thread::sleep(timeout);
            return false;
        }
        std::thread::sleep(wait);
        true
    }
}

impl Source for ReplaySource {
    fn describe(&self) -> String {
        let (w, h) = self.size;
        let kind = match self.recording {
            Recording::Raw(_) => "raw frame file",
            Recording::Pngs(_) => "PNG folder",
        };
        let rate = match self.period {
            Some(p) => format!("{:.2} fps", 1.0 / p),
            None => "as fast as possible".into(),
        };
        format!(
            "replay of {} ({kind}, {} frames of {w}x{h} GREY, {rate})",
            self.path.display(),
            self.len()
        )
    }

    fn size(&self) -> (usize, usize) {
        self.size
    }

    fn pacing(&self) -> Pacing {
        Pacing::Replay
    }

    fn next_frame(&mut self, frame: &mut Frame, timeout: Duration) -> Result<Grab> {
        let i = self.next;
        if i >= self.len() {
            return Ok(Grab::End);
        }
        let (sequence, timestamp) = match &self.recording {
            Recording::Raw(raw) => {
                let (seq, ts, _) = raw.frame(i).expect("index checked");
                (seq, ts)
            }
            Recording::Pngs(_) => (i as u64, Duration::ZERO),
        };
        if !self.pace(i, timestamp, timeout) {
            return Ok(Grab::Timeout);
        }
        let t0 = Instant::now();
        let timestamp = match &self.recording {
            Recording::Raw(raw) => {
                let (_, _, pixels) = raw.frame(i).expect("index checked");
                super::copy_gray(pixels, self.size.0, &mut frame.image)?;
                timestamp
            }
            Recording::Pngs(paths) => {
                let path = &paths[i];
                let AnyImage::U8(img) = crate::image::load(path)? else {
                    return Err(corrupt(path, "not an 8-bit gray image"));
                };
                crate::image::check_same_size(
                    "replayed PNG (against the first one)",
                    self.size,
                    img.size(),
                )?;
                frame.image.as_view_mut().copy_from(&img.as_view())?;
                self.start.map_or(Duration::ZERO, |(s, _)| t0 - s)
            }
        };
        let arrived = Instant::now();
        frame.meta.sequence = sequence;
        frame.meta.timestamp = timestamp;
        frame.meta.arrived = arrived;
        frame.meta.age_at_arrival = Duration::ZERO;
        frame.meta.copy_time = arrived - t0;
        self.next += 1;
        Ok(Grab::Frame)
    }
}

/// Saves `img` frames as numbered PNG files `frame-000000.png`... in `dir`.
pub fn save_png(dir: &Path, index: u64, img: &Image<u8>) -> Result<PathBuf> {
    let path = dir.join(format!("frame-{index:06}.png"));
    crate::image::save(&path, crate::AnyView::U8(img.as_view()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_u8;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("frameline-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Process ids are reused: clear what an earlier run with this id left behind.
        let path = dir.join(name);
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::remove_file(&path);
        path
    }

    fn frame(seq: u64, w: usize, h: usize) -> Frame {
        let mut f = Frame::new(w, h).unwrap();
        f.image = random_u8(w, h, seq).unwrap();
        f.meta.sequence = seq;
        f.meta.timestamp = Duration::from_millis(seq * 40);
        f
    }

    #[test]
    fn raw_roundtrip_and_corruption() {
        let path = tmp("rt.raw");
        let mut wr = RawFrameWriter::create(&path, 7, 5, Some(25.0)).unwrap();
        for s in 0..3 {
            wr.write(&frame(s + 10, 7, 5)).unwrap();
        }
        assert!(wr.write(&frame(0, 6, 5)).is_err(), "size mismatch");
        assert_eq!(wr.finish().unwrap(), 3);

        let opts = SourceOptions {
            as_fast_as_possible: true,
            ..Default::default()
        };
        let mut src = ReplaySource::open(&path, &opts).unwrap();
        assert_eq!((src.size(), src.len()), ((7, 5), 3));
        let mut f = Frame::new(7, 5).unwrap();
        for s in 0..3 {
            assert_eq!(src.next_frame(&mut f, Duration::ZERO).unwrap(), Grab::Frame);
            assert_eq!(f.image, frame(s + 10, 7, 5).image);
            assert_eq!(f.meta.sequence, s + 10);
            assert_eq!(f.meta.timestamp, Duration::from_millis((s + 10) * 40));
        }
        assert_eq!(src.next_frame(&mut f, Duration::ZERO).unwrap(), Grab::End);

        let bytes = std::fs::read(&path).unwrap();
        let cut = tmp("cut.raw");
        std::fs::write(&cut, &bytes[..bytes.len() - 1]).unwrap();
        let e = ReplaySource::open(&cut, &opts).err().unwrap().to_string();
        assert!(e.contains("truncated"), "{e}");
        let mut bad = bytes.clone();
        bad[0] = b'X';
        std::fs::write(&cut, &bad).unwrap();
        assert!(ReplaySource::open(&cut, &opts).is_err());
        std::fs::write(&cut, &bytes[..10]).unwrap();
        assert!(ReplaySource::open(&cut, &opts).is_err());
        let mut zero = bytes.clone();
        zero[8..12].fill(0);
        std::fs::write(&cut, &zero).unwrap();
        assert!(ReplaySource::open(&cut, &opts).is_err());
        // A recording cut off before its count was written: full frames replay.
        let mut unknown = bytes[..bytes.len() - 3].to_vec();
        unknown[20..24].fill(0);
        std::fs::write(&cut, &unknown).unwrap();
        assert_eq!(ReplaySource::open(&cut, &opts).unwrap().len(), 2);
        assert!(ReplaySource::open(&tmp("missing.raw"), &opts).is_err());
    }

    #[test]
    fn png_folder_replays_in_name_order() {
        let dir = tmp("pngs");
        std::fs::create_dir_all(&dir).unwrap();
        for s in 0..2 {
            save_png(&dir, s, &frame(s, 9, 4).image).unwrap();
        }
        let opts = SourceOptions {
            as_fast_as_possible: true,
            ..Default::default()
        };
        let mut src = ReplaySource::open(&dir, &opts).unwrap();
        let mut f = Frame::new(9, 4).unwrap();
        for s in 0..2 {
            assert_eq!(src.next_frame(&mut f, Duration::ZERO).unwrap(), Grab::Frame);
            assert_eq!(f.image, frame(s, 9, 4).image);
        }
        assert_eq!(src.next_frame(&mut f, Duration::ZERO).unwrap(), Grab::End);
        save_png(&dir, 2, &frame(2, 8, 4).image).unwrap();
        let mut src = ReplaySource::open(&dir, &opts).unwrap();
        src.next = 2;
        assert!(
            src.next_frame(&mut f, Duration::ZERO).is_err(),
            "size change"
        );
        let empty = tmp("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(ReplaySource::open(&empty, &opts).is_err());
    }
}
