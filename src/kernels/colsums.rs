//! Running column sums, shared by the window kernels (small box means, the integer
//! Gaussian cascade): add a row to the column sums, or slide the window down a row (add
//! the row that enters, subtract the one that leaves). Integer sums are exact: the
//! subtraction comes first, and the row it removes is part of the sum, so no step goes
//! below zero or above the window's largest sum.

use crate::simd::autovectorized;

macro_rules! column_sums {
    ($add:ident, $slide:ident, $src:ty => $acc:ty) => {
        autovectorized! {
            /// `col[i] += row[i]`.
            pub(crate) fn $add(col: &mut [$acc], row: &[$src]) {
                let n = col.len();
                let row = &row[..n];
                for i in 0..n {
                    col[i] += <$acc>::from(row[i]);
                }
            }
        }
        autovectorized! {
            /// `col[i] = col[i] − sub[i] + add[i]`.
            pub(crate) fn $slide(col: &mut [$acc], add: &[$src], sub: &[$src]) {
                let n = col.len();
                let (add, sub) = (&add[..n], &sub[..n]);
                for i in 0..n {
                    col[i] = col[i] - <$acc>::from(sub[i]) + <$acc>::from(add[i]);
                }
            }
        }
    };
}

column_sums!(add_u8_u16, slide_u8_u16, u8 => u16);
column_sums!(add_u8_u32, slide_u8_u32, u8 => u32);
column_sums!(add_u16_u32, slide_u16_u32, u16 => u32);
