//! Enclosures of rho_d: the trusted rational one against the MPFR one and
//! against the reference values of SPEC §1.

use hvcert::certifier::rho_mpfr::{rho_f64_enclosure, rho_rational_enclosure};
use hvcert::exact::dyadic::f64_to_rational;
use hvcert::exact::rho::{pi_enclosure, rho_enclosure, RatInterval};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Num, One, Zero};

/// SPEC §1 (rho_2 = 1/pi = 0.3183098861837907, the same binary64 value).
const REFERENCE: [f64; 5] = [
    0.0,
    std::f64::consts::FRAC_1_PI,
    0.49373109020037154,
    0.6048257201129446,
    0.6809535333557364,
];

fn pow2_neg(n: usize) -> BigRational {
    BigRational::new(BigInt::one(), BigInt::one() << n)
}

fn rat(num: &str, den_pow10: u32) -> BigRational {
    BigRational::new(
        BigInt::from_str_radix(num, 10).unwrap(),
        BigInt::from(10).pow(den_pow10),
    )
}

fn mpfr_interval(d: usize, prec: u32) -> RatInterval {
    let (lo, hi) = rho_rational_enclosure(d, prec);
    RatInterval { lo, hi }
}

/// `[prev(v), next(v)]` for a positive binary64 `v`: the values within one ulp.
fn ulp_ball(v: f64) -> RatInterval {
    let bits = v.to_bits();
    RatInterval {
        lo: f64_to_rational(f64::from_bits(bits - 1)).unwrap(),
        hi: f64_to_rational(f64::from_bits(bits + 1)).unwrap(),
    }
}

#[test]
fn enclosures_agree_with_each_other_and_the_reference() {
    let w = pow2_neg(100);
    for d in 1..=5 {
        let ex = rho_enclosure(d, &w);
        let mp = mpfr_interval(d, 200);
        let (flo, fhi) = rho_f64_enclosure(d);
        let fl = RatInterval {
            lo: f64_to_rational(flo).unwrap(),
            hi: f64_to_rational(fhi).unwrap(),
        };
        for iv in [&ex, &mp, &fl] {
            assert!(iv.lo <= iv.hi, "d = {d}: {iv:?}");
        }
        assert!(ex.intersects(&mp) && ex.intersects(&fl), "d = {d}");
        assert!(mp.width() < pow2_neg(180), "d = {d}");
        assert!(
            fl.width() <= f64_to_rational(f64::EPSILON).unwrap(),
            "d = {d}"
        );
        if d == 1 {
            for iv in [&ex, &mp, &fl] {
                assert!(iv.contains(&BigRational::zero()));
            }
        } else {
            let reference = ulp_ball(REFERENCE[d - 1]);
            for iv in [&ex, &mp, &fl] {
                assert!(iv.intersects(&reference), "d = {d}: {iv:?}");
            }
        }
    }
}

#[test]
fn rho_1_is_zero_and_rho_2_is_one_over_pi() {
    let w = pow2_neg(300);
    let r1 = rho_enclosure(1, &w);
    assert_eq!(
        r1,
        RatInterval {
            lo: BigRational::zero(),
            hi: BigRational::zero()
        }
    );
    let pi = pi_enclosure(&w);
    let inv_pi = RatInterval {
        lo: pi.hi.recip(),
        hi: pi.lo.recip(),
    };
    let r2 = rho_enclosure(2, &w);
    // Both contain 1/pi and r2 is at most w wide.
    assert!(r2.intersects(&inv_pi));
    assert!(&inv_pi.lo - &w <= r2.lo && r2.hi <= &inv_pi.hi + &w);
}

#[test]
fn width_requirement_and_nesting() {
    for d in 1..=8 {
        let mut previous: Vec<RatInterval> = Vec::new();
        for bits in [100, 200, 300] {
            let w = pow2_neg(bits);
            let iv = rho_enclosure(d, &w);
            assert!(iv.lo <= iv.hi && iv.width() <= w, "d = {d}, 2^-{bits}");
            for p in &previous {
                assert!(p.intersects(&iv), "d = {d}, 2^-{bits}");
            }
            previous.push(iv);
        }
        // A coarse width is respected too.
        let coarse = BigRational::new(BigInt::from(1), BigInt::from(3));
        assert!(rho_enclosure(d, &coarse).width() <= coarse);
    }
}

#[test]
fn deep_networks_rho_increasing_below_one() {
    let w = pow2_neg(60);
    let ivs: Vec<RatInterval> = (1..=20).map(|d| rho_enclosure(d, &w)).collect();
    for (i, pair) in ivs.windows(2).enumerate() {
        assert!(pair[0].hi < pair[1].lo, "rho_{} < rho_{}", i + 1, i + 2);
    }
    assert!(ivs[19].hi < BigRational::one());
    for (i, iv) in ivs.iter().enumerate() {
        assert!(iv.intersects(&mpfr_interval(i + 1, 120)), "d = {}", i + 1);
    }
}

#[test]
fn pi_enclosure_matches_known_digits() {
    let t20 = rat("314159265358979323846", 20);
    let t35 = rat("314159265358979323846264338327950288", 35);
    for bits in [80, 130, 300] {
        let w = pow2_neg(bits);
        let pi = pi_enclosure(&w);
        assert!(pi.lo <= pi.hi && pi.width() <= w);
        assert!(pi.lo <= &t20 + rat("1", 20) && pi.hi >= t20);
        assert!(pi.lo <= &t35 + rat("1", 35) && pi.hi >= t35);
    }
    // Narrow enough to exclude the neighbouring truncations.
    let pi = pi_enclosure(&pow2_neg(130));
    assert!(pi.lo > t35 && pi.hi < &t35 + rat("1", 35));
}
