//! The patterns consistent with a cell, over-approximated exactly layer by
//! layer (SPEC §4), and per-pattern quantities, cached.
//!
//! For a fixed choice of bits on layers `< i`, layer `i`'s pre-activations
//! are linear in `x`: `z_i(x) = R x` with `R = W_i D_{i-1} W_{i-1} ... D_1 W_1`.
//! On a cell `x = t p` with `t > 0` and `p` in the box, so the sign of a row
//! over the cell is decided by its signs at the box corners: positive at all
//! corners (fixed on), negative at all (fixed off), otherwise free (either
//! bit may occur). Branching over the free bits covers every pattern that is
//! consistent with some point of the cell.

// foldhash: the keys are long bit vectors, hashed a bit at a time; SipHash
// was 1.7% of `verify`.
use foldhash::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};

use crate::exact::dyadic::{dyadic_dot, solve_integer_scaled, DMat, DVec, Dyadic};
use crate::exact::eval::{ExactNet, Pattern};
use crate::exact::fixed::{fx_all, Fx, FxN, FxS};
use crate::exact::fxmat::{FxEntries, FxMat, FxSlice, GramBase};
use crate::with_fx_slice;

/// `Q_P`, `b_P` and the region point of one pattern, as rationals.
#[derive(Debug)]
pub struct Quadratic {
    pub q: Vec<Vec<Dyadic>>,
    pub b: Vec<Dyadic>,
    /// `Q = Nq 2^eq`, `b = Nb 2^eb` in integers (`Nq` row-major) and `eb -
    /// eq`, for the region point.
    scaled: (Vec<BigInt>, Vec<BigInt>, i64),
    /// The region point `Q_P^{-1} b_P` as `u / q` (integers, `q > 0`);
    /// `None` when `Q_P` is singular. Solved when first needed: the Cone
    /// rule, which asks for most quadratics, never needs it.
    region_scaled: OnceLock<Option<(Vec<BigInt>, BigInt)>>,
    /// The same point as reduced rationals, computed when first needed.
    region_point: OnceLock<Option<Vec<BigRational>>>,
}

/// A neuron that is free on a cell, with the row `c` of its pre-activation
/// (`z = <c, x>` on the cell, under the bits chosen for earlier layers).
#[derive(Clone, Debug)]
pub struct FreeNeuron {
    pub layer: usize,
    pub index: usize,
    pub row: Vec<Dyadic>,
}

/// The bits of one layer and the next layer's rows under them.
type RowBase = (Vec<bool>, Arc<FxMat>);

/// Last-layer bits and `M = A D_d R_d` of a computed pattern.
type Base = (Vec<bool>, Arc<FxMat>);

/// Neuron statuses on a box, per choice of bits of the earlier layers.
#[derive(Clone, Debug, Default)]
pub struct Statuses(HashMap<Vec<Vec<bool>>, Arc<Vec<Option<bool>>>>);

/// The bits of the layers before the last that are consistent with a cell
/// (one branch of the enumeration), with the last layer's rows under them
/// and its neurons' statuses (fixed on, fixed off, free).
#[derive(Clone, Debug)]
pub struct Branch {
    pub prefix: Vec<Vec<bool>>,
    pub rows: Arc<FxMat>,
    pub status: Arc<Vec<Option<bool>>>,
}

impl Branch {
    /// The branch's pattern with every free last-layer neuron off.
    pub fn base_pattern(&self) -> Pattern {
        let mut bits = self.prefix.clone();
        bits.push(self.status.iter().map(|s| s.unwrap_or(false)).collect());
        Pattern { bits }
    }
    /// The free neurons of the last layer.
    pub fn free(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.status.len()).filter(|&j| self.status[j].is_none())
    }
}

#[derive(Debug)]
pub struct CellPatterns {
    pub patterns: Vec<Pattern>,
    /// Every free neuron met, under every branch.
    pub free: Vec<FreeNeuron>,
}

/// A screen of neuron statuses that a user of the engine may install (the
/// certifier installs a binary64 one; the checker none): given the box
/// corners (as integers), a layer's rows and which neurons are wanted, per
/// neuron `Some(status)` where the screen has proved the status the exact
/// test gives (fixed on, fixed off, free), `None` where the exact test must
/// decide. A screen must be rigorous: the engine trusts what it proves.
pub type StatusScreen =
    dyn Fn(&[Vec<BigInt>], &FxMat, &[bool]) -> Vec<Option<Option<bool>>> + Send + Sync;

/// The last-layer bits and `omega` of [`Engine::omega`].
pub type Omega = (Vec<bool>, Vec<BigInt>);

/// Shared caches over one network (thread-safe; results never depend on
/// what is cached).
pub struct Engine<'a> {
    pub net: &'a ExactNet,
    /// Layer rows `R_i` keyed by the bits of layers `< i`.
    rows: Mutex<HashMap<Vec<Vec<bool>>, Arc<FxMat>>>,
    /// The weights `W_i` in fixed width, column by column ([`fx_columns`];
    /// `None` where an entry does not fit), for the updates of `R_i`.
    layers_fixed: Vec<Option<Vec<FxS>>>,
    /// The weights `W_i` in 56-bit limbs ([`a_limbs`]), for products from
    /// scratch.
    layers_limbs: Vec<Option<Vec<[i64; 2]>>>,
    /// Per bits of layers `< i - 1`: the bits of layer `i - 1` and `R_i` of
    /// the prefix computed last (a base for rank-one updates).
    row_bases: Mutex<HashMap<Vec<Vec<bool>>, RowBase>>,
    quads: Mutex<HashMap<Pattern, Arc<Quadratic>>>,
    /// For `A = I`: per bits of layers `< d`, the sums of `Q_P` and `b_P`
    /// of the pattern computed last (a base for updates).
    gram_bases: Mutex<HashMap<Vec<Vec<bool>>, Arc<GramBase>>>,
    /// For `A != I`: per bits of layers `< d`, the last-layer bits and
    /// `M = A D_d R_d` of the pattern computed last (a base for updates).
    bases: Mutex<HashMap<Vec<Vec<bool>>, Arc<Base>>>,
    /// `A^T y` (`y` for `A = I`).
    pub aty: DVec,
    /// For `A != I`: columns of `A^T A`, computed when first needed.
    gram_columns: Vec<OnceLock<Vec<BigInt>>>,
    /// For `A != I`, per first-layer neuron `v` of a depth-2 network: the
    /// last-layer bits and `omega = A D (W_2)_{.v}` computed last (a base
    /// for updates; see [`Engine::omega`]).
    omegas: Mutex<HashMap<usize, Arc<Omega>>>,
    /// For `A != I`: upper bounds of the norms of `A`'s columns.
    column_norms: OnceLock<Vec<Dyadic>>,
    /// For `A != I`: `A` in fixed width, column by column ([`fx_columns`];
    /// `None` where an entry does not fit), for the updates of `M`.
    a_fixed: Option<Vec<FxS>>,
    /// For `A != I`: `A` split into two 56-bit limbs per entry, when every
    /// entry fits (see [`gram_column_limbs`]).
    a_limbs: OnceLock<Option<Vec<[i64; 2]>>>,
    /// The installed [`StatusScreen`], if any.
    status_screen: OnceLock<Box<StatusScreen>>,
}

impl<'a> Engine<'a> {
    pub fn new(net: &'a ExactNet) -> Self {
        Engine {
            net,
            rows: Mutex::new(HashMap::default()),
            layers_fixed: net.layers.iter().map(fx_columns).collect(),
            layers_limbs: net.layers.iter().map(a_limbs).collect(),
            row_bases: Mutex::new(HashMap::default()),
            quads: Mutex::new(HashMap::default()),
            gram_bases: Mutex::new(HashMap::default()),
            bases: Mutex::new(HashMap::default()),
            aty: match &net.a {
                Some(a) => a.tr_mul_vec(&net.y),
                None => net.y.clone(),
            },
            gram_columns: (0..net.a.as_ref().map_or(0, |a| a.cols))
                .map(|_| OnceLock::new())
                .collect(),
            omegas: Mutex::new(HashMap::default()),
            column_norms: OnceLock::new(),
            a_limbs: OnceLock::new(),
            a_fixed: net.a.as_ref().and_then(fx_columns),
            status_screen: OnceLock::new(),
        }
    }

    /// Installs a [`StatusScreen`] (once; a second one is ignored). The
    /// statuses, patterns and branches the engine computes stay those of
    /// the exact tests.
    pub fn set_status_screen(&self, screen: Box<StatusScreen>) {
        let _ = self.status_screen.set(screen);
    }

    /// `R_i` for the bits of the layers before it (`prefix.len() = i - 1`).
    pub fn layer_rows(&self, prefix: &[Vec<bool>]) -> Arc<FxMat> {
        if let Some(r) = self.rows.lock().expect("cache lock").get(prefix) {
            return r.clone();
        }
        let i = prefix.len();
        let r = if i == 0 {
            Arc::new(FxMat::new(self.net.layers[0].clone()))
        } else {
            // R_{i+1} = W_{i+1} D_i R_i: from scratch, or from the last one
            // computed under the same earlier bits by one rank-one update per
            // differing bit, +-(column u of W_{i+1})(row u of R_i)^T.
            const MAX_FLIPS: usize = 8;
            let prev = self.layer_rows(&prefix[..i - 1]);
            let bits = &prefix[i - 1];
            let w = &self.net.layers[i];
            let wf = self.layers_fixed[i].as_deref();
            // A base to update from: within MAX_FLIPS bits of these.
            let base = self
                .row_bases
                .lock()
                .expect("cache lock")
                .get(&prefix[..i - 1])
                .cloned()
                .filter(|(b, _)| b.iter().zip(bits).filter(|(x, y)| x != y).count() <= MAX_FLIPS);
            let fast = match &base {
                Some((b, m)) => wf
                    .and_then(|wf| rank_one_fx(m, (wf, w.rows, w.cols), &prev, b, bits))
                    .map(|num| FxMat::from_entries(w.rows, prev.cols, num, w.exp + prev.exp)),
                None => product_fast(w, self.layers_limbs[i].as_deref(), wf, &prev, bits),
            };
            let r = fast.unwrap_or_else(|| {
                FxMat::new(match &base {
                    Some((b, m)) => rank_one_updates(m.big(), w, prev.big(), b, bits),
                    None => w.mul_masked(&prev.mask_rows(bits), None),
                })
            });
            let r = Arc::new(r);
            let max = entries_within(r.bytes(), ROWS_CACHE_MAX);
            insert_bounded(
                &self.row_bases,
                prefix[..i - 1].to_vec(),
                (bits.clone(), r.clone()),
                max,
            );
            r
        };
        let max = entries_within(r.bytes(), ROWS_CACHE_MAX);
        insert_bounded(&self.rows, prefix.to_vec(), r.clone(), max);
        r
    }

    /// The patterns consistent with some point of the cone over the box
    /// whose corners are given (`None` when more than `limit`), and the
    /// neuron statuses met on the way. Statuses of a parent cell are
    /// inherited: a neuron fixed on a box stays fixed, with the same bit, on
    /// every sub-box, so only the parent's free neurons are re-examined.
    pub fn patterns(
        &self,
        corners: &[Vec<BigInt>],
        limit: usize,
        parent: Option<&Statuses>,
    ) -> (Option<CellPatterns>, Statuses) {
        let mut out = CellPatterns {
            patterns: Vec::new(),
            free: Vec::new(),
        };
        let mut statuses = Statuses::default();
        let mut prefix = Vec::new();
        let ok = self.branch(corners, &mut prefix, limit, parent, &mut out, &mut statuses);
        (ok.map(|_| out), statuses)
    }

    /// The consistent bits of the layers before the last (`None` when more
    /// than `limit` branches), each with the last layer's statuses: unlike
    /// [`Engine::patterns`], the free neurons of the last layer are not
    /// enumerated. Statuses are inherited from a parent as there.
    pub fn branches(
        &self,
        corners: &[Vec<BigInt>],
        limit: usize,
        parent: Option<&Statuses>,
    ) -> (Option<Vec<Branch>>, Statuses) {
        let mut out = Vec::new();
        let mut statuses = Statuses::default();
        let mut prefix = Vec::new();
        let ok = self.prefixes(corners, &mut prefix, limit, parent, &mut out, &mut statuses);
        (ok.map(|_| out), statuses)
    }

    fn prefixes(
        &self,
        corners: &[Vec<BigInt>],
        prefix: &mut Vec<Vec<bool>>,
        limit: usize,
        parent: Option<&Statuses>,
        out: &mut Vec<Branch>,
        statuses: &mut Statuses,
    ) -> Option<()> {
        let i = prefix.len();
        let rows = self.layer_rows(prefix);
        let status = self.layer_status(corners, prefix, &rows, parent);
        statuses.0.insert(prefix.clone(), status.clone());
        if i + 1 == self.net.depth() {
            if out.len() >= limit {
                return None;
            }
            out.push(Branch {
                prefix: prefix.clone(),
                rows,
                status,
            });
            return Some(());
        }
        for b in bit_choices(&status, limit)? {
            prefix.push(b);
            let r = self.prefixes(corners, prefix, limit, parent, out, statuses);
            prefix.pop();
            r?;
        }
        Some(())
    }

    /// Fixed on (`Some(true)`), fixed off (`Some(false)`) or free (`None`)
    /// for each neuron of the next layer under `prefix`.
    fn layer_status(
        &self,
        corners: &[Vec<BigInt>],
        prefix: &[Vec<bool>],
        rows: &FxMat,
        parent: Option<&Statuses>,
    ) -> Arc<Vec<Option<bool>>> {
        let inherited = parent.and_then(|p| p.0.get(prefix));
        if let Some(st) = inherited {
            if st.iter().all(Option::is_some) {
                return st.clone();
            }
        }
        let screened = self.status_screen.get().map(|screen| {
            let wanted: Vec<bool> = (0..rows.rows)
                .map(|j| !matches!(inherited.map(|st| st[j]), Some(Some(_))))
                .collect();
            screen(corners, rows, &wanted)
        });
        // The corners in fixed width, for the sign tests' fast paths.
        let small = small_corners(corners);
        let fixed_corners: Option<Vec<Vec<Fx>>> = corners.iter().map(|c| fx_all(c)).collect();
        let status = (0..rows.rows)
            .map(|j| {
                if let Some(Some(bit)) = inherited.map(|st| st[j]) {
                    return Some(bit);
                }
                if let Some(Some(st)) = screened.as_ref().and_then(|s| s.get(j)) {
                    return *st;
                }
                if let Some(row) = rows.fixed_row(j) {
                    if let Some(st) = small
                        .as_ref()
                        .and_then(|sc| with_fx_slice!(row, |r| row_status_leading_fx(r, sc)))
                    {
                        return st;
                    }
                    if let Some(st) = fixed_corners
                        .as_deref()
                        .and_then(|fc| with_fx_slice!(row, |r| row_status_fixed_fx(r, fc)))
                    {
                        return st;
                    }
                    return row_status(&rows.row_big(j), corners);
                }
                let row = rows.row(j);
                if let Some(st) = small.as_ref().and_then(|sc| row_status_leading(row, sc)) {
                    return st;
                }
                if let Some(st) = fixed_corners
                    .as_deref()
                    .and_then(|fc| row_status_fixed(row, fc))
                {
                    return st;
                }
                row_status(row, corners)
            })
            .collect();
        Arc::new(status)
    }

    fn branch(
        &self,
        corners: &[Vec<BigInt>],
        prefix: &mut Vec<Vec<bool>>,
        limit: usize,
        parent: Option<&Statuses>,
        out: &mut CellPatterns,
        statuses: &mut Statuses,
    ) -> Option<()> {
        let i = prefix.len();
        if i == self.net.depth() {
            if out.patterns.len() >= limit {
                return None;
            }
            out.patterns.push(Pattern {
                bits: prefix.clone(),
            });
            return Some(());
        }
        let rows = self.layer_rows(prefix);
        let status = self.layer_status(corners, prefix, &rows, parent);
        statuses.0.insert(prefix.clone(), status.clone());
        let free: Vec<usize> = (0..status.len()).filter(|&j| status[j].is_none()).collect();
        for &j in &free {
            out.free.push(FreeNeuron {
                layer: i + 1,
                index: j,
                row: rows.row_dyadics(j),
            });
        }
        for b in bit_choices(&status, limit)? {
            prefix.push(b);
            let r = self.branch(corners, prefix, limit, parent, out, statuses);
            prefix.pop();
            r?;
        }
        Some(())
    }

    /// `Q_P`, `b_P` and the region point of `P` (F5).
    pub fn quadratic(&self, p: &Pattern) -> Arc<Quadratic> {
        if let Some(q) = self.quads.lock().expect("cache lock").get(p) {
            return q.clone();
        }
        // Lambda_P = D_d R_d; with A = I, Q = R_d^T D_d R_d and b = R_d^T D_d y;
        // otherwise M = A D_d R_d, Q = M^T M, b = M^T y (F5).
        let d = self.net.depth();
        let rows = self.layer_rows(&p.bits[..d - 1]);
        let last = &p.bits[d - 1];
        let (q, b) = match &self.net.a {
            Some(a) => {
                let m = self.measurement_matrix(a, &p.bits[..d - 1], &rows, last);
                (m.gram_rows(None), m.tr_mul_vec_rows(&self.net.y, None))
            }
            None => self.gram_of_rows(&p.bits[..d - 1], &rows, last),
        };
        let quad = Arc::new(Quadratic {
            q: q.to_dyadics(),
            b: b.to_dyadics(),
            scaled: (q.num, b.num, b.exp - q.exp),
            region_scaled: OnceLock::new(),
            region_point: OnceLock::new(),
        });
        insert_bounded(&self.quads, p.clone(), quad.clone(), QUADS_CACHE_MAX);
        quad
    }

    /// `(R^T D R, R^T D y)` for `A = I` (`D` the 0/1 diagonal of the
    /// last-layer bits `last`, `R` the rows under `prefix`): by one rank-one
    /// update per differing bit from the last pattern computed under the
    /// same `prefix` (exact integers, so equal to the sums from scratch),
    /// from scratch where that is no cheaper or an entry does not fit.
    fn gram_of_rows(&self, prefix: &[Vec<bool>], rows: &FxMat, last: &[bool]) -> (DMat, DVec) {
        let y = &self.net.y;
        let on = last.iter().filter(|&&b| b).count();
        let base = self
            .gram_bases
            .lock()
            .expect("cache lock")
            .get(prefix)
            .cloned();
        let base = base.filter(|b| b.keep.iter().zip(last).filter(|(x, y)| x != y).count() < on);
        match rows.gram_and_tr_mul_update(y, base.as_deref(), last) {
            Some(g) => {
                let out = g.to_dmat_dvec(rows.cols, (rows.exp, y.exp));
                let bytes = g.keep.len() + (g.upper.len() + g.tv.len()) * size_of::<Fx>();
                let max = entries_within(bytes, ROWS_CACHE_MAX);
                insert_bounded(&self.gram_bases, prefix.to_vec(), Arc::new(g), max);
                out
            }
            None => (
                rows.gram_rows(Some(last)),
                rows.tr_mul_vec_rows(y, Some(last)),
            ),
        }
    }

    /// `M = A Lambda_P` of a pattern (`None` for `A = I`), by rank-one
    /// updates from the last one computed under the same earlier bits.
    pub fn measurement(&self, p: &Pattern) -> Option<Arc<FxMat>> {
        let a = self.net.a.as_ref()?;
        let d = self.net.depth();
        let rows = self.layer_rows(&p.bits[..d - 1]);
        Some(self.measurement_matrix(a, &p.bits[..d - 1], &rows, &p.bits[d - 1]))
    }

    /// `omega = A D (W_2)_{.v}` for the last-layer bits `on` (`D` keeps
    /// the neurons that are on) and first-layer neuron `v` of a depth-2
    /// network, as integers with exponent `e_A + e_W2` (`None` for `A = I`):
    /// from the last one computed for `v` by one update per differing bit,
    /// `omega += ±(W_2)_{uv} a_u`, or from scratch.
    pub fn omega(&self, on: &[bool], v: usize) -> Option<Arc<Omega>> {
        let a = self.net.a.as_ref()?;
        let w2 = &self.net.layers[1];
        const MAX_FLIPS: usize = 64;
        let base = self.omegas.lock().expect("cache lock").get(&v).cloned();
        let flips = |b: &Omega| b.0.iter().zip(on).filter(|(x, y)| x != y).count();
        let add = |o: &mut [BigInt], u: usize, sign: bool| {
            let wu = &w2.num[u * w2.cols + v];
            if wu.is_zero() {
                return;
            }
            for (i, x) in o.iter_mut().enumerate() {
                let t = &a.num[i * a.cols + u] * wu;
                if sign {
                    *x += t;
                } else {
                    *x -= t;
                }
            }
        };
        let base = match base {
            Some(b) if flips(&b) == 0 => return Some(b),
            Some(b) if flips(&b) <= MAX_FLIPS => Some(b),
            _ => None,
        };
        let fast = self.omega_fx(base.as_deref(), on, v);
        let omega = match (fast, base) {
            (Some(o), _) => o,
            (None, Some(b)) => {
                let mut o = b.1.clone();
                for (u, (&was, &now)) in b.0.iter().zip(on).enumerate() {
                    if was != now {
                        add(&mut o, u, now);
                    }
                }
                o
            }
            (None, None) => {
                let mut o = vec![BigInt::zero(); a.rows];
                for (u, &bit) in on.iter().enumerate() {
                    if bit {
                        add(&mut o, u, true);
                    }
                }
                o
            }
        };
        let out = Arc::new((on.to_vec(), omega));
        insert_bounded(&self.omegas, v, out.clone(), ROWS_CACHE_MAX);
        Some(out)
    }

    /// [`Engine::omega`]'s integers in fixed width, from `base` (its bits
    /// and `omega`) by one update per differing bit, or from scratch
    /// without one: `None` when something does not fit (then the caller
    /// takes the `BigInt` path, with the same result).
    fn omega_fx(&self, base: Option<&Omega>, on: &[bool], v: usize) -> Option<Vec<BigInt>> {
        let a = self.net.a.as_ref()?;
        let af = self.a_fixed.as_deref()?;
        let w2 = &self.net.layers[1];
        let (mut o, was) = match base {
            Some((bits, o)) => (fx_all(o)?, Some(bits)),
            None => (vec![Fx::ZERO; a.rows], None),
        };
        for (u, &now) in on.iter().enumerate() {
            if was.map_or(!now, |b| b[u] == now) {
                continue;
            }
            let wu = Fx::from_big(&w2.num[u * w2.cols + v])?;
            if wu.is_zero() {
                continue;
            }
            // omega += (W_2)_{uv} a_u where u turns on, -= where it turns off.
            for (x, au) in o.iter_mut().zip(af.get(u * a.rows..(u + 1) * a.rows)?) {
                if !x.add_mul(au, &wu, !now) {
                    return None;
                }
            }
        }
        Some(o.iter().map(Fx::to_big).collect())
    }

    /// Upper bounds of the Euclidean norms of the columns of `A` (`None`
    /// for `A = I`).
    pub fn column_norms(&self) -> Option<&[Dyadic]> {
        let a = self.net.a.as_ref()?;
        Some(self.column_norms.get_or_init(|| {
            (0..a.cols)
                .map(|u| {
                    let col: Vec<BigInt> =
                        (0..a.rows).map(|i| a.num[i * a.cols + u].clone()).collect();
                    crate::exact::dyadic::norm_up(&col, a.exp)
                })
                .collect()
        }))
    }

    /// Column `u` of `A^T A` (integers with exponent `2 e_A`; `None` for
    /// `A = I`).
    pub fn gram_column(&self, u: usize) -> Option<&[BigInt]> {
        let a = self.net.a.as_ref()?;
        Some(self.gram_columns[u].get_or_init(|| {
            self.measurement_limbs()
                .map(|l| gram_column_limbs(l, a.rows, a.cols, u))
                .or_else(|| gram_column_fixed(a, u))
                .unwrap_or_else(|| gram_column_big(a, u))
        }))
    }
}

/// Bits per limb of [`a_limbs`].
const LIMB_BITS: u32 = 56;

/// Every entry of `A` as `l0 + l1 2^56`, both limbs with the entry's sign and
/// `|l0|, |l1| < 2^56`; `None` if an entry needs more than 112 bits or `A`
/// has more than 8,192 rows (then [`gram_column_limbs`]' sums could
/// overflow).
pub fn a_limbs(a: &DMat) -> Option<Vec<[i64; 2]>> {
    if a.rows > 8192 {
        return None;
    }
    let mask = (1i128 << LIMB_BITS) - 1;
    a.num
        .iter()
        .map(|v| {
            let v = v
                .to_i128()
                .filter(|v| v.unsigned_abs() < 1u128 << (2 * LIMB_BITS))?;
            let m = v.abs();
            let (l0, l1) = ((m & mask) as i64, (m >> LIMB_BITS) as i64);
            Some(if v < 0 { [-l0, -l1] } else { [l0, l1] })
        })
        .collect()
}

/// Column `u` of `A^T A` from [`a_limbs`], exactly: `a_iv a_iu = c0 + c1
/// 2^56 + c2 2^112` with `c0 = l0 l0'`, `c1 = l0 l1' + l1 l0'`, `c2 = l1
/// l1'`, each below `2^113` in magnitude, so the sums over at most 8,192
/// rows stay below `2^126` and fit an `i128`.
pub fn gram_column_limbs(limbs: &[[i64; 2]], rows: usize, cols: usize, u: usize) -> Vec<BigInt> {
    (0..cols)
        .map(|v| {
            let (mut c0, mut c1, mut c2) = (0i128, 0i128, 0i128);
            for i in 0..rows {
                let [a0, a1] = limbs[i * cols + v];
                let [b0, b1] = limbs[i * cols + u];
                let (a0, a1, b0, b1) = (a0 as i128, a1 as i128, b0 as i128, b1 as i128);
                c0 += a0 * b0;
                c1 += a0 * b1 + a1 * b0;
                c2 += a1 * b1;
            }
            limb_sums(&[c0, c1, c2])
        })
        .collect()
}

/// `sum_s v_s 2^(56 s)`: the value of sums of 56-bit limb products (one
/// allocation: [`limb_sums_words`], else shifts and sums).
pub fn limb_sums(v: &[i128]) -> BigInt {
    match limb_sums_words(v) {
        Some((neg, words, n)) => {
            let sign = if neg { Sign::Minus } else { Sign::Plus };
            let mut digits = Vec::with_capacity(2 * n);
            for w in &words[..n] {
                digits.push(*w as u32);
                digits.push((*w >> 32) as u32);
            }
            BigInt::from_biguint(sign, num_bigint::BigUint::new(digits))
        }
        None => v
            .iter()
            .enumerate()
            .map(|(s, &x)| BigInt::from(x) << (s * LIMB_BITS as usize))
            .sum(),
    }
}

/// [`limb_sums`] in fixed width (`None`: it does not fit, or more than
/// five limb sums).
pub fn limb_sums_fx(v: &[i128]) -> Option<Fx> {
    let (neg, words, n) = limb_sums_words(v)?;
    Fx::from_digits(&words[..n], neg)
}

/// `sum_s v_s 2^(56 s)` (at most five `v_s`) as sign and magnitude in
/// 64-bit words (`n` of them): carries are propagated so that every limb
/// but the top lies in `[0, 2^56)` (floor division, `>>`), the limbs are
/// packed into a two's-complement bit string (the top one sign-extended;
/// `56 * 5 + 128 < 576` bits), and a negative string is negated. `None`
/// for more than five sums (or a carry that would overflow, which sums of
/// the kernels' products never reach).
fn limb_sums_words(v: &[i128]) -> Option<(bool, [u64; 9], usize)> {
    const MASK: i128 = (1 << LIMB_BITS) - 1;
    if v.len() > 5 {
        return None;
    }
    let mut words = [0u64; 9];
    // Or `x` (shifted left by `bit`) into the bit string; `x >= 0` below
    // 2^56 for every limb but the top, whose two's-complement bits (with
    // the sign extended through the last word) are laid in full.
    let lay = |words: &mut [u64; 9], bit: usize, x: i128, top: bool| {
        let (q, r) = (bit / 64, bit % 64);
        let lo = x as u128;
        let ext = if top && x < 0 { u64::MAX } else { 0 };
        // The 128 bits of `x` and the sign extension, shifted by `r`.
        let parts = [lo as u64, (lo >> 64) as u64, ext, ext];
        let mut carry_in = 0u64;
        for (i, w) in words.iter_mut().enumerate().skip(q) {
            let src = parts.get(i - q).copied().unwrap_or(ext);
            let shifted = if r == 0 { src } else { (src << r) | carry_in };
            carry_in = if r == 0 { 0 } else { src >> (64 - r) };
            *w |= shifted;
        }
    };
    let mut carry = 0i128;
    let last = v.len().saturating_sub(1);
    for (s, &x) in v.iter().enumerate() {
        let t = x.checked_add(carry)?;
        if s == last {
            lay(&mut words, s * LIMB_BITS as usize, t, true);
        } else {
            lay(&mut words, s * LIMB_BITS as usize, t & MASK, false);
            carry = t >> LIMB_BITS;
        }
    }
    let neg = words[8] >> 63 == 1;
    if neg {
        // Two's complement: the magnitude is !words + 1.
        let mut c = true;
        for w in words.iter_mut() {
            let (x, o) = (!*w).overflowing_add(c as u64);
            *w = x;
            c = o;
        }
    }
    let mut n = words.len();
    while n > 0 && words[n - 1] == 0 {
        n -= 1;
    }
    Some((neg && n > 0, words, n))
}

/// Every entry of a matrix as `N` signed 56-bit limbs, `sum_j l_j
/// 2^(56 j)`, each limb with the entry's sign and below `2^56` in
/// magnitude; `None` if an entry needs more than `56 N` bits (`N <= 4`).
pub fn wide_limbs<const N: usize>(m: &DMat) -> Option<Vec<[i64; N]>> {
    m.num
        .iter()
        .map(|v| {
            let mut d = [0u64; 5];
            if v.bits() > N as u64 * LIMB_BITS as u64 {
                return None;
            }
            for (x, y) in d.iter_mut().zip(v.magnitude().iter_u64_digits()) {
                *x = y;
            }
            split_limbs(&d, v.sign() == Sign::Minus)
        })
        .collect()
}

/// [`wide_limbs`] of an [`FxMat`] (from its fixed-width entries; `None`
/// also when it has none).
pub fn wide_limbs_fx<const N: usize>(m: &FxMat) -> Option<Vec<[i64; N]>> {
    with_fx_slice!(m.fixed()?, |f| wide_limbs_of::<N, _>(f))
}

/// [`wide_limbs_fx`] of fixed-width entries.
fn wide_limbs_of<const N: usize, const L: usize>(f: &[FxN<L>]) -> Option<Vec<[i64; N]>> {
    f.iter()
        .map(|v| {
            if v.bits() > N as u64 * LIMB_BITS as u64 {
                return None;
            }
            let mut d = [0u64; 5];
            for (x, y) in d.iter_mut().zip(v.digits()) {
                *x = *y;
            }
            split_limbs(&d, v.is_negative())
        })
        .collect()
}

/// The `N` signed 56-bit limbs of [`wide_limbs`] from a magnitude's 64-bit
/// digits (below `2^(56 N)`, `N <= 4`) and its sign.
fn split_limbs<const N: usize>(d: &[u64; 5], negative: bool) -> Option<[i64; N]> {
    let mask = (1u64 << LIMB_BITS) - 1;
    if N > 4 {
        return None;
    }
    let mut l = [0i64; N];
    for (j, x) in l.iter_mut().enumerate() {
        let bit = j * LIMB_BITS as usize;
        let (q, r) = (bit / 64, bit % 64);
        let lo = d[q] >> r;
        let hi = if r > 64 - LIMB_BITS as usize {
            d[q + 1] << (64 - r)
        } else {
            0
        };
        let limb = ((lo | hi) & mask) as i64;
        *x = if negative { -limb } else { limb };
    }
    Some(l)
}

/// `M^T a_u` (`a_u` column `u` of `A`, `rows x cols`) from [`a_limbs`] of
/// `A` and four-limb [`wide_limbs`] of `M` (`rows x k`), exactly, as in
/// [`product_limbs`]: each row adds at most two products below `2^112` to
/// each of the five limb sums, so with at most 8,192 rows they fit an
/// `i128`. `None` for more rows.
pub fn column_times_limbs(
    a: &[[i64; 2]],
    (rows, cols): (usize, usize),
    u: usize,
    m: &[[i64; 4]],
    k: usize,
) -> Option<Vec<BigInt>> {
    if rows > 8192 || a.len() != rows * cols || m.len() != rows * k || u >= cols {
        return None;
    }
    Some(
        (0..k)
            .map(|c| {
                let mut acc = [0i128; 5];
                for i in 0..rows {
                    let [a0, a1] = a[i * cols + u].map(i128::from);
                    if a0 == 0 && a1 == 0 {
                        continue;
                    }
                    let mi = m[i * k + c].map(i128::from);
                    for (p, &x) in mi.iter().enumerate() {
                        acc[p] += x * a0;
                        acc[p + 1] += x * a1;
                    }
                }
                limb_sums(&acc)
            })
            .collect(),
    )
}

/// `A D R` (the inner dimension masked by `keep`) from [`a_limbs`] of `A`
/// (`rows x cols`) and three-limb [`wide_limbs`] of `R` (`cols x k`),
/// exactly: the
/// entry `sum_l a_l r_l` is `sum_s 2^(56 s) c_s` with `c_s = sum_l sum_{p +
/// q = s} a_l[p] r_l[q]`; each `l` adds at most two products below `2^112`
/// to a `c_s`, so with at most 8,192 inner indices every `c_s` stays below
/// `2^126` and fits an `i128`. `None` for more inner indices.
pub fn product_limbs(
    a: &[[i64; 2]],
    dims: (usize, usize),
    r: &[[i64; 3]],
    k: usize,
    keep: &[bool],
) -> Option<Vec<BigInt>> {
    product_limbs_with(a, dims, r, k, keep, |acc| Some(limb_sums(acc)))
}

/// [`product_limbs`] in fixed width (`None` also when an entry does not
/// fit).
pub fn product_limbs_fx(
    a: &[[i64; 2]],
    dims: (usize, usize),
    r: &[[i64; 3]],
    k: usize,
    keep: &[bool],
) -> Option<Vec<Fx>> {
    product_limbs_with(a, dims, r, k, keep, limb_sums_fx)
}

/// [`product_limbs`] with each entry's limb sums turned into a value by
/// `value`.
fn product_limbs_with<T>(
    a: &[[i64; 2]],
    (rows, cols): (usize, usize),
    r: &[[i64; 3]],
    k: usize,
    keep: &[bool],
    value: impl Fn(&[i128]) -> Option<T>,
) -> Option<Vec<T>> {
    if cols > 8192 || a.len() != rows * cols || r.len() != cols * k || keep.len() != cols {
        return None;
    }
    let inner: Vec<usize> = (0..cols).filter(|&l| keep[l]).collect();
    let mut out = Vec::with_capacity(rows * k);
    for i in 0..rows {
        for c in 0..k {
            let mut acc = [0i128; 4];
            for &l in &inner {
                let [a0, a1] = a[i * cols + l].map(i128::from);
                let [r0, r1, r2] = r[l * k + c].map(i128::from);
                acc[0] += a0 * r0;
                acc[1] += a0 * r1 + a1 * r0;
                acc[2] += a0 * r2 + a1 * r1;
                acc[3] += a1 * r2;
            }
            out.push(value(&acc)?);
        }
    }
    Some(out)
}

/// Column `u` of `A^T A` in integers, with `BigInt`.
pub fn gram_column_big(a: &DMat, u: usize) -> Vec<BigInt> {
    (0..a.cols)
        .map(|v| {
            (0..a.rows)
                .map(|i| &a.num[i * a.cols + v] * &a.num[i * a.cols + u])
                .sum()
        })
        .collect()
}

/// [`gram_column_big`] in fixed width (`None`: something does not fit).
pub fn gram_column_fixed(a: &DMat, u: usize) -> Option<Vec<BigInt>> {
    let col: Vec<Fx> = (0..a.rows)
        .map(|i| Fx::from_big(&a.num[i * a.cols + u]))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(a.cols);
    for v in 0..a.cols {
        let mut acc = Fx::ZERO;
        for (i, aiu) in col.iter().enumerate() {
            if !acc.add_mul(&Fx::from_big(&a.num[i * a.cols + v])?, aiu, false) {
                return None;
            }
        }
        out.push(acc.to_big());
    }
    Some(out)
}

impl<'a> Engine<'a> {
    /// `M = A D R` for last-layer bits `last`: from scratch, or from the
    /// base of the same prefix by one rank-one update per differing bit,
    /// `M += ±(column j of A)(row j of R)^T` (exact integers, same exponent).
    fn measurement_matrix(
        &self,
        a: &DMat,
        prefix: &[Vec<bool>],
        rows: &FxMat,
        last: &[bool],
    ) -> Arc<FxMat> {
        // A from-scratch product costs about as much as one flip per
        // last-layer neuron that is on (hundreds); updates stay cheaper far
        // beyond 32 flips (k = 3 reference: verify 103 s -> 97 s).
        const MAX_FLIPS: usize = 128;
        let base = self.bases.lock().expect("cache lock").get(prefix).cloned();
        let flips = |b: &Base| b.0.iter().zip(last).filter(|(x, y)| x != y).count();
        let af = self.a_fixed.as_deref().map(|f| (f, a.rows, a.cols));
        let m = match base {
            // The same bits again (the Cone rule asks for `M` after `Q_P`).
            Some(b) if flips(&b) == 0 => return b.1.clone(),
            Some(b) if flips(&b) <= MAX_FLIPS => {
                match af.and_then(|af| rank_one_fx(&b.1, af, rows, &b.0, last)) {
                    Some(num) => FxMat::from_entries(a.rows, rows.cols, num, a.exp + rows.exp),
                    None => FxMat::new(rank_one_updates(b.1.big(), a, rows.big(), &b.0, last)),
                }
            }
            _ => product_fast(
                a,
                self.measurement_limbs(),
                self.a_fixed.as_deref(),
                rows,
                last,
            )
            .unwrap_or_else(|| FxMat::new(a.mul_inner_masked(rows.big(), last))),
        };
        let m = Arc::new(m);
        let max = entries_within(m.bytes(), ROWS_CACHE_MAX);
        insert_bounded(
            &self.bases,
            prefix.to_vec(),
            Arc::new((last.to_vec(), m.clone())),
            max,
        );
        m
    }

    /// [`a_limbs`] of `A` (`None` for `A = I` or entries too wide).
    pub fn measurement_limbs(&self) -> Option<&[[i64; 2]]> {
        let a = self.net.a.as_ref()?;
        self.a_limbs.get_or_init(|| a_limbs(a)).as_deref()
    }

    /// Number of cached patterns (for statistics).
    pub fn cached_patterns(&self) -> usize {
        self.quads.lock().expect("cache lock").len()
    }
}

impl Quadratic {
    /// `g_P(x) = Q_P x - b_P`, exactly (F3, F5): `vbar_x` wherever `P` is the
    /// strict pattern of `x`.
    pub fn gradient(&self, x: &[BigRational]) -> Vec<BigRational> {
        self.q
            .iter()
            .zip(&self.b)
            .map(|(row, b)| {
                let qx: BigRational = row.iter().zip(x).map(|(q, v)| q.to_rational() * v).sum();
                qx - b.to_rational()
            })
            .collect()
    }

    /// The region point `Q_P^{-1} b_P` as `u / q` (integers, `q > 0`);
    /// `None` when `Q_P` is singular.
    pub fn region_scaled(&self) -> Option<&(Vec<BigInt>, BigInt)> {
        self.region_scaled
            .get_or_init(|| {
                // Q = Nq 2^eq, b = Nb 2^eb: x = Nq^{-1} Nb 2^(eb - eq), by
                // Cramer's rule in integers (no rational arithmetic).
                let (nq, nb, shift) = &self.scaled;
                solve_integer_scaled(nq, self.b.len(), nb).map(|(u, d)| {
                    if *shift >= 0 {
                        (u.into_iter().map(|v| v << *shift as usize).collect(), d)
                    } else {
                        (u, d << (-*shift) as usize)
                    }
                })
            })
            .as_ref()
    }

    /// The region point as rationals (`None`: `Q_P` singular).
    pub fn region_point(&self) -> Option<&Vec<BigRational>> {
        self.region_point
            .get_or_init(|| {
                self.region_scaled().map(|(u, d)| {
                    u.iter()
                        .map(|v| BigRational::new(v.clone(), d.clone()))
                        .collect()
                })
            })
            .as_ref()
    }
}

/// Most cached layer-row matrices and pattern quadratics: past these a
/// cache is emptied and refilled (results never depend on the caches; this
/// keeps the memory of long runs bounded).
const ROWS_CACHE_MAX: usize = 1 << 15;
const QUADS_CACHE_MAX: usize = 1 << 16;
/// Bytes each matrix cache (`rows`, `row_bases`, `bases`) may hold, about:
/// with 500 x 3 rows of 100-bit integers an entry takes some 100 KB, and
/// 2^15 of them were most of a `k = 3` check's 1.8 GB.
const MATRIX_CACHE_BYTES: usize = 192 << 20;

/// How many entries of `bytes` each fit in [`MATRIX_CACHE_BYTES`] (at least
/// 16, at most `max`).
fn entries_within(bytes: usize, max: usize) -> usize {
    (MATRIX_CACHE_BYTES / bytes.max(1)).clamp(16, max)
}

fn insert_bounded<K: std::hash::Hash + Eq, V>(
    cache: &Mutex<HashMap<K, V>>,
    key: K,
    value: V,
    max: usize,
) {
    let mut c = cache.lock().expect("cache lock");
    if c.len() >= max {
        c.clear();
    }
    c.insert(key, value);
}

/// `W D R` (`D` the 0/1 diagonal of `keep`) without `BigInt` matrices:
/// from 56-bit limbs in `i128` ([`product_limbs`], `wl` the limbs of `W`)
/// where the entries fit, else in fixed width ([`product_fx`], `wf` the
/// entries of `W` column by column); `None` when neither applies.
pub fn product_fast(
    w: &DMat,
    wl: Option<&[[i64; 2]]>,
    wf: Option<&[FxS]>,
    r: &FxMat,
    keep: &[bool],
) -> Option<FxMat> {
    let limbs = wl.and_then(|wl| {
        let rl = wide_limbs_fx::<3>(r)?;
        product_limbs_fx(wl, (w.rows, w.cols), &rl, r.cols, keep)
    });
    if let Some(num) = limbs {
        return Some(FxMat::from_fixed(w.rows, r.cols, num, w.exp + r.exp));
    }
    let num = product_fx((wf?, w.rows, w.cols), r, keep)?;
    Some(FxMat::from_fixed(w.rows, r.cols, num, w.exp + r.exp))
}

/// [`rank_one_updates`] in fixed width throughout: `m + sum_u ±(column u
/// of w)(row u of r)^T` over the bits `u` that differ between `was` and
/// `now`, from `m`'s and `r`'s fixed-width entries and `w`'s column by
/// column (`wf`, [`fx_columns`] of a `rows x cols` matrix); `None` when
/// something is not in fixed width or does not fit (then the caller takes
/// the `BigInt` path). The result keeps `m`'s stored width, widened when
/// an entry outgrows it.
pub fn rank_one_fx(
    m: &FxMat,
    wf: (&[FxS], usize, usize),
    r: &FxMat,
    was: &[bool],
    now: &[bool],
) -> Option<FxEntries> {
    debug_assert_eq!(wf.0.len(), wf.1 * wf.2);
    let rf = r.fixed()?;
    let k = m.cols;
    if let FxSlice::Short(ms) = m.fixed()? {
        let mut acc = ms.to_vec();
        if with_fx_slice!(rf, |rf| rank_one_into(&mut acc, k, wf, rf, was, now))? {
            return Some(FxEntries::Short(acc));
        }
    }
    let mut acc: Vec<Fx> = with_fx_slice!(m.fixed()?, |ms| ms.iter().map(FxN::wide).collect());
    with_fx_slice!(rf, |rf| rank_one_into(&mut acc, k, wf, rf, was, now))?
        .then_some(FxEntries::Wide(acc))
}

/// [`rank_one_fx`]'s updates of `acc` (`k` columns; `rf` the entries of
/// `r`): `None` when `w` or `r` lacks a column or row, `Some(false)` when an
/// entry does not fit `acc`'s width (then `acc` is unspecified).
fn rank_one_into<const L: usize, const R: usize>(
    acc: &mut [FxN<L>],
    k: usize,
    (wf, rows, _cols): (&[FxS], usize, usize),
    rf: &[FxN<R>],
    was: &[bool],
    now: &[bool],
) -> Option<bool> {
    for (u, (&was, &now)) in was.iter().zip(now).enumerate() {
        if was == now {
            continue;
        }
        let ru = rf.get(u * k..(u + 1) * k)?;
        let wu = wf.get(u * rows..(u + 1) * rows)?;
        for (j, wju) in wu.iter().enumerate() {
            if wju.is_zero() {
                continue;
            }
            for (s, rc) in acc[j * k..(j + 1) * k].iter_mut().zip(ru) {
                if !s.add_mul(wju, rc, !now) {
                    return Some(false);
                }
            }
        }
    }
    Some(true)
}

/// `W D R` in fixed width (`D` the 0/1 diagonal of `keep`, `W` given as
/// its fixed-width entries column by column, [`fx_columns`] of a `rows x
/// cols` matrix); `None` when something is not in fixed width or does not
/// fit.
pub fn product_fx(wf: (&[FxS], usize, usize), r: &FxMat, keep: &[bool]) -> Option<Vec<Fx>> {
    with_fx_slice!(r.fixed()?, |rf| product_fx_of(wf, rf, r.cols, keep))
}

/// [`product_fx`] of `r`'s entries `rf` (`k` columns).
fn product_fx_of<const R: usize>(
    (wf, rows, cols): (&[FxS], usize, usize),
    rf: &[FxN<R>],
    k: usize,
    keep: &[bool],
) -> Option<Vec<Fx>> {
    debug_assert_eq!(wf.len(), rows * cols);
    let mut out = vec![Fx::ZERO; rows * k];
    for u in (0..cols).filter(|&u| keep[u]) {
        let ru = &rf[u * k..(u + 1) * k];
        for (j, wju) in wf.get(u * rows..(u + 1) * rows)?.iter().enumerate() {
            if wju.is_zero() {
                continue;
            }
            for (s, rc) in out[j * k..(j + 1) * k].iter_mut().zip(ru) {
                if !s.add_mul(wju, rc, false) {
                    return None;
                }
            }
        }
    }
    Some(out)
}

/// A matrix's entries in fixed width, column by column (`v[u * rows + j]`
/// is entry `(j, u)`), so that the updates read a column contiguously;
/// `None` when an entry does not fit.
pub fn fx_columns(m: &DMat) -> Option<Vec<FxS>> {
    (0..m.cols)
        .flat_map(|u| (0..m.rows).map(move |j| (j, u)))
        .map(|(j, u)| FxS::from_big(&m.num[j * m.cols + u]))
        .collect()
}

/// `m + sum_u ±(column u of w)(row u of r)^T` over the bits `u` that differ
/// between `was` and `now` (`+` where the bit is now on): `W D' R` from
/// `m = W D R` (the same exponents). Fixed width first, `BigInt` where that
/// does not fit.
pub fn rank_one_updates(m: &DMat, w: &DMat, r: &DMat, was: &[bool], now: &[bool]) -> DMat {
    if let Some(num) = rank_one_fixed(m, w, r, was, now) {
        return DMat {
            rows: m.rows,
            cols: m.cols,
            num,
            exp: m.exp,
        };
    }
    let mut m = m.clone();
    for (u, (&was, &now)) in was.iter().zip(now).enumerate() {
        if was == now {
            continue;
        }
        let ru = r.row(u);
        for j in 0..w.rows {
            let wju = &w.num[j * w.cols + u];
            if wju.is_zero() {
                continue;
            }
            for (c, rc) in ru.iter().enumerate() {
                let t = wju * rc;
                if now {
                    m.num[j * m.cols + c] += t;
                } else {
                    m.num[j * m.cols + c] -= t;
                }
            }
        }
    }
    m
}

/// [`rank_one_updates`]' integers in fixed width (`None`: something does
/// not fit).
fn rank_one_fixed(m: &DMat, w: &DMat, r: &DMat, was: &[bool], now: &[bool]) -> Option<Vec<BigInt>> {
    let mut acc = fx_all(&m.num)?;
    let mut ru = vec![Fx::ZERO; r.cols];
    for (u, (&was, &now)) in was.iter().zip(now).enumerate() {
        if was == now {
            continue;
        }
        for (x, v) in ru.iter_mut().zip(r.row(u)) {
            *x = Fx::from_big(v)?;
        }
        for j in 0..w.rows {
            let wju = &w.num[j * w.cols + u];
            if wju.is_zero() {
                continue;
            }
            let wju = Fx::from_big(wju)?;
            for (s, rc) in acc[j * m.cols..].iter_mut().zip(&ru) {
                if !s.add_mul(&wju, rc, !now) {
                    return None;
                }
            }
        }
    }
    Some(acc.iter().map(Fx::to_big).collect())
}

/// The status of a neuron with pre-activation row `row` on the cone over
/// the box with these corners: fixed on (`Some(true)`) when `<row, c> > 0`
/// at every corner, fixed off (`Some(false)`) when `< 0` at every corner,
/// free (`None`) otherwise.
pub fn row_status(row: &[BigInt], corners: &[Vec<BigInt>]) -> Option<bool> {
    let mut signs = corners
        .iter()
        .map(|c| row.iter().zip(c).map(|(a, b)| a * b).sum::<BigInt>().sign());
    match signs.next() {
        Some(Sign::Plus) if signs.all(|v| v == Sign::Plus) => Some(true),
        Some(Sign::Minus) if signs.all(|v| v == Sign::Minus) => Some(false),
        _ => None,
    }
}

/// Corners with every coordinate below `2^60` in magnitude, as `i64`, with
/// their 1-norms, and the box around them: the input of
/// [`row_status_leading`].
#[derive(Clone, Debug)]
pub struct SmallCorners {
    corners: Vec<(Vec<i64>, i128)>,
    /// Per coordinate, `lo + hi` and `hi - lo` of the least and largest
    /// over the corners (empty if the corners differ in length).
    centre2: Vec<i128>,
    width: Vec<i128>,
    /// The least and largest 1-norm of a corner.
    l1_range: (i128, i128),
}

/// [`SmallCorners`] of the corners (`None` when a coordinate is `2^60` or
/// more in magnitude).
pub fn small_corners(corners: &[Vec<BigInt>]) -> Option<SmallCorners> {
    let corners: Vec<(Vec<i64>, i128)> = corners
        .iter()
        .map(|c| {
            let v: Option<Vec<i64>> = c
                .iter()
                .map(|x| x.to_i64().filter(|x| x.unsigned_abs() < 1 << 60))
                .collect();
            let v = v?;
            let l1 = v.iter().map(|x| x.unsigned_abs() as i128).sum();
            Some((v, l1))
        })
        .collect::<Option<_>>()?;
    let n = corners.first().map_or(0, |c| c.0.len());
    let (mut centre2, mut width) = (Vec::new(), Vec::new());
    if corners.iter().all(|c| c.0.len() == n) {
        for i in 0..n {
            let lo = corners.iter().map(|c| c.0[i]).min().unwrap_or(0) as i128;
            let hi = corners.iter().map(|c| c.0[i]).max().unwrap_or(0) as i128;
            centre2.push(lo + hi);
            width.push(hi - lo);
        }
    }
    let l1_range = (
        corners.iter().map(|c| c.1).min().unwrap_or(0),
        corners.iter().map(|c| c.1).max().unwrap_or(0),
    );
    Some(SmallCorners {
        corners,
        centre2,
        width,
        l1_range,
    })
}

/// `trunc(v / 2^s)` for `|v| < 2^(s + 62)`, from `v`'s 64-bit digits.
fn leading<const L: usize>(v: &FxN<L>, s: u64) -> i64 {
    let (q, r) = ((s / 64) as usize, s % 64);
    let mut d = v.digits().iter().skip(q).copied();
    let lo = d.next().unwrap_or(0);
    let hi = d.next().unwrap_or(0);
    let m = if r == 0 { lo } else { lo >> r | hi << (64 - r) };
    // Below 2^62 by the caller's choice of s.
    let m = m as i64;
    if v.is_negative() {
        -m
    } else {
        m
    }
}

/// [`row_status`] from the row's leading 62 bits, exactly where they
/// decide: `Some` of what [`row_status`] returns, or `None` (the caller
/// then runs the full test). With `s` such that `|r_i| < 2^(s + 62)`,
/// `r_i = 2^s h_i + l_i` with `h_i = trunc(r_i / 2^s)` and `|l_i| < 2^s`,
/// so `<r, c> = 2^s <h, c> + <l, c>` with `|<l, c>| < 2^s |c|_1` (some
/// `c_i != 0`): where `|<h, c>| >= |c|_1 > 0`, `<r, c>` has the sign of
/// `<h, c>`. `<h, c>` is exact in `i128`: at most 8 products below
/// `2^62 2^60`.
pub fn row_status_leading(row: &[BigInt], corners: &SmallCorners) -> Option<Option<bool>> {
    let (r, n) = row_fx(row)?;
    row_status_leading_fx(&r[..n], corners)
}

/// A row of at most 8 integers in fixed width (and its length); `None`
/// for a longer row or an entry that does not fit.
fn row_fx(row: &[BigInt]) -> Option<([Fx; 8], usize)> {
    let mut r = [Fx::ZERO; 8];
    if row.len() > r.len() {
        return None;
    }
    for (x, v) in r.iter_mut().zip(row) {
        *x = Fx::from_big(v)?;
    }
    Some((r, row.len()))
}

/// [`row_status_leading`] of a row in fixed width.
pub fn row_status_leading_fx<const L: usize>(
    row: &[FxN<L>],
    sc: &SmallCorners,
) -> Option<Option<bool>> {
    if row.len() > 8 || sc.corners.is_empty() {
        return None;
    }
    let bits = row.iter().map(FxN::bits).max().unwrap_or(0);
    let s = bits.saturating_sub(62);
    let mut h = [0i64; 8];
    for (x, v) in h.iter_mut().zip(row) {
        *x = leading(v, s);
    }
    // The box first: every corner `c` lies in it, so `2 <h, c>` is within
    // `<h, lo + hi> +- sum_i |h_i| (hi_i - lo_i)`. Where that whole range
    // is at least `2 max |c|_1` from zero (every `|c|_1 > 0`), each corner
    // passes the test below with the same sign: the same answer, from `2k`
    // products instead of one per corner and coordinate. (`|h_i| < 2^62`,
    // `|lo_i + hi_i|, hi_i - lo_i < 2^61`: each sum below `2^126`.)
    let (l1_min, l1_max) = sc.l1_range;
    if sc.centre2.len() == row.len() && l1_min > 0 {
        let (mut mid, mut spread) = (0i128, 0i128);
        for ((&hi, &c2), &w) in h.iter().zip(&sc.centre2).zip(&sc.width) {
            mid += hi as i128 * c2;
            spread += (hi as i128).abs() * w;
        }
        if mid - spread >= 2 * l1_max {
            return Some(Some(true));
        }
        if mid + spread <= -2 * l1_max {
            return Some(Some(false));
        }
    }
    let (mut pos, mut neg) = (false, false);
    for (c, l1) in &sc.corners {
        if c.len() != row.len() {
            return None;
        }
        let dot: i128 = h.iter().zip(c).map(|(&a, &b)| a as i128 * b as i128).sum();
        if *l1 == 0 || dot.abs() < *l1 {
            return None;
        }
        if dot > 0 {
            pos = true;
        } else {
            neg = true;
        }
        if pos && neg {
            // Two strict signs that differ: free, as row_status says.
            return Some(None);
        }
    }
    Some(Some(pos))
}

/// [`row_status`] in fixed-width integers (the corners given as [`Fx`]):
/// `None` when something does not fit (then [`row_status`] decides),
/// otherwise `Some` of exactly what [`row_status`] returns.
pub fn row_status_fixed(row: &[BigInt], corners: &[Vec<Fx>]) -> Option<Option<bool>> {
    let (r, n) = row_fx(row)?;
    row_status_fixed_fx(&r[..n], corners)
}

/// [`row_status_fixed`] of a row in fixed width.
pub fn row_status_fixed_fx<const L: usize>(
    r: &[FxN<L>],
    corners: &[Vec<Fx>],
) -> Option<Option<bool>> {
    let mut first = Sign::NoSign;
    for (i, c) in corners.iter().enumerate() {
        let mut acc = Fx::ZERO;
        for (a, b) in r.iter().zip(c) {
            if !acc.add_mul(a, b, false) {
                return None;
            }
        }
        let s = acc.sign();
        if i == 0 {
            if s == Sign::NoSign {
                return Some(None);
            }
            first = s;
        } else if s != first {
            return Some(None);
        }
    }
    Some(match first {
        Sign::Plus => Some(true),
        Sign::Minus => Some(false),
        // No corners: as row_status (no first sign).
        Sign::NoSign => None,
    })
}

/// Every choice of bits for a layer: fixed neurons keep their bit, free ones
/// take both (`None` when there are more than `limit` choices).
fn bit_choices(status: &[Option<bool>], limit: usize) -> Option<Vec<Vec<bool>>> {
    let bits: Vec<bool> = status.iter().map(|s| s.unwrap_or(false)).collect();
    let free: Vec<usize> = (0..status.len()).filter(|&j| status[j].is_none()).collect();
    if free.len() >= usize::BITS as usize || (1usize << free.len()) > limit {
        return None;
    }
    Some(
        (0..1usize << free.len())
            .map(|mask| {
                let mut b = bits.clone();
                for (t, &j) in free.iter().enumerate() {
                    b[j] = mask >> t & 1 == 1;
                }
                b
            })
            .collect(),
    )
}

/// `Q p`.
pub fn mat_vec(q: &[Vec<Dyadic>], p: &[Dyadic]) -> Vec<Dyadic> {
    q.iter().map(|row| dyadic_dot(row, p)).collect()
}
