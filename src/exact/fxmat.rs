//! Integer matrices kept in fixed width: the layer rows `R_i` and the
//! measurement products `M = A D R_d` of the pattern engine (issue 14).
//!
//! An [`FxMat`] is the same exact value as a [`DMat`] (integers times one
//! power of two), held as fixed-width entries when every entry fits
//! ([`FxEntries`]: 256 bits each where they fit, else 512), so that the
//! engine's rank-one updates, sign tests, Gram products and binary64
//! screens never convert between `BigInt` and fixed width. Its `BigInt`
//! form is made only when a caller asks for it (by [`FxMat::big`] or
//! through `Deref`), once, and then kept. Both forms are exact and equal:
//! which one a caller reads never changes a result.

use std::ops::Deref;
use std::sync::OnceLock;

use num_bigint::BigInt;

use super::dyadic::{DMat, DVec, Dyadic};
use super::fixed::{fx_add_outer_upper, fx_mirror_upper, fx_update_outer_upper, Fx, FxN, FxS};

/// A matrix's fixed-width entries, row-major: in the stored width [`FxS`]
/// (256 bits, 40 bytes) when every entry fits, else in the working width
/// [`Fx`] (512 bits, 72 bytes). The engine's matrices take 3 to 5 limbs
/// (`k3-50-500-m100`: `R_2` up to 134 bits, `M` up to 203; the three-layer
/// `k2-10-40-160-m40`: `M` up to 261), so most are stored short.
#[derive(Clone, Debug)]
pub enum FxEntries {
    Short(Vec<FxS>),
    Wide(Vec<Fx>),
}

/// The rows `keep` of an [`FxMat`] `R` summed for a pattern quadratic:
/// the upper triangle of `R^T D R` and `R^T D v` (`D` the 0/1 diagonal of
/// `keep`), in fixed width (see [`FxMat::gram_and_tr_mul_update`]).
#[derive(Clone, Debug)]
pub struct GramBase {
    pub keep: Vec<bool>,
    pub upper: Vec<Fx>,
    pub tv: Vec<Fx>,
}

impl GramBase {
    /// `(R^T D R, R^T D v)` as integers with the exponents `2 e_R` and `e_R
    /// + e_v`.
    pub fn to_dmat_dvec(&self, n: usize, (e_r, e_v): (i64, i64)) -> (DMat, DVec) {
        let mut full = self.upper.clone();
        fx_mirror_upper(&mut full, n);
        (
            DMat {
                rows: n,
                cols: n,
                num: full.iter().map(Fx::to_big).collect(),
                exp: 2 * e_r,
            },
            DVec {
                num: self.tv.iter().map(Fx::to_big).collect(),
                exp: e_r + e_v,
            },
        )
    }
}

/// A borrowed run of [`FxEntries`] (a row, or all of them).
#[derive(Clone, Copy, Debug)]
pub enum FxSlice<'a> {
    Short(&'a [FxS]),
    Wide(&'a [Fx]),
}

/// Runs `$body` with `$v` bound to the entries of an [`FxSlice`] in their
/// own width (`&[FxN<L>]`), so that generic kernels are called on either.
#[macro_export]
macro_rules! with_fx_slice {
    ($s:expr, |$v:ident| $body:expr) => {
        match $s {
            $crate::exact::fxmat::FxSlice::Short($v) => $body,
            $crate::exact::fxmat::FxSlice::Wide($v) => $body,
        }
    };
}

impl FxEntries {
    /// The entries of `num`: short if every one fits, else wide.
    pub fn from_wide(num: Vec<Fx>) -> Self {
        match num.iter().map(FxN::resize).collect::<Option<Vec<FxS>>>() {
            Some(short) => FxEntries::Short(short),
            None => FxEntries::Wide(num),
        }
    }

    /// The integers in fixed width, short if every one fits (`None`: some
    /// entry does not fit even the working width).
    pub fn from_big(num: &[BigInt]) -> Option<Self> {
        match num.iter().map(FxN::from_big).collect::<Option<Vec<FxS>>>() {
            Some(short) => Some(FxEntries::Short(short)),
            None => num
                .iter()
                .map(FxN::from_big)
                .collect::<Option<Vec<Fx>>>()
                .map(FxEntries::Wide),
        }
    }

    pub fn as_slice(&self) -> FxSlice<'_> {
        match self {
            FxEntries::Short(v) => FxSlice::Short(v),
            FxEntries::Wide(v) => FxSlice::Wide(v),
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// About the heap bytes held.
    pub fn bytes(&self) -> usize {
        match self {
            FxEntries::Short(v) => v.len() * std::mem::size_of::<FxS>(),
            FxEntries::Wide(v) => v.len() * std::mem::size_of::<Fx>(),
        }
    }
}

impl<'a> FxSlice<'a> {
    pub fn len(&self) -> usize {
        with_fx_slice!(self, |v| v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries `range`.
    pub fn slice(&self, range: std::ops::Range<usize>) -> FxSlice<'a> {
        match *self {
            FxSlice::Short(v) => FxSlice::Short(&v[range]),
            FxSlice::Wide(v) => FxSlice::Wide(&v[range]),
        }
    }

    /// The entries as integers.
    pub fn to_big(&self) -> Vec<BigInt> {
        with_fx_slice!(self, |v| v.iter().map(FxN::to_big).collect())
    }
}

/// `num * 2^exp`, row-major, `rows x cols` (see the module comment).
#[derive(Debug)]
pub struct FxMat {
    pub rows: usize,
    pub cols: usize,
    pub exp: i64,
    /// The entries in fixed width (`None`: some entry does not fit).
    fixed: Option<FxEntries>,
    /// The `BigInt` form: set at construction when `fixed` is `None`,
    /// otherwise made when first asked for.
    big: OnceLock<DMat>,
}

impl FxMat {
    /// The matrix `m`, in fixed width where every entry fits.
    pub fn new(m: DMat) -> Self {
        let fixed = FxEntries::from_big(&m.num);
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

    /// `num * 2^exp` from working-width entries (`num.len() = rows *
    /// cols`), stored short where every entry fits.
    pub fn from_fixed(rows: usize, cols: usize, num: Vec<Fx>, exp: i64) -> Self {
        Self::from_entries(rows, cols, FxEntries::from_wide(num), exp)
    }

    /// `num * 2^exp` from fixed-width entries (`num.len() = rows * cols`).
    pub fn from_entries(rows: usize, cols: usize, num: FxEntries, exp: i64) -> Self {
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
    pub fn fixed(&self) -> Option<FxSlice<'_>> {
        self.fixed.as_ref().map(FxEntries::as_slice)
    }

    /// Row `j` in fixed width, if every entry fits.
    pub fn fixed_row(&self, j: usize) -> Option<FxSlice<'_>> {
        self.fixed()
            .map(|f| f.slice(j * self.cols..(j + 1) * self.cols))
    }

    /// The `BigInt` form (made on the first call).
    pub fn big(&self) -> &DMat {
        self.big.get_or_init(|| {
            let f = self.fixed().expect("fixed when not big");
            DMat {
                rows: self.rows,
                cols: self.cols,
                num: f.to_big(),
                exp: self.exp,
            }
        })
    }

    /// Row `j` as integers (without making the whole `BigInt` form).
    pub fn row_big(&self, j: usize) -> Vec<BigInt> {
        match self.fixed_row(j) {
            Some(r) => r.to_big(),
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
        let fast = self.fixed().and_then(|f| {
            let mut acc = vec![Fx::ZERO; n * n];
            for r in 0..self.rows {
                if keep.is_some_and(|k| !k[r]) {
                    continue;
                }
                let row = f.slice(r * n..(r + 1) * n);
                if !with_fx_slice!(row, |v| fx_add_outer_upper(&mut acc, v)) {
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

    /// [`FxMat::gram_rows`] and [`FxMat::tr_mul_vec_rows`] of the rows
    /// `keep` together, in fixed width, from those of the rows `base.0`
    /// (`base.1`: the Gram matrix's upper triangle, `base.2`: `self^T D
    /// v`) by one rank-one update per row whose bit differs: `+ r r^T` and
    /// `+ v_r r` where a row is added, `-` where one is dropped; from zero
    /// without a base. Integers, so the result is exactly the sums from
    /// scratch. `None` when an entry (or `v`) does not fit.
    pub fn gram_and_tr_mul_update(
        &self,
        v: &DVec,
        base: Option<&GramBase>,
        keep: &[bool],
    ) -> Option<GramBase> {
        let n = self.cols;
        assert!(
            self.rows == v.len() && self.rows == keep.len(),
            "size mismatch"
        );
        let f = self.fixed()?;
        // A base of other rows (or none) counts as the empty row set.
        let no_rows = vec![false; keep.len()];
        let (was, mut upper, mut tv) = match base.filter(|b| b.keep.len() == keep.len()) {
            Some(b) => (&b.keep, b.upper.clone(), b.tv.clone()),
            None => (&no_rows, vec![Fx::ZERO; n * n], vec![Fx::ZERO; n]),
        };
        for (r, (&now, &before)) in keep.iter().zip(was).enumerate() {
            if before == now {
                continue;
            }
            let row = f.slice(r * n..(r + 1) * n);
            let sub = !now;
            let vr = Fx::from_big(&v.num[r])?;
            let fits = with_fx_slice!(row, |x| fx_update_outer_upper(&mut upper, x, sub)
                && tv.iter_mut().zip(x).all(|(o, a)| o.add_mul(a, &vr, sub)));
            if !fits {
                return None;
            }
        }
        Some(GramBase {
            keep: keep.to_vec(),
            upper,
            tv,
        })
    }

    /// `self^T D v` with `D` the 0/1 diagonal of `keep` (all rows: `None`),
    /// as [`DMat::tr_mul_vec_rows`].
    pub fn tr_mul_vec_rows(&self, v: &DVec, keep: Option<&[bool]>) -> DVec {
        assert_eq!(self.rows, v.len(), "matrix-vector size mismatch");
        let fast = self.fixed().and_then(|f| {
            let mut out = vec![Fx::ZERO; self.cols];
            for (i, vi) in v.num.iter().enumerate() {
                if keep.is_some_and(|k| !k[i]) {
                    continue;
                }
                let vi = Fx::from_big(vi)?;
                if vi.is_zero() {
                    continue;
                }
                let row = f.slice(i * self.cols..(i + 1) * self.cols);
                let fits = with_fx_slice!(row, |r| out
                    .iter_mut()
                    .zip(r)
                    .all(|(o, a)| o.add_mul(a, &vi, false)));
                if !fits {
                    return None;
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
        let fixed = self.fixed.as_ref().map_or(0, FxEntries::bytes);
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
