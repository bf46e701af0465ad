//! An exhaustive exact classifier of the landscape for `k = 2`: a test oracle.
//!
//! Every `x != 0` is `t p` with `t = ||x||_inf` and `p` on the boundary of the
//! square (SPEC §4). A direction `p` is named by its *position* `s` in
//! `[0, 4)`: face `f = floor(s)` runs counterclockwise from `CORNERS[f]` to
//! `CORNERS[f + 1]` and `p` is at fraction `s - f` of it. Along a face every
//! pre-activation is continuous and piecewise linear, linear between the
//! zeros of the earlier layers, so the zeros of each layer are found exactly,
//! layer by layer. The open cones between consecutive zero directions are the
//! linear regions (decided by F5); on the zero directions, the boundary rays,
//! `D_{-vbar} f(t p)` is piecewise quadratic in `t` (F3, F7).

use std::collections::{BTreeMap, HashMap};

use hvcert::exact::dyadic::{dyadic_to_rational, DMat, DVec};
use hvcert::exact::eval::{split_point, ExactNet, Pattern};
use num_bigint::BigInt;
use num_rational::BigRational as Q;
use num_traits::{One, Signed, ToPrimitive, Zero};

const CORNERS: [[i64; 2]; 4] = [[1, -1], [1, 1], [-1, 1], [-1, -1]];

/// One linear region: the open cone between two consecutive boundary rays.
#[derive(Clone, Debug)]
pub struct RegionInfo {
    pub pattern: Pattern,
    /// The bounding directions, counterclockwise (`from` then `to`).
    pub from: Vec<Q>,
    pub to: Vec<Q>,
    /// A direction strictly inside the cone.
    pub mid: Vec<Q>,
    /// `x_c = Q_P^{-1} b_P`, when `Q_P` is nonsingular.
    pub center: Option<Vec<Q>>,
    /// `x_c` lies strictly inside the open cone: a true stationary point.
    pub center_inside: bool,
}

/// The exact landscape of a `k = 2` network.
#[derive(Clone, Debug)]
pub struct Landscape {
    /// Boundary directions (some neuron changes sign there), by position.
    pub breakpoints: Vec<Vec<Q>>,
    /// Region `i` lies between `breakpoints[i]` and `breakpoints[i + 1]`.
    pub regions: Vec<RegionInfo>,
    /// Rational `x != 0` with `D_{-vbar_x} f(x) >= 0`, each checked with
    /// `descent_derivative`, sorted and without repeats.
    pub failures: Vec<Vec<Q>>,
    /// Directions `p` with `D_{-vbar} f(t p) >= 0` for all large `t` (a
    /// flat region or a valley to infinity); sample points are in `failures`.
    pub unbounded: Vec<Vec<Q>>,
    /// Directions `w` with `<A G(w), y> <= 0` ((P2) fails), each checked.
    pub zero_failures: Vec<Vec<Q>>,
}

/// A boundary ray: its position, an integer vector `u` along it and the
/// integer numerators of the pre-activations at `u` (their signs matter).
struct Ray {
    pos: Q,
    u: Vec<BigInt>,
    z: Vec<Vec<BigInt>>,
}

fn int(n: i64) -> Q {
    Q::from_integer(BigInt::from(n))
}

fn ints(v: &[BigInt]) -> Vec<Q> {
    v.iter().map(|n| Q::from_integer(n.clone())).collect()
}

fn dot(a: &[BigInt], b: &[BigInt]) -> BigInt {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn scaled(x: &[Q], t: &Q) -> Vec<Q> {
    x.iter().map(|v| v * t).collect()
}

/// The strict pattern of the pre-activations `z`.
fn signs(z: &[Vec<BigInt>]) -> Pattern {
    let bits = z
        .iter()
        .map(|l| l.iter().map(BigInt::is_positive).collect());
    Pattern {
        bits: bits.collect(),
    }
}

/// The direction at position `s`.
pub fn direction(s: &Q) -> Vec<Q> {
    let f = s.floor().to_integer().to_usize().unwrap() % 4;
    let (a, b, lam) = (CORNERS[f], CORNERS[(f + 1) % 4], s - s.floor());
    (0..2)
        .map(|i| int(a[i]) + &lam * int(b[i] - a[i]))
        .collect()
}

/// The position of the direction of `x != 0`.
pub fn position(x: &[Q]) -> Q {
    let t = x[0].abs().max(x[1].abs());
    let p: Vec<Q> = x.iter().map(|v| v / &t).collect();
    (0..4)
        .find_map(|f| {
            let (a, b) = (CORNERS[f], CORNERS[(f + 1) % 4]);
            let (fixed, free) = if a[0] == b[0] { (0, 1) } else { (1, 0) };
            let lam = (&p[free] - int(a[free])) / int(b[free] - a[free]);
            (p[fixed] == int(a[fixed]) && lam < Q::one()).then(|| int(f as i64) + lam)
        })
        .expect("a nonzero point")
}

/// Whether position `s` lies strictly inside the counterclockwise arc from
/// `a` to `b` (the whole circle less `a` when `a == b`).
fn in_arc(s: &Q, a: &Q, b: &Q) -> bool {
    let wrap = |v: Q| if v.is_positive() { v } else { v + int(4) };
    let (ds, db) = (wrap(s - a), wrap(b - a));
    ds < int(4) && ds < db
}

/// The dyadic position with the fewest bits strictly inside the arc from
/// `a` to `b` (cheap to evaluate at).
fn arc_mid(a: &Q, b: &Q) -> Q {
    let b = if b > a { b.clone() } else { b + int(4) };
    let mut scale = Q::one();
    loop {
        let m = ((a * &scale).floor() + int(1)) / &scale;
        if m < b {
            return if m >= int(4) { m - int(4) } else { m };
        }
        scale *= int(2);
    }
}

/// Classifies the landscape exactly. Panics unless `k = 2`.
pub fn classify(net: &ExactNet) -> Landscape {
    assert_eq!(net.k, 2, "the oracle is for k = 2 only");
    let d = net.depth();
    // The numerators (Nq, Nb) of (Q_P, b_P), with exponents the same for all
    // patterns, from `W_d D_{d-1} ... D_1 W_1` (cached by the lower bits).
    let mut quads: HashMap<Pattern, (Vec<BigInt>, Vec<BigInt>)> = HashMap::new();
    let mut below: HashMap<Vec<Vec<bool>>, DMat> = HashMap::new();
    let mut exps = None;
    let mut quad = |p: &Pattern| {
        let count = quads.len();
        let (q, b) = quads.entry(p.clone()).or_insert_with(|| {
            let l = below.entry(p.bits[..d - 1].to_vec()).or_insert_with(|| {
                let l = net.layers.iter().zip(&p.bits).take(d - 1);
                let l = l.fold(DMat::identity(2), |l, (w, bits)| {
                    w.mul_masked(&l, Some(bits))
                });
                net.layers[d - 1].mul_masked(&l, None)
            });
            let keep: Vec<bool> = p.bits[d - 1].iter().flat_map(|&b| [b, b]).collect();
            let l = DMat {
                num: DVec::from_integers(l.num.clone()).mask(&keep).num,
                ..l.clone()
            };
            let m = net.a.as_ref().map_or(l.clone(), |a| a.mul_masked(&l, None));
            let (q, b) = (m.gram(), m.tr_mul_vec(&net.y));
            if count % 64 == 0 {
                let (q0, b0) = net.quadratic(p).unwrap(); // spot check
                assert_eq!((&q, &b), (&q0, &b0));
            }
            assert_eq!(*exps.get_or_insert((q.exp, b.exp)), (q.exp, b.exp));
            (q.num, b.num)
        });
        (q.clone(), b.clone())
    };
    // Q_P x = b_P  <=>  Nq x = c Nb, c = 2^(eb - eq).
    let c = {
        let (q, b) = net
            .quadratic(&net.strict_pattern(&direction(&int(0))).unwrap())
            .unwrap();
        dyadic_to_rational(&BigInt::one(), b.exp - q.exp)
    };
    let rays = boundary_rays(net);
    assert!(!rays.is_empty(), "no neuron changes sign: W_1 = 0");
    let mut failures = vec![net.target.to_rationals()];
    let (mut unbounded, mut zero_failures, mut regions) = (vec![], vec![], vec![]);
    for (i, ra) in rays.iter().enumerate() {
        let rb = &rays[(i + 1) % rays.len()];
        let mid = direction(&arc_mid(&ra.pos, &rb.pos));
        // Every layer is linear on a closed region cone: when it is narrower
        // than half the plane, the signs inside are those of z(ua) + z(ub).
        let pattern = if &ra.u[0] * &rb.u[1] > &ra.u[1] * &rb.u[0] {
            let sum =
                ra.z.iter()
                    .zip(&rb.z)
                    .map(|(x, y)| x.iter().zip(y).map(|(a, b)| a + b));
            signs(&sum.map(Iterator::collect).collect::<Vec<_>>())
        } else {
            net.strict_pattern(&mid).unwrap()
        };
        let (nq, nb) = quad(&pattern);
        // F6: <A G(w), y> = <w, b_P> is linear on the closed cone: check its
        // ends (and the middle, for a cone of half the plane).
        let (from, to) = (direction(&ra.pos), direction(&rb.pos));
        for (w, wi) in [
            (&from, &ra.u),
            (&mid, &split_point(&mid).0.num),
            (&to, &rb.u),
        ] {
            if !dot(wi, &nb).is_positive() && !zero_failures.contains(w) {
                zero_failures.push(w.clone());
            }
        }
        let det = &nq[0] * &nq[3] - &nq[1] * &nq[2];
        let center = (!det.is_zero()).then(|| {
            let x = [
                &nq[3] * &nb[0] - &nq[1] * &nb[1],
                &nq[0] * &nb[1] - &nq[2] * &nb[0],
            ];
            x.map(|v| Q::new(v, det.clone()) * &c).to_vec()
        });
        let inside =
            |x: &Vec<Q>| x.iter().any(|v| !v.is_zero()) && in_arc(&position(x), &ra.pos, &rb.pos);
        let center_inside = center.as_ref().is_some_and(inside);
        if center_inside {
            failures.push(center.clone().unwrap());
        } else if center.is_none() {
            let cands = singular_candidates(&nq, &scaled(&ints(&nb), &c), [&from, &to, &mid]);
            let fails = |x: &Vec<Q>| !net.descent_derivative(x).unwrap().0.is_negative();
            failures.extend(cands.into_iter().filter(inside).filter(fails));
            if nq.iter().all(Zero::is_zero) {
                unbounded.push(mid.clone()); // f is constant on the cone
            }
        }
        regions.push(RegionInfo {
            pattern,
            from,
            to,
            mid,
            center,
            center_inside,
        });
    }
    for ray in &rays {
        let (points, tail) = ray_failures(net, &mut quad, ray, &scaled(&ints(&ray.u), &c));
        failures.extend(points);
        if tail {
            unbounded.push(direction(&ray.pos));
        }
    }
    for x in &failures {
        let d = net.descent_derivative(x).unwrap().0;
        assert!(!d.is_negative(), "oracle bug: D = {d} < 0 at {x:?}");
    }
    failures.sort();
    failures.dedup();
    for w in &zero_failures {
        let d = net.directional_derivative(&[int(0), int(0)], w).unwrap();
        assert!(!d.is_negative(), "oracle bug: D_w f(0) = {d} < 0 at {w:?}");
    }
    let breakpoints = rays.iter().map(|r| direction(&r.pos)).collect();
    Landscape {
        breakpoints,
        regions,
        failures,
        unbounded,
        zero_failures,
    }
}

/// The boundary rays: the directions where some neuron is zero but not on a
/// whole neighbouring piece (a deeper neuron can vanish on a whole region).
///
/// Directions are integer vectors `u` (their scale is irrelevant by F1), and
/// `z_i(u)` is kept as its integer numerator over the exponent common to
/// layer `i`. Layers `<= i` are linear on the cone between consecutive zeros
/// of layers `< i`, so a sign change of `z_i` between `u0` and `u1` (values
/// `a` and `b`) is at `|b| u0 + |a| u1`, where those layers take the same
/// combination of their values; deeper layers follow by a forward pass.
/// Layers below `i` keep only their signs there (all that is needed later).
fn boundary_rays(net: &ExactNet) -> Vec<Ray> {
    let forward_from = |z: &mut Vec<Vec<BigInt>>| {
        while z.len() < net.depth() {
            let act = z
                .last()
                .unwrap()
                .iter()
                .map(|v| v.max(&BigInt::zero()).clone());
            z.push(
                net.layers[z.len()]
                    .mul_vec(&DVec::from_integers(act.collect()))
                    .num,
            );
        }
    };
    let combine = |x: &[BigInt], y: &[BigInt], a: &BigInt, b: &BigInt| -> Vec<BigInt> {
        x.iter()
            .zip(y)
            .map(|(u, v)| b.abs() * u + a.abs() * v)
            .collect()
    };
    let mut pts: BTreeMap<Q, (Vec<BigInt>, Vec<Vec<BigInt>>)> = BTreeMap::new();
    for f in 0..5 {
        let u: Vec<BigInt> = CORNERS[f % 4].iter().map(|&c| BigInt::from(c)).collect();
        let mut z = vec![net.layers[0].mul_vec(&DVec::from_integers(u.clone())).num];
        forward_from(&mut z);
        pts.insert(int(f as i64), (u, z));
    }
    for f in 0..4 {
        for layer in 0..net.depth() {
            let mut new = Vec::new();
            let list: Vec<_> = pts.range(int(f)..=int(f + 1)).map(|(_, v)| v).collect();
            for w in list.windows(2) {
                let ((u0, z0), (u1, z1)) = (w[0], w[1]);
                for (a, b) in z0[layer].iter().zip(&z1[layer]) {
                    if a.sign() != b.sign() && !a.is_zero() && !b.is_zero() {
                        let one = BigInt::one();
                        let mut z: Vec<_> = (0..layer)
                            .map(|i| combine(&z0[i], &z1[i], &one, &one))
                            .collect();
                        z.push(combine(&z0[layer], &z1[layer], a, b));
                        forward_from(&mut z);
                        new.push((combine(u0, u1, a, b), z));
                    }
                }
            }
            for (u, z) in new {
                pts.entry(position(&ints(&u))).or_insert((u, z));
            }
        }
    }
    pts.remove(&int(4));
    let list: Vec<_> = pts
        .into_iter()
        .map(|(pos, (u, z))| Ray { pos, u, z })
        .collect();
    let n = list.len();
    let boundary = |i: usize| {
        let (z, zp, zn) = (&list[i].z, &list[(i + n - 1) % n].z, &list[(i + 1) % n].z);
        let moving = |l: usize, j: usize| !(zp[l][j].is_zero() && zn[l][j].is_zero());
        (0..z.len()).any(|l| (0..z[l].len()).any(|j| z[l][j].is_zero() && moving(l, j)))
    };
    let keep: Vec<bool> = (0..n).map(boundary).collect();
    list.into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(r, _)| r)
        .collect()
}

/// Candidate points of the stationary set `Nq x = b` of a region with
/// singular `Nq`, near its directions `dirs` (the caller keeps those inside
/// the cone with `D >= 0`).
fn singular_candidates(nq: &[BigInt], b: &[Q], dirs: [&Vec<Q>; 3]) -> Vec<Vec<Q>> {
    let Some(i) = (0..2).find(|&i| !nq[2 * i].is_zero() || !nq[2 * i + 1].is_zero()) else {
        return vec![dirs[2].clone()]; // Q = 0 (so b = 0): the cone is flat.
    };
    // Rank one: the line <r, x> = b_i, along n.
    let r = ints(&nq[2 * i..2 * i + 2]);
    let n = vec![-&r[1], r[0].clone()];
    let rp = |p: &Vec<Q>| &r[0] * &p[0] + &r[1] * &p[1];
    let on = dirs
        .iter()
        .filter(|p| !rp(p).is_zero())
        .map(|p| scaled(p, &(&b[i] / rp(p))));
    let on: Vec<Vec<Q>> = on.collect();
    let mut out = vec![n.clone(), scaled(&n, &int(-1))];
    let comb =
        |x: &[Q], y: &[Q], s: &Q, t: &Q| x.iter().zip(y).map(|(a, b)| a * s + b * t).collect();
    let (one, half) = (int(1), Q::new(1.into(), 2.into()));
    for x in &on {
        // x +- n, and the midpoints of two intersections.
        out.extend([comb(x, &n, &one, &one), comb(x, &n, &one, &-&one)]);
        out.extend(on.iter().map(|y| comb(x, y, &half, &half)));
    }
    out
}

/// The F3 directional pass along an integer direction `w` at a point with
/// pre-activation numerators `pre`: the pattern `P'` and, per layer, the
/// directional pre-activations of the zero neurons (numerators over an
/// exponent fixed per layer, so comparable across calls).
fn directional(net: &ExactNet, pre: &[Vec<BigInt>], w: &[BigInt]) -> (Pattern, Vec<Vec<BigInt>>) {
    let deepest = pre
        .iter()
        .rposition(|z| z.iter().any(Zero::is_zero))
        .map_or(0, |l| l + 1);
    let (mut d, mut p) = (w.to_vec(), signs(pre));
    let mut dz_zero = vec![Vec::new(); pre.len()];
    for (i, wm) in net.layers.iter().enumerate().take(deepest) {
        // In the deepest layer only the zero neurons are needed.
        let needed = |j: usize| i + 1 < deepest || pre[i][j].is_zero();
        let dz: Vec<BigInt> = (0..wm.rows)
            .map(|j| {
                if needed(j) {
                    dot(wm.row(j), &d)
                } else {
                    BigInt::zero()
                }
            })
            .collect();
        for j in (0..wm.rows).filter(|&j| pre[i][j].is_zero()) {
            p.bits[i][j] = dz[j].is_positive();
            dz_zero[i].push(dz[j].clone());
        }
        d = DVec::from_integers(dz).mask(&p.bits[i]).num;
    }
    (p, dz_zero)
}

/// `d^2 q(n / d)` for `q(t) = alpha t^2 - beta t + gamma`: the sign of `q`.
fn q_sign([alpha, beta, gamma]: &[BigInt; 3], t: &Q) -> BigInt {
    let (n, d) = (t.numer(), t.denom());
    alpha * n * n - beta * n * d + gamma * d * d
}

/// Failure points on a boundary ray, and whether they reach infinity. Along
/// the points `t cu` (`cu = c u`), `g_P(t cu) = 2^eb (t a_P - b_P)` with the
/// integers `a_P = Nq_P u`, `b_P = Nb_P`, so `D = -<g_P0, g_P'>` has the sign
/// of `-(alpha t^2 - beta t + gamma)` (F7), where `P'` (F3) is constant
/// between the `t` at which a zero neuron's directional pre-activation along
/// `w(t) = b0 - t a0` (a positive multiple of `-g_P0`) changes sign. Those
/// are continuous in `t` and linear between the earlier layers' zeros.
fn ray_failures(
    net: &ExactNet,
    quad: &mut impl FnMut(&Pattern) -> (Vec<BigInt>, Vec<BigInt>),
    ray: &Ray,
    cu: &[Q],
) -> (Vec<Vec<Q>>, bool) {
    let (u, pre) = (&ray.u, &ray.z);
    let affine = |(q, b): (Vec<BigInt>, Vec<BigInt>)| ([dot(&q[..2], u), dot(&q[2..], u)], b);
    let (a0, b0) = affine(quad(&signs(pre)));
    // d w(n / d): an integer direction.
    let w = |t: &Q| -> Vec<BigInt> {
        (0..2)
            .map(|i| t.denom() * &b0[i] - t.numer() * &a0[i])
            .collect()
    };
    let mut ts = vec![int(0)];
    for layer in (0..net.depth()).filter(|&l| pre[l].iter().any(Zero::is_zero)) {
        let mut evals = ts.clone();
        evals.push(ts.last().unwrap() + int(1));
        let h = evals.iter().map(|t| {
            let dz = directional(net, pre, &w(t)).1.swap_remove(layer);
            dz.into_iter()
                .map(|v| Q::new(v, t.denom().clone()))
                .collect::<Vec<_>>()
        });
        let h: Vec<_> = h.collect();
        for j in 0..evals.len() - 1 {
            let (t0, t1, last) = (&evals[j], &evals[j + 1], j + 2 == evals.len());
            for (h0, h1) in h[j].iter().zip(&h[j + 1]).filter(|(h0, h1)| h0 != h1) {
                let r = t0 + (t1 - t0) * h0 / (h0 - h1);
                if r > *t0 && (last || r < *t1) {
                    ts.push(r);
                }
            }
        }
        ts.sort();
        ts.dedup();
    }
    let mut coeffs = |t: &Q| {
        let (a1, b1) = affine(quad(&directional(net, pre, &w(t)).0));
        [dot(&a0, &a1), dot(&a0, &b1) + dot(&b0, &a1), dot(&b0, &b1)]
    };
    let (mut out, mut unbounded) = (vec![], false);
    let unit = Q::one() / cu[0].abs().max(cu[1].abs()); // t at ||x||_inf = 1
    for (j, lo) in ts.iter().enumerate() {
        if lo.is_positive() && !q_sign(&coeffs(lo), lo).is_positive() {
            out.push(scaled(cu, lo));
        }
        let hi = ts.get(j + 1);
        let m = hi.map_or(lo + int(1), |h| (lo + h) / int(2));
        let (ts_fail, tail) = nonpositive_points(&coeffs(&m), lo, hi, &unit);
        out.extend(ts_fail.iter().map(|t| scaled(cu, t)));
        unbounded |= tail;
    }
    (out, unbounded)
}

/// Rational `t` in `(lo, hi)` (`hi = None`: unbounded) where
/// `q(t) = alpha t^2 - beta t + gamma <= 0`: the rational zeros of `q`, and in
/// each piece where `q <= 0` one interior point and, at each finite end, a
/// point within `2^-40` relative of that end; and whether `q <= 0` for all
/// large `t`. `unit` sets the scale of the interior point of an unbounded
/// piece.
fn nonpositive_points(cf: &[BigInt; 3], lo: &Q, hi: Option<&Q>, unit: &Q) -> (Vec<Q>, bool) {
    // Fast exit: q > 0 everywhere, or convex, positive at lo and increasing.
    let [a, b, g] = cf;
    let rising = || q_sign(cf, lo).is_positive() && b * lo.denom() <= a * lo.numer() * 2;
    if a.is_positive() && (b * b < a * g * 4 || rising()) {
        return (vec![], false);
    }
    let zeros = zeros_in(cf, lo, hi);
    let mut out: Vec<Q> = zeros
        .iter()
        .filter(|(a, b)| a == b)
        .map(|z| z.0.clone())
        .collect();
    // Pieces between consecutive cuts: lo, the zeros (brackets), hi.
    let mut cuts = vec![Some((lo.clone(), lo.clone()))];
    cuts.extend(zeros.into_iter().map(Some));
    cuts.push(hi.map(|h| (h.clone(), h.clone())));
    // The point of the piece towards `m` next to a cut: a bracket's end, or
    // within 2^-40 relative of an exact cut.
    let toward = |(a, b): &(Q, Q), m: &Q| {
        if a != b {
            return if m > b { b.clone() } else { a.clone() };
        }
        let gap = (m - a).abs() / int(2);
        let step = if a.is_zero() { gap } else { gap.min(a.abs()) };
        a + (m - a).signum() * step / Q::from_integer(BigInt::one() << 40usize)
    };
    let mut unbounded = false;
    for pair in cuts.windows(2) {
        let left = pair[0].as_ref().unwrap();
        let m = pair[1]
            .as_ref()
            .map_or(&left.1 * int(2) + unit, |r| (&left.1 + &r.0) / int(2));
        if !q_sign(cf, &m).is_positive() {
            out.push(toward(left, &m));
            match &pair[1] {
                Some(right) => out.push(toward(right, &m)),
                None => unbounded = true,
            }
            out.push(m);
        }
    }
    (out, unbounded)
}

/// The zeros of `q` in `(lo, hi)`, sorted, each as `(z, z)` when rational or
/// as a bracket `(a, b)`, `a < z < b`, narrower than `2^-40 |z|`, disjoint
/// from the other and from `lo` and `hi`.
fn zeros_in(cf: &[BigInt; 3], lo: &Q, hi: Option<&Q>) -> Vec<(Q, Q)> {
    let [alpha, beta, gamma] = &cf.clone().map(Q::from_integer);
    let disc = beta * beta - int(4) * alpha * gamma;
    let mut out = vec![];
    if alpha.is_zero() {
        out.extend((!beta.is_zero()).then(|| (gamma / beta, gamma / beta)));
    } else if !disc.is_negative() {
        for bits in (64usize..).step_by(64) {
            // sqrt(disc) within [s, s_hi] / (2^bits denom(disc)), exact
            // exactly when disc is the square of a rational.
            let nd = (disc.numer() * disc.denom()) << (2 * bits);
            let s = nd.sqrt();
            let s_hi = if &s * &s == nd { s.clone() } else { &s + 1 };
            let den = disc.denom() << bits;
            let (s_lo, s_hi) = (Q::new(s, den.clone()), Q::new(s_hi, den));
            let two_a = alpha * int(2);
            let br = [(beta - &s_hi, beta - &s_lo), (beta + &s_lo, beta + &s_hi)]
                .map(|(u, v)| (u / &two_a, v / &two_a))
                .map(|(u, v)| if u < v { (u, v) } else { (v, u) });
            let mut br = br.to_vec();
            br.sort();
            br.dedup();
            let tight = |(a, b): &(Q, Q)| {
                let apart = [Some(lo), hi].into_iter().flatten().all(|e| e < a || e > b);
                let narrow =
                    (b - a) * Q::from_integer(BigInt::one() << 40usize) < a.abs().min(b.abs());
                a == b || (narrow && apart)
            };
            if (br.len() == 1 || br[0].1 < br[1].0) && br.iter().all(tight) {
                out = br;
                break;
            }
        }
    }
    out.retain(|(a, b)| a > lo && hi.is_none_or(|h| b < h));
    out
}

/// The smallest relative radii (about `x*` and about `-rho x*`) whose balls
/// contain all failure points, each point counted at its nearer centre
/// (infinite where failures are unbounded).
pub fn failure_radii(net: &ExactNet, land: &Landscape, rho: f64) -> (f64, f64) {
    let f = |x: &[Q]| x.iter().map(|v| v.to_f64().unwrap()).collect::<Vec<f64>>();
    let xs = f(&net.target.to_rationals());
    let norm = xs[0].hypot(xs[1]);
    let (mut r_star, mut r_rho) = (0f64, 0f64);
    for x in land.failures.iter().map(|x| f(x)) {
        let dist = |c: f64| (x[0] - c * xs[0]).hypot(x[1] - c * xs[1]) / norm;
        let (d1, d2) = (dist(1.0), dist(-rho));
        if d1 <= d2 {
            r_star = r_star.max(d1);
        } else {
            r_rho = r_rho.max(d2);
        }
    }
    for p in land.unbounded.iter().map(|p| f(p)) {
        // Far out along p the nearer centre is x* when <p, x*> > 0.
        if p[0] * xs[0] + p[1] * xs[1] > 0.0 {
            r_star = f64::INFINITY;
        } else {
            r_rho = f64::INFINITY;
        }
    }
    (r_star, r_rho)
}
