//! The op registry: every benchmarkable operation described once (name, parameters with
//! defaults, input and output types, bytes moved, how to run it into caller-owned
//! output). `frameline bench`, `frameline apply`, `frameline ladder` and the criterion
//! benches all read this list, so a new kernel appears in every front end by adding one
//! entry here.

mod filters;
mod inspect;
mod params;
mod point;

pub use params::{ParamSpec, Params};

use crate::image::{AnyImage, AnyView, AnyViewMut, DType};
use crate::{Error, Result};

/// Seed of every benchmark input frame, so all front ends measure the same pixels.
pub const BENCH_SEED: u64 = 0x5eed_f4a3_e11e;

/// One operation, configured and ready to run repeatedly without allocating.
pub trait Op: Send {
    /// Pixel type of the input.
    fn input_dtype(&self) -> DType;

    /// Pixel type of the output.
    fn output_dtype(&self) -> DType {
        self.input_dtype()
    }

    /// Output size for an input of `size` (width, height).
    fn output_size(&self, size: (usize, usize)) -> (usize, usize) {
        size
    }

    /// The deterministic frame benchmarks run on.
    fn bench_input(&self, width: usize, height: usize) -> Result<AnyImage> {
        crate::testing::random_image(self.input_dtype(), width, height, BENCH_SEED)
    }

    /// False for ops that never use SIMD (their records then say `scalar`).
    fn uses_simd(&self) -> bool {
        true
    }

    /// Allocates scratch space for inputs of `size`; later runs must not allocate.
    fn prepare(&mut self, _size: (usize, usize)) -> Result<()> {
        Ok(())
    }

    /// Runs once: reads `src`, writes `dst` (already of the output type and size).
    fn run(&mut self, src: AnyView<'_>, dst: AnyViewMut<'_>) -> Result<()>;

    /// Bytes read plus bytes written by one run on an input of `size`.
    fn bytes_moved(&self, (w, h): (usize, usize)) -> u64 {
        let (ow, oh) = self.output_size((w, h));
        (w * h * self.input_dtype().size() + ow * oh * self.output_dtype().size()) as u64
    }

    /// Results of the last run beyond the output image (e.g. component statistics),
    /// written by `frameline apply` as JSON beside the output.
    fn side_output(&self) -> Option<serde_json::Value> {
        None
    }

    /// Runs on `src` into a newly allocated output (for `apply`, not for hot loops).
    fn run_to_new(&mut self, src: AnyView<'_>) -> Result<AnyImage> {
        let (w, h) = self.output_size(src.size());
        let mut out = AnyImage::new(self.output_dtype(), w, h)?;
        self.prepare(src.size())?;
        self.run(src, out.as_view_mut())?;
        Ok(out)
    }
}

/// A registry entry.
pub struct OpSpec {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    /// Tens of milliseconds per frame or more: criterion takes fewer samples.
    pub slow: bool,
    build: fn(&Params) -> Result<Box<dyn Op>>,
}

/// Every registered op, in the order `frameline bench --list` prints them.
pub static REGISTRY: &[OpSpec] = &[
    point::COPY,
    point::LUT,
    point::GAMMA_NAIVE,
    point::GAMMA_ROW,
    filters::GAUSSIAN,
    filters::BOX,
    filters::INTEGRAL,
    filters::LOCAL_STD,
    filters::SAUVOLA,
    filters::ADAPTIVE_THRESHOLD,
    inspect::FLAT_FIELD,
    inspect::THRESHOLD,
    inspect::OTSU,
    inspect::ERODE,
    inspect::DILATE,
    inspect::MEDIAN,
    inspect::ROW_EMA,
    inspect::DITHER,
    inspect::COMPONENTS,
];

/// The entry named `name`.
pub fn find(name: &str) -> Result<&'static OpSpec> {
    REGISTRY
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| Error::UnknownOp {
            name: name.to_string(),
            known: REGISTRY
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

impl OpSpec {
    /// Resolves `key=value` strings against this op's parameters and builds the op.
    pub fn build<S: AsRef<str>>(&self, params: &[S]) -> Result<(Box<dyn Op>, Params)> {
        let params = Params::parse(self, params)?;
        let op = (self.build)(&params)?;
        Ok((op, params))
    }
}

/// Checks that `src` has the type `op` reads, with a message naming the op.
pub fn check_input(op_name: &str, op: &dyn Op, src: &AnyView<'_>) -> Result<()> {
    if src.dtype() == op.input_dtype() {
        Ok(())
    } else {
        Err(Error::UnsupportedDtype(format!(
            "op '{op_name}' reads {} images, got {}",
            op.input_dtype(),
            src.dtype()
        )))
    }
}
