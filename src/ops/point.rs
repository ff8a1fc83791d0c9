//! Point operations: `copy` (the bandwidth ceiling), `lut`, and the ladder's float
//! tiers `gamma_naive` (tier 0) and `gamma_row` (tier 1).

use super::{Op, OpSpec, ParamSpec, Params};
use crate::image::{AnyView, AnyViewMut, DType};
use crate::kernels::copy::copy_image;
use crate::kernels::gamma::{RowScratch, check_gamma, gamma_naive, gamma_row_float};
use crate::kernels::lut::{Lut, apply_lut};
use crate::{Error, Result};

const GAMMA: ParamSpec = ParamSpec {
    name: "gamma",
    default: "0.5",
    help: "exponent of 255*(v/255)^gamma (> 0)",
};

pub const COPY: OpSpec = OpSpec {
    name: "copy",
    summary: "plain copy of the same bytes: the memory-bandwidth ceiling",
    params: &[ParamSpec {
        name: "dtype",
        default: "u8",
        help: "pixel type: u8, u16, f32, i32, u32",
    }],
    slow: false,
    build: |p| {
        Ok(Box::new(CopyOp {
            dtype: p.dtype("dtype")?,
        }))
    },
};

struct CopyOp {
    dtype: DType,
}

impl Op for CopyOp {
    fn input_dtype(&self) -> DType {
        self.dtype
    }

    /// The platform memcpy: whatever it uses, it is not our SIMD code.
    fn uses_simd(&self) -> bool {
        false
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        match (src, dst) {
            (AnyView::U8(s), AnyViewMut::U8(mut d)) => copy_image(&s, &mut d),
            (AnyView::U16(s), AnyViewMut::U16(mut d)) => copy_image(&s, &mut d),
            (AnyView::F32(s), AnyViewMut::F32(mut d)) => copy_image(&s, &mut d),
            (AnyView::I32(s), AnyViewMut::I32(mut d)) => copy_image(&s, &mut d),
            (AnyView::U32(s), AnyViewMut::U32(mut d)) => copy_image(&s, &mut d),
            (s, d) => Err(Error::UnsupportedDtype(format!(
                "copy needs equal types, got {} into {}",
                s.dtype(),
                d.dtype()
            ))),
        }
    }
}

pub const LUT: OpSpec = OpSpec {
    name: "lut",
    summary: "u8 -> u8 through a 256-entry table (SIMD lookup)",
    params: &[
        ParamSpec {
            name: "table",
            default: "gamma",
            help: "gamma | brightness_contrast | invert | threshold",
        },
        GAMMA,
        ParamSpec {
            name: "brightness",
            default: "0",
            help: "offset added after contrast (table=brightness_contrast)",
        },
        ParamSpec {
            name: "contrast",
            default: "1",
            help: "gain applied first (table=brightness_contrast)",
        },
        ParamSpec {
            name: "threshold",
            default: "127",
            help: "255 where v > threshold, else 0 (table=threshold)",
        },
    ],
    slow: false,
    build: |p| {
        // Every parameter is checked, also those the chosen table ignores.
        let table = p.choice(
            "table",
            &["gamma", "brightness_contrast", "invert", "threshold"],
        )?;
        let gamma = Lut::gamma(p.f64("gamma")?)?;
        let brightness_contrast =
            Lut::brightness_contrast(p.f64("brightness")?, p.f64("contrast")?)?;
        let threshold = Lut::threshold(p.int("threshold", 0, 255)? as u8);
        let lut = match table {
            "gamma" => gamma,
            "brightness_contrast" => brightness_contrast,
            "invert" => Lut::invert(),
            _ => threshold,
        };
        Ok(Box::new(LutOp { lut }))
    },
};

struct LutOp {
    lut: Lut,
}

impl Op for LutOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        apply_lut(&src.typed()?, &mut dst.typed()?, &self.lut)
    }
}

pub const GAMMA_NAIVE: OpSpec = OpSpec {
    name: "gamma_naive",
    summary: "ladder tier 0: one f64 powf per pixel, single-threaded",
    params: &[GAMMA],
    slow: true,
    build: |p| {
        Ok(Box::new(GammaNaiveOp {
            gamma: gamma_param(p)?,
        }))
    },
};

fn gamma_param(p: &Params) -> Result<f64> {
    let gamma = p.f64("gamma")?;
    check_gamma(gamma)?;
    Ok(gamma)
}

struct GammaNaiveOp {
    gamma: f64,
}

impl Op for GammaNaiveOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn uses_simd(&self) -> bool {
        false
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        gamma_naive(&src.typed()?, &mut dst.typed()?, self.gamma)
    }
}

pub const GAMMA_ROW: OpSpec = OpSpec {
    name: "gamma_row",
    summary: "ladder tier 1: whole-row f32 arithmetic, single-threaded",
    params: &[GAMMA],
    slow: true,
    build: |p| {
        Ok(Box::new(GammaRowOp {
            gamma: gamma_param(p)?,
            scratch: RowScratch::default(),
        }))
    },
};

struct GammaRowOp {
    gamma: f64,
    scratch: RowScratch,
}

impl Op for GammaRowOp {
    fn input_dtype(&self) -> DType {
        DType::U8
    }

    fn uses_simd(&self) -> bool {
        false
    }

    fn prepare(&mut self, (width, _): (usize, usize)) -> Result<()> {
        self.scratch = RowScratch::for_width(width);
        Ok(())
    }

    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()> {
        gamma_row_float(
            &src.typed()?,
            &mut dst.typed()?,
            self.gamma,
            &mut self.scratch,
        )
    }
}
