//! No allocation in the hot loop: every registered op, once built and warmed up, runs
//! frame after frame without touching the heap — on one thread and on a pool — proven
//! with a counting global allocator.

use std::sync::atomic::Ordering;

mod common;
use common::counting::{ALLOCATIONS, COUNTING, Counting};

use frameline::AnyImage;
use frameline::ops::REGISTRY;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` (on any thread) while counting is on.
fn allocations_in(f: impl FnOnce()) -> usize {
    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    ALLOCATIONS.load(Ordering::SeqCst)
}

#[test]
fn warmed_up_ops_do_not_allocate() {
    // One test function: the counter is process-wide, so nothing else may run meanwhile.
    let (w, h) = (640, 480);
    // Both pools live to the end: a pool dropped mid-test would free and allocate on its
    // exiting threads while another op is being counted.
    let pools = [1, 2].map(|threads| frameline::bench::thread_pool(threads).unwrap());
    // Every worker thread started (its start-up allocates) before anything is counted.
    for pool in &pools {
        pool.broadcast(|_| ());
    }
    for pool in &pools {
        let threads = pool.current_num_threads();
        // Every op with its defaults, the f32 Gaussian's two drivers (k <= 31 with a
        // border inside the image takes the vertical pass first; constant borders and
        // larger kernels the ring), the u8 box cascade (fused through row rings) and a
        // large erosion (vertical van Herk segments, horizontal doubling windows) and a
        // wider one (horizontal van Herk on transposed rows).
        let extra: [(&str, &[&str]); 8] = [
            ("local_std", &["ksize=25"]),
            ("sauvola", &["output=map"]),
            ("gaussian", &["dtype=f32", "ksize=31"]),
            ("gaussian", &["dtype=f32", "ksize=31", "border=constant"]),
            ("gaussian", &["dtype=f32", "ksize=41", "method=direct"]),
            ("gaussian", &["dtype=u8", "ksize=101"]),
            ("erode", &["ksize=31"]),
            ("dilate", &["ksize=101", "ksize_y=3"]),
        ];
        let spec_of = |name: &str| REGISTRY.iter().find(|s| s.name == name).unwrap();
        let cases = REGISTRY
            .iter()
            .map(|spec| (spec, &[][..]))
            .chain(extra.iter().map(|&(name, params)| (spec_of(name), params)));
        for (spec, params) in cases {
            let (mut op, _) = spec.build(params).unwrap();
            let input = op.bench_input(w, h).unwrap();
            let (ow, oh) = op.output_size((w, h));
            let mut output = AnyImage::new(op.output_dtype(), ow, oh).unwrap();
            op.prepare((w, h)).unwrap();
            pool.install(|| {
                for _ in 0..3 {
                    op.run(input.as_view(), output.as_view_mut()).unwrap();
                }
                let n = allocations_in(|| {
                    for _ in 0..10 {
                        op.run(input.as_view(), output.as_view_mut()).unwrap();
                    }
                });
                assert_eq!(
                    n, 0,
                    "op {} {params:?} allocated {n} times in 10 warm runs on {threads} threads",
                    spec.name
                );
            });
        }
    }
}
