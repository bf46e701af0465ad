//! Property: the F3 directional derivative equals the exact one-sided
//! derivative computed another way, from values of `f` alone.
//!
//! Along `x + t w` the pre-activations that are nonzero at `x` keep their sign
//! while `t L < min |z(x)|`, where `L = prod_i max(1, ||W_i||_inf) ||w||_inf`
//! bounds how fast any pre-activation moves (relu is 1-Lipschitz). On that
//! interval every pre-activation is affine in `t` (a zero one is `t c`, and
//! `relu(t c) = t max(c, 0)`), so `f(x + t w)` is exactly a quadratic
//! `f0 + D t + c t^2`, and `D` follows from `f` at two small `t`; a third `t`
//! checks the quadratic.

use hvcert::exact::dyadic::f64_to_rational;
use hvcert::exact::eval::ExactNet;
use hvcert::format::network::{Measurement, Network};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// Small random networks whose weights are multiples of 1/2 in [-2, 2], so
/// exact zeros and ties are common.
fn network() -> impl Strategy<Value = Network> {
    (
        1usize..=3,
        prop::collection::vec(1usize..=4, 1..=3),
        0usize..=3,
    )
        .prop_flat_map(|(k, widths, m)| {
            let mut sizes = Vec::new();
            let mut prev = k;
            for &n in &widths {
                sizes.push(n * prev);
                prev = n;
            }
            let nd = prev;
            let entry = (-4i32..=4).prop_map(|v| v as f64 / 2.0);
            let weights: Vec<_> = sizes
                .iter()
                .map(|&s| prop::collection::vec(entry.clone(), s))
                .collect();
            let a = prop::collection::vec(entry.clone(), m * nd);
            let target = prop::collection::vec(entry.clone(), k)
                .prop_filter("x* must be nonzero", |t| t.iter().any(|&v| v != 0.0));
            (weights, a, target).prop_map(move |(weights, a, target)| Network {
                latent: k,
                widths: widths.clone(),
                measurement: if m == 0 {
                    Measurement::Identity
                } else {
                    Measurement::Matrix { m }
                },
                weights,
                a: if m == 0 { None } else { Some(a) },
                target,
                sampling: None,
            })
        })
}

fn small_vec(k: usize) -> impl Strategy<Value = Vec<BigRational>> {
    prop::collection::vec((-12i64..=12, 1i64..=4).prop_map(|(n, d)| rat(n, d)), k)
}

fn dot(a: &[BigRational], b: &[BigRational]) -> BigRational {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `x - (<c, x> / <c, c>) c`: the projection onto the hyperplane `<c, .> = 0`.
fn project(x: &[BigRational], c: &[BigRational]) -> Vec<BigRational> {
    let cc = dot(c, c);
    if cc.is_zero() {
        return x.to_vec();
    }
    let s = dot(c, x) / cc;
    x.iter().zip(c).map(|(xi, ci)| xi - &s * ci).collect()
}

/// The row `c` with `z_{layer, j}(y) = <c, y>` for `y` in the region of `x`
/// (the strict pattern of `x` on the earlier layers).
fn neuron_row(
    net: &Network,
    en: &ExactNet,
    x: &[BigRational],
    layer: usize,
    j: usize,
) -> Vec<BigRational> {
    let strict = en.strict_pattern(x).unwrap();
    let k = net.latent;
    // prefix = D_{l-1} W_{l-1} ... D_1 W_1 as rationals (identity for layer 1).
    let mut prefix: Vec<Vec<BigRational>> = (0..k)
        .map(|i| {
            (0..k)
                .map(|c| {
                    if i == c {
                        BigRational::one()
                    } else {
                        BigRational::zero()
                    }
                })
                .collect()
        })
        .collect();
    let mut prev = k;
    for l in 0..layer {
        let n = net.widths[l];
        let w = &net.weights[l];
        let rows: Vec<usize> = if l + 1 == layer {
            vec![j]
        } else {
            (0..n).collect()
        };
        let mut next = Vec::new();
        for &r in &rows {
            let on = l + 1 == layer || strict.bits[l][r];
            let row: Vec<BigRational> = (0..k)
                .map(|c| {
                    if !on {
                        return BigRational::zero();
                    }
                    (0..prev)
                        .map(|t| f64_to_rational(w[r * prev + t]).unwrap() * &prefix[t][c])
                        .sum()
                })
                .collect();
            next.push(row);
        }
        prefix = next;
        prev = n;
    }
    prefix.pop().unwrap()
}

/// The one-sided derivative of `f` at `x` along `w`, from values of `f`.
fn derivative_from_values(
    net: &Network,
    en: &ExactNet,
    x: &[BigRational],
    w: &[BigRational],
) -> BigRational {
    let mut lip = w.iter().map(|v| v.abs()).max().unwrap();
    let mut prev = net.latent;
    for (wm, &n) in net.weights.iter().zip(&net.widths) {
        let norm = (0..n)
            .map(|r| {
                (0..prev)
                    .map(|c| f64_to_rational(wm[r * prev + c]).unwrap().abs())
                    .sum::<BigRational>()
            })
            .max()
            .unwrap();
        if norm > BigRational::one() {
            lip *= norm;
        }
        prev = n;
    }
    let min_nonzero = en
        .preactivations(x)
        .unwrap()
        .into_iter()
        .flatten()
        .filter(|z| !z.is_zero())
        .map(|z| z.abs())
        .min();
    let t0 = match min_nonzero {
        Some(m) if !lip.is_zero() => m / lip,
        _ => BigRational::one(),
    };
    let at = |t: &BigRational| -> BigRational {
        let p: Vec<BigRational> = x.iter().zip(w).map(|(xi, wi)| xi + t * wi).collect();
        en.objective(&p).unwrap()
    };
    let f0 = en.objective(x).unwrap();
    let (t1, t2, t3) = (&t0 * rat(1, 2), &t0 * rat(1, 4), &t0 * rat(1, 8));
    let (d1, d2, d3) = (at(&t1) - &f0, at(&t2) - &f0, at(&t3) - &f0);
    // f(t) - f0 = D t + c t^2.
    let d = (&t2 * &t2 * &d1 - &t1 * &t1 * &d2) / (&t1 * &t2 * (&t2 - &t1));
    let c = (&d1 - &d * &t1) / (&t1 * &t1);
    assert_eq!(
        d3,
        &d * &t3 + &c * &t3 * &t3,
        "f is not quadratic on the segment"
    );
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn f3_matches_difference_quotients(
        (net, x, w, pick) in network().prop_flat_map(|net| {
            let k = net.latent;
            (Just(net), small_vec(k), small_vec(k), any::<(u64, u64)>())
        }),
    ) {
        let en = ExactNet::new(&net).unwrap();
        prop_assume!(w.iter().any(|v| !v.is_zero()));
        let layer = (pick.0 % net.widths.len() as u64) as usize + 1;
        let j = (pick.1 % net.widths[layer - 1] as u64) as usize;

        // A generic point, a point on the boundary of neuron (layer, j), and
        // at the boundary point a direction tangent to it.
        let c = neuron_row(&net, &en, &x, layer, j);
        let xb = project(&x, &c);
        let wt = project(&w, &c);
        let mut cases = vec![(x.clone(), w.clone()), (xb.clone(), w.clone())];
        if wt.iter().any(|v| !v.is_zero()) {
            cases.push((xb.clone(), wt));
        }
        for (p, d) in &cases {
            let f3 = en.directional_derivative(p, d).unwrap();
            prop_assert_eq!(&f3, &derivative_from_values(&net, &en, p, d));
            // F3 in the form D_w f(x) = <w, g_{P'}(x)>.
            let pp = en.directional_pattern(p, d).unwrap();
            prop_assert_eq!(&f3, &dot(d, &en.pattern_gradient(&pp, p).unwrap()));
        }
        // D_{-vbar} f(x) through its own path equals the general one.
        for p in [&x, &xb] {
            let minus_vbar: Vec<BigRational> = en.vbar(p).unwrap().into_iter().map(|v| -v).collect();
            let (d, _) = en.descent_derivative(p).unwrap();
            if minus_vbar.iter().all(|v| v.is_zero()) {
                prop_assert!(d.is_zero());
            } else {
                prop_assert_eq!(&d, &en.directional_derivative(p, &minus_vbar).unwrap());
                prop_assert_eq!(&d, &derivative_from_values(&net, &en, p, &minus_vbar));
            }
        }
    }
}

#[test]
fn boundary_points_are_really_hit() {
    // The projection lands exactly on the first-layer hyperplane.
    let net = Network {
        latent: 2,
        widths: vec![2],
        measurement: Measurement::Identity,
        weights: vec![vec![1.0, -3.0, 0.5, 2.0]],
        a: None,
        target: vec![1.0, 0.0],
        sampling: None,
    };
    let en = ExactNet::new(&net).unwrap();
    let x = vec![rat(2, 1), rat(5, 3)];
    let xb = project(&x, &neuron_row(&net, &en, &x, 1, 0));
    assert!(en.preactivations(&xb).unwrap()[0][0].is_zero());
    assert_eq!(en.zero_neurons(&xb).unwrap().len(), 1);
}
