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
    /// The constant of [`Border::Constant`] as a u8 pixel (rounded, saturated); 0 for
    /// the other borders.
    pub fn constant_u8(self) -> u8 {
        match self {
            Border::Constant(v) => v.round().clamp(0.0, 255.0) as u8,
            _ => 0,
        }
    }

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

/// Fills `out` with the pixels of columns `first .. first + out.len()` of `row`: the
/// columns inside the row through `middle` (a bulk, possibly SIMD, conversion), those
/// outside as border pixels converted by `conv` (`constant` for [`Border::Constant`]).
/// `first` is negative when the segment starts left of the row.
pub(crate) fn pad_row<T: Copy, U: Copy>(
    row: &[T],
    first: isize,
    border: Border,
    constant: U,
    conv: impl Fn(T) -> U,
    out: &mut [U],
    middle: impl FnOnce(&[T], &mut [U]),
) {
    let n = row.len() as isize;
    let end = first + out.len() as isize;
    let (inside_from, inside_to) = (first.clamp(0, n), end.clamp(0, n));
    if inside_from < inside_to {
        let (a, b) = ((inside_from - first) as usize, (inside_to - first) as usize);
        middle(
            &row[inside_from as usize..inside_to as usize],
            &mut out[a..b],
        );
    }
    let value = |i: isize| border.map(i, row.len()).map_or(constant, |j| conv(row[j]));
    // Only the parts outside the row: left of it, and right of it.
    let left = ((inside_from - first).max(0) as usize).min(out.len());
    let right = ((inside_to.max(inside_from) - first).max(0) as usize).min(out.len());
    for (k, o) in out[..left].iter_mut().enumerate() {
        *o = value(first + k as isize);
    }
    for (k, o) in out[right..].iter_mut().enumerate() {
        *o = value(first + (right + k) as isize);
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
            -3,
            Border::Reflect101,
            0,
            u16::from,
            &mut out,
            widen,
        );
        assert_eq!(out, [4, 3, 2, 1, 2, 3, 4, 3, 2]);
        pad_row(
            &[7u8],
            -2,
            Border::Constant(9.0),
            9,
            u16::from,
            &mut out[..5],
            widen,
        );
        assert_eq!(&out[..5], &[9, 9, 7, 9, 9]);
        // A segment in the middle of a row, and one hanging over its right end.
        let row = [1u8, 2, 3, 4, 5, 6];
        pad_row(
            &row,
            2,
            Border::Reflect101,
            0,
            u16::from,
            &mut out[..3],
            widen,
        );
        assert_eq!(&out[..3], &[3, 4, 5]);
        pad_row(
            &row,
            4,
            Border::Replicate,
            0,
            u16::from,
            &mut out[..5],
            widen,
        );
        assert_eq!(&out[..5], &[5, 6, 6, 6, 6]);
    }
}
