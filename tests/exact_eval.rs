//! Hand-computed values of the exact evaluator on tiny networks. Every
//! expected number below was worked out by hand from SPEC §1 and §3.

use hvcert::exact::eval::{ExactNet, Neuron, Pattern};
use hvcert::format::network::{Measurement, Network};
use num_bigint::BigInt;
use num_rational::BigRational;

fn q(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}
fn qs(v: &[i64]) -> Vec<BigRational> {
    v.iter().map(|&n| q(n)).collect()
}
fn pat(layers: &[&str]) -> Pattern {
    Pattern {
        bits: layers
            .iter()
            .map(|l| l.chars().map(|c| c == '1').collect())
            .collect(),
    }
}
fn net(
    k: usize,
    widths: &[usize],
    w: &[&[f64]],
    a: Option<(usize, &[f64])>,
    t: &[f64],
) -> ExactNet {
    let network = Network {
        latent: k,
        widths: widths.to_vec(),
        measurement: match a {
            Some((m, _)) => Measurement::Matrix { m },
            None => Measurement::Identity,
        },
        weights: w.iter().map(|m| m.to_vec()).collect(),
        a: a.map(|(_, v)| v.to_vec()),
        target: t.to_vec(),
        sampling: None,
    };
    ExactNet::new(&network).unwrap()
}

/// k = 1, d = 1, A = I: W_1 = [1; -2], x* = 1, so y = (1, 0).
fn one_layer_line() -> ExactNet {
    net(1, &[2], &[&[1.0, -2.0]], None, &[1.0])
}

#[test]
fn k1_d1_inversion_values() {
    let n = one_layer_line();
    assert_eq!(n.measurements(), qs(&[1, 0]));
    // x = 2: z = (2, -4), G = (2, 0), f = 1/2, vbar = 1, D = -1.
    let x = qs(&[2]);
    assert_eq!(n.preactivations(&x).unwrap(), vec![qs(&[2, -4])]);
    assert_eq!(n.generate(&x).unwrap(), qs(&[2, 0]));
    assert_eq!(
        n.objective(&x).unwrap(),
        BigRational::new(1.into(), 2.into())
    );
    assert_eq!(n.vbar(&x).unwrap(), qs(&[1]));
    assert_eq!(n.descent_derivative(&x).unwrap().0, q(-1));
    assert_eq!(n.strict_pattern(&x).unwrap(), pat(&["10"]));
    assert_eq!(n.region_point(&pat(&["10"])).unwrap(), Some(qs(&[1])));
    // x = -1: G = (0, 2), r = (-1, 2), f = 5/2, vbar = -4, D = -16.
    let x = qs(&[-1]);
    assert_eq!(
        n.objective(&x).unwrap(),
        BigRational::new(5.into(), 2.into())
    );
    assert_eq!(n.vbar(&x).unwrap(), qs(&[-4]));
    assert_eq!(n.descent_derivative(&x).unwrap().0, q(-16));
    let (qm, b) = n.quadratic(&pat(&["01"])).unwrap();
    assert_eq!(qm.to_rationals(), vec![qs(&[4])]);
    assert_eq!(b.to_rationals(), qs(&[0]));
    assert_eq!(n.region_point(&pat(&["01"])).unwrap(), Some(qs(&[0])));
    // The all-off pattern has Q = 0: singular.
    assert_eq!(n.region_point(&pat(&["00"])).unwrap(), None);
}

#[test]
fn k1_d1_zero_is_not_a_strict_maximum() {
    // At 0 both neurons are zero: four consistent patterns. D_w f(0) is -1
    // for w = 1 but 0 for w = -1 (F6: -<G(-1), y> = -<(0,2),(1,0)> = 0).
    let n = one_layer_line();
    let zero = qs(&[0]);
    assert_eq!(n.consistent_patterns(&zero, 16).unwrap().len(), 4);
    assert!(n.consistent_patterns(&zero, 3).is_err());
    assert_eq!(
        n.zero_neurons(&zero).unwrap(),
        vec![Neuron { layer: 1, index: 0 }, Neuron { layer: 1, index: 1 }]
    );
    assert_eq!(n.directional_derivative(&zero, &qs(&[1])).unwrap(), q(-1));
    assert_eq!(n.directional_derivative(&zero, &qs(&[-1])).unwrap(), q(0));
    assert_eq!(
        n.directional_pattern(&zero, &qs(&[-1])).unwrap(),
        pat(&["01"])
    );
    assert_eq!(n.vbar(&zero).unwrap(), qs(&[0]));
}

/// k = 1, d = 2, m = 2: W_1 = [1; -1], W_2 = [1 1; 2 -1], A = [1 0; 1 1],
/// x* = 1, so G(1) = (1, 2) and y = (1, 3).
fn two_layer_line() -> ExactNet {
    net(
        1,
        &[2, 2],
        &[&[1.0, -1.0], &[1.0, 1.0, 2.0, -1.0]],
        Some((2, &[1.0, 0.0, 1.0, 1.0])),
        &[1.0],
    )
}

#[test]
fn k1_d2_compressive_values_and_a_spurious_stationary_point() {
    let n = two_layer_line();
    assert_eq!(n.measurements(), qs(&[1, 3]));
    // x = 3: G = (3, 6), A G = (3, 9), r = (2, 6), f = 20, M = (1; 3),
    // Q = 10, b = 10, x_c = 1 (= x*), vbar = 20, D = -400.
    let x = qs(&[3]);
    assert_eq!(n.objective(&x).unwrap(), q(20));
    assert_eq!(n.vbar(&x).unwrap(), qs(&[20]));
    assert_eq!(n.descent_derivative(&x).unwrap().0, q(-400));
    let p = n.strict_pattern(&x).unwrap();
    assert_eq!(p, pat(&["10", "11"]));
    assert_eq!(
        n.measurement_matrix(&p).unwrap().to_rationals(),
        vec![qs(&[1]), qs(&[3])]
    );
    assert_eq!(n.region_point(&p).unwrap(), Some(qs(&[1])));
    // x = -2: a_1 = (0, 2), G = (2, 0), r = (1, -1), f = 1; M = (-1; -1),
    // Q = 2, b = -4, so x_c = -2 = x: a stationary point inside its own
    // region, far from -rho_2 x* = -1/pi.
    let x = qs(&[-2]);
    assert_eq!(n.objective(&x).unwrap(), q(1));
    let p = n.strict_pattern(&x).unwrap();
    assert_eq!(p, pat(&["01", "10"]));
    assert_eq!(n.region_point(&p).unwrap(), Some(qs(&[-2])));
    assert_eq!(n.vbar(&x).unwrap(), qs(&[0]));
    assert_eq!(n.descent_derivative(&x).unwrap().0, q(0));
    assert_eq!(n.pattern_gradient(&p, &x).unwrap(), qs(&[0]));
}

/// k = 2, d = 2: W_1 = [1 0; 0 1; 1 -1], W_2 = [1 1 0; 0 -1 1], x* = (1, 1).
const W1: [f64; 6] = [1.0, 0.0, 0.0, 1.0, 1.0, -1.0];
const W2: [f64; 6] = [1.0, 1.0, 0.0, 0.0, -1.0, 1.0];

#[test]
fn k2_d2_compressive_values() {
    // A = [1 2]: y = A G(x*) = A (2, 0) = 2.
    let n = net(2, &[3, 2], &[&W1, &W2], Some((1, &[1.0, 2.0])), &[1.0, 1.0]);
    assert_eq!(n.measurements(), qs(&[2]));
    // x = (2, -1): z_1 = (2, -1, 3), z_2 = (2, 3), A G = 8, r = 6, f = 18.
    let x = qs(&[2, -1]);
    assert_eq!(
        n.preactivations(&x).unwrap(),
        vec![qs(&[2, -1, 3]), qs(&[2, 3])]
    );
    assert_eq!(n.objective(&x).unwrap(), q(18));
    let p = n.strict_pattern(&x).unwrap();
    assert_eq!(p, pat(&["101", "11"]));
    assert_eq!(
        n.lambda(&p).unwrap().to_rationals(),
        vec![qs(&[1, 0]), qs(&[1, -1])]
    );
    // M = (3, -2), Q = [9 -6; -6 4] (rank one: m = 1 < k), b = (6, -4).
    let (qm, b) = n.quadratic(&p).unwrap();
    assert_eq!(qm.to_rationals(), vec![qs(&[9, -6]), qs(&[-6, 4])]);
    assert_eq!(b.to_rationals(), qs(&[6, -4]));
    assert_eq!(n.region_point(&p).unwrap(), None);
    assert_eq!(n.vbar(&x).unwrap(), qs(&[18, -12]));
    assert_eq!(n.pattern_gradient(&p, &x).unwrap(), qs(&[18, -12]));
    // An interior point: D_{-vbar} f = -||vbar||^2 (F5).
    assert_eq!(n.descent_derivative(&x).unwrap().0, q(-468));
}

#[test]
fn k2_d2_inversion_values_and_boundary_directions() {
    let n = net(2, &[3, 2], &[&W1, &W2], None, &[1.0, 1.0]);
    assert_eq!(n.measurements(), qs(&[2, 0]));
    // x = (2, -1): G = (2, 3), r = (0, 3), f = 9/2, vbar = (3, -3).
    let x = qs(&[2, -1]);
    assert_eq!(
        n.objective(&x).unwrap(),
        BigRational::new(9.into(), 2.into())
    );
    assert_eq!(n.vbar(&x).unwrap(), qs(&[3, -3]));
    assert_eq!(n.descent_derivative(&x).unwrap().0, q(-18));
    // Q = [2 -1; -1 1], b = (2, 0), x_c = (2, 2).
    let p = pat(&["101", "11"]);
    assert_eq!(n.region_point(&p).unwrap(), Some(qs(&[2, 2])));

    // x = (2, 2) lies on the boundary z_{1,3} = 0.
    let x = qs(&[2, 2]);
    assert_eq!(
        n.zero_neurons(&x).unwrap(),
        vec![Neuron { layer: 1, index: 2 }]
    );
    assert_eq!(n.consistent_patterns(&x, 8).unwrap().len(), 2);
    assert_eq!(n.objective(&x).unwrap(), q(2));
    assert_eq!(n.strict_pattern(&x).unwrap(), pat(&["110", "10"]));
    // w = (1, 0) turns the zero neuron on; w = (-1, 0) keeps it off.
    assert_eq!(
        n.directional_pattern(&x, &qs(&[1, 0])).unwrap(),
        pat(&["111", "10"])
    );
    assert_eq!(n.directional_derivative(&x, &qs(&[1, 0])).unwrap(), q(2));
    assert_eq!(
        n.directional_pattern(&x, &qs(&[-1, 0])).unwrap(),
        pat(&["110", "10"])
    );
    assert_eq!(n.directional_derivative(&x, &qs(&[-1, 0])).unwrap(), q(-2));
    // vbar = (2, 2); along -vbar the zero neuron's directional pre-activation
    // is 0, so it stays off: D = -||vbar||^2 = -8.
    assert_eq!(n.vbar(&x).unwrap(), qs(&[2, 2]));
    let (d, p) = n.descent_derivative(&x).unwrap();
    assert_eq!(d, q(-8));
    assert_eq!(p, pat(&["110", "10"]));
    // x* is stationary: vbar = 0.
    let xs = qs(&[1, 1]);
    assert_eq!(n.vbar(&xs).unwrap(), qs(&[0, 0]));
    assert_eq!(n.objective(&xs).unwrap(), q(0));
}

#[test]
fn rational_points_are_exact() {
    // f(1/3) on the one-layer line: G = (1/3, 0), r = (-2/3, 0), f = 2/9.
    let n = one_layer_line();
    let x = vec![BigRational::new(1.into(), 3.into())];
    assert_eq!(
        n.objective(&x).unwrap(),
        BigRational::new(2.into(), 9.into())
    );
    // vbar = -2/3; D = -4/9.
    assert_eq!(
        n.vbar(&x).unwrap(),
        vec![BigRational::new((-2).into(), 3.into())]
    );
    assert_eq!(
        n.descent_derivative(&x).unwrap().0,
        BigRational::new((-4).into(), 9.into())
    );
}

#[test]
fn wrong_lengths_are_errors_not_panics() {
    let n = one_layer_line();
    assert!(n.objective(&qs(&[1, 2])).is_err());
    assert!(n.directional_derivative(&qs(&[1]), &qs(&[])).is_err());
    assert!(n.lambda(&pat(&["1"])).is_err());
    assert!(n.lambda(&pat(&["10", "1"])).is_err());
}
