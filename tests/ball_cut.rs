//! The search's ball cut: with fixed radii (`--eps`), the part of a cell's
//! rays that lies in a ball of `E` becomes an Excluded leaf at once. With
//! `eps2 > rho_d` the origin lies in the ball around `-rho_d x*`, so rays of
//! the `-x*` hemisphere start inside it: the certificate then has radial
//! cuts of cells with `t_lo = 0` whose inner part is an `E2` leaf, and it
//! verifies, with fewer cells than the same claim proved by the sharpest
//! mode's cover (which cannot cut at radii it does not know yet).

use std::path::Path;
use std::process::Command;

use hvcert::checker::geometry::Cell;
use hvcert::exact::dyadic::Dyadic;
use hvcert::format::certificate::{Ball, Certificate, Node, Rule};

/// Radial cuts whose inner part is an `E2` leaf: (from `t_lo = 0`, any).
fn cuts(node: &Node, cell: Cell, out: &mut (usize, usize)) {
    match node {
        Node::Leaf(_) => {}
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            cuts(lo, a, out);
            cuts(hi, b, out);
        }
        Node::Radial { at, inner, outer } => {
            if **inner == Node::Leaf(Rule::Excluded(Ball::Rho)) {
                out.1 += 1;
                out.0 += usize::from(cell.t_lo == Dyadic::from_int(0));
            }
            let at = Dyadic::from_rational(at).expect("dyadic");
            let (a, b) = cell.split_radial(&at).expect("inside");
            cuts(inner, a, out);
            cuts(outer, b, out);
        }
    }
}

fn certify(extra: &[&str]) -> (Certificate, (usize, usize)) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cert.json");
    let net = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates/default.bin");
    let o = Command::new(env!("CARGO_BIN_EXE_certify"))
        .arg("--net")
        .arg(&net)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = Command::new(env!("CARGO_BIN_EXE_verify"))
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&v.stdout).to_string();
    assert!(stdout.starts_with("VERIFIED holds"), "{stdout}");
    let cert = Certificate::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let k = cert.latent;
    let mut n = (0, 0);
    for f in &cert.cover.as_ref().expect("a cover").faces {
        cuts(&f.tree, Cell::root(f.face, k), &mut n);
    }
    (cert, n)
}

#[test]
fn rays_from_the_origin_start_with_an_excluded_stretch() {
    // rho_2 is about 0.32 (< 1/2): the origin is in B(-rho_d x*, |x*|/2).
    let (given, (from_origin, all)) = certify(&["--eps", "1/2"]);
    assert!(
        from_origin > 0,
        "no ray cut at the ball from t = 0 ({all} cuts)"
    );
    let (sharpest, _) = certify(&[]);
    let leaves = |c: &Certificate| -> usize {
        fn count(n: &Node) -> usize {
            match n {
                Node::Leaf(_) => 1,
                Node::Split { lo, hi, .. } => count(lo) + count(hi),
                Node::Radial { inner, outer, .. } => count(inner) + count(outer),
            }
        }
        let cover = c.cover.as_ref().expect("a cover");
        cover.faces.iter().map(|f| count(&f.tree)).sum()
    };
    assert!(
        leaves(&given) < leaves(&sharpest),
        "{} cells with --eps 1/2, {} in the sharpest mode",
        leaves(&given),
        leaves(&sharpest)
    );
}
