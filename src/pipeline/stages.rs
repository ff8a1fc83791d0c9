//! The inspection stages, built once from the configuration with all their buffers:
//! flat-field → blur → threshold → morphology → connected components → defect filter.
//! Processing a frame allocates nothing.

use std::path::Path;
use std::time::Instant;

use super::config::{DefectFilter, InspectConfig};
use super::profile::Profile;
use crate::capture::{RawFrameFile, SyntheticCamera};
use crate::image::{AnyImage, Image, ImageView, check_same_size};
use crate::kernels::border::Border;
use crate::kernels::components::{ComponentStats, Connectivity, Labeler};
use crate::kernels::flatfield::FlatField;
use crate::kernels::gaussian::{GaussianBlur, GaussianParams};
use crate::kernels::localstats::{LocalStats, LocalThreshold};
use crate::kernels::morphology::Morphology;
use crate::kernels::threshold::{HistogramCounter, ThresholdKind, threshold_u8};
use crate::{Error, Result};

/// How the binary defect mask is made.
enum Thresholder {
    Fixed(u8),
    Otsu(HistogramCounter),
    Sauvola(Box<LocalStats>, LocalThreshold),
}

#[derive(Clone, Copy, PartialEq)]
enum Morph {
    Open,
    Close,
}

/// The configured stages with their plans and buffers.
pub struct Stages {
    flat_field: Option<FlatField>,
    blur: Option<GaussianBlur>,
    thresholder: Thresholder,
    /// Defects darker than the part: the mask is "at or below the level".
    dark: bool,
    morphology: Option<(Morphology, Morph)>,
    labeler: Labeler,
    filter: DefectFilter,
    /// Ping-pong buffers between stages.
    a: Image<u8>,
    b: Image<u8>,
    labels: Image<u32>,
    defects: Vec<ComponentStats>,
    names: Vec<&'static str>,
    /// Components that passed the filter but did not fit in `defects`, last frame.
    overflow: usize,
}

/// Foreground runs per frame the labeler has room for from the start (beyond that it
/// grows, once).
const RESERVED_RUNS: usize = 1 << 14;

/// At most this many defects are reported per frame (the rest are counted).
pub const MAX_DEFECTS_PER_FRAME: usize = 1024;

impl Stages {
    /// Builds the stages for frames of `size`. `camera` calibrates the flat field when
    /// no dark/flat files are configured (the synthetic camera knows its own).
    pub fn new(
        cfg: &InspectConfig,
        size: (usize, usize),
        camera: Option<&SyntheticCamera>,
    ) -> Result<Self> {
        let (w, h) = size;
        let cal = &cfg.calibration;
        let flat_field = if cal.disabled {
            None
        } else {
            match (&cal.dark, &cal.flat, camera) {
                (Some(dark), Some(flat), _) => Some(load_calibration(dark, flat, size)?),
                (None, None, Some(cam)) => Some(cam.calibration(8)?),
                (None, None, None) => None,
                _ => {
                    return Err(Error::bad_param(
                        "calibration",
                        "give both a dark and a flat frame",
                    ));
                }
            }
        };
        let blur = match cfg.blur.ksize {
            0 => None,
            k => Some(GaussianBlur::new(GaussianParams::new(k, cfg.blur.sigma))?),
        };
        let t = &cfg.threshold;
        let dark = match t.polarity.as_str() {
            "dark" => true,
            "bright" => false,
            other => {
                return Err(Error::bad_param(
                    "polarity",
                    format!("'{other}' is not dark or bright"),
                ));
            }
        };
        let thresholder = match t.method.as_str() {
            "fixed" => Thresholder::Fixed(t.level),
            "otsu" => Thresholder::Otsu(HistogramCounter::new()),
            "sauvola" => Thresholder::Sauvola(
                Box::new(LocalStats::new(t.window, Border::Reflect101)?),
                LocalThreshold::Sauvola { k: t.k, r: t.r }.validate()?,
            ),
            other => {
                return Err(Error::bad_param(
                    "threshold",
                    format!("'{other}' is not fixed, otsu or sauvola"),
                ));
            }
        };
        let m = &cfg.morphology;
        let morphology = match m.op.as_str() {
            "none" => None,
            "open" => Some((Morphology::new((m.ksize, m.ksize))?, Morph::Open)),
            "close" => Some((Morphology::new((m.ksize, m.ksize))?, Morph::Close)),
            other => {
                return Err(Error::bad_param(
                    "morphology",
                    format!("'{other}' is not open, close or none"),
                ));
            }
        };
        let conn = Connectivity::from_number(i64::from(cfg.components.conn))?;
        let f = &cfg.defects;
        if f.min_area > f.max_area || f.max_aspect.is_nan() || f.max_aspect < 1.0 {
            return Err(Error::bad_param(
                "defects",
                "need min_area <= max_area and max_aspect >= 1",
            ));
        }
        let mut names = Vec::new();
        if flat_field.is_some() {
            names.push("flat-field");
        }
        if blur.is_some() {
            names.push("blur");
        }
        names.push("threshold");
        if morphology.is_some() {
            names.push("morphology");
        }
        names.extend(["components", "defect filter"]);
        Ok(Stages {
            flat_field,
            blur,
            thresholder,
            dark,
            morphology,
            labeler: {
                let mut l = Labeler::new(conn);
                l.reserve(RESERVED_RUNS);
                l
            },
            filter: f.clone(),
            a: Image::new(w, h)?,
            b: Image::new(w, h)?,
            labels: Image::new(w, h)?,
            defects: Vec::with_capacity(MAX_DEFECTS_PER_FRAME),
            names,
            overflow: 0,
        })
    }

    /// Stage names in order, for the profile.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    pub fn has_flat_field(&self) -> bool {
        self.flat_field.is_some()
    }

    /// Runs every stage on `frame`, timing each into `profile` when given; the defects
    /// found are then in [`Self::defects`].
    pub fn process(&mut self, frame: &Image<u8>, mut profile: Option<&mut Profile>) -> Result<()> {
        check_same_size("frame", self.a.size(), frame.size())?;
        let mut stage = 0;
        let mut t = Instant::now();
        let mut lap = |profile: &mut Option<&mut Profile>| {
            let now = Instant::now();
            if let Some(p) = profile.as_deref_mut() {
                p.stage_mut(stage).record(now - t);
            }
            stage += 1;
            t = now;
        };
        // `cur` says where the image is: the frame, `a` or `b`.
        #[derive(Clone, Copy, PartialEq)]
        enum At {
            Frame,
            A,
            B,
        }
        let mut cur = At::Frame;
        // Runs `f(src, dst)` from wherever the image is into the other buffer.
        macro_rules! step {
            ($f:expr) => {{
                let (src, dst, next) = match cur {
                    At::Frame => (frame, &mut self.a, At::A),
                    At::A => (&self.a, &mut self.b, At::B),
                    At::B => (&self.b, &mut self.a, At::A),
                };
                #[allow(clippy::redundant_closure_call)]
                ($f)(src.as_view(), &mut dst.as_view_mut())?;
                cur = next;
                lap(&mut profile);
            }};
        }
        if let Some(ff) = &self.flat_field {
            step!(|s, d: &mut _| ff.apply_u8(&s, d));
        }
        if let Some(blur) = &mut self.blur {
            step!(|s, d: &mut _| blur.apply_u8(&s, d));
        }
        let kind = if self.dark {
            ThresholdKind::BinaryInv
        } else {
            ThresholdKind::Binary
        };
        match &mut self.thresholder {
            Thresholder::Fixed(level) => {
                let level = *level;
                step!(|s, d: &mut _| threshold_u8(&s, d, level, 255, kind));
            }
            Thresholder::Otsu(counter) => {
                step!(|s, d: &mut _| counter.otsu_threshold(&s, d, 255, kind).map(|_| ()))
            }
            Thresholder::Sauvola(stats, method) => {
                let (method, dark) = (*method, self.dark);
                step!(
                    |s: ImageView<'_, u8>, d: &mut crate::ImageViewMut<'_, u8>| {
                        stats.adaptive_threshold(&s, d, method)?;
                        if dark {
                            // 255 = above the local threshold; defects are the rest.
                            invert_in_place(d);
                        }
                        Ok::<(), Error>(())
                    }
                );
            }
        }
        if let Some((morph, op)) = &mut self.morphology {
            let op = *op;
            step!(|s, d: &mut _| if op == Morph::Open {
                morph.open(&s, d)
            } else {
                morph.close(&s, d)
            });
        }
        let mask = match cur {
            At::Frame => frame,
            At::A => &self.a,
            At::B => &self.b,
        };
        let stats = self
            .labeler
            .label(&mask.as_view(), &mut self.labels.as_view_mut())?;
        lap(&mut profile);
        self.defects.clear();
        self.overflow = 0;
        for s in stats {
            if self.filter.accepts(s) {
                if self.defects.len() < self.defects.capacity() {
                    self.defects.push(*s);
                } else {
                    self.overflow += 1;
                }
            }
        }
        lap(&mut profile);
        Ok(())
    }

    /// The defects of the last processed frame.
    pub fn defects(&self) -> &[ComponentStats] {
        &self.defects
    }

    /// Defects that passed the filter in the last frame but exceeded
    /// [`MAX_DEFECTS_PER_FRAME`].
    pub fn overflow(&self) -> usize {
        self.overflow
    }
}

fn invert_in_place(d: &mut crate::ImageViewMut<'_, u8>) {
    for row in d.rows_mut() {
        for p in row {
            *p = !*p;
        }
    }
}

impl DefectFilter {
    pub fn accepts(&self, s: &ComponentStats) -> bool {
        let (long, short) = (s.width.max(s.height), s.width.min(s.height).max(1));
        (self.min_area..=self.max_area).contains(&s.area)
            && f64::from(long) <= self.max_aspect * f64::from(short)
    }
}

/// A dark or flat calibration frame: an image file, or a raw frame file (its frames
/// are averaged).
fn load_frames(path: &Path, size: (usize, usize)) -> Result<Vec<Image<u8>>> {
    let frames = if path.extension().is_some_and(|e| e == "raw") {
        let raw = RawFrameFile::open(path)?;
        check_same_size("calibration frames (against the camera)", size, raw.size())?;
        let (w, h) = raw.size();
        (0..raw.len())
            .map(|i| {
                let (_, _, px) = raw.frame(i).expect("index in range");
                Ok(ImageView::from_slice(px, w, h)?.to_image())
            })
            .collect::<Result<Vec<_>>>()?
    } else {
        match crate::image::load(path)? {
            AnyImage::U8(img) => vec![img],
            other => {
                return Err(Error::Decode {
                    path: path.to_path_buf(),
                    reason: format!(
                        "calibration frames must be 8-bit gray, got {}",
                        other.dtype()
                    ),
                });
            }
        }
    };
    for f in &frames {
        check_same_size("calibration frame (against the camera)", size, f.size())?;
    }
    Ok(frames)
}

/// Flat-field calibration from dark and flat frame files.
pub fn load_calibration(dark: &Path, flat: &Path, size: (usize, usize)) -> Result<FlatField> {
    let (darks, flats) = (load_frames(dark, size)?, load_frames(flat, size)?);
    FlatField::from_images(&darks, &flats)
}
