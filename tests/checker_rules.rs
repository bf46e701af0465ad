//! Each rule of the checker on hand-built cells of a tiny network, accepted
//! and rejected per inequality it checks. Every number in the comments was
//! worked out by hand.
//!
//! Network: k = 2, d = 1, W_1 = [1 0; 0 1; 1 1], A = I, x* = (1, 1), so
//! G(x) = (relu x1, relu x2, relu(x1 + x2)) and y = (1, 1, 2). rho_1 = 0.

mod common;

use hvcert::checker::geometry::{Cell, Excluded};
use hvcert::checker::patterns::Engine;
use hvcert::checker::rules::Context;
use hvcert::exact::dyadic::Dyadic;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Ball, Face};
use hvcert::format::network::{Measurement, Network};
use num_bigint::BigInt;
use num_rational::BigRational;

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

fn net() -> ExactNet {
    ExactNet::new(&Network {
        latent: 2,
        widths: vec![3],
        measurement: Measurement::Identity,
        weights: vec![vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0]],
        a: None,
        target: vec![1.0, 1.0],
        sampling: None,
    })
    .unwrap()
}

/// Face `+1` (or `-1`), box `p2 in [lo, hi]`, radii `[t_lo, t_hi]`.
fn cell(
    positive: bool,
    lo: BigRational,
    hi: BigRational,
    t_lo: BigRational,
    t_hi: Option<BigRational>,
) -> Cell {
    let mut c = Cell::root(Face { axis: 0, positive }, 2);
    let dy = |v: BigRational| Dyadic::from_rational(&v).unwrap();
    c.lo[1] = dy(lo);
    c.hi[1] = dy(hi);
    c.t_lo = dy(t_lo);
    c.t_hi = t_hi.map(dy);
    c
}

fn region(ctx: &Context, c: &Cell) -> Result<(), String> {
    ctx.patterns(c, 2)
        .and_then(|p| ctx.region(c, &p))
        .map(|_| ())
}
fn crease(ctx: &Context, c: &Cell) -> Result<(), String> {
    ctx.patterns(c, 2)
        .and_then(|p| ctx.crease(c, &p))
        .map(|_| ())
}
fn pairs(ctx: &Context, c: &Cell) -> Result<(), String> {
    ctx.patterns(c, 64)
        .and_then(|p| ctx.pairs(c, &p))
        .map(|_| ())
}
fn zero(ctx: &Context, c: &Cell) -> Result<(), String> {
    ctx.branches_from(c, 1024, None)
        .0
        .and_then(|b| ctx.zero(c, &b))
}

fn excluded(eps1: BigRational, eps2: BigRational) -> Excluded {
    Excluded::new(vec![q(1, 1), q(1, 1)], &eps1, &eps2, q(0, 1), q(0, 1))
}

fn with<R>(eps1: BigRational, eps2: BigRational, f: impl FnOnce(&Context) -> R) -> R {
    let n = net();
    let engine = Engine::new(&n);
    let ex = excluded(eps1, eps2);
    let ctx = Context {
        engine: &engine,
        excluded: &ex,
        stationary: &[],
    };
    f(&ctx)
}

#[test]
fn region_rule() {
    // p2 in [1/2, 1]: all three neurons on; Q = [2 1; 1 2], b = (3, 3),
    // x_c = (1, 1) = x*, which is in the cell: fine inside B(x*, 7/10 |x*|).
    let c = cell(true, q(1, 2), q(1, 1), q(0, 1), None);
    with(q(7, 10), q(0, 1), |ctx| assert!(region(ctx, &c).is_ok()));
    // With eps1 = 0 the ball is empty: x_c is a zero of the gradient in the cell.
    with(q(0, 1), q(0, 1), |ctx| {
        let e = region(ctx, &c).unwrap_err();
        assert!(e.contains("lies in the cell and outside E"), "{e}");
    });
    // Radii beyond 1 only: x_c (t = 1) is not in the cell.
    let far = cell(true, q(1, 2), q(1, 1), q(2, 1), None);
    with(q(0, 1), q(0, 1), |ctx| assert!(region(ctx, &far).is_ok()));
    // p2 in [-1/2, 1/2]: neuron 2 (z = x2) changes sign: not one pattern.
    let crease = cell(true, q(-1, 2), q(1, 2), q(0, 1), None);
    with(q(7, 10), q(0, 1), |ctx| {
        let e = region(ctx, &crease).unwrap_err();
        assert!(e.contains("L1#1 is free"), "{e}");
    });
    // Face -1, p2 in [-1, -1/2]: every neuron off, Q = 0: singular.
    let dead = cell(false, q(-1, 1), q(-1, 2), q(0, 1), None);
    with(q(7, 10), q(0, 1), |ctx| {
        let e = region(ctx, &dead).unwrap_err();
        assert!(e.contains("singular"), "{e}");
    });
}

#[test]
fn pairs_rule() {
    // p2 in [-1/2, 1/2], P0 = (1,0,1), P1 = (1,1,1).
    // (P0,P0): 5/2 t^2 - 21 t + 13; (P1,P1): 9/4 t^2 - 27 t + 18;
    // (P0,P1): 9/4 t^2 - 47/2 t + 15. All positive on [0, 1/2];
    // (P0,P1) is -25/4 at t = 1.
    let ok = cell(true, q(-1, 2), q(1, 2), q(0, 1), Some(q(1, 2)));
    with(q(7, 10), q(0, 1), |ctx| assert!(pairs(ctx, &ok).is_ok()));
    let bad = cell(true, q(-1, 2), q(1, 2), q(0, 1), Some(q(1, 1)));
    with(q(7, 10), q(0, 1), |ctx| {
        let e = pairs(ctx, &bad).unwrap_err();
        assert!(e.contains("not > 0"), "{e}");
    });
    // Unbounded: alpha_lo > 0 but the quadratics dip below zero in between.
    let unbounded = cell(true, q(-1, 2), q(1, 2), q(0, 1), None);
    with(q(7, 10), q(0, 1), |ctx| {
        assert!(pairs(ctx, &unbounded).is_err())
    });
    // (P0,P0) alone on [1/2, 1]: gamma side fine but 5/2 - 21 + 13 < 0 at t = 1.
    let c = cell(true, q(1, 4), q(1, 2), q(0, 1), Some(q(1, 4)));
    with(q(7, 10), q(0, 1), |ctx| assert!(pairs(ctx, &c).is_ok()));
}

#[test]
fn crease_rule() {
    // One free neuron (neuron 2, c_v = (0, 1)); x_c(P0) = x_c(P1) = x*,
    // outside the box p2 in [-1/2, 1/2]. h = <c_v, g_P0(x)> = x1 + x2 - 2.
    // On t in [0, 1/2], h(0) = -2 < 0 (no ridge) but the pair bound holds.
    let valley_ok = cell(true, q(-1, 2), q(1, 2), q(0, 1), Some(q(1, 2)));
    with(q(0, 1), q(0, 1), |ctx| {
        assert!(crease(ctx, &valley_ok).is_ok())
    });
    // On t in [0, 1] neither: rejected as a valley.
    let valley_bad = cell(true, q(-1, 2), q(1, 2), q(0, 1), Some(q(1, 1)));
    with(q(0, 1), q(0, 1), |ctx| {
        let e = crease(ctx, &valley_bad).unwrap_err();
        assert!(e.contains("valley"), "{e}");
    });
    // On t >= 4: h = t (1 + p2) - 2 >= 0 with slope >= 1/2: a ridge.
    let ridge = cell(true, q(-1, 2), q(1, 2), q(4, 1), None);
    with(q(0, 1), q(0, 1), |ctx| assert!(crease(ctx, &ridge).is_ok()));
    // t >= 3: h(3 (1, -1/2)) = -1/2 < 0: no ridge, and the pair bound fails
    // at t = 3 (9/4*9 - 47/2*3 + 15 < 0).
    let not_ridge = cell(true, q(-1, 2), q(1, 2), q(3, 1), None);
    with(q(0, 1), q(0, 1), |ctx| {
        assert!(crease(ctx, &not_ridge).is_err())
    });
    // The box p2 in [0, 1] contains the direction of x_c = x* (and t = 1):
    // a zero of g_P1 in the cell outside E.
    let with_zero = cell(true, q(0, 1), q(1, 1), q(0, 1), None);
    with(q(0, 1), q(0, 1), |ctx| {
        let e = crease(ctx, &with_zero).unwrap_err();
        assert!(e.contains("region point"), "{e}");
    });
    // Face -1, whole box: neurons 2 and 3 both free.
    let two = cell(false, q(-1, 1), q(1, 1), q(0, 1), None);
    with(q(0, 1), q(0, 1), |ctx| {
        let e = crease(ctx, &two).unwrap_err();
        assert!(e.contains("more than 2 patterns"), "{e}");
    });
}

#[test]
fn excluded_rule() {
    // Box p2 in [1/2, 1], t in [1/2, 3/2]: the farthest vertex from x* is
    // (1/2, 1/4), squared distance 13/16 < (7/10)^2 |x*|^2 = 49/50.
    let c = cell(true, q(1, 2), q(1, 1), q(1, 2), Some(q(3, 2)));
    with(q(7, 10), q(0, 1), |ctx| {
        assert!(ctx.excluded(&c, Ball::XStar).is_ok())
    });
    // With eps1 = 6/10: 13/16 >= 18/25.
    with(q(6, 10), q(0, 1), |ctx| {
        assert!(ctx.excluded(&c, Ball::XStar).is_err())
    });
    // t up to 2: vertex (2, 1) at squared distance 1 >= 49/50.
    let long = cell(true, q(1, 2), q(1, 1), q(1, 2), Some(q(2, 1)));
    with(q(7, 10), q(0, 1), |ctx| {
        assert!(ctx.excluded(&long, Ball::XStar).is_err())
    });
    // Unbounded cells are never excluded.
    let inf = cell(true, q(1, 2), q(1, 1), q(1, 2), None);
    with(q(7, 10), q(0, 1), |ctx| {
        assert!(ctx
            .excluded(&inf, Ball::XStar)
            .unwrap_err()
            .contains("unbounded"))
    });
    // rho_1 = 0: the second ball is around 0. t in [0, 1/16]: vertices within
    // sqrt(2)/16 < (1/10) sqrt(2).
    let tiny = cell(true, q(1, 2), q(1, 1), q(0, 1), Some(q(1, 16)));
    with(q(0, 1), q(1, 10), |ctx| {
        assert!(ctx.excluded(&tiny, Ball::Rho).is_ok())
    });
    // ... but not in the ball around x*, and not when the radius is 1/16.
    with(q(0, 1), q(1, 10), |ctx| {
        assert!(ctx.excluded(&tiny, Ball::XStar).is_err())
    });
    with(q(0, 1), q(1, 16), |ctx| {
        assert!(ctx.excluded(&tiny, Ball::Rho).is_err())
    });
}

#[test]
fn zero_rule() {
    // b_P = (1 + 2 b3, b2 + 2 b3) for the bits b2, b3 of neurons 2 and 3.
    // On p2 in [-1, -1/2] neuron 2 is off: <p, b> = 1 and 1 + b3 at the corners.
    let z1 = cell(true, q(-1, 1), q(-1, 2), q(0, 1), None);
    // On [-1/2, 0] neuron 3 is on: <p, b> = 2 - b2/2 and 3.
    let z2 = cell(true, q(-1, 2), q(0, 1), q(0, 1), None);
    let z3 = cell(true, q(0, 1), q(1, 1), q(0, 1), None);
    with(q(0, 1), q(0, 1), |ctx| {
        assert!(zero(ctx, &z1).is_ok());
        assert!(zero(ctx, &z2).is_ok());
        assert!(zero(ctx, &z3).is_ok());
    });
    // On the whole face the over-approximation admits b2 = 1 at p = (1, -1):
    // <p, b> = 1 - 1 = 0, not > 0.
    let whole = cell(true, q(-1, 1), q(1, 1), q(0, 1), None);
    with(q(0, 1), q(0, 1), |ctx| {
        let e = zero(ctx, &whole).unwrap_err();
        assert!(e.contains("<p_v, b_P> <= 0 at corner (1, -1)"), "{e}");
    });
}

mod dyadic_balls {
    //! The Excluded rule's dyadic distances (no gcd) against the rational
    //! ones, and the exact comparison of a dyadic with a rational.
    use super::*;
    use hvcert::checker::geometry::dyadic_lt;
    use proptest::prelude::*;

    fn dy() -> impl Strategy<Value = Dyadic> {
        (-(1i64 << 40)..(1i64 << 40), -60i64..20).prop_map(|(n, e)| Dyadic {
            num: BigInt::from(n),
            exp: e,
        })
    }

    fn rational() -> impl Strategy<Value = BigRational> {
        (-(1i64 << 40)..(1i64 << 40), 1i64..(1i64 << 30)).prop_map(|(n, d)| q(n, d))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        #[test]
        fn dyadic_distances_match_rationals(
            t in prop::collection::vec(dy(), 3),
            x in prop::collection::vec(dy(), 3),
            (lo, hi) in (dy(), dy()),
            eps in rational(),
        ) {
            let r = |v: &Dyadic| v.to_rational();
            let target: Vec<BigRational> = t.iter().map(r).collect();
            let ex = Excluded::new(target, &eps, &eps, r(&lo), r(&hi));
            let (d1, a, b) = ex.dyadic_dists(&x).expect("dyadic data");
            let xr: Vec<BigRational> = x.iter().map(r).collect();
            prop_assert_eq!(d1.to_rational(), ex.dist1_sq(&xr));
            prop_assert_eq!((a.to_rational(), b.to_rational()), ex.dist2_sq_ends(&xr));
            prop_assert_eq!(dyadic_lt(&d1, &ex.r1_sq), ex.in_ball1(&xr));
            prop_assert_eq!(
                dyadic_lt(&a, &ex.r2_sq) && dyadic_lt(&b, &ex.r2_sq),
                ex.in_ball2(&xr)
            );
        }

        #[test]
        fn dyadic_lt_is_exact(d in dy(), r in rational()) {
            prop_assert_eq!(dyadic_lt(&d, &r), d.to_rational() < r);
            // Equal values are not less.
            prop_assert!(!dyadic_lt(&d, &d.to_rational()));
        }
    }

    #[test]
    fn non_dyadic_balls_take_the_rational_path() {
        let ex = Excluded::new(vec![q(1, 3), q(1, 1)], &q(1, 2), &q(1, 2), q(0, 1), q(0, 1));
        assert!(ex
            .dyadic_dists(&[Dyadic::from_int(1), Dyadic::from_int(0)])
            .is_none());
    }
}

mod pattern_gradient {
    //! `Quadratic::gradient` (`Q_S x - b_S` from the engine's integers)
    //! against the exact evaluator's `vbar` (forward passes) wherever `S` is
    //! the strict pattern of `x`: the certifier decides with it which region
    //! points are stationary.
    use super::common::rationals::measurement;
    use super::*;
    use hvcert::certifier::sample::{sample_network, SampleSpec};
    use num_traits::Zero;
    use proptest::prelude::*;

    fn network() -> impl Strategy<Value = Network> {
        (
            2usize..=4,
            2usize..=6,
            4usize..=14,
            0usize..=6,
            any::<u64>(),
        )
            .prop_map(|(k, w1, w2, m, seed)| {
                sample_network(&SampleSpec {
                    latent: k,
                    widths: vec![w1, w2],
                    measurement: measurement(m),
                    seed,
                    target: None,
                })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn gradient_is_vbar_under_the_strict_pattern(
            net in network(),
            coords in prop::collection::vec((-64i64..=64, 1i64..=9), 4),
        ) {
            let exact = ExactNet::new(&net).expect("sampled network");
            let engine = Engine::new(&exact);
            let x: Vec<BigRational> = coords[..net.latent].iter().map(|&(n, d)| q(n, d)).collect();
            let Some(strict) = exact.strict_pattern_without_zeros(&x).expect("length k") else {
                return Ok(());
            };
            let quad = engine.quadratic(&strict);
            prop_assert_eq!(quad.gradient(&x), exact.vbar(&x).expect("length k"));
            // Its region point, where it is strictly inside its own region, is
            // stationary (F5) by both computations.
            if let Some(xc) = quad.region_point() {
                if exact.strict_pattern_without_zeros(xc).expect("length k") == Some(strict) {
                    prop_assert!(quad.gradient(xc).iter().all(Zero::is_zero));
                    prop_assert!(exact.vbar(xc).expect("length k").iter().all(Zero::is_zero));
                }
            }
        }
    }
}
