//! `frameline info`.

use frameline::simd::{self, SimdLevel};

pub fn run() -> frameline::Result<()> {
    let level = simd::level()?;
    println!("frameline {}", env!("CARGO_PKG_VERSION"));
    println!("cpu:          {}", simd::cpu_model());
    println!("arch:         {}", std::env::consts::ARCH);
    println!("features:     {}", simd::detected_features().join(" "));
    let supported: Vec<_> = SimdLevel::supported().iter().map(|l| l.name()).collect();
    println!("simd levels:  {}", supported.join(", "));
    let how = match std::env::var(simd::ENV_VAR) {
        Ok(v) if !v.is_empty() => format!("forced by {}={v}", simd::ENV_VAR),
        _ => "best detected".to_string(),
    };
    println!("simd chosen:  {level} ({how})");
    println!("cores:        {}", super::available_cores());
    println!("rayon pool:   {} threads", rayon::current_num_threads());
    Ok(())
}
