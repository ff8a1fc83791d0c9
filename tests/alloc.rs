//! No allocation in the hot loop: every registered op, once built and warmed up, runs
//! frame after frame without touching the heap — on one thread and on a pool — proven
//! with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use frameline::AnyImage;
use frameline::ops::REGISTRY;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

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
    for pool in &pools {
        let threads = pool.current_num_threads();
        for spec in REGISTRY {
            let (mut op, _) = spec.build::<&str>(&[]).unwrap();
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
                    "op {} allocated {n} times in 10 warm runs on {threads} threads",
                    spec.name
                );
            });
        }
    }
}
