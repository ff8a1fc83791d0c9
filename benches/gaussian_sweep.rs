//! The chapter's Exercise 8.2.2 as a criterion bench: Gaussian blur time against kernel
//! size (3..101) on a 3840x2160 frame, direct and box-cascade paths, u8 and f32. The
//! direct path grows linearly in k (separable: 2k taps per pixel), the cascade stays
//! flat; `method=auto` switches where they cross. Run on the board: `cargo bench --bench
//! gaussian_sweep`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use frameline::ops;

const SIZE: (usize, usize) = (3840, 2160);
const KSIZES: [usize; 8] = [3, 5, 9, 15, 31, 51, 71, 101];

fn sweep(c: &mut Criterion) {
    let spec = ops::find("gaussian").expect("registered");
    for dtype in ["u8", "f32"] {
        for method in ["direct", "boxes"] {
            let mut group = c.benchmark_group(format!("gaussian_{dtype}_{method}_3840x2160"));
            group.sample_size(10);
            for k in KSIZES {
                let params = [
                    format!("ksize={k}"),
                    format!("method={method}"),
                    format!("dtype={dtype}"),
                ];
                let (mut op, _) = spec.build(&params).expect("valid params");
                let input = op.bench_input(SIZE.0, SIZE.1).expect("valid size");
                let mut output = frameline::AnyImage::new(op.output_dtype(), SIZE.0, SIZE.1)
                    .expect("valid size");
                group.throughput(Throughput::Bytes(op.bytes_moved(SIZE)));
                group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
                    b.iter(|| op.run(input.as_view(), output.as_view_mut()).expect("runs"))
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, sweep);
criterion_main!(benches);
