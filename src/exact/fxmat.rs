//! Integer matrices kept in fixed width: the layer rows `R_i` and the
//! measurement products `M = A D R_d` of the pattern engine (issue 14).
//!
//! An [`FxMat`] is the same exact value as a [`DMat`] (integers times one
//! power of two), held as [`Fx`] entries when every entry fits, so that the
//! engine's rank-one updates, sign tests, Gram products and binary64
//! screens never convert between `BigInt` and fixed width. Its `BigInt`
//! form is made only when a caller asks for it (by [`FxMat::big`] or
//! through `Deref`), once, and then kept. Both forms are exact and equal:
//! which one a caller reads never changes a result.

use std::ops::Deref;
use std::sync::OnceLock;

use num_bigint::BigInt;

use super::dyadic::{DMat, DVec, Dyadic};
use super::fixed::{fx_add_outer_upper, fx_all, fx_mirror_upper, Fx};

/// `num * 2^exp`, row-major, `rows x cols` (see the module comment).
#[derive(Debug)]
pub struct FxMat {
    pub rows: usize,
    pub cols: usize,
    pub exp: i64,
    /// The entries in fixed width (`None`: some entry does not fit).
    fixed: Option<Vec<Fx>>,
    /// The `BigInt` form: set at construction when `fixed` is `None`,
    /// otherwise made when first asked for.
    big: OnceLock<DMat>,
}

impl FxMat {
    /// The matrix `m`, in fixed width where every entry fits.
    pub fn new(m: DMat) -> Self {
        let fixed = fx_all(&m.num);
        let big = OnceLock::new();
        let (rows, cols, exp) = (m.rows, m.cols, m.exp);
        let _ = big.set(m);
        FxMat {
            rows,
            cols,
            exp,
            fixed,
            big,
        }
    }

    /// `num * 2^exp` from fixed-width entries (`num.len() = rows * cols`).
    pub fn from_fixed(rows: usize, cols: usize, num: Vec<Fx>, exp: i64) -> Self {
        assert_eq!(num.len(), rows * cols, "matrix size mismatch");
        FxMat {
            rows,
            cols,
            exp,
            fixed: Some(num),
            big: OnceLock::new(),
        }
    }

    /// Every entry in fixed width, if every one fits.
    pub fn fixed(&self) -> Option<&[Fx]> {
        self.fixed.as_deref()
    }

    /// Row `j` in fixed width, if every entry fits.
    pub fn fixed_row(&self, j: usize) -> Option<&[Fx]> {
        self.fixed
            .as_deref()
            .map(|f| &f[j * self.cols..(j + 1) * self.cols])
    }

    /// The `BigInt` form (made on the first call).
    pub fn big(&self) -> &DMat {
        self.big.get_or_init(|| {
            let f = self.fixed.as_deref().expect("fixed when not big");
            DMat {
                rows: self.rows,
                cols: self.cols,
                num: f.iter().map(Fx::to_big).collect(),
                exp: self.exp,
            }
        })
    }

    /// Row `j` as integers (without making the whole `BigInt` form).
    pub fn row_big(&self, j: usize) -> Vec<BigInt> {
        match self.fixed_row(j) {
            Some(r) => r.iter().map(Fx::to_big).collect(),
            None => self.big().row(j).to_vec(),
        }
    }

    /// Row `j` as dyadics (without making the whole `BigInt` form).
    pub fn row_dyadics(&self, j: usize) -> Vec<Dyadic> {
        self.row_big(j)
            .into_iter()
            .map(|num| Dyadic { num, exp: self.exp })
            .collect()
    }

    /// `self^T D self` with `D` the 0/1 diagonal of `keep` (all rows:
    /// `None`), as [`DMat::gram_rows`].
    pub fn gram_rows(&self, keep: Option<&[bool]>) -> DMat {
        let n = self.cols;
        let fast = self.fixed.as_deref().and_then(|f| {
            let mut acc = vec![Fx::ZERO; n * n];
            for r in 0..self.rows {
                if keep.is_some_and(|k| !k[r]) {
                    continue;
                }
                if !fx_add_outer_upper(&mut acc, &f[r * n..(r + 1) * n]) {
                    return None;
                }
            }
            fx_mirror_upper(&mut acc, n);
            Some(acc.iter().map(Fx::to_big).collect())
        });
        match fast {
            Some(num) => DMat {
                rows: n,
                cols: n,
                num,
                exp: 2 * self.exp,
            },
            None => self.big().gram_rows(keep),
        }
    }

    /// `self^T D v` with `D` the 0/1 diagonal of `keep` (all rows: `None`),
    /// as [`DMat::tr_mul_vec_rows`].
    pub fn tr_mul_vec_rows(&self, v: &DVec, keep: Option<&[bool]>) -> DVec {
        assert_eq!(self.rows, v.len(), "matrix-vector size mismatch");
        let fast = self.fixed.as_deref().and_then(|f| {
            let mut out = vec![Fx::ZERO; self.cols];
            for (i, vi) in v.num.iter().enumerate() {
                if keep.is_some_and(|k| !k[i]) {
                    continue;
                }
                let vi = Fx::from_big(vi)?;
                if vi.is_zero() {
                    continue;
                }
                for (o, a) in out.iter_mut().zip(&f[i * self.cols..]) {
                    if !o.add_mul(a, &vi, false) {
                        return None;
                    }
                }
            }
            Some(out.iter().map(Fx::to_big).collect())
        });
        match fast {
            Some(num) => DVec {
                num,
                exp: self.exp + v.exp,
            },
            None => self.big().tr_mul_vec_rows(v, keep),
        }
    }

    /// About the heap bytes held (for cache bounds).
    pub fn bytes(&self) -> usize {
        let fixed = self
            .fixed
            .as_ref()
            .map_or(0, |f| f.len() * std::mem::size_of::<Fx>());
        let big = self.big.get().map_or(0, |m| {
            let per = 48 + m.num.first().map_or(0, |b| b.bits() as usize / 8);
            m.num.len().saturating_mul(per)
        });
        fixed + big
    }
}

/// The `BigInt` form, made on first use: every `DMat` method reads it.
impl Deref for FxMat {
    type Target = DMat;
    fn deref(&self) -> &DMat {
        self.big()
    }
}
