//! Inspection kernels: `threshold`, `otsu`, `erode`, `dilate`, `median`, `row_ema`,
//! `dither`, `flat_field`, `components`.

use super::{Op, OpSpec, ParamSpec, Params};
use crate::image::{AnyView, AnyViewMut, DType};
use crate::kernels::components::{Connectivity, Labeler};
use crate::kernels::dither::Dither;
use crate::kernels::flatfield::{FlatField, Stores};
use crate::kernels::median::Median;
use crate::kernels::morphology::{MAX_KSIZE as MORPH_MAX_KSIZE, MorphOp, Morphology};
use crate::kernels::scan::row_ema;
use crate::kernels::threshold::{
    HistogramCounter, ThresholdKind, otsu_level, threshold_f32, threshold_u8, threshold_u8_level,
    triangle_level,
};
use crate::{Error, Result};

const KIND: ParamSpec = ParamSpec {
    name: "type",
    default: "binary",
    help: "binary | binary_inv | trunc | tozero | tozero_inv",
};
const MAX: ParamSpec = ParamSpec {
    name: "max",
    default: "255",
    help: "value written above the threshold (binary types)",
};

pub const THRESHOLD: OpSpec = OpSpec {
    name: "threshold",
    summary: "fixed threshold, OpenCV semantics (above means v > threshold)",
    params: &[
        ParamSpec {
            name: "threshold",
            default: "127",
            help: "the level",
        },
        MAX,
        KIND,
        ParamSpec {
            name: "dtype",
            default: "u8",
            help: "u8 or f32",
        },
    ],
    slow: false,
    build: |p| {
        let kind = ThresholdKind::parse(p.str("type")?)?;
        let dtype = match p.dtype("dtype")? {
            d @ (DType::U8 | DType::F32) => d,
            other => {
                return Err(Error::bad_param(
                    "dtype",
                    format!("{other} is not supported (u8 or f32)"),
                ));
            }
        };
        let (threshold, max) = match dtype {
            DType::U8 => (
                p.int("threshold", 0, 255)? as f32,
                p.int("max", 0, 255)? as f32,
            ),
            _ => (p.f64("threshold")? as f32, p.f64("max")? as f32),
        };
        Ok(Box::new(ThresholdOp {
            dtype,
            threshold,
            max,
            kind,
        }))
    },
};

struct ThresholdOp {
    dtype: DType,
    threshold: f32,
    max: f32,
    kind: ThresholdKind,
}

impl Op for ThresholdOp {
    fn input_dtype(&self) -> DType {
        self.dtype
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        match self.dtype {
            DType::U8 => threshold_u8(
                &src.typed()?,
                &mut dst.typed()?,
                self.threshold as u8,
                self.max as u8,
                self.kind,
            ),
            _ => threshold_f32(
                &src.typed()?,
                &mut dst.typed()?,
                self.threshold,
                self.max,
                self.kind,
            ),
        }
    }
}

pub const OTSU: OpSpec = OpSpec {
    name: "otsu",
    summary: "automatic level (Otsu or triangle, same level as OpenCV) then threshold",
    params: &[
        ParamSpec {
            name: "method",
            default: "otsu",
            help: "otsu | triangle",
        },
        MAX,
        KIND,
    ],
    slow: false,
    build: |p: &Params| {
        Ok(Box::new(OtsuOp {
            triangle: p.choice("method", &["otsu", "triangle"])? == "triangle",
            max: p.int("max", 0, 255)? as u8,
            kind: ThresholdKind::parse(p.str("type")?)?,
            counter: HistogramCounter::new(),
        }))
    },
};

struct OtsuOp {
    triangle: bool,
    counter: HistogramCounter,
    max: u8,
    kind: ThresholdKind,
}

impl Op for OtsuOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn bytes_moved(&self, (w, h): (usize, usize)) -> u64 {
        // The histogram reads the frame once, the threshold reads and writes it.
        3 * (w * h) as u64
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        let src = src.typed::<u8>()?;
        let hist = self.counter.count(&src);
        let level = if self.triangle {
            triangle_level(&hist)
        } else {
            i32::from(otsu_level(&hist))
        };
        threshold_u8_level(&src, &mut dst.typed()?, level, self.max, self.kind)
    }
}

pub const ROW_EMA: OpSpec = OpSpec {
    name: "row_ema",
    summary: "per-row exponential moving average on f32 (Code 8.2.4), rows in SIMD lanes",
    params: &[ParamSpec {
        name: "alpha",
        default: "0.1",
        help: "weight of the new pixel, 0..=1",
    }],
    slow: false,
    build: |p| {
        let alpha = p.f64("alpha")?;
        if !(0.0..=1.0).contains(&alpha) {
            return Err(Error::bad_param(
                "alpha",
                format!("must be in 0..=1, got {alpha}"),
            ));
        }
        Ok(Box::new(RowEmaOp {
            alpha: alpha as f32,
        }))
    },
};

struct RowEmaOp {
    alpha: f32,
}

impl Op for RowEmaOp {
    fn input_dtype(&self) -> DType {
        DType::F32
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        row_ema(&src.typed()?, &mut dst.typed()?, self.alpha)
    }
}

pub const DITHER: OpSpec = OpSpec {
    name: "dither",
    summary: "Floyd-Steinberg error diffusion u8 -> 0/255 (exact integer definition)",
    params: &[ParamSpec {
        name: "serpentine",
        default: "0",
        help: "1: alternate the scan direction per row",
    }],
    slow: false,
    build: |p| {
        Ok(Box::new(DitherOp {
            serpentine: p.int("serpentine", 0, 1)? == 1,
            scratch: Dither::new(),
        }))
    },
};

struct DitherOp {
    serpentine: bool,
    scratch: Dither,
}

impl Op for DitherOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn uses_simd(&self) -> bool {
        // Serpentine rows cannot run as a wavefront: they are scalar on every level.
        !self.serpentine
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        self.scratch
            .apply(&src.typed()?, &mut dst.typed()?, self.serpentine)
    }
}

const KSIZE_MORPH: ParamSpec = ParamSpec {
    name: "ksize",
    default: "3",
    help: "element width",
};
const KSIZE_Y_MORPH: ParamSpec = ParamSpec {
    name: "ksize_y",
    default: "0",
    help: "element height (0: same as ksize)",
};

fn morph_build(p: &Params, op: MorphOp) -> Result<Box<dyn Op>> {
    let k = p.int("ksize", 1, MORPH_MAX_KSIZE as i64)? as usize;
    let ky = match p.int("ksize_y", 0, MORPH_MAX_KSIZE as i64)? as usize {
        0 => k,
        ky => ky,
    };
    Ok(Box::new(MorphologyOp {
        op,
        plan: Morphology::new((k, ky))?,
    }))
}

pub const ERODE: OpSpec = OpSpec {
    name: "erode",
    summary: "erosion (min) with a rectangular element: O(1) per pixel in its height (van Herk, from 5 rows) and in its width (van Herk on 32 transposed rows, from 64 columns; doubling windows from 10)",
    params: &[KSIZE_MORPH, KSIZE_Y_MORPH],
    slow: false,
    build: |p| morph_build(p, MorphOp::Erode),
};

pub const DILATE: OpSpec = OpSpec {
    name: "dilate",
    summary: "dilation (max) with a rectangular element: O(1) per pixel in its height (van Herk, from 5 rows) and in its width (van Herk on 32 transposed rows, from 64 columns; doubling windows from 10)",
    params: &[KSIZE_MORPH, KSIZE_Y_MORPH],
    slow: false,
    build: |p| morph_build(p, MorphOp::Dilate),
};

struct MorphologyOp {
    op: MorphOp,
    plan: Morphology,
}

impl Op for MorphologyOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        let (src, mut dst) = (src.typed::<u8>()?, dst.typed::<u8>()?);
        match self.op {
            MorphOp::Erode => self.plan.erode(&src, &mut dst),
            MorphOp::Dilate => self.plan.dilate(&src, &mut dst),
        }
    }
}

pub const MEDIAN: OpSpec = OpSpec {
    name: "median",
    summary: "median filter 3x3 or 5x5 on u8 (min/max networks), replicated borders",
    params: &[ParamSpec {
        name: "ksize",
        default: "3",
        help: "3 or 5",
    }],
    slow: false,
    build: |p| {
        Ok(Box::new(MedianOp {
            plan: Median::new(p.int("ksize", 0, 99)? as usize)?,
        }))
    },
};

struct MedianOp {
    plan: Median,
}

impl Op for MedianOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        self.plan.apply(&src.typed()?, &mut dst.typed()?)
    }
}

pub const FLAT_FIELD: OpSpec = OpSpec {
    name: "flat_field",
    summary: "flat-field correction (raw - dark)/(flat - dark), compact maps, one pass",
    params: &[
        ParamSpec {
            name: "out",
            default: "f32",
            help: "f32 (the ratio) or u8 (scaled to the mean response)",
        },
        ParamSpec {
            name: "dark",
            default: "",
            help: "dark frame file (default: a synthetic calibration)",
        },
        ParamSpec {
            name: "flat",
            default: "",
            help: "flat frame file (default: a synthetic calibration)",
        },
        ParamSpec {
            name: "stores",
            default: "auto",
            help: "f32 output: auto (streaming from 16 MiB), cached or streaming",
        },
    ],
    slow: false,
    build: |p| {
        let files = (p.str("dark")?, p.str("flat")?);
        let calibration = match files {
            ("", "") => None,
            (dark, flat) if !dark.is_empty() && !flat.is_empty() => {
                let load = |path: &str| -> Result<crate::image::Image<u8>> {
                    match crate::image::load(path)? {
                        crate::image::AnyImage::U8(img) => Ok(img),
                        other => Err(Error::UnsupportedDtype(format!(
                            "{path}: calibration frames must be u8, got {}",
                            other.dtype()
                        ))),
                    }
                };
                let (dark, flat) = (load(dark)?, load(flat)?);
                Some(FlatField::from_frames(
                    &[dark.as_view()],
                    &[flat.as_view()],
                )?)
            }
            _ => {
                return Err(Error::bad_param(
                    "flat",
                    "give both dark= and flat=, or neither",
                ));
            }
        };
        let stores = match p.choice("stores", &["auto", "cached", "streaming"])? {
            "cached" => Stores::Cached,
            "streaming" => Stores::Streaming,
            _ => Stores::Auto,
        };
        Ok(Box::new(FlatFieldOp {
            to_u8: p.choice("out", &["f32", "u8"])? == "u8",
            stores,
            calibration,
        }))
    },
};

struct FlatFieldOp {
    to_u8: bool,
    stores: Stores,
    calibration: Option<FlatField>,
}

impl Op for FlatFieldOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn output_dtype(&self) -> DType {
        if self.to_u8 { DType::U8 } else { DType::F32 }
    }

    fn prepare(&mut self, (w, h): (usize, usize)) -> Result<()> {
        if self.calibration.is_none() {
            self.calibration = Some(FlatField::synthetic(w, h)?);
        }
        Ok(())
    }

    fn bytes_moved(&self, (w, h): (usize, usize)) -> u64 {
        // raw 1 + dark map 2 + gain map 2 + output.
        (w * h) as u64 * if self.to_u8 { 6 } else { 9 }
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        let (w, h) = src.size();
        let ff = match &self.calibration {
            Some(ff) => ff,
            None => self.calibration.insert(FlatField::synthetic(w, h)?),
        };
        if self.to_u8 {
            ff.apply_u8(&src.typed()?, &mut dst.typed()?)
        } else {
            let level = crate::simd::level()?;
            ff.apply_f32_with(level, self.stores, &src.typed()?, &mut dst.typed()?)
        }
    }
}

pub const COMPONENTS: OpSpec = OpSpec {
    name: "components",
    summary: "connected components with stats (area, bbox, centroid), labels u32",
    params: &[ParamSpec {
        name: "conn",
        default: "8",
        help: "4 or 8",
    }],
    slow: false,
    build: |p| {
        Ok(Box::new(ComponentsOp {
            labeler: Labeler::new(Connectivity::from_number(p.int("conn", 0, 99)?)?),
        }))
    },
};

struct ComponentsOp {
    labeler: Labeler,
}

impl Op for ComponentsOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn output_dtype(&self) -> DType {
        DType::U32
    }

    /// A realistic blob image (blurred noise thresholded at its mean), not raw noise.
    fn bench_input(&self, width: usize, height: usize) -> Result<crate::image::AnyImage> {
        Ok(crate::testing::random_blobs(width, height, 9, super::BENCH_SEED)?.into())
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        self.labeler.label(&src.typed()?, &mut dst.typed()?)?;
        Ok(())
    }

    fn side_output(&self) -> Option<serde_json::Value> {
        let stats = self.labeler.stats();
        Some(serde_json::json!({ "count": stats.len(), "components": stats }))
    }
}
