//! The inspection stages on synthetic camera frames, as the pipeline runs them (the
//! default stages: flat-field, Gaussian 5x5, fixed threshold, opening, components,
//! defect filter), at 1920x1080 and 3840x2160. `frameline inspect` reports the same per
//! stage live; this gives criterion's statistics for comparing builds on one board.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frameline::capture::{Frame, Source, SyntheticCamera, SyntheticConfig};
use frameline::pipeline::{InspectConfig, Stages};

fn stages(c: &mut Criterion) {
    let mut group = c.benchmark_group("inspection_stages");
    group.sample_size(20);
    for (w, h) in [(1920, 1080), (3840, 2160)] {
        let mut cfg = InspectConfig::default();
        (cfg.source.width, cfg.source.height) = (w, h);
        let mut camera = SyntheticCamera::new(SyntheticConfig::from_options(&cfg.source.options()))
            .expect("valid camera");
        let mut stages = Stages::new(&cfg, (w, h), Some(&camera)).expect("valid stages");
        let mut frame = Frame::new(w, h).expect("valid size");
        camera.render(0, &mut frame.image).expect("renders");
        let _ = camera.describe();
        group.throughput(Throughput::Elements((w * h) as u64));
        group.bench_function(format!("{w}x{h}"), |b| {
            b.iter(|| stages.process(&frame.image, None).expect("stages run"))
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
