//! The certifier's fast tiers against the exact arithmetic they stand in
//! for.
//!
//! - Scalars (proptest): every binary64 and MPFR operation rounded down is
//!   `<=` the exact rational result, rounded up `>=` it; dyadic conversions
//!   and interval products enclose the exact values, huge and tiny ones
//!   included.
//! - The Cone kernel: on every cell of the shipped certificates' covers
//!   (leaves and the cells that were split), a binary64 or MPFR `Proved`
//!   comes with an exact Cone acceptance, and `Failed` with an exact
//!   rejection. The networks cover `A = I`, `A != I`, depth 3 and `k = 3`.
//! - The Cone kernel on radial pieces of a cell with the cell's branch
//!   terms (`ConePieces`, the certifier's radial plans) decides each piece
//!   as the kernel does on the piece alone.
//! - The binary64 screen of a cell's patterns (the Crease rule, and which
//!   region points need an exact solve) agrees with the exact Crease rule
//!   where it decides and never puts outside the cell a region point that
//!   lies in it, on the same cells.

use std::path::Path;

use hvcert::certifier::fast::cone::{cone, screen, ConePieces, Decision, Tables};
use hvcert::certifier::fast::real::{Iv, Mp, Real};
use hvcert::certifier::fast::Mpfr;
use hvcert::checker::geometry::{Cell, Excluded};
use hvcert::checker::patterns::Engine;
use hvcert::checker::rules::{Context, CONE_BRANCHES, CREASE_LIMIT};
use hvcert::exact::dyadic::Dyadic;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Certificate, Face, Node};
use hvcert::format::network::{read_network_file, Network};
use num_bigint::BigInt;
use num_rational::BigRational as Q;
use num_traits::{Signed, Zero};
use proptest::prelude::*;

fn exact_f64(x: f64) -> Q {
    Q::from_float(x).expect("finite")
}

fn exact_mp<const P: u32>(x: &Mp<P>) -> Q {
    hvcert::certifier::rho_mpfr::float_to_rational(&x.0)
}

/// `lo <= v <= hi` where the bounds are finite (an infinite bound holds).
fn encloses_f64(lo: f64, v: &Q, hi: f64) -> bool {
    (lo == f64::NEG_INFINITY || (lo.is_finite() && exact_f64(lo) <= *v))
        && (hi == f64::INFINITY || (hi.is_finite() && exact_f64(hi) >= *v))
}

/// A directed binary64 operation.
type Op = fn(&f64, &f64, bool) -> f64;

fn dyadic(num: i64, extra: u32, exp: i64) -> Dyadic {
    // A numerator of up to 64 + extra bits.
    Dyadic {
        num: BigInt::from(num) * (BigInt::from(1u8) << extra) + BigInt::from(num % 977),
        exp,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn binary64_operations_round_outward(a in -1e12f64..1e12, b in -1e12f64..1e12, sa in -60i32..60, sb in -60i32..60) {
        let (a, b) = (a * 2f64.powi(sa), b * 2f64.powi(sb));
        let (qa, qb) = (exact_f64(a), exact_f64(b));
        let ops: [(&str, Op, Q); 3] = [
            ("add", |x, y, up| x.add(y, up), &qa + &qb),
            ("sub", |x, y, up| x.sub(y, up), &qa - &qb),
            ("mul", |x, y, up| x.mul(y, up), &qa * &qb),
        ];
        for (name, f, exact) in ops {
            prop_assert!(exact_f64(f(&a, &b, false)) <= exact, "{name} down");
            prop_assert!(exact_f64(f(&a, &b, true)) >= exact, "{name} up");
        }
        if b != 0.0 {
            let exact = &qa / &qb;
            prop_assert!(exact_f64(a.div(&b, false)) <= exact);
            prop_assert!(exact_f64(a.div(&b, true)) >= exact);
        }
        let m = a.abs();
        let (lo, hi) = (Real::sqrt(&m, false), Real::sqrt(&m, true));
        let qm = exact_f64(m);
        prop_assert!(exact_f64(lo) * exact_f64(lo) <= qm && exact_f64(hi) * exact_f64(hi) >= qm);
    }

    #[test]
    fn mpfr_operations_round_outward(a in -1e12f64..1e12, b in -1e12f64..1e12, e in -200i64..200) {
        type M = Mp<64>;
        let da = Dyadic { num: BigInt::from((a * 1e3) as i64) * BigInt::from(1_000_003i64), exp: e };
        let db = Dyadic { num: BigInt::from((b * 1e3) as i64) * BigInt::from(999_983i64), exp: -e / 2 };
        let (qa, qb) = (da.to_rational(), db.to_rational());
        let (la, ha) = (M::dyadic(&da, false), M::dyadic(&da, true));
        let (lb, hb) = (M::dyadic(&db, false), M::dyadic(&db, true));
        prop_assert!(exact_mp(&la) <= qa && exact_mp(&ha) >= qa);
        let x = Iv { lo: la, hi: ha };
        let y = Iv { lo: lb, hi: hb };
        let p = x.mul(&y);
        let exact = &qa * &qb;
        prop_assert!(exact_mp(&p.lo) <= exact && exact_mp(&p.hi) >= exact);
        let s = x.sub(&y);
        let exact = &qa - &qb;
        prop_assert!(exact_mp(&s.lo) <= exact && exact_mp(&s.hi) >= exact);
        let sq = x.sqr();
        let exact = &qa * &qa;
        prop_assert!(exact_mp(&sq.lo) <= exact && exact_mp(&sq.hi) >= exact);
    }

    #[test]
    fn dyadics_convert_outward(num in any::<i64>(), extra in 0u32..200, exp in -1400i64..1400) {
        let d = dyadic(num, extra, exp);
        let v = d.to_rational();
        let (lo, hi) = (f64::dyadic(&d, false), f64::dyadic(&d, true));
        prop_assert!(encloses_f64(lo, &v, hi), "{d:?}: [{lo:e}, {hi:e}]");
        let iv = Iv::<f64>::of(&d);
        prop_assert!(encloses_f64(iv.lo, &v, iv.hi));
        if let Some(x) = f64::exact(&d) {
            prop_assert_eq!(exact_f64(x), v.clone());
        }
        let m = Iv::<Mpfr>::of(&d);
        prop_assert!(exact_mp(&m.lo) <= v && exact_mp(&m.hi) >= v);
    }

    /// `to_dyadic` is the exact value (the fast tiers rebuild the checker's
    /// 8-bit jump directions from it), subnormals and MPFR values included;
    /// not finite: none.
    #[test]
    fn values_convert_to_exact_dyadics(bits in any::<u64>(), exp in -1400i64..1400) {
        let x = f64::from_bits(bits);
        match x.to_dyadic() {
            Some(d) => prop_assert_eq!(d.to_rational(), exact_f64(x)),
            None => prop_assert!(!x.is_finite()),
        }
        let d = dyadic(bits as i64, 20, exp);
        let m = Iv::<Mpfr>::of(&d);
        for v in [&m.lo, &m.hi] {
            let back = v.to_dyadic().expect("finite");
            prop_assert_eq!(back.to_rational(), exact_mp(v));
        }
    }

    #[test]
    fn interval_products_enclose(a in -1e6f64..1e6, b in -1e6f64..1e6, c in -1e6f64..1e6, d in -1e6f64..1e6, t in 0f64..1.0) {
        let x = Iv { lo: a.min(b), hi: a.max(b) };
        let y = Iv { lo: c.min(d), hi: c.max(d) };
        // A point of each interval, exactly.
        let px = exact_f64(x.lo) + (exact_f64(x.hi) - exact_f64(x.lo)) * exact_f64(t);
        let py = exact_f64(y.hi) - (exact_f64(y.hi) - exact_f64(y.lo)) * exact_f64(t);
        let p = x.mul(&y);
        let v = &px * &py;
        prop_assert!(exact_f64(p.lo) <= v && exact_f64(p.hi) >= v);
        let s = x.sqr();
        let v = &px * &px;
        prop_assert!(exact_f64(s.lo) <= v && exact_f64(s.hi) >= v);
        prop_assert!(exact_f64(x.mag()) >= px.abs() && exact_f64(x.mig()) <= px.abs());
    }
}

#[test]
fn nan_and_overflow_never_prove() {
    let big = f64::MAX;
    assert_eq!(big.add(&big, true), f64::INFINITY);
    let nan = f64::INFINITY.sub(&f64::INFINITY, false);
    assert!(nan.is_nan());
    assert!(!nan.is_pos() && !nan.is_neg() && !nan.nonneg());
    assert!(hvcert::certifier::fast::real::rmax(nan, 1.0).is_nan());
    assert!(hvcert::certifier::fast::real::rmin(1.0, nan).is_nan());
    assert!(Real::sqrt(&nan, true).is_nan() && Real::sqrt(&nan, false).is_nan());
    assert!(Real::sqrt(&-1.0f64, true).is_nan());
    let iv = Iv { lo: nan, hi: 1.0 };
    assert!(iv.mag().is_nan());
    // 2^-1074 / 2 rounds to 0 (ties to even); outward, the bounds still
    // hold: below 2^-1075 and above it.
    let tiny = f64::from_bits(1);
    assert!(tiny.mul(&0.5, false) < 0.0 && tiny.mul(&0.5, true) == tiny);
}

/// Every cell of a cover tree (leaves and split ones), up to `limit`.
fn cells(node: &Node, cell: Cell, out: &mut Vec<Cell>, limit: usize) {
    if out.len() >= limit {
        return;
    }
    out.push(cell.clone());
    match node {
        Node::Leaf(_) => {}
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            cells(lo, a, out, limit);
            cells(hi, b, out, limit);
        }
        Node::Radial { at, inner, outer } => {
            let at = Dyadic::from_rational(at).expect("dyadic");
            let (a, b) = cell.split_radial(&at).expect("inside");
            cells(inner, a, out, limit);
            cells(outer, b, out, limit);
        }
    }
}

#[derive(Default, Debug)]
struct Agreement {
    cells: usize,
    exact_accepts: usize,
    /// `[proved, unsure, failed]` per tier.
    binary64: [usize; 3],
    mpfr: [usize; 3],
    /// Crease screen `[proved, unsure, failed]`, exact acceptances; region
    /// points `[may be inside, certainly outside]`.
    crease: [usize; 3],
    crease_exact: usize,
    region_points: [usize; 2],
    /// Radial pieces compared, and those proved.
    pieces: [usize; 2],
}

/// Radial pieces of `cell`: cut at a quarter and three quarters of a
/// bounded interval, or at `2 t_lo + 1` and `4 t_lo + 3` past an
/// unbounded one's start: inner, middle and outer parts.
fn radial_pieces(cell: &Cell) -> Vec<Cell> {
    let q = |v: Q| Dyadic::from_rational(&v).expect("dyadic");
    let lo = cell.t_lo.to_rational();
    let (a, b) = match &cell.t_hi {
        Some(h) => {
            let w = h.to_rational() - &lo;
            let quarter = &w / Q::from_integer(4.into());
            (
                q(&lo + &quarter),
                q(&lo + &quarter * Q::from_integer(3.into())),
            )
        }
        None => (
            q(&lo * Q::from_integer(2.into()) + Q::from_integer(1.into())),
            q(&lo * Q::from_integer(4.into()) + Q::from_integer(3.into())),
        ),
    };
    let (inner, rest) = cell.split_radial(&a).expect("inside");
    let (middle, outer) = rest.split_radial(&b).expect("inside");
    vec![inner, middle, outer]
}

fn slot(d: Decision) -> usize {
    match d {
        Decision::Proved => 0,
        Decision::Unsure => 1,
        Decision::Failed => 2,
    }
}

/// The tiers agree with the exact Cone rule on the first `limit` cells of
/// every face of a shipped certificate.
fn compare(name: &str, limit: usize) -> Agreement {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let cert = Certificate::from_json(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
    let loaded = read_network_file(&dir.join(cert.network_path.as_ref().unwrap())).unwrap();
    let k = loaded.network.latent;
    let mut all = Vec::new();
    for face in &cert.cover.as_ref().expect("a cover").faces {
        let mut face_cells = Vec::new();
        cells(&face.tree, Cell::root(face.face, k), &mut face_cells, limit);
        all.extend(face_cells);
    }
    agree(name, &loaded.network, all)
}

/// The tiers agree with the exact Cone rule and the Crease screen with the
/// exact Crease rule on these cells of `network`.
fn agree(name: &str, network: &Network, all: Vec<Cell>) -> Agreement {
    let net = ExactNet::new(network).unwrap();
    let engine = Engine::new(&net);
    let target = net.target.to_rationals();
    let half = Q::new(1.into(), 2.into());
    let ex = Excluded::new(target, &Q::zero(), &Q::zero(), half.clone(), half);
    let ctx = Context {
        engine: &engine,
        excluded: &ex,
        stationary: &[],
    };
    let (t64, tmp) = (Tables::<f64>::new(&engine), Tables::<Mpfr>::new(&engine));
    let mut a = Agreement::default();
    for cell in all {
        // The failure tests of Crease and Pairs never fail a cell the
        // exact rule accepts.
        if let Ok(pats) = ctx.patterns(&cell, 16) {
            if !pats.free.is_empty() && pats.patterns.len() <= CREASE_LIMIT {
                let s = screen(&engine, &t64, &cell, &pats);
                let exact = ctx.crease(&cell, &pats).is_ok();
                match s.crease {
                    Decision::Proved => assert!(
                        exact,
                        "{name}: binary64 proves a Crease cell the exact rule rejects: {cell:?}"
                    ),
                    Decision::Failed => assert!(
                        !exact,
                        "{name}: binary64 fails a Crease cell the exact rule accepts: {cell:?}"
                    ),
                    Decision::Unsure => {}
                }
                a.crease[slot(s.crease)] += 1;
                a.crease_exact += usize::from(exact);
                // A region point the screen puts outside is outside.
                for (p, may) in pats.patterns.iter().zip(&s.may_hold_region_point) {
                    let quad = engine.quadratic(p);
                    let inside = quad
                        .region_scaled()
                        .is_some_and(|(u, q)| cell.contains_scaled(u, q));
                    assert!(
                        *may || !inside,
                        "{name}: region point in {cell:?} screened out"
                    );
                    a.region_points[usize::from(!*may)] += 1;
                }
            }
        }
        let (Ok(branches), _) = ctx.branches_from(&cell, CONE_BRANCHES, None) else {
            continue;
        };
        if branches.len() == 1 && branches[0].free().next().is_none() {
            continue;
        }
        a.cells += 1;
        let exact = ctx.cone(&cell, &branches).is_ok();
        a.exact_accepts += usize::from(exact);
        let f = cone(&engine, &t64, &cell, &branches);
        let m = cone(&engine, &tmp, &cell, &branches);
        a.binary64[slot(f)] += 1;
        a.mpfr[slot(m)] += 1;
        // The cell's branch terms serve its radial pieces: each piece is
        // decided as the kernel decides it alone (and so soundly, above).
        let pieces = ConePieces::new(&engine, &t64, &cell, &branches);
        for piece in radial_pieces(&cell) {
            let shared = pieces.decide(&piece);
            assert_eq!(
                shared,
                cone(&engine, &t64, &piece, &branches),
                "{name}: a radial piece decided otherwise with its cell's terms: {piece:?}"
            );
            a.pieces[0] += 1;
            a.pieces[1] += usize::from(shared == Decision::Proved);
        }
        for (tier, d) in [("binary64", f), ("mpfr", m)] {
            match d {
                Decision::Proved => assert!(
                    exact,
                    "{name}: {tier} proves a cell the exact rule rejects: {cell:?}"
                ),
                Decision::Failed => assert!(
                    !exact,
                    "{name}: {tier} fails a cell the exact rule accepts: {cell:?}"
                ),
                Decision::Unsure => {}
            }
        }
    }
    eprintln!("{name}: {a:?}");
    assert!(
        a.cells > 0 && a.exact_accepts > 0 && a.pieces[1] > 0,
        "{name}: nothing compared"
    );
    a
}

#[test]
fn cone_tiers_agree_with_exact_k2_identity() {
    let a = compare("default.cert.json", usize::MAX);
    // The fast tier decides (almost) everything on its own.
    assert!(a.binary64[1] * 20 <= a.cells, "{a:?}");
}

#[test]
fn cone_tiers_agree_with_exact_k2_compressive() {
    compare("k2-20-100-m50.cert.json", usize::MAX);
}

#[test]
fn cone_tiers_agree_with_exact_depth3() {
    compare("k2-10-40-160-m40.cert.json", usize::MAX);
}

#[test]
fn cone_tiers_agree_with_exact_k3() {
    // The first cells of each face (the k = 3 cover has 76k leaves).
    let limit = if cfg!(debug_assertions) { 60 } else { 400 };
    compare("k3-50-500-m100.cert.json", limit);
}

/// `cell`, its halves (widest side first) down to `depth`, and below that
/// each box cut radially at `t = 1/2` and `t = 2`: cells from `t = 0`, bounded
/// ones and unbounded ones.
fn grid(cell: Cell, depth: u32, out: &mut Vec<Cell>) {
    out.push(cell.clone());
    if depth > 0 {
        let (axis, _) = cell.widest().expect("k >= 2");
        let (a, b) = cell.split(axis);
        grid(a, depth - 1, out);
        grid(b, depth - 1, out);
        return;
    }
    let at = |n: i64, d: i64| Dyadic::from_rational(&Q::new(n.into(), d.into())).unwrap();
    let (inner, rest) = cell.split_radial(&at(1, 2)).expect("inside");
    let (middle, outer) = rest.split_radial(&at(2, 1)).expect("inside");
    out.extend([inner, rest, middle, outer]);
}

#[test]
fn unbounded_and_origin_cells() {
    // Cells at t_lo = 0 and unbounded ones reach the kernel too: a grid of
    // cells over every face of the small non-expansive network (its shipped
    // certificate is a counterexample with a trivial cover).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let loaded = read_network_file(&dir.join("k2-4-8-m4.bin")).unwrap();
    let k = loaded.network.latent;
    let mut all = Vec::new();
    for axis in 0..k {
        for positive in [true, false] {
            grid(Cell::root(Face { axis, positive }, k), 6, &mut all);
        }
    }
    let a = agree("k2-4-8-m4 grid", &loaded.network, all);
    assert!(a.cells > 0 && a.exact_accepts > 0);
}
