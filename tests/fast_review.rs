//! Edge cases of the fast tiers' scalars (src/certifier/fast/real.rs) that
//! the proptests of `fast_tiers.rs` rarely reach: dyadic conversions next to
//! binade boundaries, both signs (`widen_rel` steps each end outward), and
//! interval operations on zeros, the least subnormal and infinities, where
//! each bound must be NaN or hold.

use hvcert::certifier::fast::real::{approx_f64, Iv, Real};
use hvcert::exact::dyadic::Dyadic;
use num_bigint::BigInt;
use num_rational::BigRational as Q;
use num_traits::{One, Signed, ToPrimitive};

fn q(x: f64) -> Q {
    Q::from_float(x).expect("finite")
}
fn below(lo: f64, v: &Q) -> bool {
    lo == f64::NEG_INFINITY || (lo.is_finite() && q(lo) <= *v)
}
fn above(hi: f64, v: &Q) -> bool {
    hi == f64::INFINITY || (hi.is_finite() && q(hi) >= *v)
}

#[test]
fn dyadics_next_to_binade_boundaries() {
    let mut worst = 0f64;
    for bits in [64u32, 65, 70, 100, 128, 129, 200] {
        let one = BigInt::one() << bits;
        let bases = [one.clone(), &one + (BigInt::one() << (bits - 53)) * 3 / 2];
        for j in 0i64..300 {
            for base in &bases {
                let deltas = [
                    BigInt::from(j),
                    -BigInt::from(j),
                    BigInt::from(j) << (bits - 60),
                    -(BigInt::from(j) << (bits - 60)),
                ];
                for delta in &deltas {
                    for sign in [1i64, -1] {
                        for exp in [-1100i64, -1000, -300, 0, 300, 880] {
                            let num = (base + delta) * sign;
                            let d = Dyadic {
                                num: num.clone(),
                                exp,
                            };
                            let v = d.to_rational();
                            let (lo, hi) = (f64::dyadic(&d, false), f64::dyadic(&d, true));
                            assert!(below(lo, &v) && above(hi, &v), "{d:?}: [{lo:e}, {hi:e}]");
                            let a = approx_f64(&num, exp);
                            if a.is_finite() && a != 0.0 {
                                let r = ((q(a) - &v) / &v).abs().to_f64().expect("small");
                                worst = worst.max(r);
                            }
                        }
                    }
                }
            }
        }
    }
    // The documented relative error of approx_f64.
    assert!(worst <= 2f64.powi(-52), "{worst:e}");
}

#[test]
fn interval_operations_on_special_values() {
    let eta = f64::from_bits(1);
    let vals = [
        f64::NEG_INFINITY,
        -2.0,
        -1.0,
        -eta,
        -0.0,
        0.0,
        eta,
        1.0,
        3.0,
        f64::INFINITY,
    ];
    let finite: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
    let ok = |b: f64, v: &Q, up: bool| b.is_nan() || if up { above(b, v) } else { below(b, v) };
    for &a in &vals {
        for &b in vals.iter().filter(|&&b| a <= b) {
            let x = Iv { lo: a, hi: b };
            let (s, mag, mig) = (x.sqr(), x.mag(), x.mig());
            for &c in &vals {
                for &d in vals.iter().filter(|&&d| c <= d) {
                    let y = Iv { lo: c, hi: d };
                    let p = x.mul(&y);
                    for &px in finite.iter().filter(|&&v| a <= v && v <= b) {
                        for &py in finite.iter().filter(|&&v| c <= v && v <= d) {
                            let v = q(px) * q(py);
                            assert!(
                                ok(p.lo, &v, false) && ok(p.hi, &v, true),
                                "{x:?} * {y:?} = {p:?}"
                            );
                            if c == d {
                                let sc = x.scale(&c);
                                assert!(ok(sc.lo, &v, false) && ok(sc.hi, &v, true), "{x:?} * {c}");
                            }
                        }
                    }
                }
            }
            for &px in finite.iter().filter(|&&v| a <= v && v <= b) {
                let (v, m) = (q(px) * q(px), q(px).abs());
                assert!(ok(s.lo, &v, false) && ok(s.hi, &v, true), "{x:?}^2 = {s:?}");
                assert!(ok(mag, &m, true) && ok(mig, &m, false), "|{x:?}|");
            }
        }
    }
}
