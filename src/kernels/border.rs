//! Border modes: what a filter reads outside the image. The names and behaviour follow
//! OpenCV (`BORDER_REFLECT_101` is the default there and here).

use crate::{Error, Result};

/// How coordinates outside the image are filled.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Border {
    /// `gfedcb|abcdefgh|gfedcba`: mirror without repeating the edge pixel (default).
    #[default]
    Reflect101,
    /// `aaaaaa|abcdefgh|hhhhhhh`: repeat the edge pixel.
    Replicate,
    /// `vvvvvv|abcdefgh|vvvvvvv`: a constant value.
    Constant(f32),
}

impl Border {
    /// Parses `reflect101` (or `reflect_101`, `default`), `replicate`, `constant`
    /// (with `value` as the constant).
    pub fn parse(name: &str, value: f32) -> Result<Border> {
        match name {
            "reflect101" | "reflect_101" | "default" => Ok(Border::Reflect101),
            "replicate" => Ok(Border::Replicate),
            "constant" => Ok(Border::Constant(value)),
            other => Err(Error::bad_param(
                "border",
                format!("'{other}' is not one of reflect101, replicate, constant"),
            )),
        }
    }

    /// The index inside `0..n` that coordinate `i` reads, or `None` where the border
    /// is the constant. Works for any `i`, also far outside (kernels larger than the
    /// image reflect repeatedly, as OpenCV does).
    #[inline]
    pub fn map(self, i: isize, n: usize) -> Option<usize> {
        debug_assert!(n > 0);
        if (0..n as isize).contains(&i) {
            return Some(i as usize);
        }
        match self {
            Border::Constant(_) => None,
            Border::Replicate => Some(i.clamp(0, n as isize - 1) as usize),
            Border::Reflect101 if n == 1 => Some(0),
            Border::Reflect101 => {
                let period = 2 * (n as isize - 1);
                let m = i.rem_euclid(period);
                Some(if m >= n as isize { period - m } else { m } as usize)
            }
        }
    }
}

/// Writes `row` into `out[left..left + row.len()]` with `middle` (a bulk, possibly SIMD,
/// conversion), and fills the `left` elements before and the rest after with border
/// pixels converted by `conv` (`constant` for [`Border::Constant`]).
pub(crate) fn pad_row<T: Copy, U: Copy>(
    row: &[T],
    left: usize,
    border: Border,
    constant: U,
    conv: impl Fn(T) -> U,
    out: &mut [U],
    middle: impl FnOnce(&[T], &mut [U]),
) {
    let n = row.len();
    middle(row, &mut out[left..left + n]);
    let value = |i: isize| border.map(i, n).map_or(constant, |j| conv(row[j]));
    for (k, o) in out[..left].iter_mut().enumerate() {
        *o = value(k as isize - left as isize);
    }
    for (k, o) in out[left + n..].iter_mut().enumerate() {
        *o = value((n + k) as isize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect101_matches_opencv() {
        let b = Border::Reflect101;
        let got: Vec<_> = (-3..8).map(|i| b.map(i, 5).unwrap()).collect();
        assert_eq!(got, [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
        // Far outside a tiny image: keeps reflecting.
        let got: Vec<_> = (-5..7).map(|i| b.map(i, 2).unwrap()).collect();
        assert_eq!(got, [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
        assert_eq!(b.map(-100, 1), Some(0));
    }

    #[test]
    fn replicate_and_constant() {
        assert_eq!(Border::Replicate.map(-4, 3), Some(0));
        assert_eq!(Border::Replicate.map(9, 3), Some(2));
        assert_eq!(Border::Constant(1.0).map(-1, 3), None);
        assert_eq!(Border::Constant(1.0).map(2, 3), Some(2));
    }

    #[test]
    fn pad_row_fills_both_sides() {
        let mut out = [0u16; 9];
        let widen = |r: &[u8], m: &mut [u16]| m.iter_mut().zip(r).for_each(|(m, &v)| *m = v.into());
        pad_row(
            &[1u8, 2, 3, 4],
            3,
            Border::Reflect101,
            0,
            u16::from,
            &mut out,
            widen,
        );
        assert_eq!(out, [4, 3, 2, 1, 2, 3, 4, 3, 2]);
        pad_row(
            &[7u8],
            2,
            Border::Constant(9.0),
            9,
            u16::from,
            &mut out[..5],
            widen,
        );
        assert_eq!(&out[..5], &[9, 9, 7, 9, 9]);
    }
}
