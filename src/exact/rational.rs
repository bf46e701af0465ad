//! Exact rationals as text: parsing (`-3/7`, `0.125`, `1e-3`) and decimal
//! display.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// Parses a decimal or fraction (`-3/7`, `0.125`, `2`, `1e-3`) exactly.
pub fn parse_rational(s: &str) -> Option<BigRational> {
    let s = s.trim();
    if let Some((n, d)) = s.split_once('/') {
        let n: BigInt = n.trim().parse().ok()?;
        let d: BigInt = d.trim().parse().ok()?;
        if d.is_zero() {
            return None;
        }
        return Some(BigRational::new(n, d));
    }
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mant.strip_prefix('+').unwrap_or(mant)),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    if exp.unsigned_abs() > 10_000 {
        return None;
    }
    let digits: BigInt = format!("{int}{frac}").parse().ok()?;
    let scale = exp - frac.len() as i32;
    let ten = BigInt::from(10);
    let mut v = if scale >= 0 {
        BigRational::from_integer(digits * num_traits::pow(ten, scale as usize))
    } else {
        BigRational::new(digits, num_traits::pow(ten, (-scale) as usize))
    };
    if neg {
        v = -v;
    }
    Some(v)
}

/// A rational as a decimal with `digits` significant digits (for display
/// only; exact values are printed as fractions next to it).
pub fn rational_to_decimal(v: &BigRational, digits: usize) -> String {
    if v.is_zero() {
        return "0".to_string();
    }
    let neg = v.is_negative();
    let a = v.abs();
    // Find e with 10^e <= a < 10^(e+1).
    let mut e: i64 = (a.numer().bits() as i64 - a.denom().bits() as i64) * 30103 / 100000;
    let pow10 = |e: i64| -> BigRational {
        if e >= 0 {
            BigRational::from_integer(num_traits::pow(BigInt::from(10), e as usize))
        } else {
            BigRational::new(
                BigInt::one(),
                num_traits::pow(BigInt::from(10), (-e) as usize),
            )
        }
    };
    while pow10(e) > a {
        e -= 1;
    }
    while pow10(e + 1) <= a {
        e += 1;
    }
    let shift = digits as i64 - 1 - e;
    let scaled = &a * pow10(shift);
    // Round half up to an integer.
    let half = BigRational::new(BigInt::one(), BigInt::from(2));
    let mut m = (scaled + half).floor().to_integer();
    if m.to_string().len() > digits {
        m /= 10;
        e += 1;
    }
    let s = m.to_string();
    let (head, tail) = s.split_at(1);
    let tail = tail.trim_end_matches('0');
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(head);
    if !tail.is_empty() {
        out.push('.');
        out.push_str(tail);
    }
    if e != 0 {
        out.push_str(&format!("e{e}"));
    }
    out
}

/// `sqrt(v)` (for `v >= 0`) as a decimal with `digits` significant digits
/// (display only: distances of listed points).
pub fn sqrt_to_decimal(v: &BigRational, digits: usize) -> String {
    if !v.is_positive() {
        return "0".to_string();
    }
    // sqrt(v) ~ 10^(e/2) with e ~ log10(v); keep `digits + 2` digits beyond.
    let gap = (v.denom().bits() as i64 - v.numer().bits() as i64).max(0);
    let s = digits as i64 + 2 + gap * 30103 / 200000 + 1;
    let scale = num_traits::pow(BigInt::from(10), s as usize);
    let n = (v.numer() * &scale * &scale) / v.denom();
    rational_to_decimal(&BigRational::new(n.sqrt(), scale), digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn parses_rationals() {
        assert_eq!(parse_rational("-3/7"), Some(r(-3, 7)));
        assert_eq!(parse_rational("0.125"), Some(r(1, 8)));
        assert_eq!(parse_rational("2"), Some(r(2, 1)));
        assert_eq!(parse_rational("1e-3"), Some(r(1, 1000)));
        assert_eq!(parse_rational("-.5E1"), Some(r(-5, 1)));
        assert_eq!(parse_rational("1/0"), None);
        assert_eq!(parse_rational("abc"), None);
        assert_eq!(parse_rational(""), None);
        assert_eq!(parse_rational("."), None);
        assert_eq!(parse_rational("1e99999999"), None);
    }

    #[test]
    fn formats_decimals() {
        assert_eq!(rational_to_decimal(&r(1, 3), 5), "3.3333e-1");
        assert_eq!(rational_to_decimal(&r(-2, 1), 5), "-2");
        assert_eq!(rational_to_decimal(&r(999999, 1), 3), "1e6");
        assert_eq!(rational_to_decimal(&r(12345, 100), 4), "1.235e2");
        assert_eq!(rational_to_decimal(&r(0, 1), 4), "0");
    }
}
