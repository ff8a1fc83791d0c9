//! Criterion benches fed by the op registry: every op at its default parameters on a
//! 1920x1080 frame, with throughput in bytes (read + written). Run on the board itself
//! with `cargo bench`; force a SIMD level with FRAMELINE_SIMD.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frameline::image::AnyImage;
use frameline::ops::REGISTRY;

const SIZE: (usize, usize) = (1920, 1080);

fn registry_ops(c: &mut Criterion) {
    let mut group = c.benchmark_group("ops_1920x1080");
    for spec in REGISTRY {
        let (mut op, _) = spec.build::<&str>(&[]).expect("defaults are valid");
        let input = op.bench_input(SIZE.0, SIZE.1).expect("valid size");
        let (ow, oh) = op.output_size(SIZE);
        let mut output = AnyImage::new(op.output_dtype(), ow, oh).expect("valid size");
        op.prepare(SIZE).expect("valid size");
        group.throughput(Throughput::Bytes(op.bytes_moved(SIZE)));
        group.sample_size(if spec.slow { 10 } else { 50 });
        group.bench_function(spec.name, |b| {
            b.iter(|| {
                op.run(input.as_view(), output.as_view_mut())
                    .expect("bench op runs")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, registry_ops);
criterion_main!(benches);
