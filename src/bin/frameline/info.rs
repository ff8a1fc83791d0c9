//! `frameline info`.

use frameline::simd::{self, SimdLevel};

pub fn run() -> frameline::Result<()> {
    let level = simd::level()?;
    outln!("frameline {}", env!("CARGO_PKG_VERSION"));
    outln!("cpu:          {}", simd::cpu_model());
    outln!("arch:         {}", std::env::consts::ARCH);
    outln!("features:     {}", simd::detected_features().join(" "));
    let supported: Vec<_> = SimdLevel::supported().iter().map(|l| l.name()).collect();
    outln!("simd levels:  {}", supported.join(", "));
    let how = match std::env::var(simd::ENV_VAR) {
        Ok(v) if !v.is_empty() => format!("forced by {}={v}", simd::ENV_VAR),
        _ => "best detected".to_string(),
    };
    outln!("simd chosen:  {level} ({how})");
    outln!("cores:        {}", super::available_cores());
    outln!("rayon pool:   {} threads", rayon::current_num_threads());
    Ok(())
}
