//! The pattern engine's matrices in fixed width (`FxMat`, issue 14)
//! against plain `BigInt` arithmetic: every kernel that reads or writes
//! `FxMat` entries (rank-one updates, products from scratch, Gram
//! products, transposed products, limbs, binary64 approximations) returns
//! exactly what the `BigInt` computation returns, also where an entry does
//! not fit and the kernel falls back; and on the shipped networks the
//! engine's `R_i` and `M = A D R_d`, built by chains of updates, equal the
//! products computed from scratch with `BigInt`.

use hvcert::certifier::fast::real::{approx_f64, approx_f64_fx};
use hvcert::checker::patterns::{
    a_limbs, fx_columns, product_fast, product_fx, rank_one_fx, rank_one_updates, wide_limbs,
    wide_limbs_fx, Engine,
};
use hvcert::exact::dyadic::{DMat, DVec};
use hvcert::exact::eval::{ExactNet, Pattern};
use hvcert::exact::fixed::{fx_all, Fx};
use hvcert::exact::fxmat::{FxEntries, FxMat, FxSlice};
use num_bigint::{BigInt, Sign};
use num_traits::Zero;
use proptest::prelude::*;

/// Integers from 0 to a little past 512 bits (the fixed width), weighted
/// towards the sizes of the engine's entries (56 to 200 bits).
fn entry() -> impl Strategy<Value = BigInt> {
    let digits = |n: usize| {
        (prop::collection::vec(any::<u32>(), 0..n), any::<bool>())
            .prop_map(|(d, neg)| BigInt::from_slice(if neg { Sign::Minus } else { Sign::Plus }, &d))
    };
    prop_oneof![
        2 => (-1000i64..1000).prop_map(BigInt::from),
        4 => digits(7),
        1 => digits(18),
    ]
}

fn mat(rows: usize, cols: usize, num: &[BigInt], exp: i64) -> DMat {
    DMat {
        rows,
        cols,
        num: num[..rows * cols].to_vec(),
        exp,
    }
}

/// `w D r` in `BigInt` (`D` the 0/1 diagonal of `keep`).
fn product(w: &DMat, r: &DMat, keep: &[bool]) -> Vec<BigInt> {
    let mut out = vec![BigInt::zero(); w.rows * r.cols];
    for j in 0..w.rows {
        for u in (0..w.cols).filter(|&u| keep[u]) {
            for c in 0..r.cols {
                out[j * r.cols + c] += &w.num[j * w.cols + u] * &r.num[u * r.cols + c];
            }
        }
    }
    out
}

/// Whether some running sum of [`rank_one_fx`]'s updates (in its order:
/// bit by bit, then row by row, column by column) leaves 256 bits, so that
/// it may widen even though the final entries fit.
fn touched_wide(m: &DMat, w: &DMat, r: &DMat, was: &[bool], now: &[bool]) -> bool {
    let mut acc = m.num.clone();
    let k = m.cols;
    for u in (0..was.len()).filter(|&u| was[u] != now[u]) {
        for j in 0..m.rows {
            for c in 0..k {
                let p = &w.num[j * w.cols + u] * &r.num[u * k + c];
                if p.bits() > 256 {
                    return true;
                }
                acc[j * k + c] = if now[u] {
                    &acc[j * k + c] + p
                } else {
                    &acc[j * k + c] - p
                };
                if acc[j * k + c].bits() > 256 {
                    return true;
                }
            }
        }
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn fxmat_reads_match_dmat(
        (r, c) in (1usize..7, 1usize..5),
        seed in prop::collection::vec(entry(), 40),
        keep in prop::collection::vec(any::<bool>(), 7),
        v in prop::collection::vec(entry(), 7),
    ) {
        let m = mat(r, c, &seed, -5);
        let keep = &keep[..r];
        let v = DVec { num: v[..r].to_vec(), exp: 3 };
        // Built from a DMat, and (where every entry fits) from fixed width
        // alone, whose BigInt form is then made on demand.
        let mut forms = vec![FxMat::new(m.clone())];
        if let Some(f) = fx_all(&m.num) {
            forms.push(FxMat::from_fixed(r, c, f, -5));
        }
        for f in &forms {
            prop_assert_eq!(f.gram_rows(Some(keep)).num, m.gram_rows(Some(keep)).num);
            prop_assert_eq!(f.gram_rows(None).exp, m.gram_rows(None).exp);
            let (got, want) = (f.tr_mul_vec_rows(&v, Some(keep)), m.tr_mul_vec_rows(&v, Some(keep)));
            prop_assert_eq!((got.num, got.exp), (want.num, want.exp));
            for j in 0..r {
                prop_assert_eq!(f.row_big(j), m.row(j).to_vec());
                prop_assert_eq!(f.row_dyadics(j), m.row_dyadics(j));
            }
            prop_assert_eq!(wide_limbs_fx::<3>(f), if f.fixed().is_some() { wide_limbs::<3>(&m) } else { None });
            prop_assert_eq!(wide_limbs_fx::<4>(f), if f.fixed().is_some() { wide_limbs::<4>(&m) } else { None });
            prop_assert_eq!(&f.big().num, &m.num);
        }
    }

    /// The Gram matrix and transposed product of a row set, by updates
    /// from another set's (or from zero), equal the `BigInt` sums.
    #[test]
    fn gram_updates_match_bigint(
        (r, c) in (1usize..7, 1usize..5),
        seed in prop::collection::vec(entry(), 40),
        was in prop::collection::vec(any::<bool>(), 7),
        now in prop::collection::vec(any::<bool>(), 7),
        v in prop::collection::vec(entry(), 7),
    ) {
        let m = mat(r, c, &seed, -5);
        let (was, now) = (&was[..r], &now[..r]);
        let v = DVec { num: v[..r].to_vec(), exp: 3 };
        let f = FxMat::new(m.clone());
        let Some(base) = f.gram_and_tr_mul_update(&v, None, was) else {
            // Only where an entry, a product or a sum leaves fixed width.
            prop_assert!(f.fixed().is_none() || fx_all(&v.num).is_none() || seed.iter().chain(&v.num).any(|x| x.bits() > 200));
            return Ok(());
        };
        for (keep, from) in [(was, None), (now, Some(&base))] {
            if let Some(g) = f.gram_and_tr_mul_update(&v, from, keep) {
                prop_assert_eq!(&g.keep, &keep.to_vec());
                let (q, b) = g.to_dmat_dvec(c, (m.exp, v.exp));
                let (wq, wb) = (m.gram_rows(Some(keep)), m.tr_mul_vec_rows(&v, Some(keep)));
                prop_assert_eq!((q.num, q.exp, q.rows, q.cols), (wq.num, wq.exp, wq.rows, wq.cols));
                prop_assert_eq!((b.num, b.exp), (wb.num, wb.exp));
            }
        }
    }

    #[test]
    fn fixed_updates_and_products_match_bigint(
        (r, c, n) in (1usize..6, 1usize..7, 1usize..4),
        seed in prop::collection::vec(entry(), 96),
        was in prop::collection::vec(any::<bool>(), 6),
        now in prop::collection::vec(any::<bool>(), 6),
    ) {
        // m (r x n), w (r x c), rows (c x n).
        let m = mat(r, n, &seed, -3);
        let w = mat(r, c, &seed[24..], 1);
        let rows = mat(c, n, &seed[60..], -4);
        let (was, now) = (&was[..c], &now[..c]);
        let (mf, rf) = (FxMat::new(m.clone()), FxMat::new(rows.clone()));
        // Stored short exactly when every entry fits 256 bits.
        for (f, d) in [(&mf, &m), (&rf, &rows)] {
            let short = d.num.iter().all(|v| v.bits() <= 256);
            prop_assert_eq!(matches!(f.fixed(), Some(FxSlice::Short(_))), short);
        }
        let wf = fx_columns(&w);
        let want = rank_one_updates(&m, &w, &rows, was, now).num;
        if let Some(wf) = wf.as_deref() {
            if let Some(got) = rank_one_fx(&mf, (wf, r, c), &rf, was, now) {
                // Short (256-bit) storage is kept unless an entry outgrew it.
                if let FxEntries::Wide(_) = got {
                    let m_short = matches!(mf.fixed(), Some(FxSlice::Short(_)));
                    prop_assert!(!m_short || want.iter().any(|v| v.bits() > 256) || touched_wide(&m, &w, &rows, was, now));
                }
                prop_assert_eq!(got.as_slice().to_big(), want);
            }
        }
        let want = product(&w, &rows, now);
        if let Some(wf) = wf.as_deref() {
            if let Some(got) = product_fx((wf, r, c), &rf, now) {
                prop_assert_eq!(got.iter().map(Fx::to_big).collect::<Vec<_>>(), want.clone());
            }
        }
        let wl = a_limbs(&w);
        if let Some(got) = product_fast(&w, wl.as_deref(), wf.as_deref(), &rf, now) {
            prop_assert_eq!((got.rows, got.cols, got.exp), (r, n, -3));
            prop_assert_eq!(&got.big().num, &want);
        }
    }

    #[test]
    fn fixed_approximations_match_bigint(v in entry(), exp in -1100i64..1100) {
        let f = Fx::from_big(&v);
        if let Some(f) = f {
            prop_assert_eq!(f.bits(), v.bits());
            prop_assert_eq!(f.is_negative(), v.sign() == Sign::Minus);
            prop_assert_eq!(f.digits().to_vec(), v.magnitude().iter_u64_digits().collect::<Vec<_>>());
            let (a, b) = (approx_f64_fx(&f, exp), approx_f64(&v, exp));
            prop_assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "{} vs {}", a, b);
        }
    }
}

/// On every shipped network with two or more layers: random walks over
/// first-layer bits and last-layer bits (single flips, a few flips and
/// jumps, so that the engine takes its update paths and its paths from
/// scratch), each `R_2`, each `M = A D R_2` and `omega = A D (W_2)_{.v}`
/// from the engine equal to the product computed from scratch in `BigInt`.
#[test]
fn engine_rows_and_measurements_match_products() {
    let mut tested = 0;
    for name in [
        "k3-50-500-m100",
        "k2-20-100-m50",
        "default",
        "k2-10-40-160-m40",
        "large/k4-50-500",
    ] {
        let path = format!("{}/certificates/{name}.bin", env!("CARGO_MANIFEST_DIR"));
        let loaded = hvcert::format::network::read_network_file(std::path::Path::new(&path))
            .expect("shipped network");
        let net = ExactNet::new(&loaded.network).expect("exact network");
        let engine = Engine::new(&net);
        let (n1, n2) = (net.widths[0], net.widths[1]);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut b1: Vec<bool> = (0..n1).map(|_| next() % 2 == 0).collect();
        let mut b2: Vec<bool> = (0..n2).map(|_| next() % 2 == 0).collect();
        for step in 0..40 {
            // Mostly one to three flips; every tenth step a new random set.
            let flips = if step % 10 == 9 {
                n1
            } else {
                1 + (next() % 3) as usize
            };
            for _ in 0..flips {
                let u = (next() % n1 as u64) as usize;
                b1[u] = !b1[u];
            }
            for _ in 0..1 + (next() % 4) as usize {
                let u = (next() % n2 as u64) as usize;
                b2[u] = !b2[u];
            }
            let rows = engine.layer_rows(std::slice::from_ref(&b1));
            let w1 = &net.layers[0];
            let w2 = &net.layers[1];
            let want = product(w2, w1, &b1);
            assert_eq!(rows.big().num, want, "{name}: R_2 at step {step}");
            assert_eq!(rows.exp, w2.exp + w1.exp);
            if net.layers.len() == 2 && net.a.is_none() {
                // Q_P = R^T D R and b_P = R^T D y, by updates from the
                // pattern before (A = I).
                let pattern = Pattern {
                    bits: vec![b1.clone(), b2.clone()],
                };
                let quad = engine.quadratic(&pattern);
                let r = rows.big();
                let mut tr = r.clone();
                tr.num = (0..r.cols * r.rows)
                    .map(|i| r.num[(i % r.rows) * r.cols + i / r.rows].clone())
                    .collect();
                (tr.rows, tr.cols) = (r.cols, r.rows);
                let q = DMat {
                    rows: r.cols,
                    cols: r.cols,
                    num: product(&tr, r, &b2),
                    exp: 2 * r.exp,
                };
                let b = r.tr_mul_vec_rows(&net.y, Some(&b2));
                assert_eq!(quad.q, q.to_dyadics(), "{name}: Q_P at step {step}");
                assert_eq!(quad.b, b.to_dyadics(), "{name}: b_P at step {step}");
            }
            if net.layers.len() == 2 {
                if let Some(a) = &net.a {
                    let m = engine
                        .measurement(&Pattern {
                            bits: vec![b1.clone(), b2.clone()],
                        })
                        .expect("A != I");
                    assert_eq!(
                        m.big().num,
                        product(a, rows.big(), &b2),
                        "{name}: M at step {step}"
                    );
                    assert_eq!(m.exp, a.exp + rows.exp);
                    // omega = A D (W_2)_{.v} for two first-layer neurons.
                    for v in [step % n1, (7 * step + 3) % n1] {
                        let (bits, omega) = &*engine.omega(&b2, v).expect("A != I");
                        assert_eq!(bits, &b2);
                        let col = DMat {
                            rows: n2,
                            cols: 1,
                            num: (0..n2).map(|u| w2.num[u * w2.cols + v].clone()).collect(),
                            exp: w2.exp,
                        };
                        assert_eq!(
                            omega,
                            &product(a, &col, &b2),
                            "{name}: omega at step {step}"
                        );
                    }
                }
            }
            tested += 1;
        }
    }
    assert_eq!(tested, 200);
}
