//! The one error type of the crate. Every public function that can get bad input
//! returns one of these; messages are written for the person who has to fix the input.

use std::path::PathBuf;

/// Everything that can go wrong in frameline, as a value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An image dimension is zero.
    #[error("image dimensions must be non-zero, got {width}x{height}")]
    ZeroSize { width: usize, height: usize },

    /// The row stride is smaller than the width.
    #[error("row stride {stride} is smaller than the width {width}")]
    BadStride { width: usize, stride: usize },

    /// The buffer cannot hold the image it is said to hold.
    #[error(
        "buffer of {len} elements is too short for {width}x{height} with stride {stride} (needs {needed})"
    )]
    BufferTooShort {
        len: usize,
        needed: usize,
        width: usize,
        height: usize,
        stride: usize,
    },

    /// Width * height (or the stride) does not fit in memory arithmetic.
    #[error("image of {width}x{height} is too large")]
    TooLarge { width: usize, height: usize },

    /// Two images that must have the same size do not.
    #[error("size mismatch: {what} is {got_w}x{got_h}, expected {want_w}x{want_h}")]
    SizeMismatch {
        what: &'static str,
        want_w: usize,
        want_h: usize,
        got_w: usize,
        got_h: usize,
    },

    /// A sub-rectangle does not lie inside its image.
    #[error("rectangle {w}x{h} at ({x},{y}) is outside the {width}x{height} image")]
    RectOutside {
        x: usize,
        y: usize,
        w: usize,
        h: usize,
        width: usize,
        height: usize,
    },

    /// The element type is not the one an operation or file needs.
    #[error("unsupported pixel type: {0}")]
    UnsupportedDtype(String),

    /// A SIMD level was asked for that this CPU (or build) does not have.
    #[error("SIMD level '{requested}' is not available on this CPU (available: {available})")]
    SimdUnavailable {
        requested: String,
        available: String,
    },

    /// An environment variable with a value frameline cannot use.
    #[error("{var}={value}: {reason}")]
    BadEnv {
        var: &'static str,
        value: String,
        reason: String,
    },

    /// A SIMD level name that does not exist.
    #[error("unknown SIMD level '{0}' (expected one of: scalar, avx2, avx512, avx512vbmi, neon)")]
    UnknownSimdLevel(String),

    /// An op name that is not in the registry.
    #[error("unknown op '{name}' (known ops: {known})")]
    UnknownOp { name: String, known: String },

    /// A parameter that is unknown, malformed or out of range.
    #[error("bad parameter '{name}': {reason}")]
    BadParam { name: String, reason: String },

    /// A file that could not be decoded.
    #[error("cannot read {path}: {reason}")]
    Decode { path: PathBuf, reason: String },

    /// A file that could not be written in the asked format.
    #[error("cannot write {path}: {reason}")]
    Encode { path: PathBuf, reason: String },

    /// An operating-system I/O error, with the path it happened on.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Two results that must be identical are not (a self-check failed).
    #[error("self-check failed: {0}")]
    Mismatch(String),

    /// A frame source (camera, replay file) failed or refused.
    #[error("{source_name}: {reason}")]
    Capture { source_name: String, reason: String },

    /// A thread pool could not be built.
    #[error("thread pool: {0}")]
    ThreadPool(String),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn bad_param(name: &str, reason: impl Into<String>) -> Self {
        Error::BadParam {
            name: name.to_string(),
            reason: reason.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
