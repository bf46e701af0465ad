//! Issue 12, item 4: the decided share of the search space that the
//! progress display shows is a real measure, kept exactly: a search that
//! decides everything reports exactly 1, and the share always equals the
//! decided leaves' weight in the certificate it writes.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::certify::{q, search_options};
use hvcert::certifier::search::{search, Progress};
use hvcert::format::certificate::{Face, Node, Rule, Verdict};
use hvcert::format::network::read_network_file;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// The share of the decided leaves of one (P1) tree: `2^-depth` each.
fn decided_share(node: &Node, depth: u32) -> BigRational {
    match node {
        Node::Leaf(Rule::Undecided) => BigRational::zero(),
        Node::Leaf(_) => BigRational::new(BigInt::one(), BigInt::one() << depth as usize),
        Node::Split { lo, hi, .. } => decided_share(lo, depth + 1) + decided_share(hi, depth + 1),
        Node::Radial { inner, outer, .. } => {
            decided_share(inner, depth + 1) + decided_share(outer, depth + 1)
        }
    }
}

/// The decided (P1) share of a certificate: its parts' decided leaves, in
/// faces, over the `2k` faces.
fn tree_share(cert: &hvcert::format::certificate::Certificate) -> BigRational {
    share(cert, false)
}

fn zero_share(cert: &hvcert::format::certificate::Certificate) -> BigRational {
    share(cert, true)
}

fn share(cert: &hvcert::format::certificate::Certificate, zero: bool) -> BigRational {
    let faces = &cert.cover.as_ref().expect("a cover").faces;
    let sum: BigRational = faces
        .iter()
        .map(|f| {
            let t = if zero { &f.zero_tree } else { &f.tree };
            decided_share(t, f.path.len() as u32)
        })
        .sum();
    sum / BigRational::from_integer(BigInt::from(2 * cert.latent))
}

#[test]
fn decided_share_is_exactly_one_when_the_search_decides_everything() {
    let loaded = read_network_file(Path::new("certificates/default.bin")).expect("default.bin");
    let net = &loaded.network;
    let opts = search_options(net, None, 48, q(1, 512), None);
    let progress = Progress::default();
    let r = search(net, &loaded.sha256, None, &opts, &progress);
    assert_eq!(r.certificate.verdict, Verdict::Holds);
    let faces = BigRational::from_integer(BigInt::from(2 * net.latent));
    assert_eq!(progress.roots.exact(), faces);
    assert_eq!(progress.decided.exact() / &faces, BigRational::one());
    assert!(progress.left_undecided.exact().is_zero());
    assert_eq!(tree_share(&r.certificate), BigRational::one());
    assert_eq!(progress.decided_fraction(), 1.0);
    // (P2): every zero tree decided.
    assert_eq!(progress.zero_decided.exact() / &faces, BigRational::one());
    assert!(progress.zero_left_undecided.exact().is_zero());
    assert_eq!(zero_share(&r.certificate), BigRational::one());
    same_as_the_trees(&progress, &r.certificate);
}

/// [`Progress::add_tree`] on the certificate's trees gives what the search
/// counted as it went, depth by depth.
fn same_as_the_trees(p: &Progress, cert: &hvcert::format::certificate::Certificate) {
    let q = Progress::default();
    for f in &cert.cover.as_ref().expect("a cover").faces {
        let d = f.path.len() as u32;
        q.roots.add(d);
        q.add_tree(&f.tree, d, false);
        q.add_tree(&f.zero_tree, d, true);
    }
    for (name, a, b) in [
        ("roots", &p.roots, &q.roots),
        ("decided", &p.decided, &q.decided),
        ("left undecided", &p.left_undecided, &q.left_undecided),
        ("zero decided", &p.zero_decided, &q.zero_decided),
        ("zero left", &p.zero_left_undecided, &q.zero_left_undecided),
    ] {
        assert_eq!(a.exact(), b.exact(), "{name}");
    }
}

/// Leaves left undecided (too deep, or past the time limit): the decided
/// share stays below 1 and still equals the certificate's decided leaves;
/// decided and left undecided together make up the whole.
fn partial(max_depth: u32, time_limit: Option<Duration>) -> f64 {
    let loaded =
        read_network_file(Path::new("certificates/k2-20-100-m50.bin")).expect("k2-20-100-m50");
    let net = &loaded.network;
    let opts = search_options(net, None, max_depth, q(1, 512), time_limit);
    let progress = Progress::default();
    let r = search(net, &loaded.sha256, None, &opts, &progress);
    assert_ne!(r.certificate.verdict, Verdict::Holds);
    let faces = BigRational::from_integer(BigInt::from(2 * net.latent));
    assert_eq!(progress.roots.exact(), faces);
    let decided = progress.decided.exact() / &faces;
    eprintln!(
        "{}: {:.4} decided, {:.4} left undecided",
        r.certificate.verdict.name(),
        progress.decided_fraction(),
        progress.undecided_fraction()
    );
    assert_eq!(decided, tree_share(&r.certificate));
    assert!(decided < BigRational::one());
    assert_eq!(
        &decided + progress.left_undecided.exact() / &faces,
        BigRational::one()
    );
    let zero = progress.zero_decided.exact() / &faces;
    assert_eq!(zero, zero_share(&r.certificate));
    assert_eq!(
        zero + progress.zero_left_undecided.exact() / &faces,
        BigRational::one()
    );
    same_as_the_trees(&progress, &r.certificate);
    progress.decided_fraction()
}

#[test]
fn decided_share_when_cells_are_left_undecided() {
    // Shallow: cells at depth 6 stay undecided where no rule holds.
    let f = partial(6, None);
    assert!(f > 0.5 && f < 1.0, "{f}");
}

#[test]
fn decided_share_when_stopped_at_once() {
    // Stopped before anything is decided: the roots are left undecided.
    assert_eq!(partial(48, Some(Duration::from_nanos(1))), 0.0);
}

/// A shard searches parts of faces: the shares are of its parts (a part
/// `path` weighs `2^-len(path)` of its face), and still match its trees.
#[test]
fn decided_share_of_a_shard() {
    let loaded = read_network_file(Path::new("certificates/default.bin")).expect("default.bin");
    let net = &loaded.network;
    let mut opts = search_options(net, None, 48, q(1, 512), None);
    let face = |axis, positive| Face { axis, positive };
    opts.parts = Some(vec![
        (face(0, true), "01".into()),
        (face(1, false), "1".into()),
    ]);
    let progress = Progress::default();
    let r = search(net, &loaded.sha256, None, &opts, &progress);
    assert_eq!(progress.roots.exact(), q(3, 4));
    assert_eq!(
        progress.decided.exact() + progress.left_undecided.exact(),
        q(3, 4)
    );
    assert_eq!(
        progress.decided.exact() / q(4, 1),
        tree_share(&r.certificate)
    );
    same_as_the_trees(&progress, &r.certificate);
    let f = progress.decided_fraction();
    assert!(f > 0.0 && f <= 1.0, "{f}");
}

/// Resuming from finished trees: they count as decided from the start.
#[test]
fn decided_share_when_resuming() {
    let loaded = read_network_file(Path::new("certificates/default.bin")).expect("default.bin");
    let net = &loaded.network;
    let mut opts = search_options(net, None, 48, q(1, 512), None);
    let first = search(net, &loaded.sha256, None, &opts, &Progress::default());
    assert_eq!(first.certificate.verdict, Verdict::Holds);
    let trees: BTreeMap<Face, (Node, Node)> = (first.certificate.cover.as_ref().unwrap().faces)
        .iter()
        .map(|f| (f.face, (f.tree.clone(), f.zero_tree.clone())))
        .collect();
    opts.resume = Some(Arc::new(trees));
    let progress = Progress::default();
    let r = search(net, &loaded.sha256, None, &opts, &progress);
    assert_eq!(r.certificate.verdict, Verdict::Holds);
    assert_eq!(progress.decided.exact(), progress.roots.exact());
    assert!(progress.left_undecided.exact().is_zero());
    assert_eq!(progress.decided_fraction(), 1.0);
    same_as_the_trees(&progress, &r.certificate);
}
