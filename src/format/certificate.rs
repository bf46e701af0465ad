//! The certificate file, format v5 (format page: `docs/certificate-format.md`).
//! Version 2 adds a proof of the Cone rule (descent across a neuron of a
//! lower layer); version 3 adds `radius_witnesses` (exact failure points
//! that bound the radii from below); version 4 another proof of the Cone
//! rule (descent across first-layer neurons with the gradient's exact
//! jump, depth 2); version 5 the first-layer Zero rule (leaf `ZF`, see
//! `checker::zero_first`). Version 1 to 4 files are read and checked with
//! the same rules (a superset of theirs); a witness in a version 1 or 2
//! file, and a `ZF` leaf before version 5, are refused.
//!
//! JSON with every number on the path to a verdict an exact rational string.
//! The cover is one bisection tree per cube face, written as a preorder token
//! string; coverage follows from the tree's structure alone.

use std::fmt;

use num_rational::BigRational;
use num_traits::Signed;
use serde::{Deserialize, Serialize};

use crate::exact::dyadic::Dyadic;
use crate::exact::rational::parse_rational;

pub const FORMAT_NAME: &str = "hvcert-certificate";
pub const FORMAT_VERSION: u32 = 5;
/// The oldest version this checker reads.
pub const OLDEST_VERSION: u32 = 1;
/// Deepest tree a checker accepts (splits from a face's root to a leaf).
pub const MAX_DEPTH_CAP: u32 = 256;
/// Most tokens over all trees, counted as space-separated words before any
/// is parsed (a parsed token takes 100 to 120 bytes). With
/// [`MAX_CERT_BYTES`] this keeps a parsed certificate well inside
/// `limits::DEFAULT_MAX_MEMORY` (see `docs/certificate-format.md`).
pub const MAX_TOKENS: usize = 1 << 22;
/// Largest certificate file `verify` reads (checked before reading). A
/// radial split's token spells its dyadic point (up to about 40 bytes), so
/// a tree near [`MAX_TOKENS`] with many of them takes some 40 MB.
pub const MAX_CERT_BYTES: u64 = 64 << 20;
/// Largest `stats` object, as compact JSON.
pub const MAX_STATS_BYTES: usize = 1 << 20;
/// Most listed `claim.stationary_points` (each costs an exact evaluation of
/// the network, and every region point is compared with them).
pub const MAX_STATIONARY_POINTS: usize = 1024;
/// Most `radius_witnesses` a certificate may carry (the certifier writes at
/// most one per ball).
pub const MAX_RADIUS_WITNESSES: usize = 64;
/// Largest latent dimension a certificate may cover. A box has `2^(k-1)`
/// corners and every node of a tree evaluates each neuron at each corner,
/// so the checker's work per token grows as `2^(k-1)`: with `k <= 6` a
/// token costs at most 32 corner evaluations per consistent branch (the
/// cost model is in `docs/certificate-format.md`). `certify` should refuse
/// networks with a larger `k` up front.
pub const MAX_LATENT: usize = 6;
/// Longest rational string accepted (digits).
const MAX_RATIONAL_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("not an hvcert certificate (format field is {0:?})")]
    Format(String),
    #[error("unsupported certificate version {0} (this checker reads versions {OLDEST_VERSION} to {FORMAT_VERSION})")]
    Version(u64),
    #[error("{field}: {value:?} is not an exact rational")]
    Rational { field: String, value: String },
    #[error("{0}")]
    Invalid(String),
    #[error("face {face}, tree: {msg}")]
    Tree { face: String, msg: String },
    #[error("cover: {0}")]
    Coverage(String),
}

fn invalid(msg: impl Into<String>) -> CertError {
    CertError::Invalid(msg.into())
}

/// A face of the cube `[-1, 1]^k`: `p_axis = +1` or `-1` (axis 0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Face {
    pub axis: usize,
    pub positive: bool,
}

impl fmt::Display for Face {
    /// `+1` .. `+k`, `-1` .. `-k` (axes 1-based in files and messages).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            if self.positive { '+' } else { '-' },
            self.axis + 1
        )
    }
}

impl Face {
    pub fn parse(s: &str, k: usize) -> Result<Face, CertError> {
        let (positive, rest) = match s.as_bytes().first() {
            Some(b'+') => (true, &s[1..]),
            Some(b'-') => (false, &s[1..]),
            _ => return Err(invalid(format!("face {s:?}: expected +j or -j"))),
        };
        let axis: usize = rest
            .parse()
            .map_err(|_| invalid(format!("face {s:?}: expected +j or -j")))?;
        if axis == 0 || axis > k {
            return Err(invalid(format!("face {s:?}: axis out of range 1..={k}")));
        }
        Ok(Face {
            axis: axis - 1,
            positive,
        })
    }
}

/// The two open balls of the excluded set `E`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ball {
    /// `B(x*, eps_x_star |x*|)`.
    XStar,
    /// `B(-rho_d x*, eps_rho |x*|)`.
    Rho,
}

/// How a leaf is decided (SPEC §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    Region,
    Pairs,
    Crease,
    /// Gradient cone over many free neurons (SPEC §7).
    Cone,
    Excluded(Ball),
    /// (P2) on a direction box (zero trees only).
    Zero,
    /// (P2) on a direction box by the first-layer bound (zero trees only;
    /// format version 5).
    ZeroFirst,
    /// Not decided: a residual cell (verdict `unknown` or `violated`).
    Undecided,
}

impl Rule {
    pub fn token(self) -> &'static str {
        match self {
            Rule::Region => "R",
            Rule::Pairs => "P",
            Rule::Crease => "C",
            Rule::Cone => "K",
            Rule::Excluded(Ball::XStar) => "E1",
            Rule::Excluded(Ball::Rho) => "E2",
            Rule::Zero => "Z",
            Rule::ZeroFirst => "ZF",
            Rule::Undecided => "U",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Rule::Region => "region",
            Rule::Pairs => "pairs",
            Rule::Crease => "crease",
            Rule::Cone => "cone",
            Rule::Excluded(Ball::XStar) => "excluded(x*)",
            Rule::Excluded(Ball::Rho) => "excluded(-rho x*)",
            Rule::Zero => "zero",
            Rule::ZeroFirst => "zero-first-layer",
            Rule::Undecided => "undecided",
        }
    }
}

/// A bisection tree over a direction box and a radial interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Leaf(Rule),
    /// Halve the box in coordinate `axis` (0-based): lower half, upper half.
    Split {
        axis: usize,
        lo: Box<Node>,
        hi: Box<Node>,
    },
    /// Cut the radial interval at `at`: `[t_lo, at]`, then `[at, t_hi]`.
    Radial {
        at: BigRational,
        inner: Box<Node>,
        outer: Box<Node>,
    },
}

impl Node {
    /// Parses a preorder token string (`x2 R t3/2 E1 P`).
    pub fn parse(s: &str, k: usize, face: Face, zero_tree: bool) -> Result<Node, CertError> {
        let err = |msg: String| CertError::Tree {
            face: face.to_string(),
            msg,
        };
        let mut tokens = s.split(' ');
        let node = parse_node(&mut tokens, k, face, zero_tree, 0).map_err(err)?;
        if let Some(extra) = tokens.next() {
            return Err(err(format!(
                "extra token {extra:?} after the complete tree"
            )));
        }
        Ok(node)
    }

    pub fn write(&self, out: &mut String) {
        match self {
            Node::Leaf(rule) => out.push_str(rule.token()),
            Node::Split { axis, lo, hi } => {
                out.push_str(&format!("x{} ", axis + 1));
                lo.write(out);
                out.push(' ');
                hi.write(out);
            }
            Node::Radial { at, inner, outer } => {
                out.push_str(&format!("t{at} "));
                inner.write(out);
                out.push(' ');
                outer.write(out);
            }
        }
    }

    pub fn to_token_string(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }

    /// Whether some leaf of the tree is decided by `rule`.
    pub fn has_leaf(&self, rule: Rule) -> bool {
        match self {
            Node::Leaf(r) => *r == rule,
            Node::Split { lo, hi, .. } => lo.has_leaf(rule) || hi.has_leaf(rule),
            Node::Radial { inner, outer, .. } => inner.has_leaf(rule) || outer.has_leaf(rule),
        }
    }

    /// Splits from this node to its deepest leaf.
    pub fn depth(&self) -> u32 {
        match self {
            Node::Leaf(_) => 0,
            Node::Split { lo, hi, .. } => 1 + lo.depth().max(hi.depth()),
            Node::Radial { inner, outer, .. } => 1 + inner.depth().max(outer.depth()),
        }
    }
}

/// The words of a tree string (separated by single spaces), as the parser
/// will meet them; counted without parsing.
fn token_count(tree: &str) -> usize {
    if tree.is_empty() {
        0
    } else {
        tree.bytes().filter(|&b| b == b' ').count() + 1
    }
}

fn parse_node<'a>(
    tokens: &mut impl Iterator<Item = &'a str>,
    k: usize,
    face: Face,
    zero_tree: bool,
    depth: u32,
) -> Result<Node, String> {
    if depth > MAX_DEPTH_CAP {
        return Err(format!("deeper than the cap {MAX_DEPTH_CAP}"));
    }
    let tok = tokens
        .next()
        .ok_or("missing child: the token string ends inside the tree")?;
    let leaf = |rule: Rule| -> Result<Node, String> {
        let allowed = if zero_tree {
            matches!(rule, Rule::Zero | Rule::ZeroFirst | Rule::Undecided)
        } else {
            !matches!(rule, Rule::Zero | Rule::ZeroFirst)
        };
        if allowed {
            Ok(Node::Leaf(rule))
        } else {
            Err(format!(
                "leaf {tok:?} is not allowed in a {} tree",
                if zero_tree { "zero" } else { "main" }
            ))
        }
    };
    match tok {
        "R" => leaf(Rule::Region),
        "P" => leaf(Rule::Pairs),
        "C" => leaf(Rule::Crease),
        "K" => leaf(Rule::Cone),
        "E1" => leaf(Rule::Excluded(Ball::XStar)),
        "E2" => leaf(Rule::Excluded(Ball::Rho)),
        "Z" => leaf(Rule::Zero),
        "ZF" => leaf(Rule::ZeroFirst),
        "U" => leaf(Rule::Undecided),
        _ if tok.starts_with('x') => {
            let axis: usize = tok[1..]
                .parse()
                .map_err(|_| format!("bad split token {tok:?}"))?;
            if axis == 0 || axis > k || axis - 1 == face.axis {
                return Err(format!(
                    "split {tok:?}: coordinate must be in 1..={k} and not the face's axis"
                ));
            }
            let lo = parse_node(tokens, k, face, zero_tree, depth + 1)?;
            let hi = parse_node(tokens, k, face, zero_tree, depth + 1)?;
            Ok(Node::Split {
                axis: axis - 1,
                lo: Box::new(lo),
                hi: Box::new(hi),
            })
        }
        _ if tok.starts_with('t') && !zero_tree => {
            let at = parse_exact(&tok[1..]).ok_or(format!("bad radial split {tok:?}"))?;
            if Dyadic::from_rational(&at).is_none() {
                return Err(format!(
                    "radial split {tok:?}: the value must be dyadic (p/2^e)"
                ));
            }
            let inner = parse_node(tokens, k, face, zero_tree, depth + 1)?;
            let outer = parse_node(tokens, k, face, zero_tree, depth + 1)?;
            Ok(Node::Radial {
                at,
                inner: Box::new(inner),
                outer: Box::new(outer),
            })
        }
        _ => Err(format!("unknown token {tok:?}")),
    }
}

/// Parses an exact rational in the file's grammar: an integer or `p/q`
/// (decimals with a point or exponent are exact too and accepted).
pub fn parse_exact(s: &str) -> Option<BigRational> {
    if s.is_empty() || s.len() > MAX_RATIONAL_LEN || s.trim() != s {
        return None;
    }
    parse_rational(s)
}

fn rational_field(field: &str, s: &str) -> Result<BigRational, CertError> {
    parse_exact(s).ok_or_else(|| CertError::Rational {
        field: field.into(),
        value: s.chars().take(80).collect(),
    })
}

fn rational_vec(field: &str, v: &[String], k: usize) -> Result<Vec<BigRational>, CertError> {
    if v.len() != k {
        return Err(invalid(format!(
            "{field}: expected {k} coordinates, got {}",
            v.len()
        )));
    }
    v.iter().map(|s| rational_field(field, s)).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Violated,
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Whether the radii are asserted to be the sharpest the cover supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimMode {
    /// Radii given by the user; a larger radius is a weaker, still true claim.
    Given,
    /// Radii claimed minimal: some use of each nonzero ball reaches at least
    /// `255/256` of its radius (checked).
    Sharpest,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub mode: ClaimMode,
    /// Radius of the ball around `x*`, relative to `|x*|`.
    pub eps_x_star: BigRational,
    /// Radius of the ball around `-rho_d x*`, relative to `|x*|`.
    pub eps_rho: BigRational,
    /// The enclosure `[lo, hi]` of `rho_d` the claim relies on.
    pub rho_lo: BigRational,
    pub rho_hi: BigRational,
    /// Exact stationary points excluded as well (exact form).
    pub stationary_points: Vec<Vec<BigRational>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterexampleKind {
    /// A point with `vbar_x = 0` strictly inside its region, outside `E`.
    Stationary,
    /// A point outside `E` with `D_{-vbar_x} f(x) >= 0`.
    Point,
    /// A direction `w` with `<A G(w), y> <= 0` (then `D_w f(0) >= 0`).
    ZeroDirection,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    pub kind: CounterexampleKind,
    pub point: Vec<BigRational>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaceCover {
    pub face: Face,
    /// The part of the face this entry covers (see [`part_path_is_valid`]):
    /// empty for the whole face, else `0`/`1` steps that halve the face's box
    /// (lower/upper half) along its widest side. Only a shard certificate
    /// covers parts of faces.
    pub path: String,
    /// (P1) cells over the cone of this face.
    pub tree: Node,
    /// (P2) direction boxes of this face.
    pub zero_tree: Node,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cover {
    pub max_depth: u32,
    pub faces: Vec<FaceCover>,
}

/// What a shard certificate covers: the parts (`cover.faces[].path`) that
/// the plan assigned to shard `index` of `count`. A shard certificate proves
/// its verdict on its parts only; `certify merge` joins the `count` shards
/// of one plan into an ordinary certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
    /// SHA-256 of the plan file's bytes (lowercase hex).
    pub plan_sha256: String,
}

/// Most shards in one plan, and most parts in one certificate.
pub const MAX_SHARDS: u32 = 1 << 16;
pub const MAX_PARTS: usize = 1 << 16;

/// Whether `path` names a part of a face: `0`/`1` steps, at most
/// [`MAX_DEPTH_CAP`] of them.
pub fn part_path_is_valid(path: &str) -> bool {
    path.len() <= MAX_DEPTH_CAP as usize && path.bytes().all(|b| b == b'0' || b == b'1')
}

#[derive(Clone, Debug, PartialEq)]
pub struct Certificate {
    pub network_sha256: String,
    pub network_path: Option<String>,
    /// Latent dimension the certificate is written for.
    pub latent: usize,
    pub claim: Claim,
    pub verdict: Verdict,
    /// `Some` for a shard certificate (its cover holds parts of faces).
    pub shard: Option<ShardInfo>,
    pub cover: Option<Cover>,
    pub counterexample: Option<Counterexample>,
    /// Points where (P1) fails (`D_{-vbar} f >= 0`, not `0`, not `x*`),
    /// inside `E`: each bounds a radius from below (version 3; the checker
    /// re-evaluates them, and they never make a verdict).
    pub radius_witnesses: Vec<Vec<BigRational>>,
    /// Informational only (never used for the verdict).
    pub stats: serde_json::Map<String, serde_json::Value>,
}

// ---- JSON mirror (strings for every number on the path to a verdict) ----

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCert {
    format: String,
    version: u64,
    network: JsonNetwork,
    claim: JsonClaim,
    verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard: Option<JsonShard>,
    cover: Option<JsonCover>,
    counterexample: Option<JsonCounterexample>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    radius_witnesses: Vec<Vec<String>>,
    #[serde(default)]
    stats: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonNetwork {
    sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    latent: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonClaim {
    mode: String,
    eps_x_star: String,
    eps_rho: String,
    rho: JsonInterval,
    #[serde(default)]
    stationary_points: Vec<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonInterval {
    lo: String,
    hi: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCover {
    max_depth: u32,
    faces: Vec<JsonFace>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonShard {
    index: u32,
    count: u32,
    plan_sha256: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFace {
    face: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    path: String,
    tree: String,
    zero_tree: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCounterexample {
    kind: String,
    point: Vec<String>,
}

impl Certificate {
    /// Parses and validates the structure (not the mathematics).
    pub fn from_json(text: &str) -> Result<Certificate, CertError> {
        // Read format and version first, so a newer file gets the right error.
        let value = strict_json(text)?;
        let obj = value
            .as_object()
            .ok_or_else(|| CertError::Json("the top level is not an object".into()))?;
        match obj.get("format").and_then(|v| v.as_str()) {
            Some(FORMAT_NAME) => {}
            other => return Err(CertError::Format(format!("{other:?}"))),
        }
        let version = match obj.get("version").and_then(|v| v.as_u64()) {
            Some(v) if (OLDEST_VERSION as u64..=FORMAT_VERSION as u64).contains(&v) => v,
            Some(v) => return Err(CertError::Version(v)),
            None => return Err(invalid("version: missing or not an integer")),
        };
        let j: JsonCert =
            serde_json::from_value(value).map_err(|e| CertError::Json(e.to_string()))?;
        let k = j.network.latent;
        if k == 0 || k > MAX_LATENT {
            return Err(invalid(format!(
                "network.latent {k}: certificates cover 1..={MAX_LATENT} latent dimensions"
            )));
        }
        if !is_sha256_hex(&j.network.sha256) {
            return Err(invalid("network.sha256: expected 64 lowercase hex digits"));
        }
        let mode = match j.claim.mode.as_str() {
            "given" => ClaimMode::Given,
            "sharpest" => ClaimMode::Sharpest,
            m => {
                return Err(invalid(format!(
                    "claim.mode {m:?}: expected given or sharpest"
                )))
            }
        };
        let eps_x_star = rational_field("claim.eps_x_star", &j.claim.eps_x_star)?;
        let eps_rho = rational_field("claim.eps_rho", &j.claim.eps_rho)?;
        if eps_x_star.is_negative() || eps_rho.is_negative() {
            return Err(invalid("claim: radii must be >= 0"));
        }
        let rho_lo = rational_field("claim.rho.lo", &j.claim.rho.lo)?;
        let rho_hi = rational_field("claim.rho.hi", &j.claim.rho.hi)?;
        if rho_lo > rho_hi {
            return Err(invalid("claim.rho: lo > hi"));
        }
        if j.claim.stationary_points.len() > MAX_STATIONARY_POINTS {
            return Err(invalid(format!(
                "claim.stationary_points: {} points, at most {MAX_STATIONARY_POINTS} are accepted",
                j.claim.stationary_points.len()
            )));
        }
        let stationary_points = j
            .claim
            .stationary_points
            .iter()
            .map(|p| rational_vec("claim.stationary_points", p, k))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = std::collections::HashSet::with_capacity(stationary_points.len());
        for (i, p) in stationary_points.iter().enumerate() {
            if !seen.insert(p) {
                return Err(invalid(format!(
                    "claim.stationary_points[{i}] repeats an earlier point"
                )));
            }
        }
        let stats_len = serde_json::to_string(&j.stats).map_or(usize::MAX, |t| t.len());
        if stats_len > MAX_STATS_BYTES {
            return Err(invalid(format!(
                "stats: {stats_len} bytes, at most {MAX_STATS_BYTES} are accepted"
            )));
        }
        let verdict = match j.verdict.as_str() {
            "holds" => Verdict::Holds,
            "violated" => Verdict::Violated,
            "unknown" => Verdict::Unknown,
            v => {
                return Err(invalid(format!(
                    "verdict {v:?}: expected holds, violated or unknown"
                )))
            }
        };
        let shard = match j.shard {
            None => None,
            Some(sh) => {
                if sh.count == 0 || sh.count > MAX_SHARDS || sh.index >= sh.count {
                    return Err(invalid(format!(
                        "shard: index {} of count {}: expected 0 <= index < count <= {MAX_SHARDS}",
                        sh.index, sh.count
                    )));
                }
                if !is_sha256_hex(&sh.plan_sha256) {
                    return Err(invalid(
                        "shard.plan_sha256: expected 64 lowercase hex digits",
                    ));
                }
                Some(ShardInfo {
                    index: sh.index,
                    count: sh.count,
                    plan_sha256: sh.plan_sha256,
                })
            }
        };
        let cover = match j.cover {
            None => None,
            Some(c) => Some(parse_cover(c, k, shard.is_some())?),
        };
        if shard.is_some() && cover.is_none() {
            return Err(invalid("a shard certificate needs a cover"));
        }
        let counterexample = match j.counterexample {
            None => None,
            Some(c) => {
                let kind = match c.kind.as_str() {
                    "stationary" => CounterexampleKind::Stationary,
                    "point" => CounterexampleKind::Point,
                    "zero_direction" => CounterexampleKind::ZeroDirection,
                    s => return Err(invalid(format!("counterexample.kind {s:?}"))),
                };
                Some(Counterexample {
                    kind,
                    point: rational_vec("counterexample.point", &c.point, k)?,
                })
            }
        };
        if version < 3 && !j.radius_witnesses.is_empty() {
            return Err(invalid(format!(
                "radius_witnesses: a version {version} certificate has none (version 3 added them)"
            )));
        }
        if j.radius_witnesses.len() > MAX_RADIUS_WITNESSES {
            return Err(invalid(format!(
                "radius_witnesses: {} points, at most {MAX_RADIUS_WITNESSES} are accepted",
                j.radius_witnesses.len()
            )));
        }
        let first_layer_zero = cover.as_ref().is_some_and(|c| {
            c.faces
                .iter()
                .any(|f| f.zero_tree.has_leaf(Rule::ZeroFirst))
        });
        if version < 5 && first_layer_zero {
            return Err(invalid(format!(
                "cover: a version {version} certificate has no ZF leaf (version 5 added the first-layer Zero rule)"
            )));
        }
        let radius_witnesses = j
            .radius_witnesses
            .iter()
            .map(|p| rational_vec("radius_witnesses", p, k))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, p) in radius_witnesses.iter().enumerate() {
            if radius_witnesses[..i].contains(p) {
                return Err(invalid(format!(
                    "radius_witnesses[{i}] repeats an earlier point"
                )));
            }
        }
        Ok(Certificate {
            network_sha256: j.network.sha256,
            network_path: j.network.path,
            latent: k,
            claim: Claim {
                mode,
                eps_x_star,
                eps_rho,
                rho_lo,
                rho_hi,
                stationary_points,
            },
            verdict,
            shard,
            cover,
            counterexample,
            radius_witnesses,
            stats: j.stats,
        })
    }

    pub fn to_json(&self) -> String {
        let r = |v: &BigRational| v.to_string();
        let j = JsonCert {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION as u64,
            network: JsonNetwork {
                sha256: self.network_sha256.clone(),
                path: self.network_path.clone(),
                latent: self.latent,
            },
            claim: JsonClaim {
                mode: match self.claim.mode {
                    ClaimMode::Given => "given",
                    ClaimMode::Sharpest => "sharpest",
                }
                .into(),
                eps_x_star: r(&self.claim.eps_x_star),
                eps_rho: r(&self.claim.eps_rho),
                rho: JsonInterval {
                    lo: r(&self.claim.rho_lo),
                    hi: r(&self.claim.rho_hi),
                },
                stationary_points: self
                    .claim
                    .stationary_points
                    .iter()
                    .map(|p| p.iter().map(r).collect())
                    .collect(),
            },
            verdict: self.verdict.name().into(),
            shard: self.shard.as_ref().map(|sh| JsonShard {
                index: sh.index,
                count: sh.count,
                plan_sha256: sh.plan_sha256.clone(),
            }),
            cover: self.cover.as_ref().map(|c| JsonCover {
                max_depth: c.max_depth,
                faces: c
                    .faces
                    .iter()
                    .map(|f| JsonFace {
                        face: f.face.to_string(),
                        path: f.path.clone(),
                        tree: f.tree.to_token_string(),
                        zero_tree: f.zero_tree.to_token_string(),
                    })
                    .collect(),
            }),
            counterexample: self.counterexample.as_ref().map(|c| JsonCounterexample {
                kind: match c.kind {
                    CounterexampleKind::Stationary => "stationary",
                    CounterexampleKind::Point => "point",
                    CounterexampleKind::ZeroDirection => "zero_direction",
                }
                .into(),
                point: c.point.iter().map(r).collect(),
            }),
            radius_witnesses: self
                .radius_witnesses
                .iter()
                .map(|p| p.iter().map(r).collect())
                .collect(),
            stats: self.stats.clone(),
        };
        let mut s = serde_json::to_string_pretty(&j).expect("serializing a certificate");
        s.push('\n');
        s
    }
}

/// Most JSON values (objects, arrays, strings, numbers, ...) in a
/// certificate. A valid one has a few thousand at most (the trees are single
/// strings); the cap bounds the parsed value's memory whatever the text.
pub const MAX_JSON_VALUES: usize = 1 << 20;

/// Parses JSON text into a value, rejecting an object that names a key
/// twice (serde_json would keep the last one silently) and text with more
/// than [`MAX_JSON_VALUES`] values.
fn strict_json(text: &str) -> Result<serde_json::Value, CertError> {
    use serde::de::DeserializeSeed as _;
    let mut de = serde_json::Deserializer::from_str(text);
    let count = std::cell::Cell::new(0usize);
    let v = Strict(&count)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| CertError::Json(e.to_string()))?;
    Ok(v)
}

/// Deserializes one JSON value whose objects have distinct keys, counting
/// values.
#[derive(Clone, Copy)]
struct Strict<'c>(&'c std::cell::Cell<usize>);

impl Strict<'_> {
    fn count<E: serde::de::Error>(self) -> Result<(), E> {
        let n = self.0.get() + 1;
        self.0.set(n);
        if n > MAX_JSON_VALUES {
            return Err(E::custom(format!(
                "more than {MAX_JSON_VALUES} JSON values"
            )));
        }
        Ok(())
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_> {
    type Value = serde_json::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.count()?;
        Ok(v.into())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.count()?;
        Ok(v.into())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.count()?;
        Ok(v.into())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.count()?;
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.count()?;
        Ok(v.into())
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.count()?;
        Ok(v.into())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.count()?;
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        self.count()?;
        let mut v = Vec::new();
        while let Some(x) = a.next_element_seed(self)? {
            v.push(x);
        }
        Ok(v.into())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        self.count()?;
        let mut m = serde_json::Map::new();
        while let Some(key) = a.next_key::<String>()? {
            if m.contains_key(&key) {
                let shown: String = key.chars().take(80).collect();
                return Err(serde::de::Error::custom(format!("duplicate key {shown:?}")));
            }
            let x = a.next_value_seed(self)?;
            m.insert(key, x);
        }
        Ok(m.into())
    }
}

/// Reads a certificate file: a regular file of at most [`MAX_CERT_BYTES`]
/// bytes (the length is checked before anything is read, and the read is
/// bounded too, in case the file grows). The error is one line naming the
/// file.
pub fn read_certificate_file(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read as _;
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{name}: file not found"),
        _ => format!("{name}: {e}"),
    })?;
    let meta = file.metadata().map_err(|e| format!("{name}: {e}"))?;
    if meta.is_dir() {
        return Err(format!("{name}: is a directory, not a certificate"));
    }
    if !meta.is_file() {
        return Err(format!(
            "{name}: not a regular file (a certificate must be a regular file)"
        ));
    }
    if meta.len() > MAX_CERT_BYTES {
        return Err(format!(
            "{name}: {} bytes, larger than the cap of {MAX_CERT_BYTES} bytes for a certificate",
            meta.len()
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_CERT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > MAX_CERT_BYTES {
        return Err(format!(
            "{name}: larger than the cap of {MAX_CERT_BYTES} bytes for a certificate"
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{name}: stream did not contain valid UTF-8"))
}

/// 64 lowercase hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// An ordinary certificate (`sharded` false) has exactly one whole-face
/// entry per face. A shard certificate has parts: distinct, none inside
/// another (no path a prefix of another on the same face).
fn parse_cover(c: JsonCover, k: usize, sharded: bool) -> Result<Cover, CertError> {
    if c.max_depth > MAX_DEPTH_CAP {
        return Err(invalid(format!(
            "cover.max_depth {} exceeds the cap {MAX_DEPTH_CAP}",
            c.max_depth
        )));
    }
    if c.faces.len() > MAX_PARTS {
        return Err(invalid(format!(
            "cover: {} entries, at most {MAX_PARTS} are accepted",
            c.faces.len()
        )));
    }
    let tokens: usize = c
        .faces
        .iter()
        .map(|f| token_count(&f.tree) + token_count(&f.zero_tree))
        .sum();
    if tokens > MAX_TOKENS {
        return Err(invalid(format!("cover: more than {MAX_TOKENS} tokens")));
    }
    let mut faces = Vec::with_capacity(c.faces.len());
    for f in &c.faces {
        let face = Face::parse(&f.face, k)?;
        let name = if f.path.is_empty() {
            face.to_string()
        } else {
            format!("{face} part {}", f.path)
        };
        if !sharded && !f.path.is_empty() {
            return Err(CertError::Coverage(format!(
                "face {name}: only a shard certificate covers part of a face"
            )));
        }
        if !part_path_is_valid(&f.path) {
            return Err(invalid(format!(
                "cover: face {face}: path {:?} is not a string of at most {MAX_DEPTH_CAP} 0/1 steps",
                f.path.chars().take(40).collect::<String>()
            )));
        }
        let tree = Node::parse(&f.tree, k, face, false)?;
        let zero_tree = Node::parse(&f.zero_tree, k, face, true)?;
        for (t, what) in [(&tree, "tree"), (&zero_tree, "zero_tree")] {
            // Depth counts from the face's root: the part's path first.
            let depth = t.depth() + f.path.len() as u32;
            if depth > c.max_depth {
                return Err(CertError::Tree {
                    face: name.clone(),
                    msg: format!(
                        "{what} has a leaf at depth {depth} below max_depth {}",
                        c.max_depth
                    ),
                });
            }
        }
        faces.push(FaceCover {
            face,
            path: f.path.clone(),
            tree,
            zero_tree,
        });
    }
    if !sharded && faces.len() != 2 * k {
        let missing: Vec<String> = (0..k)
            .flat_map(|axis| [true, false].map(|positive| Face { axis, positive }))
            .filter(|f| !faces.iter().any(|g| g.face == *f))
            .map(|f| f.to_string())
            .collect();
        return Err(CertError::Coverage(format!(
            "missing face(s) {}",
            missing.join(", ")
        )));
    }
    if sharded && faces.is_empty() {
        return Err(CertError::Coverage(
            "a shard certificate with no part".into(),
        ));
    }
    faces.sort_by(|a, b| (a.face, &a.path).cmp(&(b.face, &b.path)));
    // In sorted order a part that contains another (a prefix of its path)
    // comes right before it or before a part it also contains.
    for w in faces.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.face == b.face && b.path.starts_with(&a.path) {
            return Err(CertError::Coverage(if a.path == b.path {
                if a.path.is_empty() {
                    format!("face {} appears twice", a.face)
                } else {
                    format!("face {} part {} appears twice", a.face, a.path)
                }
            } else {
                format!(
                    "face {}: parts {:?} and {:?} overlap (one lies inside the other)",
                    a.face, a.path, b.path
                )
            }));
        }
    }
    Ok(Cover {
        max_depth: c.max_depth,
        faces,
    })
}

#[cfg(test)]
mod tests {
    use super::token_count;

    #[test]
    fn tokens_are_counted_as_words() {
        assert_eq!(token_count(""), 0);
        assert_eq!(token_count("R"), 1);
        assert_eq!(token_count("x2 R K"), 3);
        // A radial split's long word is one token, not its bytes / 2.
        assert_eq!(token_count("t5853136208888467/2251799813685248 K K"), 3);
    }
}
