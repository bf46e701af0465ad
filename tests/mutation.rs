//! Mutation suite: every shipped `k = 2` certificate
//! (`certificates/*.cert.json`, `certificates/counterexamples/*.cert.json`;
//! the oracle is for `k = 2`, so the `k = 3` reference is left to the
//! reference suite and the rule-soundness tests) and fresh certificates of
//! small random `k = 2` networks (verdicts holds, unknown, violated), mutated
//! one class at a time and run through `hvcert::checker::check` (a few
//! through the `verify` binary).
//!
//! Each mutant is judged independently of the checker's rules: the claim it
//! states (radii, listed points, verdict, counterexample, undecided cells,
//! rho enclosure, network) is compared with the exhaustive exact `k = 2`
//! landscape oracle (`tests/common/oracle_k2.rs`), the MPFR `rho_d`
//! enclosure and the exact evaluator. A mutant is *harmless* when it still
//! parses, is about the same network file and its claim is true by that
//! judgement (the same claim, a weaker one, or a stronger one that the oracle
//! confirms with a margin); every other mutant *changes the meaning* and must
//! be rejected. An accepted mutant whose tree gained leaves must in addition
//! pass a cell-local check of each new leaf (oracle failures in the closed
//! cell, exact points at its corners), so an accepted rule is a genuine proof
//! of its cell, not just a harmless change of the claim.
//!
//! `cargo test --release --test mutation -- --nocapture` prints the
//! per-class table; `MUTATION_SCALE=n` samples n times as many mutants.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::certify::{certify, q, search_options};
use common::oracle_k2::{classify, Landscape};
use hvcert::certifier::rho_mpfr::rho_rational_enclosure;
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::checker::check;
use hvcert::exact::dyadic::f64_to_rational;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Certificate, CounterexampleKind, Face, Node, Rule, Verdict};
use hvcert::format::network::{Measurement, Network};
use num_bigint::BigInt;
use num_rational::BigRational as Q;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::Value;

// ---------------------------------------------------------------- subjects

struct Subject {
    name: String,
    net_bytes: Vec<u8>,
    net: Network,
    sha: String,
    /// The certificate as JSON text (the mutants' starting point).
    json: Value,
    cert: Certificate,
    exact: ExactNet,
    land: Landscape,
    /// A 256-bit MPFR enclosure of `rho_d` (independent of the checker's).
    rho: (Q, Q),
    xs: Vec<Q>,
    xs2: Q,
    check_secs: f64,
}

impl Subject {
    fn new(name: String, net_bytes: Vec<u8>, text: &str) -> Subject {
        let net = Network::from_bytes(&net_bytes).expect("subject network");
        let sha = Network::sha256_hex(&net_bytes);
        let cert = Certificate::from_json(text).expect("subject certificate parses");
        let start = Instant::now();
        check(&cert, &net, &sha).unwrap_or_else(|e| panic!("{name}: original rejected: {}", e.0));
        let check_secs = start.elapsed().as_secs_f64();
        let exact = ExactNet::new(&net).unwrap();
        let t = Instant::now();
        let land = classify(&exact);
        eprintln!(
            "{name}: {:?} ({}, counterexample {:?}), check {check_secs:.2} s, oracle {:.2} s",
            cert.verdict,
            if cert.claim.mode == hvcert::format::certificate::ClaimMode::Given {
                "given"
            } else {
                "sharpest"
            },
            cert.counterexample.as_ref().map(|c| c.kind),
            t.elapsed().as_secs_f64()
        );
        let rho = rho_rational_enclosure(net.widths.len(), 256);
        let xs: Vec<Q> = net
            .target
            .iter()
            .map(|&v| f64_to_rational(v).unwrap())
            .collect();
        let xs2 = xs.iter().map(|v| v * v).sum();
        Subject {
            name,
            net_bytes,
            json: serde_json::from_str(text).unwrap(),
            net,
            sha,
            cert,
            exact,
            land,
            rho,
            xs,
            xs2,
            check_secs,
        }
    }
}

fn shipped_subjects() -> Vec<Subject> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [root.clone(), root.join("counterexamples")] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.to_string_lossy().ends_with(".cert.json") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 4, "the shipped certificates are missing");
    files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let cert = Certificate::from_json(&text).unwrap();
            if cert.latent != 2 {
                return None;
            }
            let hint = cert.network_path.clone().expect("a path hint");
            let bytes = std::fs::read(p.parent().unwrap().join(hint)).unwrap();
            let name = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            Some(Subject::new(name, bytes, &text))
        })
        .collect()
}

/// (seed, widths, m (0: `A = I`), given eps (`None`: sharpest), max_depth).
type FreshSpec = (u64, [usize; 2], usize, Option<(i64, i64)>, u32);

/// Fresh certificates of small `k = 2` networks: (seed, widths, m, eps,
/// max_depth), chosen to give every verdict (asserted below).
fn fresh_subjects() -> Vec<Subject> {
    let specs: [FreshSpec; 5] = [
        (9, [6, 24], 0, None, 10),
        (7, [4, 8], 0, None, 6),
        (7, [4, 8], 0, Some((1, 4)), 6),
        (1, [3, 6], 4, Some((1, 4)), 6),
        (3, [4, 8], 0, Some((1, 4)), 6),
    ];
    specs
        .iter()
        .map(|&(seed, widths, m, eps, depth)| {
            let net = sample_network(&SampleSpec {
                latent: 2,
                widths: widths.to_vec(),
                measurement: if m == 0 {
                    Measurement::Identity
                } else {
                    Measurement::Matrix { m }
                },
                seed,
                target: None,
            });
            let eps = eps.map(|(n, d)| (q(n, d), q(n, d)));
            let opts = search_options(&net, eps.clone(), depth, q(1, 64), None);
            let t = Instant::now();
            let (cert, _) = certify(&net, &opts);
            eprintln!(
                "search {:.2} s: {:?}",
                t.elapsed().as_secs_f64(),
                cert.verdict
            );
            let name = format!(
                "fresh seed {seed} {}/{} m {m} eps {} depth {depth}",
                widths[0],
                widths[1],
                eps.map_or("sharpest".into(), |e| e.0.to_string())
            );
            Subject::new(name, net.to_bytes(), &cert.to_json())
        })
        .collect()
}

// ---------------------------------------------------------------- cells

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Cell {
    face: (usize, bool),
    lo: Vec<Q>,
    hi: Vec<Q>,
    t_lo: Q,
    t_hi: Option<Q>,
}

fn root(face: Face, k: usize) -> Cell {
    let s = if face.positive { Q::one() } else { -Q::one() };
    let mut lo = vec![-Q::one(); k];
    let mut hi = vec![Q::one(); k];
    lo[face.axis] = s.clone();
    hi[face.axis] = s;
    Cell {
        face: (face.axis, face.positive),
        lo,
        hi,
        t_lo: Q::zero(),
        t_hi: None,
    }
}

fn leaves(node: &Node, cell: Cell, out: &mut Vec<(Cell, Rule)>) {
    match node {
        Node::Leaf(r) => out.push((cell, *r)),
        Node::Split { axis, lo, hi } => {
            let mid = (&cell.lo[*axis] + &cell.hi[*axis]) / Q::from_integer(2.into());
            let (mut a, mut b) = (cell.clone(), cell);
            a.hi[*axis] = mid.clone();
            b.lo[*axis] = mid;
            leaves(lo, a, out);
            leaves(hi, b, out);
        }
        Node::Radial { at, inner, outer } => {
            let (mut a, mut b) = (cell.clone(), cell);
            a.t_hi = Some(at.clone());
            b.t_lo = at.clone();
            leaves(inner, a, out);
            leaves(outer, b, out);
        }
    }
}

/// All leaves of a certificate: (main tree?, cell, rule).
fn all_leaves(cert: &Certificate) -> Vec<(bool, Cell, Rule)> {
    let mut out = Vec::new();
    let Some(cover) = &cert.cover else {
        return out;
    };
    for f in &cover.faces {
        for (main, tree) in [(true, &f.tree), (false, &f.zero_tree)] {
            let mut l = Vec::new();
            leaves(tree, root(f.face, cert.latent), &mut l);
            out.extend(l.into_iter().map(|(c, r)| (main, c, r)));
        }
    }
    out
}

fn inf_norm(x: &[Q]) -> Q {
    x.iter().map(|v| v.abs()).max().unwrap()
}

/// `x` in the closed cell (`radial`: also its radial interval).
fn in_cell(x: &[Q], c: &Cell, radial: bool) -> bool {
    let t = inf_norm(x);
    if t.is_zero() {
        return false;
    }
    let (a, pos) = c.face;
    let s = if pos { t.clone() } else { -t.clone() };
    if x[a] != s {
        return false;
    }
    if radial && (t < c.t_lo || c.t_hi.as_ref().is_some_and(|h| &t > h)) {
        return false;
    }
    (0..x.len()).all(|j| {
        let p = &x[j] / &t;
        j == a || (c.lo[j] <= p && p <= c.hi[j])
    })
}

// ---------------------------------------------------------------- judge

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tri {
    Inside,
    Outside,
    Edge,
}

/// Relative margin below which a distance to a ball's boundary counts as
/// undecided (the oracle samples failure intervals' ends to 2^-40 of `t`; sharpest
/// radii are rounded up to 2^-32).
fn margin() -> Q {
    Q::new(BigInt::one(), BigInt::one() << 30)
}

fn ball(s: &Subject, x: &[Q], eps: &Q, centre: &Q) -> Tri {
    let d2 = |c: &Q| -> Q {
        x.iter()
            .zip(&s.xs)
            .map(|(v, t)| {
                let d = v - c * t;
                &d * &d
            })
            .sum::<Q>()
            / &s.xs2
    };
    let r2 = eps * eps;
    let inside = &r2 * (Q::one() - margin());
    let outside = &r2 * (Q::one() + margin());
    let d = d2(centre);
    if d <= inside && !r2.is_zero() {
        Tri::Inside
    } else if d >= outside || r2.is_zero() {
        Tri::Outside
    } else {
        Tri::Edge
    }
}

/// Where `x` lies with respect to `E` of `cert` (at the true `rho_d`,
/// enclosed at 256 bits: both ends must agree).
fn in_e(s: &Subject, cert: &Certificate, x: &[Q]) -> Tri {
    let c = &cert.claim;
    let b1 = ball(s, x, &c.eps_x_star, &Q::one());
    let lo = ball(s, x, &c.eps_rho, &-s.rho.0.clone());
    let hi = ball(s, x, &c.eps_rho, &-s.rho.1.clone());
    let b2 = if lo == hi { lo } else { Tri::Edge };
    match (b1, b2) {
        (Tri::Inside, _) | (_, Tri::Inside) => Tri::Inside,
        (Tri::Outside, Tri::Outside) => Tri::Outside,
        _ => Tri::Edge,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Truth {
    True,
    False(String),
    Undetermined(String),
}

/// Is the claim `cert` states about `s`'s network true? Judged by the
/// oracle, the MPFR enclosure and the exact evaluator only.
fn truth(s: &Subject, cert: &Certificate) -> Truth {
    if cert.network_sha256 != s.sha || cert.latent != s.net.latent {
        return Truth::False("a claim about another network".into());
    }
    let c = &cert.claim;
    if !(c.rho_lo <= s.rho.0 && s.rho.1 <= c.rho_hi) {
        if c.rho_hi < s.rho.0 || c.rho_lo > s.rho.1 {
            return Truth::False("the rho enclosure misses rho_d".into());
        }
        return Truth::Undetermined("the rho enclosure cuts the MPFR one".into());
    }
    for p in &c.stationary_points {
        if p.iter().all(Zero::is_zero) || s.exact.vbar(p).unwrap().iter().any(|v| !v.is_zero()) {
            return Truth::False("a listed point is not stationary".into());
        }
        // Only x* may be excused (issue 13): another stationary point
        // outside E is a failure of (P1) that the claim hides.
        if p != &s.xs {
            match in_e(s, cert, p) {
                Tri::Inside => {}
                Tri::Edge => return Truth::Undetermined("a listed point at E's boundary".into()),
                Tri::Outside => {
                    return Truth::False("a listed point other than x* lies outside E".into())
                }
            }
        }
    }
    let leaves = match &cert.cover {
        Some(_) => all_leaves(cert),
        None => Vec::new(),
    };
    let holds = cert.verdict == Verdict::Holds;
    let undecided = |x: &[Q], main: bool| {
        !holds
            && leaves
                .iter()
                .any(|(m, cell, r)| *m == main && *r == Rule::Undecided && in_cell(x, cell, main))
    };
    let mut edge = None;
    for x in &s.land.failures {
        if c.stationary_points.contains(x) || undecided(x, true) {
            continue;
        }
        match in_e(s, cert, x) {
            Tri::Inside => {}
            Tri::Edge => edge = Some(format!("failure {x:?} at E's boundary")),
            Tri::Outside if cert.verdict == Verdict::Violated && cert.cover.is_none() => {}
            Tri::Outside => return Truth::False(format!("failure {x:?} outside E, not undecided")),
        }
    }
    for p in &s.land.unbounded {
        let far: Vec<Q> = p
            .iter()
            .map(|v| v * Q::from_integer(BigInt::one() << 64))
            .collect();
        if !undecided(&far, true) && cert.cover.is_some() {
            return Truth::False(format!("failures run to infinity along {p:?}"));
        }
    }
    for w in &s.land.zero_failures {
        if !undecided(w, false) && cert.cover.is_some() {
            return Truth::False(format!("(P2) fails along {w:?}"));
        }
    }
    // Radius witnesses: failures of (P1) (not 0, not x*), inside E.
    for x in &cert.radius_witnesses {
        if x.iter().all(Zero::is_zero) || x == &s.xs {
            return Truth::False("a radius witness at 0 or x*".into());
        }
        if s.exact.descent_derivative(x).unwrap().0.is_negative() {
            return Truth::False("a radius witness where (P1) holds".into());
        }
        match in_e(s, cert, x) {
            Tri::Inside => {}
            Tri::Edge => return Truth::Undetermined("a radius witness at E's boundary".into()),
            Tri::Outside => return Truth::False("a radius witness outside E".into()),
        }
    }
    if cert.verdict == Verdict::Violated {
        let Some(cx) = &cert.counterexample else {
            return Truth::False("violated without a counterexample".into());
        };
        let x = &cx.point;
        if x.iter().all(Zero::is_zero) {
            return Truth::False("counterexample at 0".into());
        }
        let genuine = match cx.kind {
            CounterexampleKind::ZeroDirection => {
                let zero = vec![Q::zero(); x.len()];
                !s.exact
                    .directional_derivative(&zero, x)
                    .unwrap()
                    .is_negative()
            }
            CounterexampleKind::Stationary => {
                s.exact.vbar(x).unwrap().iter().all(Zero::is_zero)
                    && s.exact.zero_neurons(x).unwrap().is_empty()
            }
            CounterexampleKind::Point => !s.exact.descent_derivative(x).unwrap().0.is_negative(),
        };
        if !genuine {
            return Truth::False("the counterexample is no failure".into());
        }
        if cx.kind != CounterexampleKind::ZeroDirection {
            if c.stationary_points.contains(x) {
                return Truth::False("the counterexample is a listed point".into());
            }
            match in_e(s, cert, x) {
                Tri::Outside => {}
                Tri::Inside => return Truth::False("the counterexample is inside E".into()),
                Tri::Edge => return Truth::Undetermined("counterexample at E's boundary".into()),
            }
        }
    } else if cert.counterexample.is_some() {
        return Truth::False("a counterexample with verdict holds/unknown".into());
    }
    match edge {
        Some(e) => Truth::Undetermined(e),
        None => Truth::True,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    Identical,
    Weaker,
    Different,
}

fn undecided_cells(cert: &Certificate) -> Vec<(bool, Cell)> {
    let mut v: Vec<(bool, Cell)> = all_leaves(cert)
        .into_iter()
        .filter(|l| l.2 == Rule::Undecided)
        .map(|l| (l.0, l.1))
        .collect();
    v.sort();
    v
}

/// How the mutant's claim relates to the original's (same network assumed).
fn relation(o: &Certificate, m: &Certificate) -> Relation {
    let (co, cm) = (&o.claim, &m.claim);
    if o.verdict != m.verdict || o.counterexample != m.counterexample {
        return Relation::Different;
    }
    let (uo, um) = (undecided_cells(o), undecided_cells(m));
    let mut so = co.stationary_points.clone();
    let mut sm = cm.stationary_points.clone();
    so.sort();
    sm.sort();
    if co.eps_x_star == cm.eps_x_star && co.eps_rho == cm.eps_rho && so == sm && uo == um {
        return Relation::Identical;
    }
    if cm.eps_x_star >= co.eps_x_star
        && cm.eps_rho >= co.eps_rho
        && so.iter().all(|p| sm.contains(p))
        && uo.iter().all(|u| um.contains(u))
    {
        return Relation::Weaker;
    }
    Relation::Different
}

/// The cell-local check of a leaf an accepted mutant gained: no oracle
/// failure in the closed cell outside `E` (main trees), no (P2) failure in
/// the box (zero trees), and the exact evaluator agrees at the cell's
/// corners.
fn leaf_genuine(s: &Subject, cert: &Certificate, main: bool, cell: &Cell, rule: Rule) -> Truth {
    if rule == Rule::Undecided {
        return Truth::True;
    }
    if !main {
        if s.land.zero_failures.iter().any(|w| in_cell(w, cell, false)) {
            return Truth::False(format!("zero rule on a box with a (P2) failure: {cell:?}"));
        }
    } else {
        for x in &s.land.failures {
            if in_cell(x, cell, true) && !cert.claim.stationary_points.contains(x) {
                match in_e(s, cert, x) {
                    Tri::Inside => {}
                    Tri::Outside => {
                        return Truth::False(format!("{rule:?} leaf {cell:?} holds failure {x:?}"))
                    }
                    Tri::Edge => return Truth::Undetermined(format!("failure {x:?} at E's edge")),
                }
            }
        }
    }
    // Corners of the box (k = 2: two), at the radial ends and between.
    let k = cell.lo.len();
    let corners: Vec<Vec<Q>> = (0..1usize << k)
        .map(|bits| {
            (0..k)
                .map(|j| {
                    if bits >> j & 1 == 1 {
                        cell.hi[j].clone()
                    } else {
                        cell.lo[j].clone()
                    }
                })
                .collect()
        })
        .collect();
    let mut radii = vec![];
    if main {
        if cell.t_lo.is_positive() {
            radii.push(cell.t_lo.clone());
        }
        match &cell.t_hi {
            Some(h) => {
                radii.push(h.clone());
                radii.push((&cell.t_lo + h) / Q::from_integer(2.into()));
            }
            None => radii.push(&cell.t_lo + Q::one()),
        }
    }
    let zero = vec![Q::zero(); k];
    for p in &corners {
        if !main {
            if !s
                .exact
                .directional_derivative(&zero, p)
                .unwrap()
                .is_negative()
            {
                return Truth::False(format!("zero rule on {cell:?}: D_w f(0) >= 0 at {p:?}"));
            }
            continue;
        }
        for t in &radii {
            let x: Vec<Q> = p.iter().map(|v| v * t).collect();
            if cert.claim.stationary_points.contains(&x) || in_e(s, cert, &x) != Tri::Outside {
                continue;
            }
            if !s.exact.descent_derivative(&x).unwrap().0.is_negative() {
                return Truth::False(format!("{rule:?} leaf {cell:?}: D >= 0 at {x:?}"));
            }
        }
    }
    Truth::True
}

// ---------------------------------------------------------------- mutants

#[derive(Clone)]
enum Body {
    /// A certificate text against the subject's network.
    Json(String),
    /// The subject's certificate against these network bytes.
    Net(Vec<u8>),
}

/// A mutant, built only when it is sampled.
struct Mutant<'a> {
    class: &'static str,
    what: String,
    make: Box<dyn Fn() -> Body + 'a>,
}

/// Deterministic sampling: a seeded ChaCha stream.
struct Rng(ChaCha8Rng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }
}

fn seed_of(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn pow2(e: i64) -> Q {
    if e >= 0 {
        Q::from_integer(BigInt::one() << e as usize)
    } else {
        Q::new(BigInt::one(), BigInt::one() << (-e) as usize)
    }
}

/// The token spans of every subtree of a preorder token list.
fn subtrees(tokens: &[&str]) -> Vec<(usize, usize)> {
    fn go(tokens: &[&str], i: usize, out: &mut Vec<(usize, usize)>) -> usize {
        let t = tokens[i];
        let end = if t.starts_with('x') || t.starts_with('t') {
            let mid = go(tokens, i + 1, out);
            go(tokens, mid, out)
        } else {
            i + 1
        };
        out.push((i, end));
        end
    }
    let mut out = Vec::new();
    go(tokens, 0, &mut out);
    out
}

/// `r = p / 2^e` with `e` minimal (`r` dyadic).
fn dyadic_exp(r: &Q) -> i64 {
    let d = r.denom();
    d.bits() as i64 - 1
}

fn next_f64(v: f64, up: bool) -> f64 {
    if v == 0.0 {
        return if up {
            f64::from_bits(1)
        } else {
            -f64::from_bits(1)
        };
    }
    let b = v.to_bits();
    let away = (v > 0.0) == up;
    f64::from_bits(if away { b + 1 } else { b - 1 })
}

fn set_str(v: &mut Value, path: &[&str], new: String) {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    *cur = Value::String(new);
}

fn text(v: &Value) -> Body {
    Body::Json(serde_json::to_string_pretty(v).unwrap())
}

/// The tokens of face `fi`'s tree `key`.
fn tokens<'v>(j: &'v Value, fi: usize, key: &str) -> Vec<&'v str> {
    j["cover"]["faces"][fi][key]
        .as_str()
        .unwrap()
        .split(' ')
        .collect()
}

/// The certificate with face `fi`'s tree `key` replaced.
fn with_tree(j: &Value, fi: usize, key: &str, new: &[&str]) -> Body {
    let mut v = j.clone();
    set_str(
        &mut v,
        &["cover", "faces", &fi.to_string(), key],
        new.join(" "),
    );
    text(&v)
}

/// Every mutant of a subject, by class (built lazily).
fn mutants(s: &Subject) -> Vec<Mutant<'_>> {
    let mut out: Vec<Mutant> = Vec::new();
    let j = &s.json;
    let faces = j["cover"]["faces"].as_array().cloned().unwrap_or_default();
    macro_rules! push {
        ($class:expr, $what:expr, $make:expr) => {
            out.push(Mutant {
                class: $class,
                what: $what,
                make: Box::new($make),
            })
        };
    }
    // Trees: drop, duplicate, rule tags, radial split points.
    for (fi, f) in faces.iter().enumerate() {
        for key in ["tree", "zero_tree"] {
            let toks = tokens(j, fi, key);
            let name = format!("face {} {key}", f["face"].as_str().unwrap());
            for (a, b) in subtrees(&toks) {
                let class = if b == a + 1 {
                    "drop leaf"
                } else {
                    "drop subtree"
                };
                push!(class, format!("{name}: tokens {a}..{b}"), move || {
                    let mut n = tokens(j, fi, key);
                    n.drain(a..b);
                    with_tree(j, fi, key, &n)
                });
                push!(
                    "duplicate subtree",
                    format!("{name}: tokens {a}..{b}"),
                    move || {
                        let mut n = tokens(j, fi, key);
                        let copy: Vec<&str> = n[a..b].to_vec();
                        n.splice(b..b, copy);
                        with_tree(j, fi, key, &n)
                    }
                );
            }
            for (i, t) in toks.iter().enumerate() {
                if matches!(*t, "R" | "C" | "P" | "E1" | "E2" | "Z" | "ZF" | "U") {
                    for new in ["R", "C", "P", "E1", "E2", "Z", "ZF", "U"] {
                        if new != *t {
                            push!(
                                "rule tag",
                                format!("{name}: token {i} {t} -> {new}"),
                                move || {
                                    let mut n = tokens(j, fi, key);
                                    n[i] = new;
                                    with_tree(j, fi, key, &n)
                                }
                            );
                        }
                    }
                }
                if let Some(r) = t.strip_prefix('t') {
                    let r: Q = r.parse().unwrap();
                    let fine = pow2(-(dyadic_exp(&r) + 1));
                    let third = &fine / Q::from_integer(3.into());
                    for (how, new) in [
                        ("up", &r + &fine),
                        ("down", &r - &fine),
                        ("non-dyadic", &r + &third),
                    ] {
                        let tok = format!("t{new}");
                        push!(
                            "radial split",
                            format!("{name}: token {i} {t} {how}"),
                            move || {
                                let mut n = tokens(j, fi, key);
                                n[i] = &tok;
                                with_tree(j, fi, key, &n)
                            }
                        );
                    }
                }
            }
        }
    }
    // The remaining classes edit the JSON: `edit!(class, what, |v| ...)`.
    macro_rules! edit {
        ($class:expr, $what:expr, $f:expr) => {{
            let f = $f;
            push!($class, $what, move || {
                let mut v = j.clone();
                f(&mut v);
                text(&v)
            })
        }};
    }
    // Radii, by the smallest step 2^-64 (and relative 2^-60).
    for key in ["eps_x_star", "eps_rho"] {
        let e: Q = j["claim"][key].as_str().unwrap().parse().unwrap();
        let mut steps = vec![
            ("+2^-64", &e + pow2(-64)),
            ("*(1+2^-60)", &e * (Q::one() + pow2(-60))),
        ];
        if e.is_positive() {
            steps.push(("-2^-64", &e - pow2(-64)));
            steps.push(("*(1-2^-60)", &e * (Q::one() - pow2(-60))));
        }
        for (how, new) in steps {
            edit!("eps", format!("{key} {how}"), move |v: &mut Value| {
                set_str(v, &["claim", key], new.to_string())
            });
        }
    }
    // A radius just below the oracle's failure radius for its ball: the
    // claim becomes false (some failure point lies outside the smaller ball).
    let rho_mid = s.rho.0.to_f64().unwrap();
    let (r1, r2) = common::oracle_k2::failure_radii(&s.exact, &s.land, rho_mid);
    for (key, r) in [("eps_x_star", r1), ("eps_rho", r2)] {
        if r.is_finite() && r > 0.0 {
            let new = f64_to_rational(r).unwrap() * (Q::one() - pow2(-10));
            edit!(
                "eps below failure radius",
                format!("{key} -> {r} (1 - 2^-10)"),
                move |v: &mut Value| { set_str(v, &["claim", key], new.to_string()) }
            );
        }
    }
    // The claim's mode.
    let m = if j["claim"]["mode"] == "given" {
        "sharpest"
    } else {
        "given"
    };
    edit!("mode", format!("mode -> {m}"), move |v: &mut Value| {
        set_str(v, &["claim", "mode"], m.into())
    });
    // The rho enclosure's ends: a tiny step and a step of its width.
    let lo: Q = j["claim"]["rho"]["lo"].as_str().unwrap().parse().unwrap();
    let hi: Q = j["claim"]["rho"]["hi"].as_str().unwrap().parse().unwrap();
    let w = &hi - &lo;
    for (end, val) in [("lo", &lo), ("hi", &hi)] {
        for (how, d) in [("2^-300", pow2(-300)), ("width", w.clone())] {
            for sign in [1, -1] {
                let new = val + Q::from_integer(sign.into()) * &d;
                let what = format!("rho.{end} {} {how}", if sign > 0 { "+" } else { "-" });
                edit!("rho enclosure", what, move |v: &mut Value| {
                    set_str(v, &["claim", "rho", end], new.to_string())
                });
            }
        }
    }
    // Listed stationary points: a coordinate moved, a point dropped or added.
    let sp = j["claim"]["stationary_points"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (pi, p) in sp.iter().enumerate() {
        for (ci, c) in p.as_array().unwrap().iter().enumerate() {
            let x: Q = c.as_str().unwrap().parse().unwrap();
            for (how, new) in coordinate_steps(&x) {
                let what = format!("point {pi} coord {ci} {how}");
                edit!("stationary coordinate", what, move |v: &mut Value| {
                    let path = [
                        "claim",
                        "stationary_points",
                        &pi.to_string(),
                        &ci.to_string(),
                    ];
                    set_str(v, &path, new.to_string())
                });
            }
        }
        edit!(
            "stationary list",
            format!("drop point {pi}"),
            move |v: &mut Value| {
                v["claim"]["stationary_points"]
                    .as_array_mut()
                    .unwrap()
                    .remove(pi);
            }
        );
    }
    // Add x* (stationary: a weaker claim) and a point next to it (not).
    let xs: Vec<Value> = s.xs.iter().map(|v| Value::String(v.to_string())).collect();
    let mut near = xs.clone();
    near[0] = Value::String((&s.xs[0] + pow2(-40)).to_string());
    for (what, p) in [("add x*", xs), ("add x* + 2^-40 e1", near)] {
        edit!("stationary list", what.into(), move |v: &mut Value| {
            v["claim"]["stationary_points"]
                .as_array_mut()
                .unwrap()
                .push(Value::Array(p.clone()))
        });
    }
    // max_depth +- 1.
    if let Some(d) = j["cover"]["max_depth"].as_u64() {
        for new in [d + 1, d.saturating_sub(1)] {
            edit!(
                "max_depth",
                format!("max_depth {d} -> {new}"),
                move |v: &mut Value| { v["cover"]["max_depth"] = Value::from(new) }
            );
        }
    }
    // Swap two faces' trees (main, zero, both).
    for a in 0..faces.len() {
        for b in a + 1..faces.len() {
            for keys in [
                &["tree"][..],
                &["zero_tree"][..],
                &["tree", "zero_tree"][..],
            ] {
                let what = format!("faces {a} <-> {b} ({})", keys.join("+"));
                edit!("swap faces", what, move |v: &mut Value| {
                    for key in keys {
                        let ta = v["cover"]["faces"][a][key].clone();
                        let tb = v["cover"]["faces"][b][key].clone();
                        v["cover"]["faces"][a][key] = tb;
                        v["cover"]["faces"][b][key] = ta;
                    }
                });
            }
        }
    }
    // The network hash: one hex digit.
    let sha = j["network"]["sha256"].as_str().unwrap();
    for i in 0..sha.len() {
        let new = if sha.as_bytes()[i] == b'0' { "1" } else { "0" };
        let mut h = sha.to_string();
        h.replace_range(i..i + 1, new);
        edit!(
            "network hash",
            format!("hex digit {i}"),
            move |v: &mut Value| { set_str(v, &["network", "sha256"], h.clone()) }
        );
    }
    // One bit of one weight of the network file (a seeded sample of them).
    let header = 28 + 4 * s.net.widths.len();
    let weights: usize = s.net.weights.iter().map(Vec::len).sum();
    let mut rng = Rng::new(seed_of(&s.name));
    for _ in 0..64 * scale() {
        let (w, bit) = (rng.below(weights), rng.below(64));
        push!("network bit", format!("weight {w} bit {bit}"), move || {
            let mut bytes = s.net_bytes.clone();
            bytes[header + 8 * w + bit / 8] ^= 1 << (bit % 8);
            Body::Net(bytes)
        });
    }
    // The counterexample: each coordinate by one ulp and by 2^-60; its kind.
    if let Some(cx) = j["counterexample"].as_object() {
        for (ci, c) in cx["point"].as_array().unwrap().iter().enumerate() {
            let x: Q = c.as_str().unwrap().parse().unwrap();
            for (how, new) in coordinate_steps(&x) {
                let what = format!("coord {ci} {how}");
                edit!("counterexample coordinate", what, move |v: &mut Value| {
                    set_str(
                        v,
                        &["counterexample", "point", &ci.to_string()],
                        new.to_string(),
                    )
                });
            }
        }
        for kind in ["stationary", "point", "zero_direction"] {
            if cx["kind"] != kind {
                edit!(
                    "counterexample kind",
                    format!("kind -> {kind}"),
                    move |v: &mut Value| { set_str(v, &["counterexample", "kind"], kind.into()) }
                );
            }
        }
        edit!(
            "counterexample kind",
            "counterexample dropped".into(),
            |v: &mut Value| { v["counterexample"] = Value::Null }
        );
    }
    // Radius witnesses: each coordinate by one ulp and by 2^-60; the point
    // replaced by 0, by x*, by twice itself; dropped; repeated; and the
    // format version lowered to 2 (which has no witnesses).
    if let Some(ws) = j["radius_witnesses"].as_array() {
        for (wi, w) in ws.iter().enumerate() {
            for (ci, c) in w.as_array().unwrap().iter().enumerate() {
                let x: Q = c.as_str().unwrap().parse().unwrap();
                for (how, new) in coordinate_steps(&x) {
                    edit!(
                        "radius witness coordinate",
                        format!("witness {wi} coord {ci} {how}"),
                        move |v: &mut Value| {
                            v["radius_witnesses"][wi][ci] = new.to_string().into();
                        }
                    );
                }
            }
            let doubled: Vec<Value> = w
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let x: Q = c.as_str().unwrap().parse().unwrap();
                    Value::String((x * Q::from_integer(2.into())).to_string())
                })
                .collect();
            let xs: Vec<Value> = s.xs.iter().map(|v| Value::String(v.to_string())).collect();
            let zero = vec![Value::String("0".into()); xs.len()];
            for (what, p) in [("x*", xs), ("0", zero), ("twice itself", doubled)] {
                edit!(
                    "radius witness point",
                    format!("witness {wi} -> {what}"),
                    move |v: &mut Value| { v["radius_witnesses"][wi] = Value::Array(p.clone()) }
                );
            }
            edit!(
                "radius witness list",
                format!("witness {wi} dropped"),
                move |v: &mut Value| {
                    v["radius_witnesses"].as_array_mut().unwrap().remove(wi);
                }
            );
            edit!(
                "radius witness list",
                format!("witness {wi} repeated"),
                move |v: &mut Value| {
                    let w = v["radius_witnesses"][wi].clone();
                    v["radius_witnesses"].as_array_mut().unwrap().push(w);
                }
            );
        }
        edit!(
            "radius witness list",
            "version 3 -> 2 with witnesses".into(),
            |v: &mut Value| { v["version"] = Value::from(2) }
        );
    }
    // The verdict.
    for verdict in ["holds", "unknown", "violated"] {
        if j["verdict"] != verdict {
            edit!(
                "verdict",
                format!("verdict -> {verdict}"),
                move |v: &mut Value| { set_str(v, &["verdict"], verdict.into()) }
            );
        }
    }
    out
}

/// A coordinate moved: to the next binary64 above / below its nearest
/// binary64 (exactly), and by +-2^-60.
fn coordinate_steps(x: &Q) -> Vec<(&'static str, Q)> {
    let f = x.to_f64().unwrap();
    vec![
        (
            "next binary64 up",
            f64_to_rational(next_f64(f, true)).unwrap(),
        ),
        (
            "next binary64 down",
            f64_to_rational(next_f64(f, false)).unwrap(),
        ),
        ("+2^-60", x + pow2(-60)),
        ("-2^-60", x - pow2(-60)),
    ]
}

// ---------------------------------------------------------------- run

#[derive(Default, Clone)]
struct Score {
    mutants: usize,
    rejected: usize,
    changing: usize,
    changing_rejected: usize,
    identical: usize,
    weaker: usize,
    stronger_true: usize,
    harmless_rejected: usize,
    undetermined: Vec<String>,
    unsound: Vec<String>,
}

enum Outcome {
    Rejected,
    Accepted(Box<Certificate>),
}

fn run_mutant(s: &Subject, body: &Body) -> (Outcome, Option<Certificate>) {
    match body {
        Body::Json(t) => {
            let cert = match Certificate::from_json(t) {
                Ok(c) => c,
                Err(_) => return (Outcome::Rejected, None),
            };
            let out = match check(&cert, &s.net, &s.sha) {
                Ok(_) => Outcome::Accepted(Box::new(cert.clone())),
                Err(_) => Outcome::Rejected,
            };
            (out, Some(cert))
        }
        Body::Net(bytes) => {
            let net = match Network::from_bytes(bytes) {
                Ok(n) => n,
                Err(_) => return (Outcome::Rejected, None),
            };
            let sha = Network::sha256_hex(bytes);
            match check(&s.cert, &net, &sha) {
                Ok(_) => (Outcome::Accepted(Box::new(s.cert.clone())), None),
                Err(_) => (Outcome::Rejected, None),
            }
        }
    }
}

fn scale() -> usize {
    std::env::var("MUTATION_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n >= 1)
        .unwrap_or(1)
}

/// How many mutants of a subject to run: about 6 s worth (times
/// `MUTATION_SCALE`) by a fixed cost model of the checker (tree tokens times
/// network weights, fitted on the shipped certificates), at least 3, and at
/// most 14 per class (times the scale). Deterministic: no clock involved.
fn budget(s: &Subject, classes: usize) -> usize {
    let tokens: usize = s.cert.cover.as_ref().map_or(0, |c| {
        c.faces
            .iter()
            .map(|f| f.tree.to_token_string().len() / 2 + 1)
            .sum()
    });
    let weights: usize =
        s.net.weights.iter().map(Vec::len).sum::<usize>() + s.net.a.as_ref().map_or(0, Vec::len);
    let est = 0.03 + tokens as f64 * weights as f64 * 1.2e-8;
    ((6.0 * scale() as f64 / est) as usize).clamp(3, 14 * scale() * classes)
}

fn evaluate(s: &Subject, m: &Mutant, score: &mut Score) {
    score.mutants += 1;
    let body = (m.make)();
    let (outcome, parsed) = run_mutant(s, &body);
    let rejected = matches!(outcome, Outcome::Rejected);
    score.rejected += rejected as usize;
    // The mutant's meaning, judged without the checker.
    let judged = match (&body, &parsed) {
        (Body::Net(_), _) => None,
        (Body::Json(_), None) => None,
        (Body::Json(_), Some(c)) => Some((truth(s, c), relation(&s.cert, c))),
    };
    let label = format!("{} [{}] {}", s.name, m.class, m.what);
    let harmless = matches!(judged, Some((Truth::True, _)));
    if !harmless {
        score.changing += 1;
        score.changing_rejected += rejected as usize;
        if !rejected {
            match &judged {
                Some((Truth::Undetermined(why), _)) => {
                    score.undetermined.push(format!("{label}: {why}"))
                }
                Some((Truth::False(why), _)) => score.unsound.push(format!("{label}: {why}")),
                _ => score.unsound.push(format!("{label}: accepted")),
            }
        }
        return;
    }
    let Outcome::Accepted(cert) = outcome else {
        score.harmless_rejected += 1;
        return;
    };
    // Leaves the mutant gained must be genuine proofs of their cells.
    let before = all_leaves(&s.cert);
    for (main, cell, rule) in all_leaves(&cert) {
        if before
            .iter()
            .any(|b| b.0 == main && b.1 == cell && b.2 == rule)
        {
            continue;
        }
        match leaf_genuine(s, &cert, main, &cell, rule) {
            Truth::True => {}
            Truth::False(why) => score.unsound.push(format!("{label}: {why}")),
            Truth::Undetermined(why) => score.undetermined.push(format!("{label}: {why}")),
        }
    }
    match judged.unwrap().1 {
        Relation::Identical => score.identical += 1,
        Relation::Weaker => score.weaker += 1,
        Relation::Different => score.stronger_true += 1,
    }
}

#[test]
fn mutation_suite() {
    let start = Instant::now();
    let mut subjects = shipped_subjects();
    let fresh = fresh_subjects();
    let verdicts: Vec<Verdict> = fresh.iter().map(|s| s.cert.verdict).collect();
    for v in [Verdict::Holds, Verdict::Unknown, Verdict::Violated] {
        assert!(
            verdicts.contains(&v),
            "no fresh {v:?} certificate: {verdicts:?}"
        );
    }
    subjects.extend(fresh);
    let setup = start.elapsed().as_secs_f64();
    eprintln!("setup {setup:.1} s");
    // The judge itself: every original is true, and it is not vacuous (a
    // violated certificate read as holds is false).
    for s in &subjects {
        assert_eq!(truth(s, &s.cert), Truth::True, "{}: the judge", s.name);
        assert_eq!(relation(&s.cert, &s.cert), Relation::Identical);
        if s.cert.verdict == Verdict::Violated {
            let mut c = s.cert.clone();
            c.verdict = Verdict::Holds;
            c.counterexample = None;
            assert!(matches!(truth(s, &c), Truth::False(_)), "{}: judge", s.name);
        }
    }
    let mut table: BTreeMap<&'static str, Score> = BTreeMap::new();
    for s in &subjects {
        let all = mutants(s);
        let mut by_class: BTreeMap<&'static str, Vec<&Mutant>> = BTreeMap::new();
        eprintln!(
            "{}: {} mutants, check {:.2} s",
            s.name,
            all.len(),
            s.check_secs
        );
        for m in &all {
            by_class.entry(m.class).or_default().push(m);
        }
        // Round robin over the classes (in a seeded order), a seeded
        // random mutant of each, until the budget is spent.
        let mut rng = Rng::new(seed_of(&s.name));
        let mut classes: Vec<(&'static str, Vec<&Mutant>)> = by_class.into_iter().collect();
        for i in (1..classes.len()).rev() {
            classes.swap(i, rng.below(i + 1));
        }
        let mut left = budget(s, classes.len());
        while left > 0 && classes.iter().any(|c| !c.1.is_empty()) {
            for (class, list) in classes.iter_mut() {
                if left == 0 || list.is_empty() {
                    continue;
                }
                let m = list.swap_remove(rng.below(list.len()));
                evaluate(s, m, table.entry(class).or_default());
                left -= 1;
            }
        }
        eprintln!("  done at {:.1} s", start.elapsed().as_secs_f64());
    }
    println!(
        "\nmutation suite: {} subjects ({} shipped), setup {setup:.1} s, total {:.1} s, MUTATION_SCALE={}",
        subjects.len(),
        subjects.len() - 5,
        start.elapsed().as_secs_f64(),
        scale()
    );
    println!(
        "{:<26} {:>7} {:>8} {:>15} {:>10} {:>7} {:>8} {:>9}",
        "class",
        "mutants",
        "rejected",
        "score (rej/chg)",
        "identical",
        "weaker",
        "stronger",
        "harmless"
    );
    println!(
        "{:<26} {:>7} {:>8} {:>15} {:>10} {:>7} {:>8} {:>9}",
        "", "", "", "", "accepted", "accepted", "true acc", "rejected"
    );
    let mut unsound = Vec::new();
    let mut undetermined = Vec::new();
    for (class, s) in &table {
        println!(
            "{class:<26} {:>7} {:>8} {:>15} {:>10} {:>7} {:>8} {:>9}",
            s.mutants,
            s.rejected,
            format!("{}/{}", s.changing_rejected, s.changing),
            s.identical,
            s.weaker,
            s.stronger_true,
            s.harmless_rejected
        );
        unsound.extend(s.unsound.iter().cloned());
        undetermined.extend(s.undetermined.iter().cloned());
    }
    assert!(
        unsound.is_empty(),
        "SOUNDNESS: meaning-changing mutants accepted:\n{}",
        unsound.join("\n")
    );
    assert!(
        undetermined.is_empty(),
        "accepted mutants the judge cannot decide:\n{}",
        undetermined.join("\n")
    );
    // Each class saw mutants, and the classes that always change the
    // meaning were all rejected.
    for class in [
        "network hash",
        "network bit",
        "verdict",
        "drop subtree",
        "eps below failure radius",
    ] {
        let s = &table[class];
        assert!(
            s.mutants > 0 && s.changing > 0,
            "{class}: no meaning-changing mutant"
        );
    }
}

/// A few mutants through the `verify` binary: exit 1 (rejected) or 2
/// (unusable), never a VERIFIED line; the unmutated file verifies.
#[test]
fn mutants_through_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let text = std::fs::read_to_string(root.join("k2-4-8-m4.cert.json")).unwrap();
    let net = std::fs::read(root.join("k2-4-8-m4.bin")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let net_path = dir.path().join("k2-4-8-m4.bin");
    std::fs::write(&net_path, &net).unwrap();
    let verify = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_verify"))
            .arg(&p)
            .arg("--net")
            .arg(&net_path)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("panicked"), "{name}: {all}");
        (out.status.code().unwrap(), all)
    };
    let (code, out) = verify("orig.json", &text);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("VERIFIED violated"), "{out}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut cases: Vec<(&str, Value, i32)> = Vec::new();
    let mut m = v.clone();
    m["verdict"] = "holds".into();
    cases.push(("verdict holds", m, 1));
    let mut m = v.clone();
    let p = m["counterexample"]["point"][0]
        .as_str()
        .unwrap()
        .parse::<Q>()
        .unwrap();
    m["counterexample"]["point"][0] = (p + pow2(-60)).to_string().into();
    cases.push(("counterexample moved", m, 1));
    let mut m = v.clone();
    let tree = m["cover"]["faces"][1]["tree"].as_str().unwrap().to_string();
    let toks: Vec<&str> = tree.split(' ').collect();
    m["cover"]["faces"][1]["tree"] = toks[..toks.len() - 1].join(" ").into();
    cases.push(("last leaf dropped", m, 1));
    let mut m = v.clone();
    // The shipped counterexample lies about 5.5 from the origin: a ball of
    // 1000 |x*| around -rho x* holds it, so it no longer refutes the claim.
    m["claim"]["eps_rho"] = "1000".into();
    cases.push(("eps_rho raised over the counterexample", m, 1));
    let mut m = v.clone();
    m["claim"]["rho"]["lo"] = "1/4".into();
    m["claim"]["rho"]["hi"] = "3/10".into();
    cases.push(("rho enclosure below rho_2", m, 1));
    let mut m = v.clone();
    m["claim"]["eps_rho"] = "0.1x".into();
    cases.push(("eps not a rational", m, 2));
    for (name, m, want) in cases {
        let (code, out) = verify(&format!("{name}.json"), &serde_json::to_string(&m).unwrap());
        assert_eq!(code, want, "{name}: {out}");
        assert!(!out.contains("VERIFIED"), "{name}: {out}");
    }
    // One bit of the first weight flipped: the hash no longer matches.
    let mut bytes = net.clone();
    bytes[28 + 4 * 2] ^= 1;
    std::fs::write(&net_path, &bytes).unwrap();
    let (code, out) = verify("orig2.json", &text);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hash mismatch"), "{out}");
}
