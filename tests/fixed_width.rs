//! The fixed-width fast paths of the exact kernels (`src/exact/fixed.rs`,
//! issue 14) against plain `BigInt` arithmetic: every `Fx` operation is
//! exact or refuses, and every kernel with a fast path returns exactly
//! what the `BigInt` computation returns, also where the fast path
//! overflows and falls back (values near and past 2^512).

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use hvcert::checker::patterns::{
    a_limbs, column_times_limbs, gram_column_big, gram_column_fixed, gram_column_limbs, limb_sums,
    limb_sums_fx, product_limbs, product_limbs_fx, rank_one_updates, row_status, row_status_fixed,
    row_status_leading, small_corners, wide_limbs,
};
use hvcert::checker::rules::{column_times, independent_with, zero_least_fixed};
use hvcert::exact::dyadic::{determinant, determinant_nonzero};
use hvcert::exact::dyadic::{DMat, DVec};
use hvcert::exact::fixed::{Fx, FxS, LIMBS, SHORT_LIMBS};
use num_bigint::{BigInt, Sign};
use num_traits::{One, Zero};
use proptest::prelude::*;

const BOUND_BITS: u64 = 64 * LIMBS as u64;
const SHORT_BITS: u64 = 64 * SHORT_LIMBS as u64;

/// `+-(2^b + off)` for `b` among `bits` and `off` in `offsets`.
fn edges(
    bits: Vec<u64>,
    offsets: std::ops::RangeInclusive<i64>,
) -> impl Strategy<Value = BigInt> + Clone {
    (prop::sample::select(bits), offsets, any::<bool>()).prop_map(|(b, off, neg)| {
        let v = (BigInt::one() << b as usize) + BigInt::from(off);
        if neg {
            -v
        } else {
            v
        }
    })
}

/// Integers of every size up to a little past the fixed width, with extra
/// weight on the edges: 0, +-1, +-(2^b - 1), +-2^b around 64-bit limbs and
/// the 512-bit bound.
fn big() -> impl Strategy<Value = BigInt> {
    let edge = edges(
        vec![0, 1, 63, 64, 65, 127, 128, 255, 256, 448, 511, 512, 513],
        -1..=1,
    );
    let random = (prop::collection::vec(any::<u32>(), 0..18), any::<bool>())
        .prop_map(|(d, neg)| BigInt::from_slice(if neg { Sign::Minus } else { Sign::Plus }, &d));
    prop_oneof![edge, random.clone(), random]
}

/// Small integers (most kernels' inputs), and some large ones.
fn entry() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        3 => (-1000i64..1000).prop_map(BigInt::from),
        3 => (prop::collection::vec(any::<u32>(), 0..8), any::<bool>()).prop_map(|(d, n)| {
            BigInt::from_slice(if n { Sign::Minus } else { Sign::Plus }, &d)
        }),
        1 => big(),
    ]
}

/// Integers around the limb sizes of `gram_column_limbs`: +-(2^b + off)
/// for b near 56 and 112 (the largest it takes: below 2^112).
fn limb_entry() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        edges(vec![0, 1, 55, 56, 57, 100, 111, 112], -2..=1),
        entry()
    ]
}

fn fits(v: &BigInt) -> bool {
    v.bits() <= BOUND_BITS
}

/// Entries up to a little past 168 bits (the three-limb bound), with
/// weight on the limb edges.
fn wide_entry() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        2 => edges(vec![0, 55, 56, 57, 111, 112, 113, 167, 168], -1..=1),
        2 => (prop::collection::vec(any::<u32>(), 0..6), any::<bool>()).prop_map(|(d, n)| {
            BigInt::from_slice(if n { Sign::Minus } else { Sign::Plus }, &d)
        }),
        1 => (-1000i64..1000).prop_map(BigInt::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn conversion_round_trips(a in big()) {
        match Fx::from_big(&a) {
            Some(f) => {
                prop_assert!(fits(&a));
                prop_assert_eq!(f.to_big(), a.clone());
                prop_assert_eq!(f.sign(), a.sign());
                prop_assert_eq!(f.is_zero(), a.is_zero());
                prop_assert_eq!(f.negated().to_big(), -a);
            }
            None => prop_assert!(!fits(&a)),
        }
    }

    #[test]
    fn operations_are_exact_or_refuse(a in big(), b in big(), c in big(), sub in any::<bool>()) {
        let (Some(fa), Some(fb), Some(fc)) = (Fx::from_big(&a), Fx::from_big(&b), Fx::from_big(&c)) else {
            return Ok(());
        };
        let sum = &a + &b;
        match fa.checked_add(&fb) {
            Some(s) => prop_assert_eq!(s.to_big(), sum.clone()),
            None => prop_assert!(!fits(&sum)),
        }
        let diff = &a - &b;
        match fa.checked_sub(&fb) {
            Some(s) => prop_assert_eq!(s.to_big(), diff.clone()),
            None => prop_assert!(!fits(&diff)),
        }
        let prod = &a * &b;
        match fa.checked_mul(&fb) {
            Some(s) => prop_assert_eq!(s.to_big(), prod.clone()),
            None => prop_assert!(!fits(&prod)),
        }
        // c +- a b: may refuse only when the product or the result does
        // not fit.
        let want = if sub { &c - &prod } else { &c + &prod };
        let mut acc = fc;
        if acc.add_mul(&fa, &fb, sub) {
            prop_assert_eq!(acc.to_big(), want);
        } else {
            prop_assert!(!fits(&prod) || !fits(&want));
        }
    }

    /// The stored width (`FxS`, 256 bits), alone and mixed with the
    /// working width: exact, or a refusal only where the result, the
    /// product or a wider operand does not fit 256 bits.
    #[test]
    fn short_width_is_exact_or_refuses(a in big(), b in big(), c in big(), sub in any::<bool>()) {
        let fits_s = |v: &BigInt| v.bits() <= SHORT_BITS;
        match FxS::from_big(&a) {
            Some(s) => {
                prop_assert!(fits_s(&a));
                prop_assert_eq!(s.to_big(), a.clone());
                prop_assert_eq!(s.wide().to_big(), a.clone());
            }
            None => prop_assert!(!fits_s(&a)),
        }
        let (Some(fa), Some(fb)) = (Fx::from_big(&a), Fx::from_big(&b)) else {
            return Ok(());
        };
        match fa.resize::<SHORT_LIMBS>() {
            Some(s) => prop_assert_eq!(s.to_big(), a.clone()),
            None => prop_assert!(!fits_s(&a)),
        }
        let Some(sc) = FxS::from_big(&c) else {
            return Ok(());
        };
        let sum = &c + &b;
        match sc.checked_add(&fb) {
            Some(s) => prop_assert_eq!(s.to_big(), sum),
            None => prop_assert!(!fits_s(&b) || !fits_s(&sum)),
        }
        // c +- a b into the short width, from wide and short factors.
        let prod = &a * &b;
        let want = if sub { &c - &prod } else { &c + &prod };
        let mut acc = sc;
        if acc.add_mul(&fa, &fb, sub) {
            prop_assert_eq!(acc.to_big(), want.clone());
        } else {
            prop_assert!(!fits_s(&prod) || !fits_s(&want));
        }
        if let (Some(sa), Some(sb)) = (FxS::from_big(&a), FxS::from_big(&b)) {
            let mut acc = sc;
            if acc.add_mul(&sa, &sb, sub) {
                prop_assert_eq!(acc.to_big(), want.clone());
            } else {
                prop_assert!(!fits_s(&prod) || !fits_s(&want));
            }
            // Into the working width from short factors.
            let mut acc = sc.wide();
            if acc.add_mul(&sa, &sb, sub) {
                prop_assert_eq!(acc.to_big(), want);
            } else {
                prop_assert!(!fits(&prod) || !fits(&want));
            }
        }
    }

    #[test]
    fn sums_of_products_match(terms in prop::collection::vec((big(), big(), any::<bool>()), 1..12)) {
        let mut acc = Fx::ZERO;
        let mut exact = BigInt::zero();
        let mut ok = true;
        for (a, b, sub) in &terms {
            let p = a * b;
            exact = if *sub { exact - &p } else { exact + &p };
            if ok {
                match (Fx::from_big(a), Fx::from_big(b)) {
                    (Some(fa), Some(fb)) => {
                        ok = acc.add_mul(&fa, &fb, *sub);
                        if ok {
                            prop_assert_eq!(acc.to_big(), exact.clone());
                        } else {
                            prop_assert!(!fits(&p) || !fits(&exact));
                        }
                    }
                    _ => ok = false,
                }
            }
        }
    }

    #[test]
    fn matrix_kernels_match_bigint(
        (r, c, n) in (1usize..6, 1usize..6, 1usize..5),
        seed in prop::collection::vec(entry(), 72),
        keep in prop::collection::vec(any::<bool>(), 6),
        e1 in -80i64..80,
        e2 in -80i64..80,
    ) {
        let a = DMat { rows: r, cols: c, num: seed[..r * c].to_vec(), exp: e1 };
        let b = DMat { rows: c, cols: n, num: seed[36 - c * n..36].to_vec(), exp: e2 };
        let v = DVec { num: seed[36..36 + r].to_vec(), exp: e2 };
        let w = DVec { num: seed[42..42 + c].to_vec(), exp: e2 };
        // Row-masked, inner-masked and plain products.
        let rows_keep = &keep[..r];
        let inner_keep = &keep[..c];
        let naive = |rk: Option<&[bool]>, ik: Option<&[bool]>| -> Vec<BigInt> {
            let mut out = vec![BigInt::zero(); r * n];
            for i in 0..r {
                if rk.is_some_and(|k| !k[i]) { continue; }
                for l in 0..c {
                    if ik.is_some_and(|k| !k[l]) { continue; }
                    for j in 0..n {
                        out[i * n + j] += &a.num[i * c + l] * &b.num[l * n + j];
                    }
                }
            }
            out
        };
        let m = a.mul_masked(&b, Some(rows_keep));
        prop_assert_eq!((m.rows, m.cols, m.exp), (r, n, e1 + e2));
        prop_assert_eq!(m.num, naive(Some(rows_keep), None));
        let m = a.mul_masked(&b, None);
        prop_assert_eq!(m.num, naive(None, None));
        let m = a.mul_inner_masked(&b, inner_keep);
        prop_assert_eq!(m.num, naive(None, Some(inner_keep)));
        // A^T D v.
        let t = a.tr_mul_vec_rows(&v, Some(rows_keep));
        let mut want = vec![BigInt::zero(); c];
        for i in 0..r {
            if !rows_keep[i] { continue; }
            for j in 0..c { want[j] += &a.num[i * c + j] * &v.num[i]; }
        }
        prop_assert_eq!(t.exp, e1 + e2);
        prop_assert_eq!(t.num, want);
        // A w.
        let mv = a.mul_vec(&w);
        let want: Vec<BigInt> = (0..r)
            .map(|i| (0..c).map(|j| &a.num[i * c + j] * &w.num[j]).sum())
            .collect();
        prop_assert_eq!(mv.num, want);
        // A^T D A.
        let g = a.gram_rows(Some(rows_keep));
        let mut want = vec![BigInt::zero(); c * c];
        for i in 0..r {
            if !rows_keep[i] { continue; }
            for x in 0..c { for y in 0..c { want[x * c + y] += &a.num[i * c + x] * &a.num[i * c + y]; } }
        }
        prop_assert_eq!(g.exp, 2 * e1);
        prop_assert_eq!(g.num, want);
    }

    #[test]
    fn gram_limbs_match_bigint(
        (r, c) in (1usize..7, 1usize..6),
        seed in prop::collection::vec(limb_entry(), 36),
    ) {
        let a = DMat { rows: r, cols: c, num: seed[..r * c].to_vec(), exp: 0 };
        let limbs = a_limbs(&a);
        // The limbs exist exactly when every |entry| < 2^112.
        prop_assert_eq!(limbs.is_some(), a.num.iter().all(|v| v.bits() <= 112));
        if let Some(l) = limbs {
            for u in 0..c {
                prop_assert_eq!(gram_column_limbs(&l, r, c, u), gram_column_big(&a, u));
            }
        }
    }

    #[test]
    fn product_limbs_match_bigint(
        (r, c, k) in (1usize..6, 1usize..7, 1usize..4),
        a_seed in prop::collection::vec(limb_entry(), 36),
        r_seed in prop::collection::vec(wide_entry(), 24),
        keep in prop::collection::vec(any::<bool>(), 6),
    ) {
        let a = DMat { rows: r, cols: c, num: a_seed[..r * c].to_vec(), exp: 3 };
        let rows = DMat { rows: c, cols: k, num: r_seed[..c * k].to_vec(), exp: -7 };
        let keep = &keep[..c];
        let rl = wide_limbs::<3>(&rows);
        // Three limbs exist exactly when every |entry| < 2^168.
        prop_assert_eq!(rl.is_some(), rows.num.iter().all(|v| v.bits() <= 168));
        if let (Some(al), Some(rl)) = (a_limbs(&a), rl) {
            let got = product_limbs(&al, (r, c), &rl, k, keep).expect("small sizes");
            prop_assert_eq!(got, a.mul_inner_masked(&rows, keep).num);
        }
    }

    #[test]
    fn column_limbs_match_bigint(
        (r, c, k) in (1usize..7, 1usize..5, 1usize..4),
        a_seed in prop::collection::vec(limb_entry(), 30),
        m_seed in prop::collection::vec(prop_oneof![
            wide_entry(),
            edges(vec![168, 200, 223, 224, 225], -1..=1),
        ], 24),
    ) {
        let a = DMat { rows: r, cols: c, num: a_seed[..r * c].to_vec(), exp: 0 };
        let m = DMat { rows: r, cols: k, num: m_seed[..r * k].to_vec(), exp: 0 };
        let ml = wide_limbs::<4>(&m);
        // Four limbs exist exactly when every |entry| < 2^224.
        prop_assert_eq!(ml.is_some(), m.num.iter().all(|v| v.bits() <= 224));
        if let (Some(al), Some(ml)) = (a_limbs(&a), ml) {
            for u in 0..c {
                let got = column_times_limbs(&al, (r, c), u, &ml, k).expect("small sizes");
                prop_assert_eq!(got, column_times(&a, u, &m));
            }
        }
    }

    #[test]
    fn rank_one_updates_and_columns_match_bigint(
        (r, c, n) in (1usize..6, 1usize..7, 1usize..4),
        seed in prop::collection::vec(entry(), 96),
        was in prop::collection::vec(any::<bool>(), 6),
        now in prop::collection::vec(any::<bool>(), 6),
    ) {
        // m (r x n), w (r x c), rows (c x n).
        let m = DMat { rows: r, cols: n, num: seed[..r * n].to_vec(), exp: -3 };
        let w = DMat { rows: r, cols: c, num: seed[24..24 + r * c].to_vec(), exp: 1 };
        let rows = DMat { rows: c, cols: n, num: seed[60..60 + c * n].to_vec(), exp: -4 };
        let (was, now) = (&was[..c], &now[..c]);
        let got = rank_one_updates(&m, &w, &rows, was, now);
        let mut want = m.num.clone();
        for u in 0..c {
            if was[u] == now[u] { continue; }
            for j in 0..r {
                for x in 0..n {
                    let t = &w.num[j * c + u] * &rows.num[u * n + x];
                    if now[u] { want[j * n + x] += t } else { want[j * n + x] -= t }
                }
            }
        }
        prop_assert_eq!((got.rows, got.cols, got.exp), (r, n, -3));
        prop_assert_eq!(got.num, want);
        // Columns of w^T w.
        for u in 0..c {
            let want: Vec<BigInt> = (0..c)
                .map(|v| (0..r).map(|i| &w.num[i * c + v] * &w.num[i * c + u]).sum())
                .collect();
            prop_assert_eq!(gram_column_big(&w, u), want.clone());
            if let Some(f) = gram_column_fixed(&w, u) {
                prop_assert_eq!(f, want);
            }
        }
        // M^T a_u for M = rows^T-shaped (r x n) and a = w.
        for u in 0..c {
            let want: Vec<BigInt> = (0..n)
                .map(|x| (0..r).map(|i| &w.num[i * c + u] * &m.num[i * n + x]).sum())
                .collect();
            prop_assert_eq!(column_times(&w, u, &m), want);
        }
    }

    #[test]
    fn sign_tests_match_bigint(
        row in prop::collection::vec(entry(), 1..7),
        corners in prop::collection::vec(prop::collection::vec(entry(), 6), 0..9),
    ) {
        let corners: Vec<Vec<BigInt>> = corners.into_iter().map(|c| c[..row.len()].to_vec()).collect();
        let exact = row_status(&row, &corners);
        if let Some(fc) = corners.iter().map(|c| c.iter().map(Fx::from_big).collect::<Option<Vec<_>>>()).collect::<Option<Vec<_>>>() {
            if let Some(st) = row_status_fixed(&row, &fc) {
                prop_assert_eq!(st, exact);
            } else {
                // Refused: some entry, product or sum does not fit.
                let big = row.iter().any(|x| !fits(x))
                    || corners.iter().any(|c| {
                        let mut acc = BigInt::zero();
                        row.iter().zip(c).any(|(a, b)| {
                            let p = a * b;
                            acc += &p;
                            !fits(&p) || !fits(&acc)
                        })
                    });
                prop_assert!(big, "fast path refused a computation that fits");
            }
        }
    }
}

/// Corner coordinates below `2^60`, with weight on the edges.
fn corner_coordinate() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        3 => (-1000i64..1000).prop_map(BigInt::from),
        2 => (-(1i64 << 59)..(1i64 << 59)).prop_map(BigInt::from),
        1 => edges(vec![0, 1, 30, 58, 59], -1..=0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The leading-bits sign test says what `row_status` says wherever it
    /// answers; rows of wide entries with a few low bits changed (so that
    /// the dot products nearly cancel at some corners) included.
    #[test]
    fn leading_bits_sign_test_matches_bigint(
        row in prop::collection::vec(entry(), 1..7),
        tweak in prop::collection::vec(-3i64..=3, 6),
        corners in prop::collection::vec(prop::collection::vec(corner_coordinate(), 6), 1..9),
    ) {
        let corners: Vec<Vec<BigInt>> = corners.into_iter().map(|c| c[..row.len()].to_vec()).collect();
        // A second row: the first corner's orthogonal complement direction
        // scaled up, plus small tweaks (near-cancelling dot products).
        let c0 = &corners[0];
        let mut near = row.clone();
        if row.len() >= 2 {
            let scale = BigInt::one() << 100usize;
            near[0] = &c0[1] * &scale + BigInt::from(tweak[0]);
            near[1] = -(&c0[0] * &scale) + BigInt::from(tweak[1]);
        }
        let sc = small_corners(&corners).expect("coordinates below 2^60");
        for r in [&row, &near] {
            if let Some(st) = row_status_leading(r, &sc) {
                prop_assert_eq!(st, row_status(r, &corners));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// On the corners of a box (as the engine's cells have), whose screen
    /// by the box's centre and widths answers for most rows: the same
    /// answers as `row_status`, also for rows nearly orthogonal to the
    /// box's centre (the screen then refuses and the corners decide).
    #[test]
    fn leading_bits_sign_test_on_box_corners_matches_bigint(
        row in prop::collection::vec(entry(), 2..5),
        lo in prop::collection::vec(corner_coordinate(), 4),
        width in prop::collection::vec(prop_oneof![Just(0i64), 1i64..4, 1i64..(1 << 40)], 4),
        scale in 0usize..90,
        tweak in prop::collection::vec(-3i64..=3, 4),
    ) {
        let n = row.len();
        let hi: Vec<BigInt> = (0..n).map(|i| (&lo[i] + BigInt::from(width[i])).min(BigInt::from((1i64 << 60) - 1))).collect();
        let lo: Vec<BigInt> = (0..n).map(|i| lo[i].clone().min(hi[i].clone())).collect();
        let corners: Vec<Vec<BigInt>> = (0..1usize << n)
            .map(|m| (0..n).map(|i| if m >> i & 1 == 1 { hi[i].clone() } else { lo[i].clone() }).collect())
            .collect();
        // A row orthogonal to the lower corner, scaled up, plus tweaks.
        let mut near = row.clone();
        let s = BigInt::one() << scale;
        near[0] = &lo[1] * &s + BigInt::from(tweak[0]);
        near[1] = -(&lo[0] * &s) + BigInt::from(tweak[1]);
        let sc = small_corners(&corners).expect("coordinates below 2^60");
        for r in [&row, &near] {
            if let Some(st) = row_status_leading(r, &sc) {
                prop_assert_eq!(st, row_status(r, &corners), "row {:?} corners {:?}", r, corners);
            }
        }
    }
}

#[test]
fn leading_bits_sign_test_decides_and_refuses() {
    let big = |e: usize, m: i64| BigInt::from(m) << e;
    // Wide entries, clear signs: decided without the full test.
    let row = vec![big(120, 5), big(118, -3), big(100, 7)];
    let corners = vec![
        vec![BigInt::from(4), BigInt::from(1), BigInt::from(-2)],
        vec![BigInt::from(3), BigInt::from(2), BigInt::from(5)],
    ];
    let sc = small_corners(&corners).unwrap();
    assert_eq!(row_status_leading(&row, &sc), Some(Some(true)));
    assert_eq!(row_status(&row, &corners), Some(true));
    let neg: Vec<BigInt> = row.iter().map(|v| -v).collect();
    assert_eq!(row_status_leading(&neg, &sc), Some(Some(false)));
    // A dot product that cancels in the leading bits and is decided by the
    // low ones: refused (the full test says free here: +1 and -1).
    let row = vec![big(120, 1) + 1, big(120, -1)];
    let corners = vec![
        vec![BigInt::from(1), BigInt::from(1)],
        vec![BigInt::from(-1), BigInt::from(-1)],
    ];
    let sc = small_corners(&corners).unwrap();
    assert_eq!(row_status_leading(&row, &sc), None);
    assert_eq!(row_status(&row, &corners), None);
    // Coordinates of 2^60 and more are not small corners.
    assert!(small_corners(&[vec![BigInt::one() << 60usize]]).is_none());
}

/// An `i128` limb sum: anywhere in range, with weight on the edges (0,
/// +-1, around +-2^56, +-2^126 and the ends of `i128`).
fn limb_sum() -> impl Strategy<Value = i128> {
    let edge = prop::sample::select(vec![
        0i128,
        1,
        -1,
        (1 << 56) - 1,
        1 << 56,
        -(1 << 56),
        (1 << 126) - 1,
        -(1 << 126),
        i128::MAX,
        i128::MIN,
        i128::MAX - 1,
        i128::MIN + 1,
    ]);
    prop_oneof![edge, any::<i128>(), (-1000i128..1000)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// `limb_sums` (carries, packing, negation) and its fixed-width form
    /// are `sum_s v_s 2^(56 s)`, for up to five sums anywhere in `i128`.
    #[test]
    fn limb_sums_match_shifted_sums(v in prop::collection::vec(limb_sum(), 0..6)) {
        let want: BigInt = v
            .iter()
            .enumerate()
            .map(|(s, &x)| BigInt::from(x) << (56 * s))
            .sum();
        prop_assert_eq!(limb_sums(&v), want.clone());
        match limb_sums_fx(&v) {
            Some(f) => prop_assert_eq!(f.to_big(), want),
            // Only a carry overflow (sums near the ends of i128) refuses.
            None => prop_assert!(v.iter().any(|x| x.unsigned_abs() > 1 << 126)),
        }
    }

    /// The fixed-width product from limbs is the `BigInt` one.
    #[test]
    fn product_limbs_fx_matches(
        (r, c, k) in (1usize..5, 1usize..9, 1usize..4),
        a in prop::collection::vec(wide_entry(), 32),
        rr in prop::collection::vec(wide_entry(), 24),
        keep in prop::collection::vec(any::<bool>(), 8),
    ) {
        let am = DMat { rows: r, cols: c, num: a[..r * c].to_vec(), exp: 0 };
        let rm = DMat { rows: c, cols: k, num: rr[..c * k].to_vec(), exp: 0 };
        let (Some(al), Some(rl)) = (a_limbs(&am), wide_limbs::<3>(&rm)) else {
            return Ok(());
        };
        let keep = &keep[..c];
        let want = product_limbs(&al, (r, c), &rl, k, keep).expect("small sizes");
        prop_assert_eq!(&want, &am.mul_inner_masked(&rm, keep).num);
        let got = product_limbs_fx(&al, (r, c), &rl, k, keep).expect("fits");
        prop_assert_eq!(got.iter().map(Fx::to_big).collect::<Vec<_>>(), want);
    }
}

/// The limb sums at their largest: 8,192 inner indices (rows) whose limbs
/// are all `2^56 - 1`, of one sign, against `BigInt`; one more is refused.
#[test]
fn limb_sums_at_the_bound() {
    let a_max: BigInt = (BigInt::one() << 112usize) - 1;
    let r_max: BigInt = (BigInt::one() << 168usize) - 1;
    let m_max: BigInt = (BigInt::one() << 224usize) - 1;
    for n in [8192usize, 8193] {
        for sign in [1i64, -1] {
            let s = BigInt::from(sign);
            // An `rows x cols` matrix with every entry `v`.
            let filled = |rows: usize, cols: usize, v: &BigInt| DMat {
                rows,
                cols,
                num: vec![v.clone(); rows * cols],
                exp: 0,
            };
            // A (1 x n) times R (n x 1), every inner index kept.
            let a = filled(1, n, &(&a_max * &s));
            let r = filled(n, 1, &r_max);
            let keep = vec![true; n];
            let got = product_limbs(
                &a_limbs(&a).unwrap(),
                (1, n),
                &wide_limbs::<3>(&r).unwrap(),
                1,
                &keep,
            );
            if n == 8192 {
                assert_eq!(got.unwrap(), a.mul_inner_masked(&r, &keep).num);
            } else {
                assert!(got.is_none());
            }
            // M^T a_u with n rows: M (n x 1), A (n x 1).
            let a = filled(n, 1, &(&a_max * &s));
            let m = filled(n, 1, &m_max);
            match a_limbs(&a) {
                Some(al) => {
                    let ml = wide_limbs::<4>(&m).unwrap();
                    let got = column_times_limbs(&al, (n, 1), 0, &ml, 1).unwrap();
                    assert_eq!(got, column_times(&a, 0, &m));
                }
                // a_limbs refuses more than 8,192 rows.
                None => assert_eq!(n, 8193),
            }
        }
    }
}

/// Rows of eight entries, corner coordinates at `2^60 - 1` (accepted) and
/// `2^60`, `-2^60`, `i64::MIN` (refused), and leading-bit shifts that are
/// multiples of 64 (largest entries of 126 and 190 bits, also negative).
#[test]
fn leading_bits_edges() {
    let edge = BigInt::from((1i64 << 60) - 1);
    assert!(small_corners(&[vec![edge.clone(), -edge.clone()]]).is_some());
    for bad in [
        BigInt::one() << 60usize,
        -(BigInt::one() << 60usize),
        BigInt::from(i64::MIN),
    ] {
        assert!(small_corners(&[vec![bad]]).is_none());
    }
    let mut checked = 0;
    for bits in [126usize, 190] {
        for neg in [false, true] {
            let top = BigInt::one() << (bits - 1);
            let top = if neg { -top } else { top };
            for low in 0..40i64 {
                let row: Vec<BigInt> = (0..8)
                    .map(|i| {
                        if i == 0 {
                            top.clone()
                        } else {
                            BigInt::from(low * 7919 % 1000 - 500 + i) << (bits - 64)
                        }
                    })
                    .collect();
                let corners: Vec<Vec<BigInt>> = (0..3i64)
                    .map(|c| {
                        (0..8)
                            .map(|i| BigInt::from((c * 31 + i * 17 + low) % 9 - 4))
                            .collect()
                    })
                    .map(|mut v: Vec<BigInt>| {
                        v[0] = if low % 2 == 0 {
                            edge.clone()
                        } else {
                            BigInt::from(1)
                        };
                        v
                    })
                    .collect();
                let sc = small_corners(&corners).unwrap();
                if let Some(st) = row_status_leading(&row, &sc) {
                    assert_eq!(
                        st,
                        row_status(&row, &corners),
                        "bits {bits} neg {neg} low {low}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 40,
        "the leading-bit test decided only {checked} rows"
    );
}

#[test]
fn sign_tests_on_a_cancelling_row() {
    // <row, c> = 0 exactly at one corner: free, also with huge entries.
    let huge = BigInt::one() << 300usize;
    let row = vec![huge.clone(), -huge.clone(), BigInt::from(1)];
    let corners = vec![
        vec![BigInt::from(3), BigInt::from(3), BigInt::from(0)],
        vec![BigInt::from(4), BigInt::from(3), BigInt::from(1)],
    ];
    let fc: Vec<Vec<Fx>> = corners
        .iter()
        .map(|c| c.iter().map(|v| Fx::from_big(v).unwrap()).collect())
        .collect();
    assert_eq!(row_status(&row, &corners), None);
    assert_eq!(row_status_fixed(&row, &fc), Some(None));
    let corners = vec![vec![BigInt::from(4), BigInt::from(3), BigInt::from(1)]];
    let fc: Vec<Vec<Fx>> = vec![corners[0]
        .iter()
        .map(|v| Fx::from_big(v).unwrap())
        .collect()];
    assert_eq!(row_status(&row, &corners), Some(true));
    assert_eq!(row_status_fixed(&row, &fc), Some(Some(true)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The Zero rule's least `<p, b_P>` at a corner (the sum of
    /// `v_j = w_j <row_j, corner>` over neurons on in every pattern, plus
    /// the negative `v_j` of those on in some): the fixed-width sign (from
    /// `U = sum_always w_j row_j`, then `<U, corner>`) says what the
    /// `BigInt` sum says, and it refuses only what does not fit.
    #[test]
    fn zero_least_matches_bigint(
        rows in prop::collection::vec((prop::collection::vec(entry(), 3), entry(), any::<bool>(), any::<bool>()), 1..12),
        corner in prop::collection::vec(corner_coordinate(), 3),
    ) {
        let m = DMat {
            rows: rows.len(),
            cols: 3,
            num: rows.iter().flat_map(|r| r.0.clone()).collect(),
            exp: 0,
        };
        let w: Vec<BigInt> = rows.iter().map(|r| r.1.clone()).collect();
        let always: Vec<bool> = rows.iter().map(|r| r.2 && r.3).collect();
        let some: Vec<bool> = rows.iter().map(|r| r.2).collect();
        let mut least = BigInt::zero();
        for j in 0..rows.len() {
            if !some[j] {
                continue;
            }
            let dot: BigInt = m.row(j).iter().zip(&corner).map(|(a, b)| a * b).sum();
            let v = &dot * &w[j];
            if always[j] || v.sign() == Sign::Minus {
                least += v;
            }
        }
        // Whether the fixed-width path may refuse: some value it forms
        // does not fit. Every row is converted, also those of neurons off
        // in every pattern. It forms `U = sum_always w_j row_j`, then
        // `<U, corner>`, then adds the negative `v_j` of the other rows.
        let mut big = w.iter().chain(&corner).chain(&m.num).any(|x| !fits(x));
        let mut u = vec![BigInt::zero(); 3];
        for j in (0..rows.len()).filter(|&j| always[j]) {
            for (uc, a) in u.iter_mut().zip(m.row(j)) {
                let p = a * &w[j];
                *uc += &p;
                big |= !fits(&p) || !fits(uc);
            }
        }
        let mut split = BigInt::zero();
        for (uc, c) in u.iter().zip(&corner) {
            split += uc * c;
            big |= !fits(&(uc * c)) || !fits(&split);
        }
        for j in (0..rows.len()).filter(|&j| some[j] && !always[j]) {
            let mut partial = BigInt::zero();
            for (a, b) in m.row(j).iter().zip(&corner) {
                partial += a * b;
                big |= !fits(&(a * b)) || !fits(&partial);
            }
            let v = &partial * &w[j];
            big |= !fits(&v);
            if v.sign() == Sign::Minus {
                split += v;
                big |= !fits(&split);
            }
        }
        prop_assert_eq!(&split, &least, "the split sum is the sum");
        let w_fx: Option<Vec<Fx>> = w.iter().map(Fx::from_big).collect();
        let rows_fx: Option<Vec<Fx>> = m.num.iter().map(Fx::from_big).collect();
        let fast = w_fx
            .zip(rows_fx)
            .and_then(|(w, r)| zero_least_fixed(&r, 3, &corner, &w, &always, &some));
        match fast {
            Some(positive) => prop_assert_eq!(positive, least.sign() == Sign::Plus),
            None => prop_assert!(big, "fast path refused a computation that fits"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The determinant test with its modular screen says what the exact
    /// determinant says: on random matrices, on singular ones (a row made
    /// of the others) and on ones whose determinant is a nonzero multiple of
    /// the screen's prime `2^61 - 1` (the screen says zero, the exact
    /// determinant decides).
    #[test]
    fn determinant_nonzero_matches_bigint(
        n in 1usize..6,
        entries in prop::collection::vec(entry(), 36),
        mix in prop::collection::vec(-3i64..4, 6),
        kind in 0u8..3,
    ) {
        let mut m: Vec<BigInt> = entries[..n * n].to_vec();
        match kind {
            1 if n > 1 => {
                // Last row = a combination of the others.
                for c in 0..n {
                    let v: BigInt = (0..n - 1).map(|r| &m[r * n + c] * BigInt::from(mix[r])).sum();
                    m[(n - 1) * n + c] = v;
                }
            }
            2 => {
                // det = (2^61 - 1) * (a nonzero integer).
                let p = (BigInt::one() << 61usize) - 1;
                m = vec![BigInt::zero(); n * n];
                for i in 0..n {
                    m[i * n + i] = BigInt::from(mix[i].abs() + 1);
                }
                m[0] = &m[0] * &p;
            }
            _ => {}
        }
        prop_assert_eq!(determinant_nonzero(&m, n), !determinant(&m, n).is_zero());
    }

    /// `independent_with` (modular screen, then exact determinants) equals
    /// the plain BigInt loop over every k-subset.
    #[test]
    fn independent_with_matches_bigint(
        k in 2usize..4,
        rows in prop::collection::vec(prop::collection::vec(-6i64..7, 3), 0..7),
        fixed_count in 0usize..2,
    ) {
        let rows: Vec<Vec<BigInt>> = rows.iter().map(|r| r[..k].iter().map(|&v| BigInt::from(v)).collect()).collect();
        let fixed_count = fixed_count.min(rows.len()).min(k - 1);
        let fixed: Vec<&[BigInt]> = rows[..fixed_count].iter().map(|r| r.as_slice()).collect();
        let cands: Vec<&[BigInt]> = rows[fixed_count..].iter().map(|r| r.as_slice()).collect();
        let r = k - fixed.len();
        let mut expect = true;
        let n = cands.len();
        if n >= r {
            // Every r-subset of cands, by bitmask.
            for mask in 0u32..(1 << n) {
                if mask.count_ones() as usize != r {
                    continue;
                }
                let m: Vec<BigInt> = fixed
                    .iter()
                    .copied()
                    .chain((0..n).filter(|&i| mask >> i & 1 == 1).map(|i| cands[i]))
                    .flat_map(|row| row.iter().cloned())
                    .collect();
                if determinant(&m, k).is_zero() {
                    expect = false;
                }
            }
        }
        prop_assert_eq!(independent_with(&fixed, &cands, k), expect);
    }
}
