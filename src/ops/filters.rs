//! Filters: `gaussian` (and, as they land, box, integral, local statistics).

use super::{Op, OpSpec, ParamSpec, Params};
use crate::image::{AnyView, AnyViewMut, DType};
use crate::kernels::border::Border;
use crate::kernels::gaussian::{GaussianBlur, GaussianParams};
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
                .with_border(border(p)?);
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
