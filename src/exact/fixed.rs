//! Fixed-width exact integers: a fast path for the checker's hot integer
//! kernels (issue 14).
//!
//! [`FxN<L>`] is a signed integer of at most `L` 64-bit limbs kept inline:
//! sign and magnitude, no allocation. [`Fx`] (`L` = [`LIMBS`], 512 bits) is
//! the working width of the kernels; [`FxS`] (`L` = [`SHORT_LIMBS`], 256
//! bits, 40 bytes instead of 72) is how the engine stores the entries of
//! its matrices when every entry fits (see `exact::fxmat`), so that they
//! take less memory and cache. Every operation is
//! exact or refuses: one whose result (or intermediate product) would not
//! fit returns `None`, and the caller then redoes the whole computation
//! with `BigInt`. So a kernel with an `Fx` path returns exactly what its
//! `BigInt` path returns, only sooner; nothing is rounded, nothing wraps.
//! The property tests in `tests/fixed_width.rs` compare every operation
//! and every kernel that uses it with the `BigInt` path.

use num_bigint::{BigInt, BigUint, Sign};

/// Limbs of an [`Fx`]: magnitudes below `2^(64 * LIMBS)`. No [`FxN`] is
/// wider.
pub const LIMBS: usize = 8;

/// Limbs of an [`FxS`], the stored width of matrix entries.
pub const SHORT_LIMBS: usize = 4;

/// A signed integer `(-1)^neg * mag` with `|mag| < 2^(64 L)`: `len` limbs
/// in use (little-endian, the top one nonzero), zero as `len = 0`, `neg =
/// false`. `L` is at most [`LIMBS`].
#[derive(Clone, Copy, Debug)]
pub struct FxN<const L: usize> {
    neg: bool,
    len: u8,
    mag: [u64; L],
}

/// The kernels' working width (512 bits).
pub type Fx = FxN<LIMBS>;

/// The stored width of matrix entries (256 bits).
pub type FxS = FxN<SHORT_LIMBS>;

impl<const L: usize> PartialEq for FxN<L> {
    fn eq(&self, o: &Self) -> bool {
        self.neg == o.neg && self.len == o.len && self.limbs() == o.limbs()
    }
}
impl<const L: usize> Eq for FxN<L> {}

impl<const L: usize> Default for FxN<L> {
    fn default() -> Self {
        Self::ZERO
    }
}

impl<const L: usize> FxN<L> {
    pub const ZERO: Self = {
        assert!(L >= 1 && L <= LIMBS, "FxN width out of range");
        FxN {
            neg: false,
            len: 0,
            mag: [0; L],
        }
    };

    fn limbs(&self) -> &[u64] {
        &self.mag[..self.len as usize]
    }

    /// The same value in another width, if it fits.
    #[inline]
    pub fn resize<const M: usize>(&self) -> Option<FxN<M>> {
        if self.len as usize > M {
            return None;
        }
        let mut out = FxN::<M>::ZERO;
        out.mag[..self.len as usize].copy_from_slice(self.limbs());
        out.len = self.len;
        out.neg = self.neg;
        Some(out)
    }

    /// The same value in the working width (always fits).
    #[inline]
    pub fn wide(&self) -> Fx {
        self.resize().expect("no FxN is wider than Fx")
    }

    /// The value of a `BigInt`, if it fits.
    #[inline]
    pub fn from_big(v: &BigInt) -> Option<Self> {
        let digits = v.magnitude().iter_u64_digits();
        if digits.len() > L {
            return None;
        }
        let mut out = Self::ZERO;
        for (i, d) in digits.enumerate() {
            out.mag[i] = d;
            out.len = i as u8 + 1;
        }
        out.neg = v.sign() == Sign::Minus;
        out.normalize();
        Some(out)
    }

    /// `(-1)^neg * sum_i digits_i 2^(64 i)` (little-endian 64-bit digits,
    /// leading zeros allowed), if it fits.
    pub fn from_digits(digits: &[u64], neg: bool) -> Option<Self> {
        let n = digits.iter().rposition(|&d| d != 0).map_or(0, |i| i + 1);
        if n > L {
            return None;
        }
        let mut out = Self::ZERO;
        out.mag[..n].copy_from_slice(&digits[..n]);
        out.len = n as u8;
        out.neg = neg;
        out.normalize();
        Some(out)
    }

    /// The value of an `i64`.
    pub fn from_i64(v: i64) -> Self {
        let mut out = Self::ZERO;
        out.mag[0] = v.unsigned_abs();
        out.len = 1;
        out.neg = v < 0;
        out.normalize();
        out
    }

    /// The same value as a `BigInt`.
    pub fn to_big(&self) -> BigInt {
        let sign = if self.neg { Sign::Minus } else { Sign::Plus };
        match self.len {
            0 => return BigInt::from(0),
            // Most entries of the checker's matrices take one or two limbs.
            1 => return BigInt::from_biguint(sign, BigUint::from(self.mag[0])),
            2 => {
                let v = (u128::from(self.mag[1]) << 64) | u128::from(self.mag[0]);
                return BigInt::from_biguint(sign, BigUint::from(v));
            }
            _ => {}
        }
        let mut digits = [0u32; 2 * LIMBS];
        for (i, &l) in self.limbs().iter().enumerate() {
            digits[2 * i] = l as u32;
            digits[2 * i + 1] = (l >> 32) as u32;
        }
        let m = BigUint::from_slice(&digits[..2 * self.len as usize]);
        BigInt::from_biguint(sign, m)
    }

    pub fn is_zero(&self) -> bool {
        self.len == 0
    }

    /// The magnitude's 64-bit digits, least significant first (none for
    /// zero; the last one nonzero).
    pub fn digits(&self) -> &[u64] {
        self.limbs()
    }

    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// Bits of the magnitude (0 for zero), as `BigInt::bits`.
    pub fn bits(&self) -> u64 {
        match self.limbs().last() {
            None => 0,
            Some(&top) => 64 * (self.len as u64 - 1) + (64 - top.leading_zeros() as u64),
        }
    }

    pub fn sign(&self) -> Sign {
        if self.len == 0 {
            Sign::NoSign
        } else if self.neg {
            Sign::Minus
        } else {
            Sign::Plus
        }
    }

    pub fn negated(mut self) -> Self {
        if self.len != 0 {
            self.neg = !self.neg;
        }
        self
    }

    /// Strips zero top limbs; zero is never negative.
    #[inline]
    fn normalize(&mut self) {
        while self.len > 0 && self.mag[self.len as usize - 1] == 0 {
            self.len -= 1;
        }
        if self.len == 0 {
            self.neg = false;
        }
    }

    /// `self + sign * m` for a magnitude `m` (`sign`: negative when
    /// `neg`), exactly; `false` (and `self` unspecified) when the result
    /// does not fit.
    #[inline]
    fn add_mag(&mut self, m: &[u64], neg: bool) -> bool {
        if m.is_empty() {
            return true;
        }
        // A wider operand (`m`'s top limb is nonzero): refuse rather than
        // reason about cancellation; the caller falls back.
        if m.len() > L {
            return false;
        }
        if self.len == 0 {
            self.mag[..m.len()].copy_from_slice(m);
            self.len = m.len() as u8;
            self.neg = neg;
            return true;
        }
        if self.neg == neg {
            // Same signs: add magnitudes.
            let n = (self.len as usize).max(m.len());
            let mut carry = false;
            for i in 0..n {
                let a = if i < self.len as usize {
                    self.mag[i]
                } else {
                    0
                };
                let b = if i < m.len() { m[i] } else { 0 };
                let (s1, c1) = a.overflowing_add(b);
                let (s2, c2) = s1.overflowing_add(carry as u64);
                self.mag[i] = s2;
                carry = c1 || c2;
            }
            self.len = n as u8;
            if carry {
                if n == L {
                    return false;
                }
                self.mag[n] = 1;
                self.len += 1;
            }
            return true;
        }
        // Opposite signs: subtract the smaller magnitude from the larger.
        let n = (self.len as usize).max(m.len());
        let self_larger = cmp_mag(self.limbs(), m) != std::cmp::Ordering::Less;
        let mut borrow = false;
        for i in 0..n {
            let a = if i < self.len as usize {
                self.mag[i]
            } else {
                0
            };
            let b = if i < m.len() { m[i] } else { 0 };
            let (x, y) = if self_larger { (a, b) } else { (b, a) };
            let (d1, b1) = x.overflowing_sub(y);
            let (d2, b2) = d1.overflowing_sub(borrow as u64);
            self.mag[i] = d2;
            borrow = b1 || b2;
        }
        debug_assert!(!borrow);
        self.len = n as u8;
        if !self_larger {
            self.neg = neg;
        }
        self.normalize();
        true
    }

    /// `self + o`, exactly (`None` when it does not fit).
    pub fn checked_add<const M: usize>(mut self, o: &FxN<M>) -> Option<Self> {
        self.add_mag(o.limbs(), o.neg).then_some(self)
    }

    /// `self - o`, exactly (`None` when it does not fit).
    pub fn checked_sub<const M: usize>(mut self, o: &FxN<M>) -> Option<Self> {
        self.add_mag(o.limbs(), !o.neg && o.len != 0)
            .then_some(self)
    }

    /// `self * o`, exactly (`None` when it does not fit).
    pub fn checked_mul<const M: usize>(&self, o: &FxN<M>) -> Option<Self> {
        let mut out = Self::ZERO;
        out.add_mul(self, o, false).then_some(out)
    }

    /// `self += a * b` (`self -= a * b` when `sub`), exactly: `false` when
    /// the product or the result does not fit (then `self` is
    /// unspecified and the caller must fall back to `BigInt`).
    #[inline]
    #[must_use]
    pub fn add_mul<const A: usize, const B: usize>(
        &mut self,
        a: &FxN<A>,
        b: &FxN<B>,
        sub: bool,
    ) -> bool {
        let (la, lb) = (a.len as usize, b.len as usize);
        if la == 0 || lb == 0 {
            return true;
        }
        // The product has `la + lb - 1` or `la + lb` limbs.
        if la + lb > L + 1 {
            return false;
        }
        let mut p = [0u64; LIMBS + 1];
        for (i, &x) in a.limbs().iter().enumerate() {
            let mut carry: u64 = 0;
            for (j, &y) in b.limbs().iter().enumerate() {
                let t = (x as u128) * (y as u128) + p[i + j] as u128 + carry as u128;
                p[i + j] = t as u64;
                carry = (t >> 64) as u64;
            }
            p[i + lb] = carry;
        }
        let mut lp = la + lb;
        while lp > 0 && p[lp - 1] == 0 {
            lp -= 1;
        }
        if lp > L {
            return false;
        }
        self.add_mag(&p[..lp], a.neg ^ b.neg ^ sub)
    }
}

fn cmp_mag(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    for i in (0..a.len()).rev() {
        if a[i] != b[i] {
            return a[i].cmp(&b[i]);
        }
    }
    std::cmp::Ordering::Equal
}

/// Every entry as an [`Fx`], or `None` if one does not fit.
pub fn fx_all(v: &[BigInt]) -> Option<Vec<Fx>> {
    v.iter().map(Fx::from_big).collect()
}

/// `sum_i a_i b_i` in fixed width (`None`: does not fit).
pub fn fx_dot<const A: usize, const B: usize>(a: &[FxN<A>], b: &[FxN<B>]) -> Option<Fx> {
    let mut acc = Fx::ZERO;
    for (x, y) in a.iter().zip(b) {
        if !acc.add_mul(x, y, false) {
            return None;
        }
    }
    Some(acc)
}

/// `acc += row row^T` on the upper triangle of the `n x n` matrix `acc`
/// (`n = row.len()`): `false` (and `acc` unspecified) when an entry does
/// not fit.
pub fn fx_add_outer_upper<const L: usize>(acc: &mut [Fx], row: &[FxN<L>]) -> bool {
    fx_update_outer_upper(acc, row, false)
}

/// `acc += row row^T` (`acc -= row row^T` when `sub`) on the upper
/// triangle, as [`fx_add_outer_upper`].
pub fn fx_update_outer_upper<const L: usize>(acc: &mut [Fx], row: &[FxN<L>], sub: bool) -> bool {
    let n = row.len();
    for i in 0..n {
        for j in i..n {
            if !acc[i * n + j].add_mul(&row[i], &row[j], sub) {
                return false;
            }
        }
    }
    true
}

/// Copies the upper triangle of the `n x n` matrix `acc` to the lower.
pub fn fx_mirror_upper(acc: &mut [Fx], n: usize) {
    for i in 0..n {
        for j in 0..i {
            acc[i * n + j] = acc[j * n + i];
        }
    }
}
