//! Times kornia-rs's u8 Gaussian blur on this machine, the same way `frameline bench`
//! times its ops (warm-up, then the median of repeats, output preallocated), and
//! measures how far its result is from the exact convolution (see `kernel`).
//!
//!     kornia-bench WIDTHxHEIGHT REPEATS [WARMUP]
//!
//! Prints one JSON object per case and thread count. Cases: 3x3 with sigma 1.0 (the
//! [1,2,1]/4 path of rounded byte averages), 5x5 and 7x7 with OpenCV's derived sigmas
//! (5x5: the general Q8 path, 7x7: the symmetric AVX2/NEON path).

use std::time::Instant;

use kornia_image::{Image, ImageSize};
use kornia_imgproc::filter::gaussian_blur_u8;

fn random_frame(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z >> 56) as u8
        })
        .collect()
}

/// The exact kernel the result is compared with: the [1,2,1]/4 binomial for 3x3 (what
/// kornia's 3x3 path approximates, and OpenCV's and frameline's ksize=3 default), else
/// the Gaussian of `sigma`.
fn kernel(ksize: usize, sigma: f64) -> Vec<f64> {
    if ksize == 3 {
        return vec![0.25, 0.5, 0.25];
    }
    let r = (ksize / 2) as f64;
    let k: Vec<f64> = (0..ksize)
        .map(|i| (-(i as f64 - r).powi(2) / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f64 = k.iter().sum();
    k.into_iter().map(|v| v / s).collect()
}

/// Largest |result - exact convolution| over interior pixels (borders differ by design).
fn max_error(src: &[u8], out: &[u8], w: usize, h: usize, ksize: usize, sigma: f64) -> f64 {
    let k = kernel(ksize, sigma);
    let r = ksize / 2;
    let rows = h.min(64);
    let mut worst = 0.0f64;
    for y in r..rows - r {
        for x in r..w - r {
            let mut acc = 0.0;
            for (j, kj) in k.iter().enumerate() {
                for (i, ki) in k.iter().enumerate() {
                    acc += kj * ki * src[(y + j - r) * w + x + i - r] as f64;
                }
            }
            worst = worst.max((acc - out[y * w + x] as f64).abs());
        }
    }
    worst
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (w, h) = args
        .get(1)
        .and_then(|s| s.split_once('x'))
        .map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap()))
        .unwrap_or((3840, 2160));
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let warmup: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let size = ImageSize { width: w, height: h };
    let data = random_frame(w * h);
    let src = Image::<u8, 1>::new(size, data.clone()).unwrap();
    let mut dst = Image::<u8, 1>::from_size_val(size, 0).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // (case, ksize, sigma): OpenCV's derived sigma 0.3*((k-1)/2-1)+0.8 for 5 and 7.
    let cases = [("gaussian 3x3", 3, 1.0f64), ("gaussian 5x5", 5, 1.1), ("gaussian 7x7", 7, 1.4)];
    for (case, ksize, sigma) in cases {
        for threads in [1, cores] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut times: Vec<f64> = pool.install(|| {
                let mut run = || {
                    let t = Instant::now();
                    gaussian_blur_u8(&src, &mut dst, (ksize, ksize), (sigma as f32, sigma as f32))
                        .unwrap();
                    t.elapsed().as_secs_f64() * 1e3
                };
                for _ in 0..warmup {
                    run();
                }
                (0..repeats).map(|_| run()).collect()
            });
            times.sort_by(f64::total_cmp);
            let err = max_error(&data, dst.as_slice(), w, h, ksize, sigma);
            println!(
                "{{\"case\":\"{case}\",\"size\":\"{w}x{h}\",\"threads\":{threads},\"ksize\":{ksize},\"sigma\":{sigma},\"median_ms\":{:.4},\"max_error_vs_exact\":{err:.3}}}",
                times[times.len() / 2]
            );
        }
    }
}
