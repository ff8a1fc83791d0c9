//! `frameline apply`: one op on one image file, for scripting and for checking results
//! against other tools.

use std::path::PathBuf;

use frameline::ops;

#[derive(clap::Args)]
pub struct Args {
    /// The op to apply (see `frameline bench --list`).
    op: String,
    /// Input image: PNG, PGM, JPEG or .npy.
    input: PathBuf,
    /// Output image: .png/.pgm (u8, u16), .jpg (u8) or .npy (any type).
    output: PathBuf,
    /// An op parameter, key=value (repeatable).
    #[arg(long = "param", short = 'p')]
    params: Vec<String>,
}

pub fn run(args: Args) -> frameline::Result<()> {
    let spec = ops::find(&args.op)?;
    let input = frameline::image::load(&args.input)?;
    // Ops with a `dtype` parameter default to the input's type.
    let mut params = args.params;
    let has_dtype = spec.params.iter().any(|p| p.name == "dtype");
    if has_dtype && !params.iter().any(|p| p.trim_start().starts_with("dtype=")) {
        params.push(format!("dtype={}", input.dtype()));
    }
    let (mut op, _) = spec.build(&params)?;
    ops::check_input(spec.name, op.as_ref(), &input.as_view())?;
    let output = op.run_to_new(input.as_view())?;
    frameline::image::save(&args.output, output.as_view())
}
