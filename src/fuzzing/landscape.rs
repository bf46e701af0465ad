//! The landscape property, end to end: certify a tiny network, check the
//! certificate with the independent checker, and when it says `holds`, test
//! (P1) and (P2) with the exact evaluator at many exact points (given ones,
//! cell vertices, points exactly on creases, region points). A failure is a
//! soundness bug of `certify` + `verify`, never a tolerance issue: every
//! number here is exact.
//!
//! The "outside `E`" test is written here again on purpose (not the checker's
//! [`crate::checker::geometry::Excluded`]), so that a mistake there cannot
//! hide itself.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use crate::certifier::rho_mpfr::rho_rational_enclosure;
use crate::certifier::search::{search, Options, Progress};
use crate::checker::check;
use crate::checker::geometry::Cell;
use crate::exact::dyadic::{f64_to_rational, Dyadic};
use crate::exact::eval::ExactNet;
use crate::format::certificate::{Certificate, Claim, CounterexampleKind, Node, Rule, Verdict};
use crate::format::network::{Measurement, Network};

type Q = BigRational;

/// One decoded case: a tiny network, the radii (`None`: sharpest mode) and
/// extra points to test.
#[derive(Clone, Debug)]
pub struct LandscapeCase {
    pub net: Network,
    pub eps: Option<(Q, Q)>,
    pub points: Vec<Vec<Q>>,
}

/// What one case exercised.
#[derive(Clone, Debug)]
pub struct LandscapeReport {
    pub verdict: Verdict,
    pub counterexample: Option<CounterexampleKind>,
    /// The claimed radii `(eps_x_star, eps_rho)`.
    pub eps: (Q, Q),
    /// Points outside `E` at which `D_{-vbar} f < 0` was checked exactly.
    pub p1_points: usize,
    /// Of those, points where some neuron is exactly zero (on a crease).
    pub crease_points: usize,
    /// Directions `w` at which `D_w f(0) < 0` was checked exactly.
    pub p2_directions: usize,
}

/// Search limits for one case: small, so a campaign gets many executions.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_depth: u32,
    pub time_limit: Duration,
    /// Leaves of the cover whose vertices are used as test points.
    pub leaves: usize,
    /// Test points in all.
    pub points: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 12,
            time_limit: Duration::from_millis(60),
            leaves: 96,
            points: 600,
        }
    }
}

/// Reads bytes one at a time; zeros once they run out.
struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn left(&self) -> usize {
        self.data.len().saturating_sub(self.at)
    }
    /// A small dyadic in `[-8, 8)`, step `1/16`: exact in binary64.
    fn weight(&mut self) -> f64 {
        f64::from(self.next() as i8) / 16.0
    }
}

fn q(n: i64, d: i64) -> Q {
    Q::new(BigInt::from(n), BigInt::from(d))
}

/// Decodes a case from fuzzer bytes; `None` for an invalid network (zero
/// target), which is rejected quietly.
///
/// Layout: `k` (`byte % 8`: 0 gives 1, 1 gives 3, else 2), depth
/// (`1 + byte % 3`), mirrored (`byte % 2 == 1`: `W_1`'s odd rows are minus
/// the even ones, later weights and `A` are `|v| + 1/16`, `n_1` is rounded
/// up to even and `d` up to 2), one byte per width (`2 + byte % 5`, `2 + byte % 2` for
/// `k = 3`, whose depth is at most 2), the measurement (`byte % 4 == 0`: a matrix with
/// `m = 1 + (byte / 4) % 6` rows, else `A = I`), the weights `W_1 .. W_d`,
/// `A`, `x*` (one byte each, `(byte as i8) / 16`), the mode (even: sharpest;
/// odd: `eps = ((1 + (b >> 1) % 8) / 8, (1 + (b >> 4) % 8) / 8)`), then up to
/// 16 points of `k` bytes (`(byte as i8) / 8` each).
pub fn decode(data: &[u8]) -> Option<LandscapeCase> {
    let mut b = Bytes { data, at: 0 };
    let k = match b.next() % 8 {
        0 => 1,
        1 => 3,
        _ => 2,
    };
    let mut depth = 1 + usize::from(b.next() % 3);
    // Mirrored: W_1's rows come in pairs (w, -w), every later weight and A
    // are positive, and d >= 2, so G(w) > 0 for every w != 0 and (P2) and
    // (P1) can hold; plain random tiny networks mostly violate (P2) (with
    // d = 1 always: relu(W x*) and relu(-W x*) have disjoint supports).
    let mirrored = b.next() % 2 == 1;
    if mirrored {
        depth = depth.max(2);
    }
    if k == 3 {
        // The search's time limit is not a hard bound: k = 3 with d = 3
        // can take seconds per input.
        depth = depth.min(2);
    }
    let mut widths: Vec<usize> = (0..depth)
        .map(|_| {
            let v = usize::from(b.next());
            if k == 3 {
                2 + v % 2
            } else {
                2 + v % 5
            }
        })
        .collect();
    if mirrored {
        widths[0] += widths[0] % 2;
    }
    let mb = b.next();
    let measurement = if mb % 4 == 0 {
        Measurement::Matrix {
            m: 1 + usize::from(mb / 4) % 6,
        }
    } else {
        Measurement::Identity
    };
    let mut weights = Vec::with_capacity(depth);
    let mut prev = k;
    for (i, &n) in widths.iter().enumerate() {
        let mut w: Vec<f64> = (0..n * prev).map(|_| b.weight()).collect();
        if mirrored && i == 0 {
            for r in (1..n).step_by(2) {
                for j in 0..prev {
                    w[r * prev + j] = -w[(r - 1) * prev + j];
                }
            }
        } else if mirrored {
            w.iter_mut().for_each(|v| *v = v.abs() + 0.0625);
        }
        weights.push(w);
        prev = n;
    }
    let a = match measurement {
        Measurement::Matrix { m } => Some(
            (0..m * prev)
                .map(|_| {
                    let v = b.weight();
                    if mirrored {
                        v.abs() + 0.0625
                    } else {
                        v
                    }
                })
                .collect(),
        ),
        Measurement::Identity => None,
    };
    let target: Vec<f64> = (0..k).map(|_| b.weight()).collect();
    let net = Network {
        latent: k,
        widths,
        measurement,
        weights,
        a,
        target,
        sampling: None,
    };
    net.validate().ok()?;
    let mode = b.next();
    let eps = (mode % 2 == 1).then(|| {
        (
            q(1 + i64::from((mode >> 1) % 8), 8),
            q(1 + i64::from((mode >> 4) % 8), 8),
        )
    });
    let mut points = Vec::new();
    while b.left() >= k && points.len() < 16 {
        points.push((0..k).map(|_| q(i64::from(b.next() as i8), 8)).collect());
    }
    Some(LandscapeCase { net, eps, points })
}

/// The fuzz target: decode, then [`check_case`] with the default limits.
/// Networks where (P2) fails along an axis direction are skipped: their
/// `violated` verdict says nothing about the `holds` property, and the
/// certifier's search for the zero-direction counterexample (splitting
/// direction boxes down to `2^-24`) would take most of a campaign's time.
pub fn landscape(data: &[u8]) {
    let Some(case) = decode(data) else {
        return;
    };
    let en = ExactNet::new(&case.net).expect("a validated network");
    let k = case.net.latent;
    let zero = vec![Q::zero(); k];
    for j in 0..2 * k {
        let mut w = zero.clone();
        w[j / 2] = if j % 2 == 0 { Q::one() } else { -Q::one() };
        if en
            .directional_derivative(&zero, &w)
            .is_ok_and(|d| !d.is_negative())
        {
            return;
        }
    }
    check_case(&case, &Limits::default());
}

/// The certifier's rho_d enclosure for depths 1 to 3 (computed once).
fn rho(d: usize) -> (Q, Q) {
    static CACHE: [OnceLock<(Q, Q)>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    match CACHE.get(d) {
        Some(cell) => cell.get_or_init(|| rho_rational_enclosure(d, 128)).clone(),
        None => rho_rational_enclosure(d, 128),
    }
}

/// Certifies the case's network, checks the certificate, and when it
/// `holds`, checks (P1) and (P2) exactly at many points. Panics (with the
/// network, the claim and the point) on any disagreement.
pub fn check_case(case: &LandscapeCase, limits: &Limits) -> LandscapeReport {
    let net = &case.net;
    let bytes = net.to_bytes();
    let sha = Network::sha256_hex(&bytes);
    let opts = Options {
        eps: case.eps.clone(),
        max_depth: limits.max_depth,
        resolution: q(1, 16),
        time_limit: Some(limits.time_limit),
        rho: rho(net.widths.len()),
        exact_only: false,
        parts: None,
        resume: None,
        budget: crate::limits::Budget::unlimited(),
    };
    let r = search(net, &sha, None, &opts, &Progress::default());
    let text = r.certificate.to_json();
    let cert = Certificate::from_json(&text)
        .unwrap_or_else(|e| panic!("the certifier's certificate does not parse: {e}\n{text}"));
    let report = check(&cert, net, &sha).unwrap_or_else(|e| {
        panic!(
            "the checker rejects the certifier's certificate: {}\nnetwork: {net:?}\n{text}",
            e.0
        )
    });
    assert_eq!(
        report.verdict, cert.verdict,
        "checker and certifier verdicts"
    );

    let en = ExactNet::new(net).expect("a validated network");
    let target: Vec<Q> = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).expect("finite"))
        .collect();
    let mut out = LandscapeReport {
        verdict: cert.verdict,
        counterexample: cert.counterexample.as_ref().map(|c| c.kind),
        eps: (cert.claim.eps_x_star.clone(), cert.claim.eps_rho.clone()),
        p1_points: 0,
        crease_points: 0,
        p2_directions: 0,
    };
    let outside = |x: &[Q]| outside_e(&cert.claim, &target, x);
    let zero = vec![Q::zero(); net.latent];

    if cert.verdict == Verdict::Violated {
        // The counterexample, re-evaluated directly.
        let c = cert.counterexample.as_ref().expect("violated has one");
        let x = &c.point;
        match c.kind {
            CounterexampleKind::Point => {
                let (d, _) = en.descent_derivative(x).expect("length k");
                assert!(outside(x) && !d.is_negative(), "bogus point counterexample");
            }
            CounterexampleKind::Stationary => {
                let v = en.vbar(x).expect("length k");
                assert!(
                    outside(x) && v.iter().all(Zero::is_zero) && x.iter().any(|v| !v.is_zero()),
                    "bogus stationary counterexample"
                );
            }
            CounterexampleKind::ZeroDirection => {
                let d = en.directional_derivative(&zero, x).expect("length k");
                assert!(!d.is_negative(), "bogus zero-direction counterexample");
            }
        }
    }
    if cert.verdict != Verdict::Holds {
        return out;
    }
    let cover = cert.cover.as_ref().expect("holds has a cover");

    // Test points: given ones, then per leaf cell its vertices (or corners
    // at a few radii when unbounded) and centre, points exactly on the
    // creases between them, and region points of the patterns met.
    let mut pts: BTreeSet<Vec<Q>> = case.points.iter().cloned().collect();
    let mut dirs: BTreeSet<Vec<Q>> = BTreeSet::new();
    let mut leaves = Vec::new();
    let mut zero_leaves = Vec::new();
    for fc in &cover.faces {
        walk(&fc.tree, Cell::root(fc.face, net.latent), &mut leaves);
        walk(
            &fc.zero_tree,
            Cell::root(fc.face, net.latent),
            &mut zero_leaves,
        );
    }
    for (cell, _) in zero_leaves.iter().take(limits.leaves) {
        for c in cell.corners() {
            dirs.insert(c.iter().map(Dyadic::to_rational).collect());
        }
    }
    // Spread the leaves examined over the whole cover.
    let stride = leaves.len().div_ceil(limits.leaves.max(1)).max(1);
    for (cell, _) in leaves.iter().step_by(stride) {
        let base = cell_points(cell);
        for i in 0..base.len() {
            for j in i + 1..base.len() {
                if pts.len() >= limits.points {
                    break;
                }
                crease_points(&en, &base[i], &base[j], &mut pts);
            }
        }
        pts.extend(base);
        if pts.len() >= limits.points {
            break;
        }
    }
    let given: Vec<Vec<Q>> = case.points.clone();
    for i in 0..given.len() {
        for j in i + 1..given.len() {
            crease_points(&en, &given[i], &given[j], &mut pts);
        }
    }
    let mut regions = BTreeSet::new();
    for x in pts.iter().take(limits.points) {
        if let Ok(pats) = en.consistent_patterns(x, 16) {
            for p in pats {
                if let Ok(Some(xc)) = en.region_point(&p) {
                    regions.insert(xc);
                }
            }
        }
    }
    pts.extend(regions);

    for x in &pts {
        if x.iter().all(Zero::is_zero) {
            continue;
        }
        dirs.insert(x.clone());
        if !outside(x) || cert.claim.stationary_points.contains(x) {
            continue;
        }
        let (d, pattern) = en.descent_derivative(x).expect("length k");
        assert!(
            d.is_negative(),
            "SOUNDNESS: verified `holds`, but D_-vbar f(x) = {d} >= 0 at x = {} \
             (F3 pattern {pattern}), outside E\nnetwork: {net:?}\nclaim: {:?}\n{text}",
            show(x),
            cert.claim
        );
        out.p1_points += 1;
        if en.zero_neurons(x).is_ok_and(|z| !z.is_empty()) {
            out.crease_points += 1;
        }
    }
    for w in &dirs {
        if w.iter().all(Zero::is_zero) {
            continue;
        }
        let d = en.directional_derivative(&zero, w).expect("length k");
        assert!(
            d.is_negative(),
            "SOUNDNESS: verified `holds`, but D_w f(0) = {d} >= 0 for w = {}\n\
             network: {net:?}\n{text}",
            show(w)
        );
        out.p2_directions += 1;
    }
    out
}

fn show(x: &[Q]) -> String {
    let v: Vec<String> = x.iter().map(ToString::to_string).collect();
    format!("[{}]", v.join(", "))
}

/// Outside `E` for every `rho` in the claimed enclosure (so outside for the
/// true `rho_d`): `|x - x*| >= e1 |x*|` and `min_rho |x + rho x*| >= e2 |x*|`.
fn outside_e(claim: &Claim, t: &[Q], x: &[Q]) -> bool {
    let n2: Q = t.iter().map(|v| v * v).sum();
    let d1: Q = x.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum();
    if d1 < &claim.eps_x_star * &claim.eps_x_star * &n2 {
        return false;
    }
    // |x + rho t|^2 is convex in rho, least at -<x,t>/|t|^2.
    let xt: Q = x.iter().zip(t).map(|(a, b)| a * b).sum();
    let best = -xt / &n2;
    let rho = best.clamp(claim.rho_lo.clone(), claim.rho_hi.clone());
    let d2: Q = x
        .iter()
        .zip(t)
        .map(|(a, b)| (a + &rho * b) * (a + &rho * b))
        .sum();
    d2 >= &claim.eps_rho * &claim.eps_rho * &n2
}

/// The leaves of a tree with their cells.
fn walk(node: &Node, cell: Cell, out: &mut Vec<(Cell, Rule)>) {
    match node {
        Node::Leaf(rule) => out.push((cell, *rule)),
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            walk(lo, a, out);
            walk(hi, b, out);
        }
        Node::Radial { at, inner, outer } => {
            let split = Dyadic::from_rational(at).and_then(|d| cell.split_radial(&d));
            let (a, b) = split.expect("a checked certificate splits inside");
            walk(inner, a, out);
            walk(outer, b, out);
        }
    }
}

/// Vertices of a bounded cell (corners at a few radii when unbounded) and
/// its centre, zero left out.
fn cell_points(cell: &Cell) -> Vec<Vec<Q>> {
    let t_lo = cell.t_lo.to_rational();
    let radii: Vec<Q> = match &cell.t_hi {
        Some(h) => vec![t_lo.clone(), h.to_rational()],
        None => vec![
            t_lo.clone(),
            &t_lo + Q::one(),
            &t_lo * q(2, 1) + q(16, 1),
            &t_lo + q(1024, 1),
        ],
    };
    let corners: Vec<Vec<Q>> = cell
        .corners()
        .iter()
        .map(|c| c.iter().map(Dyadic::to_rational).collect())
        .collect();
    let mut out: Vec<Vec<Q>> = Vec::new();
    for t in &radii {
        for c in &corners {
            out.push(c.iter().map(|v| v * t).collect());
        }
    }
    let n = Q::from_integer(BigInt::from(corners.len()));
    let centre: Vec<Q> = (0..cell.k())
        .map(|j| corners.iter().map(|c| c[j].clone()).sum::<Q>() / &n)
        .collect();
    let mid = (&radii[0] + &radii[radii.len() - 1]) / q(2, 1);
    out.push(centre.iter().map(|v| v * &mid).collect());
    out.retain(|x| x.iter().any(|v| !v.is_zero()));
    out
}

/// The points of the segment `a -> b` where some neuron's pre-activation
/// crosses zero, exactly: layer by layer, since between consecutive zeros of
/// the earlier layers every pre-activation is affine along the segment.
fn crease_points(en: &ExactNet, a: &[Q], b: &[Q], out: &mut BTreeSet<Vec<Q>>) {
    let at = |s: &Q| -> Vec<Q> { a.iter().zip(b).map(|(x, y)| x + s * (y - x)).collect() };
    let pre = |s: &Q| en.preactivations(&at(s)).expect("length k");
    let mut breaks = vec![(Q::zero(), pre(&Q::zero())), (Q::one(), pre(&Q::one()))];
    for layer in 0..en.depth() {
        let mut new = Vec::new();
        for w in breaks.windows(2) {
            let ((s0, z0), (s1, z1)) = (&w[0], &w[1]);
            for (u, v) in z0[layer].iter().zip(&z1[layer]) {
                if (u.is_positive() && v.is_negative()) || (u.is_negative() && v.is_positive()) {
                    new.push(s0 + (s1 - s0) * (u / (u - v)));
                }
            }
        }
        for s in new {
            let z = pre(&s);
            debug_assert!(z[layer].iter().any(Zero::is_zero));
            out.insert(at(&s));
            breaks.push((s, z));
        }
        breaks.sort_by(|x, y| x.0.cmp(&y.0));
        breaks.dedup_by(|x, y| x.0 == y.0);
        if breaks.len() > 64 {
            break;
        }
    }
}
