//! The inspection pipeline's settings: one struct, read from TOML (every field
//! optional, unknown keys refused) and overridden by command-line flags.
//!
//! ```toml
//! [source]
//! spec = "synthetic"          # or "replay:rec.raw", "v4l:/dev/video0"
//! width = 1920
//! height = 1080
//! fps = 30.0
//!
//! [calibration]
//! dark = "dark.png"           # dark and flat frames (averages of captures), or
//! flat = "flat.png"           # leave out: the synthetic camera calibrates itself
//!
//! [blur]
//! ksize = 5                   # 0 = no blur
//!
//! [threshold]
//! method = "fixed"            # fixed | otsu | sauvola
//! level = 110
//! polarity = "dark"           # defects darker (dark) or brighter (bright) than the part
//!
//! [morphology]
//! op = "open"                 # open | close | none
//! ksize = 3
//!
//! [defects]
//! min_area = 20
//! max_area = 100000
//! max_aspect = 8.0
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::capture::{SourceOptions, SourceSpec};
use crate::{Error, Result};

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InspectConfig {
    pub source: SourceConfig,
    pub calibration: CalibrationConfig,
    pub blur: BlurConfig,
    pub threshold: ThresholdConfig,
    pub morphology: MorphologyConfig,
    pub components: ComponentsConfig,
    pub defects: DefectFilter,
    pub output: OutputConfig,
    pub threads: ThreadConfig,
    pub run: RunConfig,
}

impl Default for InspectConfig {
    fn default() -> Self {
        InspectConfig {
            source: SourceConfig::default(),
            calibration: CalibrationConfig::default(),
            blur: BlurConfig {
                ksize: 5,
                sigma: 0.0,
            },
            threshold: ThresholdConfig::default(),
            morphology: MorphologyConfig {
                op: "open".into(),
                ksize: 3,
            },
            components: ComponentsConfig { conn: 8 },
            defects: DefectFilter::default(),
            output: OutputConfig::default(),
            threads: ThreadConfig::default(),
            run: RunConfig::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// `synthetic`, `replay:PATH` or `v4l:/dev/videoN`.
    pub spec: String,
    pub width: usize,
    pub height: usize,
    /// Camera or synthetic rate; for a replay, overrides the recorded rate.
    pub fps: Option<f64>,
    /// Replay (or render) as fast as the workers take frames.
    pub as_fast_as_possible: bool,
    /// Camera pixel format: GREY, YUYV or MJPG (first supported if unset).
    pub fourcc: Option<String>,
    /// Camera driver buffers.
    pub buffers: u32,
    /// Synthetic camera: defects per frame and seed.
    pub defects: usize,
    pub seed: u64,
}

impl Default for SourceConfig {
    fn default() -> Self {
        let o = SourceOptions::default();
        SourceConfig {
            spec: "synthetic".into(),
            width: o.width,
            height: o.height,
            fps: o.fps,
            as_fast_as_possible: o.as_fast_as_possible,
            fourcc: o.fourcc,
            buffers: o.buffers,
            defects: o.defects,
            seed: o.seed,
        }
    }
}

impl SourceConfig {
    pub fn spec(&self) -> Result<SourceSpec> {
        SourceSpec::parse(&self.spec)
    }

    pub fn options(&self) -> SourceOptions {
        SourceOptions {
            width: self.width,
            height: self.height,
            fps: self.fps,
            as_fast_as_possible: self.as_fast_as_possible,
            fourcc: self.fourcc.clone(),
            buffers: self.buffers,
            defects: self.defects,
            seed: self.seed,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CalibrationConfig {
    /// Dark and flat frames (PNG/PGM, or a raw frame file whose frames are averaged).
    pub dark: Option<PathBuf>,
    pub flat: Option<PathBuf>,
    /// Skip flat-field correction even when calibration is available.
    pub disabled: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BlurConfig {
    /// Gaussian kernel size (odd; 0 = no blur).
    pub ksize: usize,
    /// Gaussian sigma (0 = from the kernel size).
    pub sigma: f64,
}

impl Default for BlurConfig {
    fn default() -> Self {
        InspectConfig::default().blur
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ThresholdConfig {
    /// `fixed`, `otsu` or `sauvola`.
    pub method: String,
    /// Level for `fixed`.
    pub level: u8,
    /// `dark` (defects darker than the part) or `bright`.
    pub polarity: String,
    /// Sauvola window, k and r.
    pub window: usize,
    pub k: f64,
    pub r: f64,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        ThresholdConfig {
            method: "fixed".into(),
            level: 110,
            polarity: "dark".into(),
            window: 31,
            k: 0.2,
            r: 128.0,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MorphologyConfig {
    /// `open`, `close` or `none`.
    pub op: String,
    pub ksize: usize,
}

impl Default for MorphologyConfig {
    fn default() -> Self {
        InspectConfig::default().morphology
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ComponentsConfig {
    /// 4 or 8.
    pub conn: u8,
}

impl Default for ComponentsConfig {
    fn default() -> Self {
        ComponentsConfig { conn: 8 }
    }
}

/// Which components count as defects.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DefectFilter {
    pub min_area: u64,
    pub max_area: u64,
    /// Longest over shortest side of the bounding box.
    pub max_aspect: f64,
}

impl Default for DefectFilter {
    fn default() -> Self {
        DefectFilter {
            min_area: 20,
            max_area: 100_000,
            max_aspect: 8.0,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// JSON lines, one per frame: a file, or `-` for stdout; none if unset.
    pub json: Option<PathBuf>,
    /// Folder for annotated PNG snapshots of frames with defects.
    pub snapshots: Option<PathBuf>,
    /// At most one snapshot per this many seconds.
    pub snapshot_interval: f64,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            json: None,
            snapshots: None,
            snapshot_interval: 1.0,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ThreadConfig {
    /// Pin the capture thread and the workers to cores.
    pub pin: bool,
    /// Core of the capture thread (default: the first).
    pub capture_core: Option<usize>,
    /// Cores of the workers (default: the others, or all when fewer than three).
    pub worker_cores: Option<Vec<usize>>,
}

impl Default for ThreadConfig {
    fn default() -> Self {
        ThreadConfig {
            pin: true,
            capture_core: None,
            worker_cores: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Stop after this many frames (including warm-up) ...
    pub frames: Option<u64>,
    /// ... or after this many seconds.
    pub seconds: Option<f64>,
    /// Frames left out of the timing statistics at the start.
    pub warmup: u64,
    /// Frames that may queue between capture and the workers.
    pub ring: usize,
    /// Seconds between status lines on stderr (0 = none).
    pub status_interval: f64,
    /// How long the capture thread waits for one frame before it counts a timeout.
    pub frame_timeout: f64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            frames: None,
            seconds: None,
            warmup: 10,
            ring: 4,
            status_interval: 2.0,
            frame_timeout: 1.0,
        }
    }
}

impl InspectConfig {
    /// Checks the numbers: finite, positive where they must be, within sane bounds.
    pub fn validate(&self) -> Result<()> {
        fn range(name: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::bad_param(
                    name,
                    format!("must be in {lo}..={hi}, got {v}"),
                ))
            }
        }
        if let Some(fps) = self.source.fps {
            range("fps", fps, 0.01, 10_000.0)?;
        }
        if let Some(s) = self.run.seconds {
            range("seconds", s, 0.0, 1e9)?;
        }
        range("frame_timeout", self.run.frame_timeout, 0.001, 3600.0)?;
        range("status_interval", self.run.status_interval, 0.0, 1e6)?;
        range("snapshot_interval", self.output.snapshot_interval, 0.0, 1e6)?;
        let count = |name: &str, v: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::bad_param(
                    name,
                    format!("must be in {lo}..={hi}, got {v}"),
                ))
            }
        };
        count("ring", self.run.ring, 1, 64)?;
        count("defects", self.source.defects, 0, 10_000)?;
        count("buffers", self.source.buffers as usize, 2, 32)?;
        Ok(())
    }

    /// Reads a TOML file.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text).map_err(|e| Error::Decode {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::bad_param("config", e.message().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_partial_and_strict() {
        let c = InspectConfig::from_toml(
            "[source]\nspec = \"replay:x.raw\"\n[threshold]\nmethod = \"otsu\"\n",
        )
        .unwrap();
        assert_eq!(c.source.spec, "replay:x.raw");
        assert_eq!(c.threshold.method, "otsu");
        assert_eq!(c.threshold.level, 110, "defaults fill the rest");
        assert_eq!(c.blur.ksize, 5);
        assert!(InspectConfig::from_toml("[blur]\nkernel = 3\n").is_err());
        assert!(InspectConfig::from_toml("[nope]\n").is_err());
        assert_eq!(
            InspectConfig::from_toml("").unwrap(),
            InspectConfig::default()
        );
    }
}
