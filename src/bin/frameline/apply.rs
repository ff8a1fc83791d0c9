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
    /// Output image: .png/.pgm (u8, u16), .jpg (u8) or .npy (any type). Ops with results
    /// beyond the image (components: statistics) also write OUTPUT with extension .json.
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
    frameline::image::save(&args.output, output.as_view())?;
    // Results beyond the image (component statistics) go beside it, as JSON.
    if let Some(side) = op.side_output() {
        let path = args.output.with_extension("json");
        let text = serde_json::to_string_pretty(&side).expect("JSON values serialize");
        std::fs::write(&path, text + "\n").map_err(|e| frameline::Error::Io { path, source: e })?;
    }
    Ok(())
}
