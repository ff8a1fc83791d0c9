//! Source flags shared by `inspect`, `record` and `calibrate`.

use frameline::pipeline::config::SourceConfig;

#[derive(clap::Args, Clone, Debug, Default)]
pub struct SourceArgs {
    /// Frame source: synthetic, replay:PATH (raw frame file or PNG folder) or
    /// v4l:/dev/videoN.
    #[arg(long)]
    pub source: Option<String>,
    /// Frame size asked of a camera or rendered by the synthetic camera, WIDTHxHEIGHT.
    #[arg(long, value_parser = crate::parse_size)]
    pub size: Option<(usize, usize)>,
    /// Frame rate (camera, synthetic; overrides a replay's recorded rate).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Replay (or render synthetic frames) as fast as the pipeline takes them.
    #[arg(long)]
    pub fast: bool,
    /// Camera pixel format: GREY, YUYV or MJPG.
    #[arg(long)]
    pub fourcc: Option<String>,
    /// Defects per synthetic frame.
    #[arg(long)]
    pub defects: Option<usize>,
    /// Seed of the synthetic camera.
    #[arg(long)]
    pub seed: Option<u64>,
}

impl SourceArgs {
    /// Applies the flags over `cfg` (flags win).
    pub fn apply(&self, cfg: &mut SourceConfig) {
        if let Some(s) = &self.source {
            cfg.spec = s.clone();
        }
        if let Some((w, h)) = self.size {
            (cfg.width, cfg.height) = (w, h);
        }
        if self.fps.is_some() {
            cfg.fps = self.fps;
        }
        if self.fast {
            cfg.as_fast_as_possible = true;
        }
        if self.fourcc.is_some() {
            cfg.fourcc = self.fourcc.clone();
        }
        if let Some(d) = self.defects {
            cfg.defects = d;
        }
        if let Some(s) = self.seed {
            cfg.seed = s;
        }
    }
}
