//! Floyd–Steinberg error diffusion, u8 to 0/255, with an optional serpentine order.
//!
//! Integer arithmetic, defined exactly so any implementation can be checked against it:
//! errors are kept in sixteenths. A pixel's value is `src + ((acc + 8) >> 4)` (acc: the
//! sixteenths it received); it becomes 255 when the value is at least 128, else 0; its
//! error `value − out` goes 7/16 ahead, 3/16 behind-below, 5/16 below, 1/16 ahead-below
//! ("ahead" follows the scan direction, which alternates per row when serpentine).
//! Each pixel depends on the one before: the scan is sequential by nature (the chapter's
//! Exercise 8.2.1 (d)); the speed comes from tight integer code, not from SIMD.

use crate::Result;
use crate::image::{ImageView, ImageViewMut, check_same_size};

/// Scratch: two rows of error accumulators, kept between calls.
#[derive(Debug, Default)]
pub struct Dither {
    cur: Vec<i32>,
    next: Vec<i32>,
}

impl Dither {
    pub fn new() -> Self {
        Self::default()
    }

    /// Dithers `src` into `dst` (same size): every output pixel is 0 or 255.
    pub fn apply(
        &mut self,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
        serpentine: bool,
    ) -> Result<()> {
        check_same_size("output", src.size(), dst.size())?;
        let w = src.width();
        // One guard cell on each side, so x − 1 and x + 1 never leave the buffers.
        self.cur.clear();
        self.cur.resize(w + 2, 0);
        self.next.clear();
        self.next.resize(w + 2, 0);
        for (y, (s, d)) in src.rows().zip(dst.rows_mut()).enumerate() {
            let backwards = serpentine && y % 2 == 1;
            let (cur, next) = (&mut self.cur, &mut self.next);
            let mut step = |x: usize, ahead: usize, behind: usize| {
                let value = i32::from(s[x]) + ((cur[x + 1] + 8) >> 4);
                let out = if value >= 128 { 255 } else { 0 };
                d[x] = out as u8;
                let err = value - out;
                cur[ahead] += 7 * err;
                next[behind] += 3 * err;
                next[x + 1] += 5 * err;
                next[ahead] += err;
            };
            if backwards {
                for x in (0..w).rev() {
                    step(x, x, x + 2);
                }
            } else {
                for x in 0..w {
                    step(x, x + 2, x);
                }
            }
            std::mem::swap(&mut self.cur, &mut self.next);
            self.next.fill(0);
        }
        Ok(())
    }
}
