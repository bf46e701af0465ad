//! The first-layer Zero rule (leaf `ZF`, format version 5): (P2) on a whole
//! direction box of a depth-2 network from one concave lower bound, with no
//! enumeration of the first layer's bits.
//!
//! # Soundness
//!
//! (P2) asks `D_w f(0) < 0` for every `w != 0`. `G` is positively
//! homogeneous and `G(0) = 0`, so `f(tw) = 1/2 |t A G(w) - y|^2` for `t >=
//! 0` and `D_w f(0) = -<A G(w), y> = -sum_j q_j relu(z_j(w))` with `q = A^T
//! y` (F6), `z_j(w) = sum_i (W_2)_{ji} relu(s_i(w))` and `s_i(w) = <(W_1)_i,
//! w>` (depth 2, no biases). Every `w != 0` is a positive multiple of a
//! point of some face's direction box, and the sign is scale-invariant, so
//! it suffices that `F(w) = sum_j q_j relu(z_j(w)) > 0` on the box.
//!
//! Fix, per first-layer neuron `i`, `lambda_i` in `{0, 1}` and let `l_i =
//! lambda_i s_i`, a linear function with `l_i <= relu(s_i)` everywhere; fix
//! a set `S` of last-layer neurons with `q_j > 0`, and let `beta_i = sum_{j
//! in S} q_j (W_2)_{ji}`. Then on the box
//!
//! 1. `sum_{j: q_j > 0} q_j relu(z_j) >= sum_{j in S} q_j z_j` (`relu(z) >=
//!    z` and `>= 0`, `q_j > 0`) `= sum_i beta_i relu(s_i) >= sum_{beta_i >=
//!    0} beta_i l_i + sum_{beta_i < 0} beta_i relu(s_i)`;
//! 2. for `q_j < 0`: `z_j <= C_j`, with `C_j` the sum over `i` of
//!    `(W_2)_{ji} relu(s_i)` where `(W_2)_{ji} > 0` and of `(W_2)_{ji} l_i`
//!    where `(W_2)_{ji} < 0`, so `q_j relu(z_j) >= q_j max(0, C_j)` (`relu`
//!    is monotone);
//!
//! so `F >= L = sum_{beta_i >= 0} beta_i l_i + sum_{beta_i < 0} beta_i
//! relu(s_i) + sum_{q_j < 0} q_j max(0, C_j)`. `L` is concave: linear
//! terms, negative multiples of the convex `relu(s_i)`, and negative
//! multiples of `max(0, C_j)`, convex as the maximum of `0` and a sum of
//! linear terms and positive multiples of convex ones. A concave function
//! on a box is least at a corner, so `L > 0` at the `2^(k-1)` corners
//! proves (P2) on the box. Any choice of `lambda` and `S` is sound; the
//! rule takes `lambda_i = [s_i(c) > 0]` and `S = {j : q_j > 0, z_j(c) >
//! 0}` at the box centre `c` (deterministic, so the certifier and the
//! checker agree on the cells it decides).
//!
//! Everything is exact: the corners are taken as integer vectors (one
//! positive multiple of all of them, [`Cell::corner_integers`]), and each
//! matrix and `q` as integer numerators with one power of two each, so
//! every term of `L` carries the same positive factor and only its sign
//! matters.

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

use super::geometry::Cell;
use super::patterns::Engine;

/// Why the first-layer Zero rule does not prove a box.
pub fn zero_first(engine: &Engine, cell: &Cell) -> Result<(), String> {
    let net = engine.net;
    let [w1, w2] = net.layers.as_slice() else {
        return Err("the first-layer Zero bound needs a network of depth 2".into());
    };
    let q = &engine.aty.num;
    let corners = cell.corner_integers();
    // A positive multiple of the box centre: the sum of its corners.
    let mut centre = vec![BigInt::zero(); cell.k()];
    for p in &corners {
        for (c, v) in centre.iter_mut().zip(p) {
            *c += v;
        }
    }
    let pre = |p: &[BigInt]| -> Vec<BigInt> {
        (0..w1.rows)
            .map(|i| w1.row(i).iter().zip(p).map(|(a, b)| a * b).sum())
            .collect()
    };
    let s_c = pre(&centre);
    let lambda: Vec<bool> = s_c.iter().map(Signed::is_positive).collect();
    // z_j at the centre, for S.
    let relu_c: Vec<BigInt> = s_c.iter().map(|s| s.clone().max(BigInt::zero())).collect();
    let mut beta = vec![BigInt::zero(); w1.rows];
    let mut negative = Vec::new();
    for (j, qj) in q.iter().enumerate().take(w2.rows) {
        let row = w2.row(j);
        if qj.is_negative() {
            negative.push(j);
            continue;
        }
        if !qj.is_positive() {
            continue;
        }
        let z: BigInt = row.iter().zip(&relu_c).map(|(a, b)| a * b).sum();
        if z.is_positive() {
            for (b, a) in beta.iter_mut().zip(row) {
                *b += a * qj;
            }
        }
    }
    for (ci, p) in corners.iter().enumerate() {
        let s = pre(p);
        let relu: Vec<BigInt> = s.iter().map(|v| v.clone().max(BigInt::zero())).collect();
        let low: Vec<BigInt> = s
            .iter()
            .zip(&lambda)
            .map(|(v, &l)| if l { v.clone() } else { BigInt::zero() })
            .collect();
        let mut least = BigInt::zero();
        for (i, b) in beta.iter().enumerate() {
            least += b * if b.is_negative() { &relu[i] } else { &low[i] };
        }
        for &j in &negative {
            let c: BigInt = w2
                .row(j)
                .iter()
                .enumerate()
                .map(|(i, a)| a * if a.is_positive() { &relu[i] } else { &low[i] })
                .sum();
            if c.is_positive() {
                least += &q[j] * c;
            }
        }
        if !least.is_positive() {
            return Err(format!(
                "the first-layer lower bound of <A G(w), y> is not positive at corner {}",
                super::rules::vec_str(
                    &cell.corners()[ci]
                        .iter()
                        .map(crate::exact::dyadic::Dyadic::to_rational)
                        .collect::<Vec<_>>()
                )
            ));
        }
    }
    Ok(())
}
