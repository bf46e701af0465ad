//! Rational helpers, exact points of cells and segments, and a seeded
//! generator shared by the soundness tests.
use hvcert::checker::geometry::Cell;
use hvcert::exact::dyadic::Dyadic;
use hvcert::exact::eval::{split_point, ExactNet};
use hvcert::format::network::{Measurement, Network};
use num_bigint::BigInt;
use num_rational::BigRational as Q;
use num_traits::{One, Signed, Zero};

pub fn q(n: i64, d: i64) -> Q {
    Q::new(BigInt::from(n), BigInt::from(d))
}

pub fn pow2(e: i64) -> Q {
    if e >= 0 {
        Q::from_integer(BigInt::one() << e as usize)
    } else {
        Q::new(BigInt::one(), BigInt::one() << (-e) as usize)
    }
}

pub fn show(v: &[Q]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("({})", parts.join(", "))
}

/// splitmix64 with a fixed seed: deterministic choices inside a test.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn bit(&mut self) -> bool {
        self.next() & 1 == 1
    }
    /// A rational in [0, 1] with a small denominator (not only dyadic).
    pub fn unit(&mut self) -> Q {
        const DENS: [i64; 9] = [1, 2, 3, 4, 5, 7, 8, 9, 16];
        let d = DENS[self.below(DENS.len())];
        let n = self.below(d as usize + 1) as i64;
        q(n, d)
    }
    /// A rational in [-2, 2] with a small denominator.
    pub fn small(&mut self) -> Q {
        self.unit() * q(4, 1) - q(2, 1)
    }
}

pub fn dot(a: &[Q], b: &[Q]) -> Q {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn dy(v: &Q) -> Dyadic {
    Dyadic::from_rational(v).expect("dyadic")
}

/// Whether `x` is in the closed cell, by dividing: `t = s x_a`, `p = x / t`.
pub fn in_cell(cell: &Cell, x: &[Q]) -> bool {
    let a = cell.face.axis;
    let t = if cell.face.positive {
        x[a].clone()
    } else {
        -x[a].clone()
    };
    if !t.is_positive() {
        return is_zero_vec(x) && cell.t_lo.is_zero();
    }
    if t < cell.t_lo.to_rational() || cell.t_hi.as_ref().is_some_and(|h| t > h.to_rational()) {
        return false;
    }
    (0..cell.k()).filter(|&j| j != a).all(|j| {
        let p = &x[j] / &t;
        p >= cell.lo[j].to_rational() && p <= cell.hi[j].to_rational()
    })
}

pub fn is_zero_vec(x: &[Q]) -> bool {
    x.iter().all(Q::is_zero)
}

pub fn measurement(m: usize) -> Measurement {
    if m == 0 {
        Measurement::Identity
    } else {
        Measurement::Matrix { m }
    }
}

/// A network with the given widths and measurement count (`0`: `A = I`)
/// whose weights, `A` and target are multiples of 1/4 in [-2, 2] (a target
/// of zeros gets a 1).
#[allow(dead_code)]
pub fn quarter_network(rng: &mut Rng, k: usize, widths: Vec<usize>, m: usize) -> Network {
    let mut entry = || (rng.below(17) as f64 - 8.0) / 4.0;
    let mut weights = Vec::new();
    let mut prev = k;
    for &n in &widths {
        weights.push((0..n * prev).map(|_| entry()).collect());
        prev = n;
    }
    let a = (m > 0).then(|| (0..m * prev).map(|_| entry()).collect());
    let mut target: Vec<f64> = (0..k).map(|_| entry()).collect();
    if target.iter().all(|&v| v == 0.0) {
        target[0] = 1.0;
    }
    Network {
        latent: k,
        widths,
        measurement: measurement(m),
        weights,
        a,
        target,
        sampling: None,
    }
}

/// The pre-activations of every layer at `x = u / q`, as integers `N` with
/// `z = N 2^E / q` (`E` depends on the layer only, not on `x`).
pub fn pre_scaled(net: &ExactNet, x: &[Q]) -> (Vec<Vec<BigInt>>, BigInt) {
    let (mut act, q) = split_point(x);
    let mut pre = Vec::with_capacity(net.depth());
    for w in &net.layers {
        let z = w.mul_vec(&act);
        act = z.relu();
        pre.push(z.num);
    }
    (pre, q)
}

pub fn rationals(v: &[Dyadic]) -> Vec<Q> {
    v.iter().map(Dyadic::to_rational).collect()
}

pub fn scale(t: &Q, p: &[Q]) -> Vec<Q> {
    p.iter().map(|v| t * v).collect()
}

/// The points of the segment `a -> b` where some neuron is exactly zero
/// (crossing its sign), found layer by layer: between consecutive zeros of
/// the earlier layers every pre-activation is affine along the segment.
pub fn segment_zeros(net: &ExactNet, a: &[Q], b: &[Q], out: &mut Vec<Vec<Q>>) {
    let at = |s: &Q| -> Vec<Q> { a.iter().zip(b).map(|(x, y)| x + s * (y - x)).collect() };
    let mut breaks = vec![
        (Q::zero(), pre_scaled(net, a)),
        (Q::one(), pre_scaled(net, b)),
    ];
    for layer in 0..net.depth() {
        let mut new = Vec::new();
        for w in breaks.windows(2) {
            let ((s0, (z0, q0)), (s1, (z1, q1))) = (&w[0], &w[1]);
            for (u, v) in z0[layer].iter().zip(&z1[layer]) {
                if (u.is_positive() && v.is_negative()) || (u.is_negative() && v.is_positive()) {
                    // z0 / (z0 - z1) with z0 = u 2^E / q0, z1 = v 2^E / q1.
                    let (uq, vq) = (u * q1, v * q0);
                    let frac = Q::new(uq.clone(), uq - vq);
                    new.push(s0 + (s1 - s0) * frac);
                }
            }
        }
        for s in new {
            let x = at(&s);
            let z = pre_scaled(net, &x);
            out.push(x);
            breaks.push((s, z));
        }
        breaks.sort_by(|x, y| x.0.cmp(&y.0));
        breaks.dedup_by(|x, y| x.0 == y.0);
        if breaks.len() > 40 {
            break;
        }
    }
}
