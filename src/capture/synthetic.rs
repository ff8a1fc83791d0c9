//! A synthetic camera: a textured scene sliding sideways under uneven illumination,
//! with dark defects of known position and size injected into every frame.
//!
//! The image model is the one flat-field correction undoes:
//! `raw = dark + scene · gain + noise`, with a fixed-pattern dark level (8..24), a
//! vignetted gain falling from 1.0 in the centre to 0.45 in the corners, and noise of
//! 0..=6 gray levels. The scene is 170..=202 (a moving texture) and defects are 90, so
//! they stand out only after the illumination is corrected: in a raw corner the
//! background is darker than a defect in the centre.
//!
//! Everything is precomputed at start-up; rendering a frame is one pass of loads, a
//! multiply and a store per pixel, and allocates nothing.

use std::time::{Duration, Instant};

use super::{Frame, Grab, GroundTruth, Pacing, Source, SourceOptions};
use crate::image::Image;
use crate::kernels::flatfield::FlatField;
use crate::testing::SplitMix64;
use crate::{Error, Result};

/// Background scene level before texture.
const SCENE_BASE: u8 = 170;
/// Gray level of a defect in the scene.
pub const DEFECT_LEVEL: u8 = 90;
/// Gray level of the white target used for the flat frame.
const FLAT_LEVEL: u16 = 230;
/// Noise amplitude (values 0..=NOISE_MAX are added).
const NOISE_MAX: u8 = 6;
/// Pixels the scene moves per frame.
const SPEED: usize = 3;
/// Gap kept between defects and to the frame border, in pixels.
const GAP: usize = 12;

/// How the synthetic camera renders.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticConfig {
    pub width: usize,
    pub height: usize,
    /// Frames per second in real time (ignored when `as_fast_as_possible`).
    pub fps: f64,
    pub as_fast_as_possible: bool,
    /// Defects per frame (fewer when the frame is too small to hold them apart).
    pub defects: usize,
    /// Smallest and largest defect diameter, in pixels.
    pub min_size: usize,
    pub max_size: usize,
    pub seed: u64,
}

impl SyntheticConfig {
    pub fn from_options(opts: &SourceOptions) -> Self {
        SyntheticConfig {
            width: opts.width,
            height: opts.height,
            fps: opts.fps.unwrap_or(30.0),
            as_fast_as_possible: opts.as_fast_as_possible,
            defects: opts.defects,
            min_size: 8,
            max_size: 32,
            seed: opts.seed,
        }
    }
}

/// One injected defect: an axis-aligned ellipse.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Defect {
    /// Bounding box (pixels inside are `left..left + width`, `top..top + height`).
    pub left: usize,
    pub top: usize,
    pub width: usize,
    pub height: usize,
    /// Pixels covered.
    pub area: usize,
}

impl Defect {
    /// Whether pixel `(x, y)` (frame coordinates) belongs to the defect.
    pub fn contains(&self, x: usize, y: usize) -> bool {
        if x < self.left
            || y < self.top
            || x >= self.left + self.width
            || y >= self.top + self.height
        {
            return false;
        }
        // Ellipse test in doubled coordinates: centre and radii stay integers.
        let (dx, dy) = (
            (2 * (x - self.left) + 1) as i64 - self.width as i64,
            (2 * (y - self.top) + 1) as i64 - self.height as i64,
        );
        let (rx, ry) = (self.width as i64, self.height as i64);
        dx * dx * ry * ry + dy * dy * rx * rx <= rx * rx * ry * ry
    }

    /// The covered span `x0..x1` of row `y`, if any.
    fn span(&self, y: usize) -> Option<(usize, usize)> {
        if y < self.top || y >= self.top + self.height {
            return None;
        }
        let mut xs = (self.left..self.left + self.width).filter(|&x| self.contains(x, y));
        let x0 = xs.next()?;
        let x1 = xs.next_back().unwrap_or(x0) + 1;
        Some((x0, x1))
    }
}

/// The defects of frame `sequence`: positions drawn from a generator seeded by the
/// camera seed and the sequence number, kept apart from each other and the border.
pub(crate) fn defects_for(cfg: &SyntheticConfig, sequence: u64, out: &mut Vec<Defect>) {
    out.clear();
    let (w, h) = (cfg.width, cfg.height);
    let (lo, hi) = (cfg.min_size.max(1), cfg.max_size.max(cfg.min_size.max(1)));
    if w < hi + 2 * GAP || h < hi + 2 * GAP {
        return;
    }
    let mut rng = SplitMix64::new(cfg.seed ^ sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut tries = 0;
    while out.len() < cfg.defects && tries < cfg.defects.saturating_mul(64) {
        tries += 1;
        let dw = lo + (rng.next_u64() % (hi - lo + 1) as u64) as usize;
        let dh = lo + (rng.next_u64() % (hi - lo + 1) as u64) as usize;
        let left = GAP + (rng.next_u64() % (w - dw - 2 * GAP + 1) as u64) as usize;
        let top = GAP + (rng.next_u64() % (h - dh - 2 * GAP + 1) as u64) as usize;
        let apart = out.iter().all(|d| {
            left >= d.left + d.width + GAP
                || d.left >= left + dw + GAP
                || top >= d.top + d.height + GAP
                || d.top >= top + dh + GAP
        });
        if apart {
            let mut d = Defect {
                left,
                top,
                width: dw,
                height: dh,
                area: 0,
            };
            d.area = (top..top + dh)
                .filter_map(|y| d.span(y))
                .map(|(x0, x1)| x1 - x0)
                .sum();
            out.push(d);
        }
    }
}

/// Dark frames and flat frames.
pub type CalibrationFrames = (Vec<Image<u8>>, Vec<Image<u8>>);

/// The synthetic camera (see the module docs).
pub struct SyntheticCamera {
    cfg: SyntheticConfig,
    dark: Image<u8>,
    /// Illumination gain in Q8 (115..=255 for 0.45..1.0).
    gain: Image<u8>,
    /// Texture: per-column profile, stored twice over so any shift is one slice.
    columns: Vec<u8>,
    period: usize,
    /// Texture: per-row profile.
    rows: Vec<u8>,
    /// Noise, longer than a frame; each frame starts at another offset.
    noise: Vec<u8>,
    /// One scene row, reused.
    scene: Vec<u8>,
    /// The current frame's defects, reused.
    defects: Vec<Defect>,
    sequence: u64,
    start: Option<Instant>,
}

impl SyntheticCamera {
    pub fn new(cfg: SyntheticConfig) -> Result<Self> {
        let (w, h) = (cfg.width, cfg.height);
        if !(cfg.fps.is_finite() && (0.01..=10_000.0).contains(&cfg.fps)) {
            return Err(Error::bad_param(
                "fps",
                format!("must be in 0.01..=10000, got {}", cfg.fps),
            ));
        }
        if cfg.defects > 10_000 {
            return Err(Error::bad_param(
                "defects",
                format!("at most 10000 per frame, got {}", cfg.defects),
            ));
        }
        if cfg.min_size == 0 || cfg.min_size > cfg.max_size {
            return Err(Error::bad_param(
                "defect size",
                format!(
                    "need 1 <= min <= max, got {}..{}",
                    cfg.min_size, cfg.max_size
                ),
            ));
        }
        let dark = Image::from_fn(w, h, |x, y| 8 + ((x * 7 + y * 13) % 17) as u8)?;
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let r2 = (cx * cx + cy * cy).max(1.0);
        let gain = Image::from_fn(w, h, |x, y| {
            let d2 = (x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2);
            (255.0 - 140.0 * d2 / r2).round() as u8
        })?;
        let mut rng = SplitMix64::new(cfg.seed);
        let period = 509; // prime: the texture does not line up with the frame
        let profile = smooth_profile(&mut rng, period, 16);
        let columns: Vec<u8> = (0..w + period).map(|i| profile[i % period]).collect();
        let rows = smooth_profile(&mut rng, h, 16);
        let noise: Vec<u8> = (0..w * h + 4099)
            .map(|_| (rng.next_u64() % (NOISE_MAX as u64 + 1)) as u8)
            .collect();
        Ok(SyntheticCamera {
            defects: Vec::with_capacity(cfg.defects),
            scene: vec![0; w],
            cfg,
            dark,
            gain,
            columns,
            period,
            rows,
            noise,
            sequence: 0,
            start: None,
        })
    }

    pub fn config(&self) -> &SyntheticConfig {
        &self.cfg
    }

    /// Renders frame `sequence` of a scene of constant `level` (no texture, no
    /// defects): a flat frame for `FLAT_LEVEL`, a dark frame for 0.
    fn uniform_frame(&self, level: u16, sequence: u64) -> Result<Image<u8>> {
        let (w, h) = (self.cfg.width, self.cfg.height);
        let offset = noise_offset(sequence);
        Image::from_fn(w, h, |x, y| {
            let lit = (level * u16::from(self.gain.row(y)[x])) >> 8;
            (u16::from(self.dark.row(y)[x]) + lit + u16::from(self.noise[offset + y * w + x]))
                .min(255) as u8
        })
    }

    /// `count` dark frames (lens capped) and `count` flat frames (a uniform white
    /// target), as a camera would be calibrated.
    pub fn calibration_frames(&self, count: usize) -> Result<CalibrationFrames> {
        let n = count.max(1) as u64;
        let darks = (0..n)
            .map(|i| self.uniform_frame(0, 1000 + i))
            .collect::<Result<_>>()?;
        let flats = (0..n)
            .map(|i| self.uniform_frame(FLAT_LEVEL, 2000 + i))
            .collect::<Result<_>>()?;
        Ok((darks, flats))
    }

    /// The flat-field calibration from `count` dark and flat frames.
    pub fn calibration(&self, count: usize) -> Result<FlatField> {
        let (darks, flats) = self.calibration_frames(count)?;
        FlatField::from_images(&darks, &flats)
    }

    /// Renders frame `sequence` into `dst`.
    pub fn render(&mut self, sequence: u64, dst: &mut Image<u8>) -> Result<()> {
        let (w, h) = (self.cfg.width, self.cfg.height);
        crate::image::check_same_size("frame", (w, h), dst.size())?;
        defects_for(&self.cfg, sequence, &mut self.defects);
        let shift = (sequence as usize).wrapping_mul(SPEED) % self.period;
        let offset = noise_offset(sequence);
        for y in 0..h {
            let base = SCENE_BASE + self.rows[y];
            let cols = &self.columns[shift..shift + w];
            for (s, &c) in self.scene.iter_mut().zip(cols) {
                *s = base + c;
            }
            for d in &self.defects {
                if let Some((x0, x1)) = d.span(y) {
                    self.scene[x0..x1].fill(DEFECT_LEVEL);
                }
            }
            expose_row(
                &self.scene,
                self.dark.row(y),
                self.gain.row(y),
                &self.noise[offset + y * w..offset + (y + 1) * w],
                dst.row_mut(y),
            );
        }
        Ok(())
    }
}

/// `raw = dark + scene · gain / 256 + noise` for one row (no overflow: at most
/// 24 + 202 + 6).
fn expose_row(scene: &[u8], dark: &[u8], gain: &[u8], noise: &[u8], out: &mut [u8]) {
    let n = out.len();
    let (scene, dark, gain, noise) = (&scene[..n], &dark[..n], &gain[..n], &noise[..n]);
    for i in 0..n {
        let lit = (u16::from(scene[i]) * u16::from(gain[i])) >> 8;
        out[i] = (u16::from(dark[i]) + lit + u16::from(noise[i])) as u8;
    }
}

fn noise_offset(sequence: u64) -> usize {
    ((sequence.wrapping_mul(1237)) % 4096) as usize
}

/// A smooth random profile of `len` values in `0..amplitude` (a random walk, box-blurred).
fn smooth_profile(rng: &mut SplitMix64, len: usize, amplitude: u8) -> Vec<u8> {
    let mut walk = Vec::with_capacity(len);
    let mut v = 0.0f32;
    for _ in 0..len {
        v = 0.9 * v + (rng.next_u64() % 1000) as f32 / 1000.0 - 0.5;
        walk.push(v);
    }
    let (lo, hi) = walk
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let scale = (amplitude as f32 - 1.0) / (hi - lo).max(1e-6);
    walk.iter().map(|&v| ((v - lo) * scale) as u8).collect()
}

impl Source for SyntheticCamera {
    fn describe(&self) -> String {
        let c = &self.cfg;
        let rate = if c.as_fast_as_possible {
            "as fast as possible".to_string()
        } else {
            format!("{} fps", c.fps)
        };
        format!(
            "synthetic camera {}x{} GREY, {rate}, {} defects of {}..{} px per frame (seed {})",
            c.width, c.height, c.defects, c.min_size, c.max_size, c.seed
        )
    }

    fn size(&self) -> (usize, usize) {
        (self.cfg.width, self.cfg.height)
    }

    fn pacing(&self) -> Pacing {
        if self.cfg.as_fast_as_possible {
            Pacing::Replay
        } else {
            Pacing::Live
        }
    }

    fn next_frame(&mut self, frame: &mut Frame, timeout: Duration) -> Result<Grab> {
        let start = *self.start.get_or_insert_with(Instant::now);
        let due = Duration::try_from_secs_f64(self.sequence as f64 / self.cfg.fps)
            .unwrap_or(Duration::MAX);
        if !self.cfg.as_fast_as_possible {
            let wait = due.saturating_sub(start.elapsed());
            if wait > timeout {
                std::thread::sleep(timeout);
                return Ok(Grab::Timeout);
            }
            std::thread::sleep(wait);
        }
        let t0 = Instant::now();
        let seq = self.sequence;
        self.render(seq, &mut frame.image)?;
        let arrived = Instant::now();
        frame.meta.sequence = seq;
        frame.meta.timestamp = if self.cfg.as_fast_as_possible {
            arrived - start
        } else {
            due
        };
        frame.meta.arrived = arrived;
        frame.meta.age_at_arrival = Duration::ZERO;
        frame.meta.copy_time = arrived - t0;
        self.sequence += 1;
        Ok(Grab::Frame)
    }

    fn ground_truth(&self) -> Option<GroundTruth> {
        Some(GroundTruth {
            camera: self.cfg.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(w: usize, h: usize) -> SyntheticConfig {
        SyntheticConfig {
            width: w,
            height: h,
            fps: 30.0,
            as_fast_as_possible: true,
            defects: 6,
            min_size: 8,
            max_size: 32,
            seed: 3,
        }
    }

    #[test]
    fn defects_are_apart_inside_and_deterministic() {
        let c = cfg(640, 480);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for seq in 0..50 {
            defects_for(&c, seq, &mut a);
            defects_for(&c, seq, &mut b);
            assert_eq!(a, b);
            assert_eq!(a.len(), 6, "room for all six at 640x480");
            for (i, d) in a.iter().enumerate() {
                assert!(d.left >= GAP && d.left + d.width + GAP <= 640);
                assert!(d.top >= GAP && d.top + d.height + GAP <= 480);
                assert!(d.area > 0 && d.area <= d.width * d.height);
                for e in &a[i + 1..] {
                    let apart = d.left >= e.left + e.width + GAP
                        || e.left >= d.left + d.width + GAP
                        || d.top >= e.top + e.height + GAP
                        || e.top >= d.top + d.height + GAP;
                    assert!(apart);
                }
            }
        }
        defects_for(&cfg(40, 40), 0, &mut a);
        assert!(a.is_empty(), "no room: no defects, no panic");
    }

    #[test]
    fn frames_show_defects_after_flat_field() {
        let mut cam = SyntheticCamera::new(cfg(320, 240)).unwrap();
        let ff = cam.calibration(4).unwrap();
        let mut frame = Frame::new(320, 240).unwrap();
        cam.next_frame(&mut frame, Duration::from_secs(1)).unwrap();
        let mut out = Image::<u8>::new(320, 240).unwrap();
        ff.apply_u8(&frame.image.as_view(), &mut out.as_view_mut())
            .unwrap();
        let mut defects = Vec::new();
        defects_for(cam.config(), 0, &mut defects);
        // Background and defect levels separate cleanly everywhere after correction.
        let (mut max_defect, mut min_background) = (0u8, 255u8);
        for y in 0..240 {
            for x in 0..320 {
                let v = out.row(y)[x];
                if defects.iter().any(|d| d.contains(x, y)) {
                    max_defect = max_defect.max(v);
                } else {
                    min_background = min_background.min(v);
                }
            }
        }
        assert!(
            max_defect + 30 < min_background,
            "{max_defect} vs {min_background}"
        );
    }
}
