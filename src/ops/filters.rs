//! Filters: `gaussian`, `box`, `integral`, `local_std`, `sauvola`, `adaptive_threshold`.

use super::{Op, OpSpec, ParamSpec, Params};
use crate::image::{AnyView, AnyViewMut, DType};
use crate::kernels::border::Border;
use crate::kernels::boxfilter::{BoxFilter, MAX_KSIZE_U8, check_area_u8, check_ksize};
use crate::kernels::gaussian::{GaussianBlur, GaussianMethod, GaussianParams};
use crate::kernels::integral::integral_u8;
use crate::kernels::localstats::{LocalStats, LocalThreshold};
use crate::{Error, Result};

const DTYPE_U8_F32: ParamSpec = ParamSpec {
    name: "dtype",
    default: "u8",
    help: "pixel type: u8 or f32",
};
const BORDER: ParamSpec = ParamSpec {
    name: "border",
    default: "reflect101",
    help: "reflect101 | replicate | constant",
};
const BORDER_VALUE: ParamSpec = ParamSpec {
    name: "border_value",
    default: "0",
    help: "the constant of border=constant",
};

fn border(p: &Params) -> Result<Border> {
    Border::parse(p.str("border")?, p.f64("border_value")? as f32)
}

fn u8_or_f32(p: &Params) -> Result<DType> {
    match p.dtype("dtype")? {
        d @ (DType::U8 | DType::F32) => Ok(d),
        other => Err(Error::bad_param(
            "dtype",
            format!("{other} is not supported (u8 or f32)"),
        )),
    }
}

pub const GAUSSIAN: OpSpec = OpSpec {
    name: "gaussian",
    summary: "separable Gaussian blur (u8 fixed point, f32), OpenCV-compatible sizes",
    params: &[
        ParamSpec {
            name: "ksize",
            default: "5",
            help: "odd kernel size, or 0 to derive from sigma",
        },
        ParamSpec {
            name: "sigma",
            default: "0",
            help: "sigma, or 0 to derive from ksize",
        },
        ParamSpec {
            name: "ksize_y",
            default: "0",
            help: "kernel height (0: same as ksize)",
        },
        ParamSpec {
            name: "sigma_y",
            default: "0",
            help: "sigma along y (0: same as sigma)",
        },
        ParamSpec {
            name: "method",
            default: "auto",
            help: "auto | direct | boxes (constant-time cascade)",
        },
        DTYPE_U8_F32,
        BORDER,
        BORDER_VALUE,
    ],
    slow: false,
    build: |p| {
        let ksize = p.int("ksize", 0, i64::from(u16::MAX))? as usize;
        let ksize_y = match p.int("ksize_y", 0, i64::from(u16::MAX))? as usize {
            0 => ksize,
            k => k,
        };
        let params =
            GaussianParams::anisotropic((ksize, ksize_y), (p.f64("sigma")?, p.f64("sigma_y")?))
                .with_border(border(p)?)
                .with_method(GaussianMethod::parse(p.str("method")?)?);
        Ok(Box::new(GaussianOp {
            dtype: u8_or_f32(p)?,
            plan: GaussianBlur::new(params)?,
        }))
    },
};

struct GaussianOp {
    dtype: DType,
    plan: GaussianBlur,
}

impl Op for GaussianOp {
    fn input_dtype(&self) -> DType {
        self.dtype
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        match self.dtype {
            DType::U8 => self.plan.apply_u8(&src.typed()?, &mut dst.typed()?),
            _ => self.plan.apply_f32(&src.typed()?, &mut dst.typed()?),
        }
    }
}

pub const BOX: OpSpec = OpSpec {
    name: "box",
    summary: "box filter: window mean or sum, O(1) per pixel (running sums)",
    params: &[
        ParamSpec {
            name: "ksize",
            default: "7",
            help: "window side (1..=255 for u8)",
        },
        ParamSpec {
            name: "ksize_y",
            default: "0",
            help: "window height (0: same as ksize)",
        },
        ParamSpec {
            name: "normalize",
            default: "1",
            help: "1: mean (same type out); 0: sum (u32 out for u8, f32 for f32)",
        },
        DTYPE_U8_F32,
        BORDER,
        BORDER_VALUE,
    ],
    slow: false,
    build: |p| {
        let k = p.int("ksize", 1, i64::from(u16::MAX))? as usize;
        let ky = match p.int("ksize_y", 0, i64::from(u16::MAX))? as usize {
            0 => k,
            ky => ky,
        };
        let dtype = u8_or_f32(p)?;
        let normalize = p.int("normalize", 0, 1)? == 1;
        let plan = BoxFilter::new((k, ky), border(p)?)?;
        if dtype == DType::U8 {
            check_area_u8((k, ky))?;
        }
        Ok(Box::new(BoxOp {
            dtype,
            normalize,
            plan,
        }))
    },
};

struct BoxOp {
    dtype: DType,
    normalize: bool,
    plan: BoxFilter,
}

impl Op for BoxOp {
    fn input_dtype(&self) -> DType {
        self.dtype
    }

    fn output_dtype(&self) -> DType {
        match (self.dtype, self.normalize) {
            (DType::U8, false) => DType::U32,
            (d, _) => d,
        }
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        match (self.dtype, self.normalize) {
            (DType::U8, true) => self.plan.mean_u8(&src.typed()?, &mut dst.typed()?),
            (DType::U8, false) => self.plan.sum_u8(&src.typed()?, &mut dst.typed()?),
            (_, n) => self.plan.apply_f32(&src.typed()?, &mut dst.typed()?, n),
        }
    }
}

pub const INTEGRAL: OpSpec = OpSpec {
    name: "integral",
    summary: "integral image u8 -> u32, (w+1)x(h+1) like OpenCV",
    params: &[],
    slow: false,
    build: |_| Ok(Box::new(IntegralOp)),
};

struct IntegralOp;

impl Op for IntegralOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn output_dtype(&self) -> DType {
        DType::U32
    }

    fn output_size(&self, (w, h): (usize, usize)) -> (usize, usize) {
        (w + 1, h + 1)
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        integral_u8(&src.typed()?, &mut dst.typed()?)
    }
}

const WINDOW: ParamSpec = ParamSpec {
    name: "window",
    default: "25",
    help: "window side (1..=255 for u8)",
};
const SAUVOLA_K: ParamSpec = ParamSpec {
    name: "k",
    default: "0.5",
    help: "Sauvola k (0.2..0.5), Niblack k (around -0.2)",
};
const SAUVOLA_R: ParamSpec = ParamSpec {
    name: "r",
    default: "128",
    help: "Sauvola dynamic range of the deviation",
};

pub const LOCAL_STD: OpSpec = OpSpec {
    name: "local_std",
    summary: "local standard deviation over k x k (f32 out), one fused pass",
    params: &[
        ParamSpec {
            name: "ksize",
            default: "7",
            help: "window side",
        },
        ParamSpec {
            name: "dtype",
            default: "f32",
            help: "input type: u8 or f32",
        },
        BORDER,
        BORDER_VALUE,
    ],
    slow: false,
    build: |p| {
        let window = p.int("ksize", 1, i64::from(u16::MAX))? as usize;
        let dtype = u8_or_f32(p)?;
        if dtype == DType::U8 {
            check_ksize("ksize", window, MAX_KSIZE_U8)?;
        }
        Ok(Box::new(LocalStdOp {
            dtype,
            plan: LocalStats::new(window, border(p)?)?,
        }))
    },
};

struct LocalStdOp {
    dtype: DType,
    plan: LocalStats,
}

impl Op for LocalStdOp {
    fn input_dtype(&self) -> DType {
        self.dtype
    }

    fn output_dtype(&self) -> DType {
        DType::F32
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        match self.dtype {
            DType::U8 => self.plan.std::<u8>(&src.typed()?, &mut dst.typed()?),
            _ => self.plan.std::<f32>(&src.typed()?, &mut dst.typed()?),
        }
    }
}

pub const SAUVOLA: OpSpec = OpSpec {
    name: "sauvola",
    summary: "Sauvola binarization of u8: 255 where v > m(1 + k(s/r - 1)), fused",
    params: &[
        WINDOW,
        SAUVOLA_K,
        SAUVOLA_R,
        ParamSpec {
            name: "output",
            default: "binary",
            help: "binary (u8 0/255) or map (f32 threshold map)",
        },
        BORDER,
        BORDER_VALUE,
    ],
    slow: false,
    build: |p| {
        let method = LocalThreshold::Sauvola {
            k: p.f64("k")?,
            r: p.f64("r")?,
        };
        adaptive(p, method, p.choice("output", &["binary", "map"])? == "map")
    },
};

pub const ADAPTIVE_THRESHOLD: OpSpec = OpSpec {
    name: "adaptive_threshold",
    summary: "local threshold of u8 (mean - c, Niblack, Sauvola) to 0/255, fused",
    params: &[
        ParamSpec {
            name: "method",
            default: "mean",
            help: "mean | niblack | sauvola",
        },
        WINDOW,
        ParamSpec {
            name: "c",
            default: "5",
            help: "offset of method=mean",
        },
        SAUVOLA_K,
        SAUVOLA_R,
        BORDER,
        BORDER_VALUE,
    ],
    slow: false,
    build: |p| {
        let (c, k, r) = (p.f64("c")?, p.f64("k")?, p.f64("r")?);
        let method = match p.choice("method", &["mean", "niblack", "sauvola"])? {
            "mean" => LocalThreshold::Mean { c },
            "niblack" => LocalThreshold::Niblack { k },
            _ => LocalThreshold::Sauvola { k, r },
        };
        adaptive(p, method, false)
    },
};

fn adaptive(p: &Params, method: LocalThreshold, map: bool) -> Result<Box<dyn Op>> {
    let window = p.int("window", 1, MAX_KSIZE_U8 as i64)? as usize;
    let plan = LocalStats::new(window, border(p)?)?;
    Ok(Box::new(AdaptiveOp {
        plan,
        method: method.validate()?,
        map,
    }))
}

struct AdaptiveOp {
    plan: LocalStats,
    method: LocalThreshold,
    map: bool,
}

impl Op for AdaptiveOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn output_dtype(&self) -> DType {
        if self.map { DType::F32 } else { DType::U8 }
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        let src = src.typed::<u8>()?;
        if self.map {
            self.plan
                .threshold_map(&src, &mut dst.typed()?, self.method)
        } else {
            self.plan
                .adaptive_threshold(&src, &mut dst.typed()?, self.method)
        }
    }
}
