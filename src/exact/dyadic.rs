//! Exact dyadic vectors and matrices: integers times one power of two.
//!
//! Every binary64 value is `m * 2^e` with integer `m`, so a matrix of them is
//! an integer matrix times `2^e_min`. Products and sums of such matrices stay
//! in that form; nothing is rounded and no gcd is ever taken. Rationals
//! (`BigRational`) appear only where a division does.

use std::cmp::Ordering;

use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::fixed::{fx_add_outer_upper, fx_all, fx_mirror_upper, Fx};

/// The exact value of a finite binary64 number as `(mantissa, exponent)`.
/// Returns `None` for NaN and infinities.
pub fn f64_parts(v: f64) -> Option<(i64, i32)> {
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        return Some((0, 0));
    }
    let bits = v.to_bits();
    let sign = if bits >> 63 == 1 { -1 } else { 1 };
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i64;
    let (mant, exp) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1i64 << 52), biased - 1075)
    };
    // Strip trailing zeros so exponents stay as large as possible.
    let tz = mant.trailing_zeros() as i32;
    Some((sign * (mant >> tz), exp + tz))
}

/// The exact rational value of a finite binary64 number.
pub fn f64_to_rational(v: f64) -> Option<BigRational> {
    let (m, e) = f64_parts(v)?;
    Some(dyadic_to_rational(&BigInt::from(m), e as i64))
}

/// `m * 2^e` as a rational.
pub fn dyadic_to_rational(m: &BigInt, e: i64) -> BigRational {
    if e >= 0 {
        BigRational::from_integer(m << (e as usize))
    } else {
        BigRational::new(m.clone(), BigInt::one() << ((-e) as usize))
    }
}

/// A column vector `num * 2^exp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DVec {
    pub num: Vec<BigInt>,
    pub exp: i64,
}

/// A row-major matrix `num * 2^exp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DMat {
    pub rows: usize,
    pub cols: usize,
    pub num: Vec<BigInt>,
    pub exp: i64,
}

/// A single dyadic number `num * 2^exp`. Equality and order are by value.
#[derive(Clone, Debug)]
pub struct Dyadic {
    pub num: BigInt,
    pub exp: i64,
}

impl Dyadic {
    pub fn zero() -> Self {
        Dyadic {
            num: BigInt::zero(),
            exp: 0,
        }
    }
    pub fn from_int(v: i64) -> Self {
        Dyadic {
            num: BigInt::from(v),
            exp: 0,
        }
    }
    /// The value of a rational whose denominator is a power of two.
    pub fn from_rational(v: &BigRational) -> Option<Self> {
        let d = v.denom();
        let tz = d.trailing_zeros()?;
        if d != &(BigInt::one() << tz as usize) {
            return None;
        }
        Some(Dyadic {
            num: v.numer().clone(),
            exp: -(tz as i64),
        })
    }
    pub fn sign(&self) -> Sign {
        self.num.sign()
    }
    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }
    pub fn is_positive(&self) -> bool {
        self.num.is_positive()
    }
    pub fn is_negative(&self) -> bool {
        self.num.is_negative()
    }
    pub fn to_rational(&self) -> BigRational {
        dyadic_to_rational(&self.num, self.exp)
    }
    /// `self / 2`, normalized.
    pub fn half(&self) -> Dyadic {
        Dyadic {
            num: self.num.clone(),
            exp: self.exp - 1,
        }
        .normalized()
    }
    /// The same value with an odd numerator (or `0 * 2^0`).
    pub fn normalized(mut self) -> Dyadic {
        match self.num.trailing_zeros() {
            None => Dyadic::zero(),
            Some(0) => self,
            Some(tz) => {
                self.num >>= tz as usize;
                self.exp += tz as i64;
                self
            }
        }
    }
    /// A dyadic `<= self` with a numerator of at most `bits + 1` bits, at
    /// most one unit of its last place below (directed rounding: never
    /// above the value).
    pub fn round_down(&self, bits: u64) -> Dyadic {
        let have = self.num.bits();
        if have <= bits {
            return self.clone();
        }
        let s = have - bits;
        // `>>` on a BigInt rounds toward minus infinity.
        Dyadic {
            num: &self.num >> s as usize,
            exp: self.exp + s as i64,
        }
    }
    /// A dyadic `>= self` with a numerator of at most `bits + 1` bits, at
    /// most one unit of its last place above.
    pub fn round_up(&self, bits: u64) -> Dyadic {
        let have = self.num.bits();
        if have <= bits {
            return self.clone();
        }
        let s = have - bits;
        // ceil(n / 2^s) = -floor(-n / 2^s) (`>>` rounds toward minus
        // infinity).
        Dyadic {
            num: -((-&self.num) >> s as usize),
            exp: self.exp + s as i64,
        }
    }
    pub fn abs(&self) -> Dyadic {
        Dyadic {
            num: self.num.abs(),
            exp: self.exp,
        }
    }
    pub fn negated(mut self) -> Self {
        self.num = -self.num;
        self
    }
    /// The sum over the smaller exponent (only the operand with the larger
    /// one is shifted; equal exponents need no shift).
    pub fn add(&self, other: &Dyadic) -> Dyadic {
        let num = match self.exp.cmp(&other.exp) {
            Ordering::Equal => &self.num + &other.num,
            Ordering::Less => shl(&other.num, other.exp - self.exp) + &self.num,
            Ordering::Greater => shl(&self.num, self.exp - other.exp) + &other.num,
        };
        Dyadic {
            num,
            exp: self.exp.min(other.exp),
        }
    }
    /// The difference over the smaller exponent (as [`Dyadic::add`]).
    pub fn sub(&self, other: &Dyadic) -> Dyadic {
        let num = match self.exp.cmp(&other.exp) {
            Ordering::Equal => &self.num - &other.num,
            Ordering::Less => &self.num - shl(&other.num, other.exp - self.exp),
            Ordering::Greater => shl(&self.num, self.exp - other.exp) - &other.num,
        };
        Dyadic {
            num,
            exp: self.exp.min(other.exp),
        }
    }
    pub fn mul(&self, other: &Dyadic) -> Dyadic {
        Dyadic {
            num: &self.num * &other.num,
            exp: self.exp + other.exp,
        }
    }
}

impl PartialEq for Dyadic {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Dyadic {}
impl PartialOrd for Dyadic {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Dyadic {
    /// By sign, then (nonzero values of one sign) by magnitude: with `n`
    /// bits, `2^(n - 1 + exp) <= |num 2^exp| < 2^(n + exp)`, so magnitudes
    /// whose top bits `n + exp` differ are ordered by them; only the others
    /// are subtracted (which allocates).
    fn cmp(&self, other: &Self) -> Ordering {
        let sign_rank = |s: Sign| match s {
            Sign::Minus => 0,
            Sign::NoSign => 1,
            Sign::Plus => 2,
        };
        let (sa, sb) = (self.num.sign(), other.num.sign());
        if sa != sb || sa == Sign::NoSign {
            return sign_rank(sa).cmp(&sign_rank(sb));
        }
        // Both nonzero, of sign `sa`. Bit counts are below 2^63 in practice;
        // the i128 sums cannot overflow.
        let top = |d: &Dyadic| d.num.bits() as i128 + d.exp as i128;
        let by_magnitude = top(self).cmp(&top(other));
        if by_magnitude != Ordering::Equal {
            return if sa == Sign::Plus {
                by_magnitude
            } else {
                by_magnitude.reverse()
            };
        }
        match self.sub(other).sign() {
            Sign::Minus => Ordering::Less,
            Sign::NoSign => Ordering::Equal,
            Sign::Plus => Ordering::Greater,
        }
    }
}

/// The sum of products `sum a_i b_i`, exactly.
pub fn dyadic_dot(a: &[Dyadic], b: &[Dyadic]) -> Dyadic {
    a.iter()
        .zip(b)
        .fold(Dyadic::zero(), |acc, (x, y)| acc.add(&x.mul(y)))
}

/// `v * 2^by` for `by >= 0` (any `by` when `v = 0`).
fn shl(v: &BigInt, by: i64) -> BigInt {
    if v.is_zero() {
        return BigInt::zero();
    }
    assert!(by >= 0, "dyadic alignment shifts left only");
    v << (by as usize)
}

/// Converts binary64 values to integers over one common power of two.
/// Returns `None` if any value is not finite.
fn common_exponent(values: &[f64]) -> Option<(Vec<BigInt>, i64)> {
    let parts: Vec<(i64, i32)> = values
        .iter()
        .map(|&v| f64_parts(v))
        .collect::<Option<_>>()?;
    let exp = parts
        .iter()
        .filter(|(m, _)| *m != 0)
        .map(|&(_, e)| e as i64)
        .min()
        .unwrap_or(0);
    let num = parts
        .iter()
        .map(|&(m, e)| shl(&BigInt::from(m), e as i64 - exp))
        .collect();
    Some((num, exp))
}

impl DVec {
    pub fn zeros(n: usize) -> Self {
        DVec {
            num: vec![BigInt::zero(); n],
            exp: 0,
        }
    }
    pub fn from_f64(values: &[f64]) -> Option<Self> {
        let (num, exp) = common_exponent(values)?;
        Some(DVec { num, exp })
    }
    pub fn from_integers(num: Vec<BigInt>) -> Self {
        DVec { num, exp: 0 }
    }
    pub fn len(&self) -> usize {
        self.num.len()
    }
    pub fn is_empty(&self) -> bool {
        self.num.is_empty()
    }
    pub fn entry(&self, i: usize) -> Dyadic {
        Dyadic {
            num: self.num[i].clone(),
            exp: self.exp,
        }
    }
    pub fn to_rationals(&self) -> Vec<BigRational> {
        self.num
            .iter()
            .map(|n| dyadic_to_rational(n, self.exp))
            .collect()
    }
    pub fn to_dyadics(&self) -> Vec<Dyadic> {
        self.num
            .iter()
            .map(|n| Dyadic {
                num: n.clone(),
                exp: self.exp,
            })
            .collect()
    }
    /// Rewrites the vector over the smaller exponent `exp <= self.exp`.
    fn at_exp(&self, exp: i64) -> Vec<BigInt> {
        self.num.iter().map(|n| shl(n, self.exp - exp)).collect()
    }
    pub fn sub(&self, other: &DVec) -> DVec {
        assert_eq!(self.len(), other.len(), "vector length mismatch");
        let exp = self.exp.min(other.exp);
        let a = self.at_exp(exp);
        let b = other.at_exp(exp);
        DVec {
            num: a.into_iter().zip(b).map(|(x, y)| x - y).collect(),
            exp,
        }
    }
    pub fn scale_int(&self, s: &BigInt) -> DVec {
        DVec {
            num: self.num.iter().map(|n| n * s).collect(),
            exp: self.exp,
        }
    }
    pub fn neg(&self) -> DVec {
        DVec {
            num: self.num.iter().map(|n| -n).collect(),
            exp: self.exp,
        }
    }
    /// The inner product, exactly.
    pub fn dot(&self, other: &DVec) -> Dyadic {
        assert_eq!(self.len(), other.len(), "vector length mismatch");
        let num = self
            .num
            .iter()
            .zip(&other.num)
            .fold(BigInt::zero(), |acc, (a, b)| acc + a * b);
        Dyadic {
            num,
            exp: self.exp + other.exp,
        }
    }
    /// `relu` entrywise.
    pub fn relu(&self) -> DVec {
        DVec {
            num: self
                .num
                .iter()
                .map(|n| {
                    if n.is_positive() {
                        n.clone()
                    } else {
                        BigInt::zero()
                    }
                })
                .collect(),
            exp: self.exp,
        }
    }
    /// Keeps the entries whose mask bit is set, zeroes the others.
    pub fn mask(&self, bits: &[bool]) -> DVec {
        assert_eq!(self.len(), bits.len(), "mask length mismatch");
        DVec {
            num: self
                .num
                .iter()
                .zip(bits)
                .map(|(n, &b)| if b { n.clone() } else { BigInt::zero() })
                .collect(),
            exp: self.exp,
        }
    }
}

impl DMat {
    pub fn from_f64(rows: usize, cols: usize, values: &[f64]) -> Option<Self> {
        assert_eq!(values.len(), rows * cols, "matrix size mismatch");
        let (num, exp) = common_exponent(values)?;
        Some(DMat {
            rows,
            cols,
            num,
            exp,
        })
    }
    pub fn identity(n: usize) -> Self {
        let mut num = vec![BigInt::zero(); n * n];
        for i in 0..n {
            num[i * n + i] = BigInt::one();
        }
        DMat {
            rows: n,
            cols: n,
            num,
            exp: 0,
        }
    }
    pub fn row(&self, i: usize) -> &[BigInt] {
        &self.num[i * self.cols..(i + 1) * self.cols]
    }
    /// Row `i` as dyadics.
    pub fn row_dyadics(&self, i: usize) -> Vec<Dyadic> {
        self.row(i)
            .iter()
            .map(|n| Dyadic {
                num: n.clone(),
                exp: self.exp,
            })
            .collect()
    }
    pub fn entry(&self, i: usize, j: usize) -> Dyadic {
        Dyadic {
            num: self.num[i * self.cols + j].clone(),
            exp: self.exp,
        }
    }
    /// `self * v`.
    pub fn mul_vec(&self, v: &DVec) -> DVec {
        assert_eq!(self.cols, v.len(), "matrix-vector size mismatch");
        DVec {
            num: (0..self.rows)
                .map(|i| dot_ints(self.row(i), &v.num))
                .collect(),
            exp: self.exp + v.exp,
        }
    }
    /// `self^T * v`.
    pub fn tr_mul_vec(&self, v: &DVec) -> DVec {
        self.tr_mul_vec_rows(v, None)
    }

    /// `self^T D v` with `D` the 0/1 diagonal of `keep` (all rows: `None`).
    pub fn tr_mul_vec_rows(&self, v: &DVec, keep: Option<&[bool]>) -> DVec {
        assert_eq!(self.rows, v.len(), "matrix-vector size mismatch");
        if let Some(num) = self.tr_mul_vec_fixed(v, keep) {
            return DVec {
                num,
                exp: self.exp + v.exp,
            };
        }
        let mut out = vec![BigInt::zero(); self.cols];
        for (i, vi) in v.num.iter().enumerate() {
            if vi.is_zero() || keep.is_some_and(|k| !k[i]) {
                continue;
            }
            for (o, a) in out.iter_mut().zip(self.row(i)) {
                if !a.is_zero() {
                    *o += a * vi;
                }
            }
        }
        DVec {
            num: out,
            exp: self.exp + v.exp,
        }
    }
    /// [`DMat::tr_mul_vec_rows`]'s integers in fixed width (`None`:
    /// something does not fit).
    fn tr_mul_vec_fixed(&self, v: &DVec, keep: Option<&[bool]>) -> Option<Vec<BigInt>> {
        let mut out = vec![Fx::ZERO; self.cols];
        for (i, vi) in v.num.iter().enumerate() {
            if vi.is_zero() || keep.is_some_and(|k| !k[i]) {
                continue;
            }
            let vi = Fx::from_big(vi)?;
            for (o, a) in out.iter_mut().zip(self.row(i)) {
                if !o.add_mul(&Fx::from_big(a)?, &vi, false) {
                    return None;
                }
            }
        }
        Some(out.iter().map(Fx::to_big).collect())
    }

    /// `self * other`; rows of `self` whose `keep` bit is false are zero
    /// (that is `D * self * other` with `D` the diagonal 0/1 matrix of `keep`).
    pub fn mul_masked(&self, other: &DMat, keep: Option<&[bool]>) -> DMat {
        self.product(other, keep, None)
    }

    /// `self * D * other` with `D` the 0/1 diagonal of `keep`.
    pub fn mul_inner_masked(&self, other: &DMat, keep: &[bool]) -> DMat {
        self.product(other, None, Some(keep))
    }

    /// `D_rows * self * D_inner * other`, skipping zero entries.
    fn product(&self, other: &DMat, rows: Option<&[bool]>, inner: Option<&[bool]>) -> DMat {
        assert_eq!(self.cols, other.rows, "matrix-matrix size mismatch");
        if let Some(num) = self.product_fixed(other, rows, inner) {
            return DMat {
                rows: self.rows,
                cols: other.cols,
                num,
                exp: self.exp + other.exp,
            };
        }
        let mut num = vec![BigInt::zero(); self.rows * other.cols];
        for i in 0..self.rows {
            if rows.is_some_and(|k| !k[i]) {
                continue;
            }
            let out = &mut num[i * other.cols..(i + 1) * other.cols];
            for (l, a) in self.row(i).iter().enumerate() {
                if a.is_zero() || inner.is_some_and(|k| !k[l]) {
                    continue;
                }
                for (o, b) in out.iter_mut().zip(other.row(l)) {
                    if !b.is_zero() {
                        *o += a * b;
                    }
                }
            }
        }
        DMat {
            rows: self.rows,
            cols: other.cols,
            num,
            exp: self.exp + other.exp,
        }
    }

    /// [`DMat::product`]'s integers in fixed width (`None`: something does
    /// not fit; then the `BigInt` path decides).
    fn product_fixed(
        &self,
        other: &DMat,
        rows: Option<&[bool]>,
        inner: Option<&[bool]>,
    ) -> Option<Vec<BigInt>> {
        let o = fx_all(&other.num)?;
        let n = other.cols;
        let mut acc = vec![Fx::ZERO; n];
        let mut num = Vec::with_capacity(self.rows * n);
        for i in 0..self.rows {
            if rows.is_some_and(|k| !k[i]) {
                num.extend((0..n).map(|_| BigInt::zero()));
                continue;
            }
            acc.fill(Fx::ZERO);
            for (l, a) in self.row(i).iter().enumerate() {
                if a.is_zero() || inner.is_some_and(|k| !k[l]) {
                    continue;
                }
                let a = Fx::from_big(a)?;
                for (s, b) in acc.iter_mut().zip(&o[l * n..(l + 1) * n]) {
                    if !s.add_mul(&a, b, false) {
                        return None;
                    }
                }
            }
            num.extend(acc.iter().map(Fx::to_big));
        }
        Some(num)
    }

    /// `D self`: rows whose bit is false set to zero.
    pub fn mask_rows(&self, keep: &[bool]) -> DMat {
        assert_eq!(self.rows, keep.len(), "mask length mismatch");
        let mut out = self.clone();
        for (i, &b) in keep.iter().enumerate() {
            if !b {
                for v in &mut out.num[i * self.cols..(i + 1) * self.cols] {
                    *v = BigInt::zero();
                }
            }
        }
        out
    }
    /// `self^T * self` (symmetric).
    pub fn gram(&self) -> DMat {
        self.gram_rows(None)
    }

    /// `self^T D self` with `D` the 0/1 diagonal of `keep` (all rows: `None`).
    pub fn gram_rows(&self, keep: Option<&[bool]>) -> DMat {
        let n = self.cols;
        if let Some(num) = self.gram_fixed(keep) {
            return DMat {
                rows: n,
                cols: n,
                num,
                exp: 2 * self.exp,
            };
        }
        let mut num = vec![BigInt::zero(); n * n];
        for r in 0..self.rows {
            if keep.is_some_and(|k| !k[r]) {
                continue;
            }
            let row = self.row(r);
            for i in 0..n {
                if row[i].is_zero() {
                    continue;
                }
                for j in i..n {
                    if !row[j].is_zero() {
                        num[i * n + j] += &row[i] * &row[j];
                    }
                }
            }
        }
        for i in 0..n {
            for j in 0..i {
                num[i * n + j] = num[j * n + i].clone();
            }
        }
        DMat {
            rows: n,
            cols: n,
            num,
            exp: 2 * self.exp,
        }
    }
    /// [`DMat::gram_rows`]'s integers in fixed width (`None`: something
    /// does not fit).
    fn gram_fixed(&self, keep: Option<&[bool]>) -> Option<Vec<BigInt>> {
        let n = self.cols;
        let mut acc = vec![Fx::ZERO; n * n];
        let mut row = vec![Fx::ZERO; n];
        for r in 0..self.rows {
            if keep.is_some_and(|k| !k[r]) {
                continue;
            }
            for (x, v) in row.iter_mut().zip(self.row(r)) {
                *x = Fx::from_big(v)?;
            }
            if !fx_add_outer_upper(&mut acc, &row) {
                return None;
            }
        }
        fx_mirror_upper(&mut acc, n);
        Some(acc.iter().map(Fx::to_big).collect())
    }
    pub fn to_dyadics(&self) -> Vec<Vec<Dyadic>> {
        (0..self.rows).map(|i| self.row_dyadics(i)).collect()
    }
    pub fn to_rationals(&self) -> Vec<Vec<BigRational>> {
        (0..self.rows)
            .map(|i| {
                self.row(i)
                    .iter()
                    .map(|n| dyadic_to_rational(n, self.exp))
                    .collect()
            })
            .collect()
    }
    /// The largest bit length of an entry's integer part (for reports).
    pub fn max_bits(&self) -> u64 {
        self.num.iter().map(|n| n.bits()).max().unwrap_or(0)
    }
}

impl DVec {
    /// The largest bit length of an entry's integer part (for reports).
    pub fn max_bits(&self) -> u64 {
        self.num.iter().map(|n| n.bits()).max().unwrap_or(0)
    }
}

fn dot_ints(a: &[BigInt], b: &[BigInt]) -> BigInt {
    if let Some(v) = dot_ints_fixed(a, b) {
        return v;
    }
    let mut acc = BigInt::zero();
    for (x, y) in a.iter().zip(b) {
        if !x.is_zero() && !y.is_zero() {
            acc += x * y;
        }
    }
    acc
}

/// [`dot_ints`] in fixed width (`None`: something does not fit).
fn dot_ints_fixed(a: &[BigInt], b: &[BigInt]) -> Option<BigInt> {
    let mut acc = Fx::ZERO;
    for (x, y) in a.iter().zip(b) {
        if !acc.add_mul(&Fx::from_big(x)?, &Fx::from_big(y)?, false) {
            return None;
        }
    }
    Some(acc.to_big())
}

/// The determinant of a square integer matrix by fraction-free (Bareiss)
/// elimination: every division is exact, no rational ever appears.
pub fn determinant(m: &[BigInt], n: usize) -> BigInt {
    assert_eq!(m.len(), n * n);
    let mut a = m.to_vec();
    let mut prev = BigInt::one();
    let mut negate = false;
    for k in 0..n {
        let Some(p) = (k..n).find(|&r| !a[r * n + k].is_zero()) else {
            return BigInt::zero();
        };
        if p != k {
            for c in 0..n {
                a.swap(k * n + c, p * n + c);
            }
            negate = !negate;
        }
        for i in (k + 1)..n {
            for j in (k + 1)..n {
                a[i * n + j] =
                    (&a[i * n + j] * &a[k * n + k] - &a[k * n + j] * &a[i * n + k]) / &prev;
            }
            a[i * n + k] = BigInt::zero();
        }
        prev = a[k * n + k].clone();
    }
    if negate {
        -prev
    } else {
        prev
    }
}

/// The Mersenne prime `2^61 - 1`, the modulus of [`determinant_nonzero`]'s
/// screen.
const MOD_P: u64 = (1 << 61) - 1;

/// `x mod MOD_P`, in `[0, MOD_P)`, for any `x < 2^128`: as `2^61 = 1` mod
/// the Mersenne prime, `x = hi 2^61 + lo` reduces to `hi + lo` (twice:
/// below `2^68`, then below `2^61 + 2^7`), and one subtraction ends it.
/// (The `%` of a `u128` is a slow library call.)
pub fn reduce_mod_p(x: u128) -> u64 {
    let p = MOD_P as u128;
    let x = (x & p) + (x >> 61);
    let x = ((x & p) + (x >> 61)) as u64;
    if x >= MOD_P {
        x - MOD_P
    } else {
        x
    }
}

/// `a b mod MOD_P` for residues `a, b < MOD_P`.
fn mul_mod_p(a: u64, b: u64) -> u64 {
    reduce_mod_p(a as u128 * b as u128)
}

/// `v mod MOD_P`, in `[0, MOD_P)`.
pub fn residue(v: &BigInt) -> u64 {
    let mut r: u64 = 0;
    for d in v.magnitude().iter_u64_digits().rev() {
        // r < 2^61, so r 2^64 + d < 2^125.
        r = reduce_mod_p(((r as u128) << 64) | d as u128);
    }
    if v.sign() == Sign::Minus && r != 0 {
        MOD_P - r
    } else {
        r
    }
}

/// Whether the `n x n` matrix of residues `m` (row-major, entries below
/// `MOD_P`; overwritten) has a determinant that is nonzero mod `MOD_P`.
/// Elimination without division: each step `row_i <- piv row_i - f row_k`
/// multiplies the determinant by `piv`, nonzero mod the prime, and a row
/// swap negates it; so the determinant is nonzero mod `MOD_P` exactly when
/// every column finds a nonzero pivot. If it is, the integer determinant
/// (which it reduces) is nonzero.
pub fn det_nonzero_mod_p(m: &mut [u64], n: usize) -> bool {
    let mul = mul_mod_p;
    for k in 0..n {
        let Some(r) = (k..n).find(|&r| m[r * n + k] != 0) else {
            return false;
        };
        if r != k {
            for c in 0..n {
                m.swap(k * n + c, r * n + c);
            }
        }
        let piv = m[k * n + k];
        for i in k + 1..n {
            let f = m[i * n + k];
            if f == 0 {
                continue;
            }
            for j in k..n {
                let (a, b) = (mul(m[i * n + j], piv), mul(m[k * n + j], f));
                m[i * n + j] = if a >= b { a - b } else { a + MOD_P - b };
            }
        }
    }
    true
}

/// Whether the determinant of the `n x n` integer matrix `m` is nonzero:
/// nonzero mod the prime `MOD_P` settles it (a zero determinant is zero
/// mod every prime); otherwise the exact [`determinant`] decides.
pub fn determinant_nonzero(m: &[BigInt], n: usize) -> bool {
    let mut r: Vec<u64> = m.iter().map(residue).collect();
    det_nonzero_mod_p(&mut r, n) || !determinant(m, n).is_zero()
}

/// Solves `Q x = b` for a square integer matrix by Cramer's rule with
/// fraction-free determinants: `x = u / d` with integers `u` and `d > 0`
/// (not reduced). `None` when `Q` is singular.
pub fn solve_integer_scaled(q: &[BigInt], n: usize, b: &[BigInt]) -> Option<(Vec<BigInt>, BigInt)> {
    let det = determinant(q, n);
    if det.is_zero() {
        return None;
    }
    let sign = if det.is_negative() { -1 } else { 1 };
    let u = (0..n)
        .map(|i| {
            let mut qi = q.to_vec();
            for r in 0..n {
                qi[r * n + i] = b[r].clone();
            }
            determinant(&qi, n) * sign
        })
        .collect();
    Some((u, det * sign))
}

/// Solves `Q x = b` exactly for a square integer matrix `Q` by fraction-free
/// (Bareiss) elimination. Returns `None` when `Q` is singular.
pub fn solve_integer_system(q: &[BigInt], n: usize, b: &[BigInt]) -> Option<Vec<BigRational>> {
    assert_eq!(q.len(), n * n);
    assert_eq!(b.len(), n);
    // Augmented matrix [Q | b].
    let w = n + 1;
    let mut m: Vec<BigInt> = Vec::with_capacity(n * w);
    for i in 0..n {
        m.extend_from_slice(&q[i * n..(i + 1) * n]);
        m.push(b[i].clone());
    }
    let mut prev = BigInt::one();
    for k in 0..n {
        // Pivot: any nonzero entry in column k at or below row k.
        let p = (k..n).find(|&r| !m[r * w + k].is_zero())?;
        if p != k {
            for c in 0..w {
                m.swap(k * w + c, p * w + c);
            }
        }
        let pivot = m[k * w + k].clone();
        for i in (k + 1)..n {
            let lead = m[i * w + k].clone();
            for j in (k + 1)..w {
                let v = (&m[i * w + j] * &pivot - &m[k * w + j] * &lead) / &prev;
                m[i * w + j] = v;
            }
            m[i * w + k] = BigInt::zero();
        }
        prev = pivot;
    }
    // Back substitution in rationals.
    let mut x = vec![BigRational::zero(); n];
    for i in (0..n).rev() {
        let mut acc = BigRational::from_integer(m[i * w + n].clone());
        for j in (i + 1)..n {
            acc -= BigRational::from_integer(m[i * w + j].clone()) * &x[j];
        }
        x[i] = acc / BigRational::from_integer(m[i * w + i].clone());
    }
    Some(x)
}

/// An upper bound of the Euclidean norm of the dyadic vector `num 2^exp`,
/// within about `2^-64` of it relative: the integer square root (rounded
/// up) of the squared norm scaled by `2^128` (a short numerator such as
/// `(1, 1)` would otherwise be rounded from `sqrt 2` up to 2).
pub fn norm_up(num: &[BigInt], exp: i64) -> Dyadic {
    let n2: BigInt = num.iter().map(|v| v * v).sum::<BigInt>() << 128usize;
    let mut s = n2.sqrt();
    if &s * &s < n2 {
        s += 1;
    }
    Dyadic {
        num: s,
        exp: exp - 64,
    }
    .round_up(96)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Order and equality agree with the rationals, also for equal values
    /// written with other exponents, values one unit apart, and values whose
    /// top bits coincide; `round_up` / `round_down` bracket the value with
    /// at most `bits + 1` bits.
    #[test]
    fn order_and_rounding_agree_with_the_rationals() {
        let nums = [
            0i64,
            1,
            -1,
            2,
            3,
            -3,
            4,
            7,
            8,
            -8,
            255,
            256,
            257,
            -257,
            (1 << 40) + 1,
            -(1 << 52),
        ];
        let exps = [-9i64, -2, -1, 0, 1, 3];
        let values: Vec<Dyadic> = nums
            .iter()
            .flat_map(|&n| {
                exps.iter().map(move |&e| Dyadic {
                    num: BigInt::from(n),
                    exp: e,
                })
            })
            .collect();
        for x in &values {
            for y in &values {
                let (rx, ry) = (x.to_rational(), y.to_rational());
                assert_eq!(x.cmp(y), rx.cmp(&ry), "{x:?} vs {y:?}");
                assert_eq!(x == y, rx == ry);
            }
            for bits in [1u64, 2, 3, 8, 60] {
                let (d, u) = (x.round_down(bits), x.round_up(bits));
                assert!(d.to_rational() <= x.to_rational() && x.to_rational() <= u.to_rational());
                assert!(
                    d.num.bits() <= bits + 1 && u.num.bits() <= bits + 1,
                    "{x:?} {bits}"
                );
                // At most one unit of the last place away.
                let ulp = |v: &Dyadic| dyadic_to_rational(&BigInt::one(), v.exp);
                assert!(x.to_rational() - d.to_rational() < ulp(&d) || x.num.bits() <= bits);
                assert!(u.to_rational() - x.to_rational() < ulp(&u) || x.num.bits() <= bits);
            }
        }
    }

    /// The Mersenne folding of `reduce_mod_p` equals `%` on the edges of
    /// its range and on pseudo-random values of every size; `residue` of
    /// big integers of either sign equals the rational remainder.
    #[test]
    fn reduction_mod_the_prime_equals_the_remainder() {
        let p = MOD_P as u128;
        let mut xs = vec![
            0,
            1,
            p - 1,
            p,
            p + 1,
            2 * p,
            2 * p - 1,
            u128::MAX,
            u128::MAX - 1,
        ];
        xs.extend((0..128).map(|b| 1u128 << b));
        xs.extend((1..128).map(|b| (1u128 << b) - 1));
        xs.extend((0..64).map(|i| (p - 1) * (p - 1) - i));
        let mut state = 0x9e37_79b9_7f4a_7c15u128;
        for _ in 0..20_000 {
            state = state.wrapping_mul(0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645) ^ (state >> 7);
            xs.push(state >> (state % 128) as u32);
        }
        for x in xs {
            assert_eq!(reduce_mod_p(x) as u128, x % p, "x = {x}");
        }
        for (a, b) in [(p - 1, p - 1), (p - 1, 2), (12345, p - 7)] {
            assert_eq!(mul_mod_p(a as u64, b as u64) as u128, a * b % p);
        }
        let big = BigInt::from(p) * BigInt::from(u128::MAX) + BigInt::from(987654321u64);
        for v in [
            big.clone(),
            -big,
            BigInt::from(-1),
            BigInt::from(p),
            BigInt::zero(),
        ] {
            let r = BigInt::from(residue(&v));
            let want = ((&v % BigInt::from(p)) + BigInt::from(p)) % BigInt::from(p);
            assert_eq!(r, want, "v = {v}");
        }
    }

    /// Sums and differences equal the rational ones, over the smaller
    /// exponent, for every order of the exponents and zero operands.
    #[test]
    fn sums_and_differences_are_exact() {
        let nums = [0i64, 1, -1, 3, -5, 1 << 40, -(1 << 62), 12345];
        let exps = [-70i64, -3, 0, 2, 64];
        for &a in &nums {
            for &ea in &exps {
                for &b in &nums {
                    for &eb in &exps {
                        let x = Dyadic {
                            num: BigInt::from(a) * BigInt::from(a),
                            exp: ea,
                        };
                        let y = Dyadic {
                            num: BigInt::from(b),
                            exp: eb,
                        };
                        let (s, d) = (x.add(&y), x.sub(&y));
                        assert_eq!(s.to_rational(), x.to_rational() + y.to_rational());
                        assert_eq!(d.to_rational(), x.to_rational() - y.to_rational());
                        assert_eq!((s.exp, d.exp), (ea.min(eb), ea.min(eb)));
                    }
                }
            }
        }
    }

    #[test]
    fn directed_rounding_brackets_the_value() {
        for (num, exp) in [
            (12345i64, -3i64),
            (-12345, 7),
            (1 << 40, 0),
            (-(1 << 40) - 1, -9),
            (5, 0),
            (0, 4),
        ] {
            let d = Dyadic {
                num: BigInt::from(num),
                exp,
            };
            for bits in [1u64, 3, 8, 64] {
                let (lo, hi) = (d.round_down(bits), d.round_up(bits));
                assert!(lo <= d && d <= hi, "{num} 2^{exp} at {bits} bits");
                assert!(lo.num.bits() <= bits + 1 && hi.num.bits() <= bits + 1);
                // At most one unit of the last place apart.
                let ulp = Dyadic {
                    num: BigInt::from(1),
                    exp: lo.exp.min(hi.exp).max(exp),
                };
                assert!(hi.sub(&lo) <= ulp.add(&ulp), "{num} 2^{exp} at {bits} bits");
            }
        }
    }

    #[test]
    fn f64_parts_are_exact() {
        for &v in &[1.0, -1.5, 0.1, 3e-310, f64::MAX, -f64::MIN_POSITIVE, 0.0] {
            let r = f64_to_rational(v).unwrap();
            // Converting back through the exact rational must round-trip.
            let (m, e) = f64_parts(v).unwrap();
            assert_eq!(r, dyadic_to_rational(&BigInt::from(m), e as i64));
            if v != 0.0 {
                assert!(m % 2 != 0, "mantissa is odd after stripping");
            }
        }
        assert_eq!(
            f64_to_rational(0.1).unwrap(),
            BigRational::new(BigInt::from(3602879701896397u64), BigInt::one() << 55usize)
        );
        assert!(f64_parts(f64::NAN).is_none());
        assert!(f64_parts(f64::INFINITY).is_none());
    }

    #[test]
    fn cramer_matches_bareiss() {
        let q: Vec<BigInt> = [2, 1, 0, 1, 3, -1, 0, -1, 4]
            .iter()
            .map(|&v| BigInt::from(v))
            .collect();
        let b: Vec<BigInt> = [1, -2, 5].iter().map(|&v| BigInt::from(v)).collect();
        assert_eq!(determinant(&q, 3), BigInt::from(18));
        let (u, d) = solve_integer_scaled(&q, 3, &b).unwrap();
        let x = solve_integer_system(&q, 3, &b).unwrap();
        for (ui, xi) in u.iter().zip(&x) {
            assert_eq!(&BigRational::new(ui.clone(), d.clone()), xi);
        }
        let p: Vec<BigInt> = [0, 1, 1, 0].iter().map(|&v| BigInt::from(v)).collect();
        assert_eq!(determinant(&p, 2), BigInt::from(-1));
        let s: Vec<BigInt> = [1, 2, 2, 4].iter().map(|&v| BigInt::from(v)).collect();
        assert!(solve_integer_scaled(&s, 2, &b[..2]).is_none());
    }

    #[test]
    fn bareiss_solves_and_detects_singular() {
        let q: Vec<BigInt> = [2, 1, 1, 3].iter().map(|&v| BigInt::from(v)).collect();
        let b: Vec<BigInt> = [1, 2].iter().map(|&v| BigInt::from(v)).collect();
        let x = solve_integer_system(&q, 2, &b).unwrap();
        assert_eq!(x[0], BigRational::new(1.into(), 5.into()));
        assert_eq!(x[1], BigRational::new(3.into(), 5.into()));
        let s: Vec<BigInt> = [1, 2, 2, 4].iter().map(|&v| BigInt::from(v)).collect();
        assert!(solve_integer_system(&s, 2, &b).is_none());
        // A zero pivot that needs a row swap.
        let p: Vec<BigInt> = [0, 1, 1, 0].iter().map(|&v| BigInt::from(v)).collect();
        let x = solve_integer_system(&p, 2, &b).unwrap();
        assert_eq!(x[0], BigRational::from_integer(2.into()));
        assert_eq!(x[1], BigRational::from_integer(1.into()));
    }
}
