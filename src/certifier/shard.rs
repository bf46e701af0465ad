//! Sharded certification (issue 11): split the cover into parts of faces,
//! certify the parts on many machines, and merge the shard certificates into
//! one ordinary certificate.
//!
//! - **Plan** ([`make_plan`]): a cheap pilot search (coarser resolution)
//!   estimates the work under every subtree; the faces are carved into parts
//!   (paths of [`Cell::part`]) until no part holds more than a fraction of
//!   the work, and the parts are dealt to the shards, costliest first, each
//!   to the least loaded shard (LPT). Every shard reads the same plan file,
//!   so the split is the same everywhere; the plan also fixes the claim
//!   (`--eps` or sharpest) and the search's resolution and depth.
//! - **Shard**: `certify --plan P --shard I/S` searches its parts only and
//!   writes a shard certificate (`shard` field; `cover.faces[].path`), which
//!   `verify` checks alone: its verdict is about its parts.
//! - **Merge** ([`merge`]): the shards of one plan are grafted under the
//!   plan's splits into one ordinary certificate. Sharpest radii are the
//!   largest of the shards' (a larger ball is a weaker claim, and every
//!   Excluded leaf and excused region point stays valid; the shard that set
//!   a radius brings the uses that justify it); undecided leaves that the
//!   larger balls now contain become Excluded; a shard's counterexample
//!   counts if it is still outside the merged balls. The merge trusts none
//!   of this: the merged certificate goes through the checker, and a
//!   rejected cell is traced back to the shard that brought it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use num_bigint::BigUint;
use num_rational::BigRational;
use num_traits::{One, Zero};
use serde::{Deserialize, Serialize};

use crate::certifier::search::{exclude_leaves, graft, search, unit_depth, Options, Progress};
use crate::checker::geometry::{Cell, Excluded};
use crate::format::certificate::{
    is_sha256_hex, Ball, CertError, Certificate, ClaimMode, Cover, Face, FaceCover, Node, Rule,
    ShardInfo, Verdict, MAX_DEPTH_CAP, MAX_SHARDS,
};
use crate::format::network::{LoadedNetwork, Network};
use crate::limits::Budget;

pub const PLAN_FORMAT: &str = "hvcert-plan";
pub const PLAN_VERSION: u64 = 1;
/// The pilot search runs at this many times the plan's resolution.
pub const PILOT_COARSER: i64 = 4;
/// Parts are carved until none holds more than `1 / (PARTS_PER_SHARD *
/// shards)` of the pilot's work, so that dealing them out balances well.
pub const PARTS_PER_SHARD: u64 = 8;
/// Largest plan file read.
pub const MAX_PLAN_BYTES: u64 = 16 << 20;

/// A plan: the network, the claim and search settings every shard uses, and
/// the parts with their estimated cost and shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format: String,
    pub version: u64,
    pub network: PlanNetwork,
    pub claim: PlanClaim,
    pub search: PlanSearch,
    pub shards: u32,
    pub parts: Vec<PlanPart>,
    /// Informational: the pilot's cells, seconds and the estimated load of
    /// every shard.
    #[serde(default)]
    pub pilot: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanNetwork {
    pub sha256: String,
    pub latent: usize,
}

/// `mode` `sharpest` (no radii) or `given` with both radii (exact strings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanClaim {
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eps_x_star: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eps_rho: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSearch {
    pub resolution: String,
    pub max_depth: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanPart {
    pub face: String,
    pub path: String,
    /// The pilot's nodes under this part (its estimated work).
    pub cost: u64,
    pub shard: u32,
}

/// A plan read back, with its file's hash and the settings parsed.
pub struct LoadedPlan {
    pub plan: Plan,
    pub sha256: String,
    pub eps: Option<(BigRational, BigRational)>,
    pub resolution: BigRational,
    /// Every part, parsed, in the file's order.
    pub parts: Vec<(Face, String, u32)>,
}

impl LoadedPlan {
    /// The parts of shard `index`.
    pub fn shard_parts(&self, index: u32) -> Vec<(Face, String)> {
        self.parts
            .iter()
            .filter(|p| p.2 == index)
            .map(|(f, p, _)| (*f, p.clone()))
            .collect()
    }
}

fn parse_rat(field: &str, s: &str) -> Result<BigRational, String> {
    crate::exact::rational::parse_rational(s)
        .filter(|v| v >= &BigRational::zero())
        .ok_or_else(|| format!("{field}: {s:?} is not a rational >= 0"))
}

/// Reads and validates a plan file (one-line errors).
pub fn read_plan(path: &Path) -> Result<LoadedPlan, String> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{name}: not a regular file"));
    }
    if meta.len() > MAX_PLAN_BYTES {
        return Err(format!(
            "{name}: larger than the cap of {MAX_PLAN_BYTES} bytes for a plan"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: {e}"))?;
    let sha256 = Network::sha256_hex(&bytes);
    let plan: Plan =
        serde_json::from_slice(&bytes).map_err(|e| format!("{name}: not a plan: {e}"))?;
    let bad = |m: String| format!("{name}: {m}");
    if plan.format != PLAN_FORMAT {
        return Err(bad(format!(
            "format {:?}, expected {PLAN_FORMAT:?}",
            plan.format
        )));
    }
    if plan.version != PLAN_VERSION {
        return Err(bad(format!(
            "unsupported plan version {} (this certify reads version {PLAN_VERSION})",
            plan.version
        )));
    }
    if !is_sha256_hex(&plan.network.sha256) {
        return Err(bad(
            "network.sha256: expected 64 lowercase hex digits".into()
        ));
    }
    let k = plan.network.latent;
    if plan.shards == 0 || plan.shards > MAX_SHARDS {
        return Err(bad(format!(
            "shards {}: expected 1..={MAX_SHARDS}",
            plan.shards
        )));
    }
    let eps = match (
        plan.claim.mode.as_str(),
        &plan.claim.eps_x_star,
        &plan.claim.eps_rho,
    ) {
        ("sharpest", None, None) => None,
        ("given", Some(a), Some(b)) => Some((
            parse_rat("claim.eps_x_star", a).map_err(bad)?,
            parse_rat("claim.eps_rho", b).map_err(bad)?,
        )),
        _ => {
            return Err(bad(
                "claim: expected mode sharpest (no radii) or given (eps_x_star and eps_rho)".into(),
            ))
        }
    };
    let resolution = parse_rat("search.resolution", &plan.search.resolution).map_err(bad)?;
    if resolution.is_zero() {
        return Err(bad("search.resolution must be > 0".into()));
    }
    if plan.search.max_depth == 0 || plan.search.max_depth > 200 {
        return Err(bad("search.max_depth: expected 1..=200".into()));
    }
    let mut parts = Vec::with_capacity(plan.parts.len());
    let mut per_shard = vec![0usize; plan.shards as usize];
    for p in &plan.parts {
        let face = Face::parse(&p.face, k).map_err(|e| bad(e.to_string()))?;
        if !p.path.bytes().all(|b| b == b'0' || b == b'1') {
            return Err(bad(format!(
                "part {face} {:?}: not a path of 0/1 steps",
                p.path
            )));
        }
        if p.path.len() > unit_depth(k) {
            return Err(bad(format!(
                "part {face} {:?}: deeper than the search's units ({} steps at k = {k})",
                p.path,
                unit_depth(k)
            )));
        }
        if k == 1 && !p.path.is_empty() {
            return Err(bad("k = 1: faces have no parts".into()));
        }
        if p.shard >= plan.shards {
            return Err(bad(format!(
                "part {face} {}: shard {} >= shards",
                p.path, p.shard
            )));
        }
        per_shard[p.shard as usize] += 1;
        parts.push((face, p.path.clone(), p.shard));
    }
    if let Some(i) = per_shard.iter().position(|&n| n == 0) {
        return Err(bad(format!("shard {i} has no part")));
    }
    let keyed: Vec<(Face, &str)> = parts.iter().map(|(f, p, _)| (*f, p.as_str())).collect();
    tiling_defect(&keyed, k).map_or(Ok(()), |m| Err(bad(m)))?;
    Ok(LoadedPlan {
        plan,
        sha256,
        eps,
        resolution,
        parts,
    })
}

/// Whether `(face, path)` parts tile every face exactly once: no part inside
/// another, and on each face the parts' sizes `2^-len` add up to 1 (with no
/// overlap, that is: nothing missing). `None` when they do, else what is
/// wrong.
pub fn tiling_defect(parts: &[(Face, &str)], k: usize) -> Option<String> {
    let mut by_face: BTreeMap<Face, Vec<&str>> = BTreeMap::new();
    for (f, p) in parts {
        by_face.entry(*f).or_default().push(p);
    }
    for axis in 0..k {
        for positive in [true, false] {
            let face = Face { axis, positive };
            let Some(paths) = by_face.get_mut(&face) else {
                return Some(format!("face {face} has no part"));
            };
            paths.sort();
            for w in paths.windows(2) {
                if w[1].starts_with(w[0]) {
                    return Some(if w[0] == w[1] {
                        format!("face {face}: part {:?} appears twice", w[0])
                    } else {
                        format!("face {face}: parts {:?} and {:?} overlap", w[0], w[1])
                    });
                }
            }
            let deepest = paths.iter().map(|p| p.len()).max().unwrap_or(0);
            let total: BigUint = paths
                .iter()
                .map(|p| BigUint::one() << (deepest - p.len()))
                .sum();
            if total != BigUint::one() << deepest {
                return Some(format!(
                    "face {face}: the parts do not cover the face (a part is missing)"
                ));
            }
        }
    }
    None
}

/// Nodes (leaves and splits) of a tree: the pilot's work estimate.
fn nodes(node: &Node) -> u64 {
    match node {
        Node::Leaf(_) => 1,
        Node::Split { lo, hi, .. } => 1 + nodes(lo) + nodes(hi),
        Node::Radial { inner, outer, .. } => 1 + nodes(inner) + nodes(outer),
    }
}

/// Carves the part at `path` (the pilot's subtree `node`, `None` past the
/// pilot's tree) into parts whose cost is at most `target`.
fn carve(
    node: Option<&Node>,
    cost: u64,
    cell: &Cell,
    path: String,
    target: u64,
    out: &mut Vec<(String, u64)>,
) {
    let widest = cell.widest().map(|(j, _)| j);
    // No deeper than the search's units: a part is a union of units.
    let deep = path.len() >= unit_depth(cell.k());
    let Some(axis) = widest.filter(|_| cost > target && !deep) else {
        out.push((path, cost));
        return;
    };
    let (a, b) = cell.split(axis);
    match node {
        // The pilot split here the same way: its subtrees' costs.
        Some(Node::Split { axis: j, lo, hi }) if *j == axis => {
            carve(Some(lo), nodes(lo), &a, format!("{path}0"), target, out);
            carve(Some(hi), nodes(hi), &b, format!("{path}1"), target, out);
        }
        // A radial split or a leaf: halve the estimate.
        _ => {
            let half = cost / 2;
            carve(None, half.max(1), &a, format!("{path}0"), target, out);
            carve(
                None,
                (cost - half).max(1),
                &b,
                format!("{path}1"),
                target,
                out,
            );
        }
    }
}

/// Deals parts (with costs) to `shards` shards: costliest first, each to the
/// least loaded shard (ties: the lowest index). Returns each part's shard
/// and the shards' loads.
pub fn deal(costs: &[u64], shards: u32) -> (Vec<u32>, Vec<u64>) {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| costs[b].cmp(&costs[a]).then(a.cmp(&b)));
    let mut load = vec![0u64; shards as usize];
    let mut assign = vec![0u32; costs.len()];
    for i in order {
        let (s, _) = load
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)))
            .expect("shards >= 1");
        assign[i] = s as u32;
        load[s] += costs[i];
    }
    (assign, load)
}

/// Makes a plan for `shards` shards: the pilot search (`opts` at
/// [`PILOT_COARSER`] times the resolution, every face), then the carving and
/// the dealing. `opts.resolution` and `opts.eps` are the plan's.
pub fn make_plan(
    loaded: &LoadedNetwork,
    opts: &Options,
    shards: u32,
    progress: &Progress,
) -> Result<Plan, String> {
    let net = &loaded.network;
    let k = net.latent;
    if shards == 0 || shards > MAX_SHARDS {
        return Err(format!("--shards: expected 1..={MAX_SHARDS}, got {shards}"));
    }
    if k == 1 && shards > 2 {
        return Err("--shards: k = 1 has two faces and no smaller parts: at most 2 shards".into());
    }
    let mut pilot_opts = opts.clone();
    pilot_opts.resolution = &opts.resolution * BigRational::from_integer(PILOT_COARSER.into());
    // Whole faces, as parts: the first pass only (no refinement rounds:
    // they refine few cells and the shards do not run them either).
    pilot_opts.parts = Some(
        (0..k)
            .flat_map(|axis| [true, false].map(|positive| (Face { axis, positive }, String::new())))
            .collect(),
    );
    let pilot = search(net, &loaded.sha256, None, &pilot_opts, progress);
    let cover = pilot
        .certificate
        .cover
        .as_ref()
        .ok_or("internal error: the pilot search made no cover")?;
    let faces: Vec<(Face, u64, &Node)> = cover
        .faces
        .iter()
        .map(|f| (f.face, nodes(&f.tree) + nodes(&f.zero_tree), &f.tree))
        .collect();
    let total: u64 = faces.iter().map(|f| f.1).sum();
    // Carve finer until there are enough parts to deal (a pilot that
    // decided everything at once has few nodes to go by).
    let mut target = (total / (PARTS_PER_SHARD * shards as u64)).max(1);
    let mut parts: Vec<(Face, String, u64)>;
    loop {
        parts = Vec::new();
        for (face, cost, tree) in &faces {
            let mut out = Vec::new();
            let root = Cell::root(*face, k);
            carve(Some(tree), *cost, &root, String::new(), target, &mut out);
            parts.extend(out.into_iter().map(|(p, c)| (*face, p, c)));
        }
        let enough = parts.len() as u64 >= shards as u64 * PARTS_PER_SHARD.min(4);
        if enough || target == 1 || k == 1 {
            break;
        }
        target = (target / 2).max(1);
    }
    if (parts.len() as u64) < shards as u64 {
        return Err(format!(
            "--shards {shards}: the plan has only {} parts",
            parts.len()
        ));
    }
    parts.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let costs: Vec<u64> = parts.iter().map(|p| p.2).collect();
    let (assign, load) = deal(&costs, shards);
    let mean = load.iter().sum::<u64>() as f64 / shards as f64;
    let max = load.iter().copied().max().unwrap_or(0) as f64;
    let mut pilot_stats = serde_json::Map::new();
    pilot_stats.insert(
        "resolution".into(),
        pilot_opts.resolution.to_string().into(),
    );
    pilot_stats.insert("nodes".into(), total.into());
    // No timing here: the same network and options make the same plan
    // bytes (and so the same plan hash) on any machine.
    pilot_stats.insert("verdict".into(), pilot.certificate.verdict.name().into());
    if let Some(why) = pilot.certificate.stats.get("stopped") {
        pilot_stats.insert("stopped".into(), why.clone());
    }
    pilot_stats.insert("estimated_load".into(), load.clone().into());
    pilot_stats.insert(
        "estimated_max_over_mean".into(),
        format!("{:.3}", if mean > 0.0 { max / mean } else { 1.0 }).into(),
    );
    let claim = match &opts.eps {
        None => PlanClaim {
            mode: "sharpest".into(),
            eps_x_star: None,
            eps_rho: None,
        },
        Some((a, b)) => PlanClaim {
            mode: "given".into(),
            eps_x_star: Some(a.to_string()),
            eps_rho: Some(b.to_string()),
        },
    };
    Ok(Plan {
        format: PLAN_FORMAT.into(),
        version: PLAN_VERSION,
        network: PlanNetwork {
            sha256: loaded.sha256.clone(),
            latent: k,
        },
        claim,
        search: PlanSearch {
            resolution: opts.resolution.to_string(),
            max_depth: opts.max_depth,
        },
        shards,
        parts: parts
            .into_iter()
            .zip(assign)
            .map(|((face, path, cost), shard)| PlanPart {
                face: face.to_string(),
                path,
                cost,
                shard,
            })
            .collect(),
        pilot: pilot_stats,
    })
}

impl Plan {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("serializing a plan");
        s.push('\n');
        s
    }
}

/// Why a merge failed: exit status 1 (`Rejected`: the shards do not make a
/// certificate) or 2 (`Unusable`: a file cannot be read or parsed).
#[derive(Debug)]
pub enum MergeError {
    Rejected(String),
    Unusable(String),
}

/// One shard certificate read for the merge.
pub struct ShardFile {
    pub path: PathBuf,
    pub cert: Certificate,
}

impl ShardFile {
    fn name(&self) -> String {
        let sh = self.cert.shard.as_ref().expect("checked");
        format!("{} (shard {}/{})", self.path.display(), sh.index, sh.count)
    }
}

/// The merged certificate and what the merge saw.
pub struct Merged {
    pub certificate: Certificate,
    /// Per shard (by index): its file, verdict and certify seconds.
    pub shards: Vec<(PathBuf, Verdict, Option<f64>)>,
}

/// The largest and the mean of the shards' certify seconds (those that
/// record them); `None` when none does.
pub fn time_spread(shards: &[(PathBuf, Verdict, Option<f64>)]) -> Option<(f64, f64)> {
    let secs: Vec<f64> = shards.iter().filter_map(|s| s.2).collect();
    if secs.is_empty() {
        return None;
    }
    let mean = secs.iter().sum::<f64>() / secs.len() as f64;
    Some((secs.iter().cloned().fold(0.0, f64::max), mean))
}

/// Reads shard certificates (one-line errors naming the file).
pub fn read_shards(paths: &[PathBuf]) -> Result<Vec<ShardFile>, MergeError> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let text = crate::format::certificate::read_certificate_file(path)
            .map_err(MergeError::Unusable)?;
        // As `verify`: a tree or a cover that breaks the format's rules is
        // a rejection, anything else unreadable is unusable.
        let cert = Certificate::from_json(&text).map_err(|e| match e {
            CertError::Tree { .. } | CertError::Coverage(_) => {
                MergeError::Rejected(format!("{}: {e}", path.display()))
            }
            e => MergeError::Unusable(format!("{}: {e}", path.display())),
        })?;
        if cert.shard.is_none() {
            return Err(MergeError::Rejected(format!(
                "{}: not a shard certificate (no shard field)",
                path.display()
            )));
        }
        out.push(ShardFile {
            path: path.clone(),
            cert,
        });
    }
    if out.is_empty() {
        return Err(MergeError::Unusable("no shard certificates given".into()));
    }
    Ok(out)
}

/// Grafts the shards of one plan into an ordinary certificate (see the
/// module comment). `plan`, when given, must be the plan the shards name,
/// and every shard must cover exactly the parts it assigns. The result is
/// not yet checked: run the checker on it ([`locate_rejection`] names the
/// shard behind a rejected cell).
pub fn merge(
    mut shards: Vec<ShardFile>,
    net: &Network,
    net_sha256: &str,
    plan: Option<&LoadedPlan>,
    budget: &Budget,
) -> Result<Merged, MergeError> {
    let rejected = |m: String| Err(MergeError::Rejected(m));
    shards.sort_by_key(|s| s.cert.shard.as_ref().expect("checked").index);
    let first = &shards[0];
    let info = |s: &ShardFile| s.cert.shard.clone().expect("checked");
    let (count, plan_sha) = (info(first).count, info(first).plan_sha256.clone());
    for s in &shards {
        let sh = info(s);
        if s.cert.network_sha256 != net_sha256 {
            return rejected(format!(
                "{}: a shard of another network ({}…, this network is {}…)",
                s.name(),
                &s.cert.network_sha256[..12],
                &net_sha256[..12]
            ));
        }
        if s.cert.latent != net.latent {
            return rejected(format!(
                "{}: latent dimension {}, the network's is {}",
                s.name(),
                s.cert.latent,
                net.latent
            ));
        }
        if sh.plan_sha256 != plan_sha || sh.count != count {
            return rejected(format!(
                "{}: a shard of another plan ({}… of {} shards, {} names {}… of {count})",
                s.name(),
                &sh.plan_sha256[..12],
                sh.count,
                first.path.display(),
                &plan_sha[..12]
            ));
        }
        if let Some(p) = plan {
            if sh.plan_sha256 != p.sha256 {
                return rejected(format!(
                    "{}: made from another plan ({}…, the plan given is {}…)",
                    s.name(),
                    &sh.plan_sha256[..12],
                    &p.sha256[..12]
                ));
            }
        }
        let c = &s.cert.claim;
        let f = &first.cert.claim;
        if c.mode != f.mode
            || c.rho_lo != f.rho_lo
            || c.rho_hi != f.rho_hi
            || (c.mode == ClaimMode::Given
                && (c.eps_x_star != f.eps_x_star || c.eps_rho != f.eps_rho))
        {
            return rejected(format!(
                "{}: its claim (mode, radii or rho enclosure) differs from {}'s",
                s.name(),
                first.path.display()
            ));
        }
    }
    for w in shards.windows(2) {
        if info(&w[0]).index == info(&w[1]).index {
            return rejected(format!(
                "{} and {} are the same shard",
                w[0].path.display(),
                w[1].path.display()
            ));
        }
    }
    let have: Vec<u32> = shards.iter().map(|s| info(s).index).collect();
    if let Some(missing) = (0..count).find(|i| have.binary_search(i).is_err()) {
        return rejected(format!(
            "shard {missing}/{count} is missing ({} of {count} shards given)",
            shards.len()
        ));
    }
    let k = net.latent;
    if let Some(p) = plan {
        for s in &shards {
            let mut want = p.shard_parts(info(s).index);
            want.sort();
            let mut got: Vec<(Face, String)> = s
                .cert
                .cover
                .as_ref()
                .expect("a shard has a cover")
                .faces
                .iter()
                .map(|f| (f.face, f.path.clone()))
                .collect();
            got.sort();
            if want != got {
                return rejected(format!(
                    "{}: its parts are not the ones the plan gives shard {}",
                    s.name(),
                    info(s).index
                ));
            }
        }
    }
    // Every part once, every face covered.
    let mut owner: BTreeMap<(Face, String), usize> = BTreeMap::new();
    for (i, s) in shards.iter().enumerate() {
        for f in &s.cert.cover.as_ref().expect("a shard has a cover").faces {
            if let Some(&j) = owner.get(&(f.face, f.path.clone())) {
                return rejected(format!(
                    "{} and {} both cover face {} part {:?}",
                    shards[j].name(),
                    s.name(),
                    f.face,
                    f.path
                ));
            }
            owner.insert((f.face, f.path.clone()), i);
        }
    }
    let keyed: Vec<(Face, &str)> = owner.keys().map(|(f, p)| (*f, p.as_str())).collect();
    if let Some(m) = tiling_defect(&keyed, k) {
        return rejected(format!("the shards' parts do not tile the faces: {m}"));
    }

    // The merged claim.
    let f = &first.cert.claim;
    let mut claim = f.clone();
    if f.mode == ClaimMode::Sharpest {
        for s in &shards {
            let c = &s.cert.claim;
            if c.eps_x_star > claim.eps_x_star {
                claim.eps_x_star = c.eps_x_star.clone();
            }
            if c.eps_rho > claim.eps_rho {
                claim.eps_rho = c.eps_rho.clone();
            }
        }
    }
    let mut points: Vec<Vec<BigRational>> = Vec::new();
    for s in &shards {
        for p in &s.cert.claim.stationary_points {
            if !points.contains(p) {
                points.push(p.clone());
            }
        }
    }
    claim.stationary_points = points;
    let excluded = Excluded::of_claim(net, &claim);

    // Graft: per face, the plan's splits down to the parts.
    let mut trees: BTreeMap<(Face, String), Node> = BTreeMap::new();
    let mut zero_trees: BTreeMap<(Face, String), Node> = BTreeMap::new();
    let mut max_depth_out = 0;
    let mut listed = Vec::new();
    let mut counterexample = None;
    let (mut first_resolution, mut first_depth_limit) = (None, None);
    for s in shards {
        let secs = s
            .cert
            .stats
            .get("certify_seconds")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse::<f64>().ok());
        listed.push((s.path.clone(), s.cert.verdict, secs));
        if counterexample.is_none() {
            if let Some(c) = &s.cert.counterexample {
                use crate::format::certificate::CounterexampleKind;
                let still = c.kind == CounterexampleKind::ZeroDirection
                    || excluded.surely_outside(&c.point);
                if still {
                    counterexample = Some(c.clone());
                }
            }
        }
        if first_resolution.is_none() {
            first_resolution = s
                .cert
                .stats
                .get("resolution")
                .and_then(|v| v.as_str())
                .map(String::from);
            first_depth_limit = s.cert.stats.get("max_depth_limit").and_then(|v| v.as_u64());
        }
        let name = s.name();
        let cover = s.cert.cover.expect("a shard has a cover");
        max_depth_out = max_depth_out.max(cover.max_depth);
        for f in cover.faces {
            // Trees the search below may walk: their radial splits must be
            // valid (a tampered shard is named, not a panic).
            let Some(cell) = Cell::part(f.face, k, &f.path) else {
                return rejected(format!(
                    "{name}: face {} part {:?}: a face of the 1-cube has no parts",
                    f.face, f.path
                ));
            };
            if !valid_splits(&f.tree, cell.clone()) || !valid_splits(&f.zero_tree, cell) {
                return rejected(format!(
                    "{name}: face {} part {:?} has a radial split outside its cell",
                    f.face, f.path
                ));
            }
            trees.insert((f.face, f.path.clone()), f.tree);
            zero_trees.insert((f.face, f.path), f.zero_tree);
        }
    }
    let mut faces = Vec::with_capacity(2 * k);
    for axis in 0..k {
        for positive in [true, false] {
            let face = Face { axis, positive };
            let root = Cell::root(face, k);
            let tree = graft(&mut trees, face, &root, String::new());
            let zero_tree = graft(&mut zero_trees, face, &root, String::new());
            faces.push(FaceCover {
                face,
                path: String::new(),
                tree,
                zero_tree,
            });
        }
    }
    faces.sort_by_key(|f| f.face);
    // Sharpest mode: the refinement rounds run here, over all faces (their
    // stopping rule follows the radii over the whole sphere, which no shard
    // sees), as in a one-machine run; the shards ran the first pass only.
    let mut rounds_seconds = None;
    let mut radius_witnesses = Vec::new();
    if claim.mode == ClaimMode::Sharpest && counterexample.is_none() {
        let resolution = match (plan, &first_resolution) {
            (Some(p), _) => p.resolution.clone(),
            (None, Some(r)) => crate::exact::rational::parse_rational(r)
                .filter(|r| r > &BigRational::zero())
                .ok_or_else(|| {
                    MergeError::Unusable(format!(
                        "a shard's stats name no usable resolution ({r:?}): give --plan"
                    ))
                })?,
            (None, None) => {
                return Err(MergeError::Unusable(
                    "the shards do not record their resolution: give --plan".into(),
                ))
            }
        };
        let max_depth = match plan {
            Some(p) => p.plan.search.max_depth,
            None => first_depth_limit.map_or(48, |d| d.min(MAX_DEPTH_CAP as u64) as u32),
        };
        let resume: BTreeMap<Face, (Node, Node)> = faces
            .drain(..)
            .map(|f| (f.face, (unexclude(f.tree), f.zero_tree)))
            .collect();
        let opts = Options {
            eps: None,
            max_depth,
            resolution,
            time_limit: None,
            budget: *budget,
            rho: (claim.rho_lo.clone(), claim.rho_hi.clone()),
            parts: None,
            resume: Some(std::sync::Arc::new(resume)),
            exact_only: false,
        };
        let r = search(net, net_sha256, None, &opts, &Progress::default());
        rounds_seconds = Some(r.seconds);
        let c = r.certificate;
        claim = c.claim;
        counterexample = c.counterexample;
        radius_witnesses = c.radius_witnesses;
        let cover = c.cover.expect("the search makes a cover");
        max_depth_out = cover.max_depth;
        faces = cover.faces;
    } else {
        // Given radii, or a counterexample: the balls are final here.
        for f in &mut faces {
            let tree = std::mem::replace(&mut f.tree, Node::Leaf(Rule::Undecided));
            f.tree = exclude_inside(tree, Cell::root(f.face, k), &excluded);
        }
    }
    let undecided = faces
        .iter()
        .any(|f| has_undecided(&f.tree) || has_undecided(&f.zero_tree));
    let verdict = match (&counterexample, undecided) {
        (Some(_), _) => Verdict::Violated,
        (None, true) => Verdict::Unknown,
        (None, false) => Verdict::Holds,
    };
    let mut stats = serde_json::Map::new();
    stats.insert("merged_shards".into(), count.into());
    stats.insert("plan_sha256".into(), plan_sha.clone().into());
    stats.insert(
        "shard_certify_seconds".into(),
        listed
            .iter()
            .map(|s| s.2.map_or("?".to_string(), |v| format!("{v:.3}")))
            .collect::<Vec<_>>()
            .into(),
    );
    if let Some((max, mean)) = time_spread(&listed) {
        stats.insert(
            "shard_max_over_mean".into(),
            format!("{:.3}", if mean > 0.0 { max / mean } else { 1.0 }).into(),
        );
    }
    if let Some(t) = rounds_seconds {
        stats.insert("merge_rounds_seconds".into(), format!("{t:.3}").into());
    }
    let certificate = Certificate {
        network_sha256: net_sha256.to_string(),
        // Set by the caller: it depends on where the merged file goes.
        network_path: None,
        latent: k,
        claim,
        verdict,
        shard: None,
        cover: Some(Cover {
            max_depth: max_depth_out,
            faces,
        }),
        counterexample,
        radius_witnesses,
        stats,
    };
    Ok(Merged {
        certificate,
        shards: listed,
    })
}

/// Sharpest mode: Excluded leaves back to Undecided (the shards' radii are
/// not the merged ones; the rounds assign the balls anew).
fn unexclude(node: Node) -> Node {
    match node {
        Node::Leaf(Rule::Excluded(_)) => Node::Leaf(Rule::Undecided),
        Node::Leaf(r) => Node::Leaf(r),
        Node::Split { axis, lo, hi } => Node::Split {
            axis,
            lo: Box::new(unexclude(*lo)),
            hi: Box::new(unexclude(*hi)),
        },
        Node::Radial { at, inner, outer } => Node::Radial {
            at,
            inner: Box::new(unexclude(*inner)),
            outer: Box::new(unexclude(*outer)),
        },
    }
}

/// Whether every radial split of `node` (over `cell`) is a dyadic point
/// inside its cell's radial interval, as the search makes them.
fn valid_splits(node: &Node, cell: Cell) -> bool {
    match node {
        Node::Leaf(_) => true,
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            valid_splits(lo, a) && valid_splits(hi, b)
        }
        Node::Radial { at, inner, outer } => {
            match crate::exact::dyadic::Dyadic::from_rational(at)
                .and_then(|d| cell.split_radial(&d))
            {
                Some((a, b)) => valid_splits(inner, a) && valid_splits(outer, b),
                None => false,
            }
        }
    }
}

fn has_undecided(node: &Node) -> bool {
    match node {
        Node::Leaf(r) => *r == Rule::Undecided,
        Node::Split { lo, hi, .. } => has_undecided(lo) || has_undecided(hi),
        Node::Radial { inner, outer, .. } => has_undecided(inner) || has_undecided(outer),
    }
}

/// Undecided bounded leaves whose every vertex lies in one of the merged
/// balls become Excluded (the checker decides the Excluded rule exactly).
fn exclude_inside(tree: Node, root: Cell, ex: &Excluded) -> Node {
    exclude_leaves(tree, root, &|c: &Cell| {
        let vs = c.rational_vertices()?;
        if vs.iter().all(|x| ex.in_ball1(x)) {
            Some(Ball::XStar)
        } else if vs.iter().all(|x| ex.in_ball2(x)) {
            Some(Ball::Rho)
        } else {
            None
        }
    })
}

/// The shard behind a checker rejection of the merged certificate: the
/// message names the cell as `cell <face> <tree|zero_tree> <path>…`; the
/// shard is the one whose part's path starts that path.
pub fn locate_rejection<'a>(message: &str, parts: &'a [(Face, String, String)]) -> Option<&'a str> {
    let rest = message.strip_prefix("cell ")?;
    let mut words = rest.split_whitespace();
    let face = words.next()?;
    let _tree = words.next()?;
    let path: String = words
        .next()
        .unwrap_or("")
        .chars()
        .take_while(|c| *c == '0' || *c == '1')
        .collect();
    parts
        .iter()
        .find(|(f, p, _)| f.to_string() == face && path.starts_with(p.as_str()))
        .map(|(_, _, shard)| shard.as_str())
}

/// The shard info a shard certificate made from `plan` carries.
pub fn shard_info(plan: &LoadedPlan, index: u32) -> ShardInfo {
    ShardInfo {
        index,
        count: plan.plan.shards,
        plan_sha256: plan.sha256.clone(),
    }
}
