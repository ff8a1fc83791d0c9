//! Which SIMD instruction set the kernels use: detected once per process, overridable
//! downwards for tests and benchmarks, checked so that no kernel ever runs an
//! instruction the CPU lacks.
//!
//! The override comes from [`force_level`] or, failing that, the environment variable
//! `FRAMELINE_SIMD=scalar|avx2|avx512|avx512vbmi|neon`. Asking for a level the CPU lacks
//! is an [`Error::SimdUnavailable`], never undefined behaviour. The crate is never built
//! with a global `target-cpu`: the run-time checks stay real, so every level is tested.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::{Error, Result};

pub(crate) mod transpose;

/// The environment variable that forces a SIMD level.
pub const ENV_VAR: &str = "FRAMELINE_SIMD";

/// A SIMD level. Levels of the same architecture are ordered: each includes the ones
/// below it. `Avx2` includes FMA (every AVX2 CPU from Intel and AMD has it). `Avx512` is the Skylake-X set (F, BW, CD, DQ, VL); `Avx512Vbmi` adds the
/// byte-permute instructions (Ice Lake, Zen 4 and later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    Scalar,
    Neon,
    Avx2,
    Avx512,
    Avx512Vbmi,
}

const ALL: [SimdLevel; 5] = [
    SimdLevel::Scalar,
    SimdLevel::Neon,
    SimdLevel::Avx2,
    SimdLevel::Avx512,
    SimdLevel::Avx512Vbmi,
];

impl SimdLevel {
    /// The name used by `FRAMELINE_SIMD`, `--simd` and the bench JSON.
    pub const fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Neon => "neon",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
            SimdLevel::Avx512Vbmi => "avx512vbmi",
        }
    }

    /// Parses a level name (case-insensitive).
    pub fn parse(name: &str) -> Result<SimdLevel> {
        let lower = name.trim().to_ascii_lowercase();
        ALL.into_iter()
            .find(|l| l.name() == lower)
            .ok_or_else(|| Error::UnknownSimdLevel(name.to_string()))
    }

    /// True when this CPU (and this build's architecture) can run the level. Detected once
    /// per process; afterwards one load and a bit test.
    pub fn is_supported(self) -> bool {
        static MASK: OnceLock<u8> = OnceLock::new();
        let mask = *MASK.get_or_init(|| {
            ALL.iter()
                .enumerate()
                .filter(|(_, l)| l.detect())
                .fold(0u8, |m, (i, _)| m | 1 << i)
        });
        let index = ALL.iter().position(|&l| l == self).expect("in ALL");
        mask & (1 << index) != 0
    }

    /// The actual feature detection behind [`Self::is_supported`].
    fn detect(self) -> bool {
        match self {
            SimdLevel::Scalar => true,
            #[cfg(target_arch = "aarch64")]
            SimdLevel::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512cd")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && SimdLevel::Avx2.detect()
            }
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512Vbmi => {
                // detect(), never is_supported(): this runs inside its one-time init.
                SimdLevel::Avx512.detect() && std::arch::is_x86_feature_detected!("avx512vbmi")
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every level this CPU supports, lowest first (always starts with `Scalar`).
    pub fn supported() -> Vec<SimdLevel> {
        ALL.into_iter().filter(|l| l.is_supported()).collect()
    }

    /// The best level this CPU supports (detected once).
    pub fn best() -> SimdLevel {
        static BEST: OnceLock<SimdLevel> = OnceLock::new();
        *BEST.get_or_init(|| {
            *Self::supported()
                .last()
                .expect("scalar is always supported")
        })
    }

    /// Returns `self` if supported, else an error naming what is available.
    pub fn check(self) -> Result<SimdLevel> {
        if self.is_supported() {
            Ok(self)
        } else {
            Err(Error::SimdUnavailable {
                requested: self.name().to_string(),
                available: supported_names(),
            })
        }
    }
}

impl fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SimdLevel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SimdLevel::parse(s)
    }
}

/// 0 = no override; otherwise 1 + index into `ALL`.
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Forces every kernel to `level` (process-wide). Errors if the CPU lacks it.
pub fn force_level(level: SimdLevel) -> Result<()> {
    level.check()?;
    let code = ALL.iter().position(|&l| l == level).expect("in ALL") as u8 + 1;
    FORCED.store(code, Ordering::Relaxed);
    Ok(())
}

/// Removes a [`force_level`] override (the environment variable still applies).
pub fn clear_forced_level() {
    FORCED.store(0, Ordering::Relaxed);
}

/// Runs `f` with every kernel forced to `level`, then restores the previous override.
/// The override is process-wide: kernels on other threads see it too while `f` runs.
pub fn with_forced_level<R>(level: SimdLevel, f: impl FnOnce() -> R) -> Result<R> {
    level.check()?;
    let previous = FORCED.load(Ordering::Relaxed);
    force_level(level)?;
    let result = f();
    FORCED.store(previous, Ordering::Relaxed);
    Ok(result)
}

/// The supported levels as a comma-separated list, for messages.
fn supported_names() -> String {
    SimdLevel::supported()
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The level from `FRAMELINE_SIMD`, read and checked once.
fn env_level() -> Result<Option<SimdLevel>> {
    type Parsed = std::result::Result<Option<SimdLevel>, (String, String)>;
    static ENV: OnceLock<Parsed> = OnceLock::new();
    let parsed = ENV.get_or_init(|| match std::env::var(ENV_VAR) {
        Ok(v) if !v.trim().is_empty() => SimdLevel::parse(&v)
            .and_then(SimdLevel::check)
            .map(Some)
            .map_err(|e| (v, e.to_string())),
        _ => Ok(None),
    });
    parsed.clone().map_err(|(value, reason)| Error::BadEnv {
        var: ENV_VAR,
        value,
        reason,
    })
}

/// The level kernels run at: the forced one, else `FRAMELINE_SIMD`, else the best.
/// An invalid `FRAMELINE_SIMD` is reported here, by every kernel call.
pub fn level() -> Result<SimdLevel> {
    match FORCED.load(Ordering::Relaxed) {
        0 => Ok(env_level()?.unwrap_or_else(SimdLevel::best)),
        code => Ok(ALL[code as usize - 1]),
    }
}

/// CPU features relevant to frameline that this machine reports, for `frameline info`.
pub fn detected_features() -> Vec<&'static str> {
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($f) { found.push($f); }
            )*};
        }
        probe!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "bmi2",
            "avx512f",
            "avx512bw",
            "avx512cd",
            "avx512dq",
            "avx512vl",
            "avx512vbmi",
            "avx512vbmi2",
            "avx512vnni",
            "gfni"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => {$(
                if std::arch::is_aarch64_feature_detected!($f) { found.push($f); }
            )*};
        }
        probe!("neon", "fp16", "dotprod", "i8mm", "sve", "sve2");
    }
    found
}

/// The CPU's marketing name (x86: `model name`; Arm boards: the device-tree model or
/// the CPU part number), for benchmark records.
/// The L2 cache of CPU 0 in bytes, from Linux's sysfs (read once); None where it is not
/// there to read.
pub fn l2_cache_bytes() -> Option<usize> {
    static L2: OnceLock<Option<usize>> = OnceLock::new();
    *L2.get_or_init(|| {
        let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
        dir.flatten().find_map(|entry| {
            let read = |name: &str| std::fs::read_to_string(entry.path().join(name)).ok();
            let level = read("level")?;
            let kind = read("type")?;
            if level.trim() != "2" || kind.trim() == "Instruction" {
                return None;
            }
            cache_size_bytes(&read("size")?)
        })
    })
}

/// A sysfs cache size ("1024K", "2M", "512") in bytes.
fn cache_size_bytes(text: &str) -> Option<usize> {
    let size = text.trim();
    let (digits, unit) = if let Some(d) = size.strip_suffix('K') {
        (d, 1024)
    } else if let Some(d) = size.strip_suffix('M') {
        (d, 1024 * 1024)
    } else {
        (size, 1)
    };
    digits.parse::<usize>().ok()?.checked_mul(unit)
}

pub fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        cpuinfo.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    if let Some(name) = field("model name") {
        return name;
    }
    if let Ok(model) = std::fs::read_to_string("/proc/device-tree/model") {
        return model.trim_end_matches('\0').trim().to_string();
    }
    match (field("CPU implementer"), field("CPU part")) {
        (Some(i), Some(p)) => format!("arm implementer {i} part {p}"),
        _ => "unknown".to_string(),
    }
}

/// Calls the per-ISA variant of a row function in the calling kernel module
/// (`avx512::f`, `avx2::f`, `neon::f`, else `scalar::f`). All variants share one
/// signature. Kernel modules use this and nothing else to pick an ISA, so dispatch reads
/// the same everywhere. A level the CPU lacks falls back to scalar: the check is cached
/// feature detection, cheap next to a row of work, and keeps every call sound whoever
/// passes the level.
macro_rules! dispatch {
    ($level:expr => $f:ident($($arg:expr),* $(,)?)) => {{
        let level: $crate::simd::SimdLevel = $level;
        match level {
            #[cfg(target_arch = "x86_64")]
            $crate::simd::SimdLevel::Avx512 | $crate::simd::SimdLevel::Avx512Vbmi
                if $crate::simd::SimdLevel::Avx512.is_supported() =>
            {
                // SAFETY: the guard just checked that the CPU has AVX-512 F/BW/CD/DQ/VL.
                unsafe { avx512::$f($($arg),*) }
            }
            #[cfg(target_arch = "x86_64")]
            $crate::simd::SimdLevel::Avx2 if level.is_supported() => {
                // SAFETY: the guard just checked that the CPU has AVX2 and FMA.
                unsafe { avx2::$f($($arg),*) }
            }
            #[cfg(target_arch = "aarch64")]
            $crate::simd::SimdLevel::Neon if level.is_supported() => {
                // SAFETY: the guard just checked that the CPU has NEON.
                unsafe { neon::$f($($arg),*) }
            }
            _ => scalar::$f($($arg),*),
        }
    }};
}
pub(crate) use dispatch;

/// Defines `fn $name(level, args...)` whose plain-Rust body is compiled once per SIMD
/// level (with that level's target features, so LLVM vectorizes it for AVX-512, AVX2 or
/// NEON) and dispatched by `level`. For loops without cross-lane tricks this gives real
/// SIMD with a single source, which is also the scalar reference: every level runs the
/// same operations in the same order, so results are bit-identical, floats included.
macro_rules! autovectorized {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name(level: $crate::simd::SimdLevel, $($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
            fn avx512($($arg: $ty),*) { body($($arg),*) }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2($($arg: $ty),*) { body($($arg),*) }
            #[cfg(target_arch = "aarch64")]
            #[target_feature(enable = "neon")]
            fn neon($($arg: $ty),*) { body($($arg),*) }
            match level {
                #[cfg(target_arch = "x86_64")]
                $crate::simd::SimdLevel::Avx512 | $crate::simd::SimdLevel::Avx512Vbmi
                    if $crate::simd::SimdLevel::Avx512.is_supported() =>
                {
                    // SAFETY: the guard just checked that the CPU has these features.
                    unsafe { avx512($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                $crate::simd::SimdLevel::Avx2 if level.is_supported() => {
                    // SAFETY: the guard just checked that the CPU has AVX2 and FMA.
                    unsafe { avx2($($arg),*) }
                }
                #[cfg(target_arch = "aarch64")]
                $crate::simd::SimdLevel::Neon if level.is_supported() => {
                    // SAFETY: the guard just checked that the CPU has NEON.
                    unsafe { neon($($arg),*) }
                }
                _ => body($($arg),*),
            }
        }
    };
}
pub(crate) use autovectorized;

/// Asks for `data` to be brought into the L2 cache ahead of its use: one hint per
/// 64-byte line it touches. A hint only: it never faults and changes no result.
#[inline]
pub(crate) fn prefetch_l2<T>(data: &[T]) {
    let (start, end) = (
        data.as_ptr() as usize,
        data.as_ptr() as usize + size_of_val(data),
    );
    let mut line = start & !63;
    while line < end {
        let at = line.max(start) as *const u8;
        // SAFETY: `at` lies inside `data` (from its start up to before its end); a
        // prefetch reads nothing architecturally, so even a stale address could not fault.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            // SSE is baseline on x86_64.
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(at.cast())
        };
        // SAFETY: as above; `prfm` is base AArch64 and touches no register but its input.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            std::arch::asm!("prfm pldl2keep, [{0}]", in(reg) at, options(nostack, preserves_flags, readonly))
        };
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        let _ = at;
        line += 64;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cache_sizes_read_as_sysfs_writes_them() {
        use super::cache_size_bytes;
        assert_eq!(cache_size_bytes("1024K\n"), Some(1 << 20));
        assert_eq!(cache_size_bytes("2M"), Some(2 << 20));
        assert_eq!(cache_size_bytes("512"), Some(512));
        assert_eq!(cache_size_bytes("big"), None);
        assert_eq!(cache_size_bytes(""), None);
        if let Some(l2) = super::l2_cache_bytes() {
            assert!(l2 >= 16 << 10, "an L2 of {l2} bytes");
        }
    }

    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_fail() {
        for l in ALL {
            assert_eq!(SimdLevel::parse(l.name()).unwrap(), l);
        }
        assert_eq!(SimdLevel::parse(" AVX2 ").unwrap(), SimdLevel::Avx2);
        assert!(matches!(
            SimdLevel::parse("sse"),
            Err(Error::UnknownSimdLevel(_))
        ));
    }

    #[test]
    fn supported_levels_start_with_scalar_and_end_with_best() {
        let s = SimdLevel::supported();
        assert_eq!(s[0], SimdLevel::Scalar);
        assert_eq!(*s.last().unwrap(), SimdLevel::best());
        assert!(s.iter().all(|l| l.check().is_ok()));
        #[cfg(target_arch = "aarch64")]
        assert!(s.contains(&SimdLevel::Neon), "NEON is mandatory on aarch64");
    }
}
