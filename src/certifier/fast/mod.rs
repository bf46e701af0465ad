//! The certifier's arithmetic tiers for the Cone rule, the rule that
//! decides most cells, and for the Zero rule of (P2): binary64 intervals
//! first, MPFR at 128 bits where binary64 cannot decide, the checker's exact
//! rule as the last resort; a binary64 screen of the Crease rule and of
//! region points (exact where it cannot decide), and of the exact corner
//! test of (P2) (`D_w f(0) < 0`). Every tier is rigorous (outward rounding); only
//! the exact one is trusted, and the checker re-checks every cell of the
//! certificate.

pub mod cone;
pub mod real;
pub mod status;
pub mod zero;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::checker::geometry::Cell;
use crate::checker::patterns::{Branch, CellPatterns, Engine};
use crate::checker::rules::Context;
use cone::{Decision, Tables};
use real::Mp;
use zero::Descent;

/// MPFR precision of the middle tier.
pub const MPFR_BITS: u32 = 128;
pub type Mpfr = Mp<MPFR_BITS>;

/// The counters at the end of a search.
#[derive(Clone, Debug, Default)]
pub struct TierSnapshot {
    /// Cone rule `[proved, failed]` per tier: binary64, MPFR, exact.
    pub cone: [Vec<u64>; 3],
    /// Crease screened in binary64: `[proved, failed, left to exact]`.
    pub crease: Vec<u64>,
    /// Region points `[certainly outside in binary64, solved exactly]`.
    pub region_points: Vec<u64>,
    /// Zero rule `[proved, failed]` per tier: binary64, MPFR, exact.
    pub zero: [Vec<u64>; 3],
    /// Corners of failed (P2) boxes `[D_w f(0) < 0 in binary64, tried
    /// exactly]`.
    pub zero_corners: Vec<u64>,
    /// The first-layer Zero rule (exact) `[proved, failed]`.
    pub zero_first: Vec<u64>,
}

/// Which tier settled a cell, and how.
#[derive(Default, Debug)]
pub struct TierCounts {
    /// `[proved, failed]` per tier: binary64, MPFR, exact.
    pub binary64: [AtomicU64; 2],
    pub mpfr: [AtomicU64; 2],
    pub exact: [AtomicU64; 2],
    /// Crease rule screened in binary64: `[proved, failed, left to the
    /// exact rule]`.
    pub crease: [AtomicU64; 3],
    /// Region points `[certainly outside the cell in binary64, solved
    /// exactly]`.
    pub region_points: [AtomicU64; 2],
    /// Zero rule `[proved, failed]` per tier: binary64, MPFR, exact.
    pub zero_binary64: [AtomicU64; 2],
    pub zero_mpfr: [AtomicU64; 2],
    pub zero_exact: [AtomicU64; 2],
    /// Corners of boxes where the Zero rule failed: `[D_w f(0) < 0 proved
    /// in binary64, left to the exact test]`.
    pub zero_corners: [AtomicU64; 2],
    /// The first-layer Zero rule `[proved, failed]` (exact; it is cheap).
    pub zero_first: [AtomicU64; 2],
}

impl TierCounts {
    pub fn snapshot(&self) -> TierSnapshot {
        let get = |a: &[AtomicU64]| a.iter().map(|v| v.load(Ordering::Relaxed)).collect();
        TierSnapshot {
            cone: [get(&self.binary64), get(&self.mpfr), get(&self.exact)],
            crease: get(&self.crease),
            region_points: get(&self.region_points),
            zero: [
                get(&self.zero_binary64),
                get(&self.zero_mpfr),
                get(&self.zero_exact),
            ],
            zero_corners: get(&self.zero_corners),
            zero_first: get(&self.zero_first),
        }
    }
}

/// The tiers over one network.
pub struct Tiers {
    binary64: Tables<f64>,
    mpfr: Tables<Mpfr>,
    descent: Descent,
    pub counts: TierCounts,
    /// Test hook (`HVCERT_TEST_BROKEN_TIER`): a fast tier "proves" every
    /// cell, so that the certifier's fallback on a rejected certificate can
    /// be exercised end to end. `zero`: the Zero rule's; any other value
    /// (`cone`): the Cone rule's (and the screen is off).
    broken: Broken,
    /// Test hook (`HVCERT_TEST_NO_ZERO_FIRST`): the first-layer Zero rule
    /// is not tried, so that tests reach the Zero rule's tiers on depth-2
    /// networks.
    no_zero_first: bool,
}

/// Which fast tier the test hook breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Broken {
    None,
    Cone,
    Zero,
}

impl Broken {
    fn from_env() -> Self {
        match std::env::var_os("HVCERT_TEST_BROKEN_TIER") {
            None => Broken::None,
            Some(v) if v == "zero" => Broken::Zero,
            Some(_) => Broken::Cone,
        }
    }
}

fn tally(slot: &[AtomicU64; 2], proved: bool) -> bool {
    slot[usize::from(!proved)].fetch_add(1, Ordering::Relaxed);
    proved
}

impl Tiers {
    pub fn new(engine: &Engine) -> Self {
        Tiers {
            binary64: Tables::new(engine),
            mpfr: Tables::new(engine),
            descent: Descent::new(engine),
            counts: TierCounts::default(),
            broken: Broken::from_env(),
            no_zero_first: std::env::var_os("HVCERT_TEST_NO_ZERO_FIRST").is_some(),
        }
    }

    /// The binary64 [`cone::Screen`] of a cell's patterns (`None` with the
    /// test hook set).
    pub fn screen(&self, ctx: &Context, cell: &Cell, pats: &CellPatterns) -> Option<cone::Screen> {
        if self.broken == Broken::Cone {
            return None;
        }
        let s = cone::screen(ctx.engine, &self.binary64, cell, pats);
        let slot = match s.crease {
            Decision::Proved => 0,
            Decision::Failed => 1,
            Decision::Unsure => 2,
        };
        self.counts.crease[slot].fetch_add(1, Ordering::Relaxed);
        let outside = s.may_hold_region_point.iter().filter(|&&m| !m).count() as u64;
        self.counts.region_points[0].fetch_add(outside, Ordering::Relaxed);
        self.counts.region_points[1].fetch_add(
            s.may_hold_region_point.len() as u64 - outside,
            Ordering::Relaxed,
        );
        Some(s)
    }

    /// Whether the Cone rule holds on the cell, by the first tier that
    /// decides (`exact_only`: by the exact rule alone).
    pub fn cone(&self, ctx: &Context, cell: &Cell, branches: &[Branch], exact_only: bool) -> bool {
        let engine = ctx.engine;
        let c = &self.counts;
        if exact_only {
            return tally(&c.exact, ctx.cone(cell, branches).is_ok());
        }
        if self.broken == Broken::Cone {
            return tally(&c.binary64, true);
        }
        match cone::cone(engine, &self.binary64, cell, branches) {
            Decision::Proved => return tally(&c.binary64, true),
            Decision::Failed => return tally(&c.binary64, false),
            Decision::Unsure => {}
        }
        match cone::cone(engine, &self.mpfr, cell, branches) {
            Decision::Proved => return tally(&c.mpfr, true),
            Decision::Failed => return tally(&c.mpfr, false),
            Decision::Unsure => {}
        }
        tally(&c.exact, ctx.cone(cell, branches).is_ok())
    }

    /// A test of the Cone rule on radial pieces of `cell` (same box, the
    /// cell's branches) by binary64 alone: an unsure piece counts as not
    /// proved (it chooses radial cuts, see `Search`).
    pub fn cone_pieces<'a>(
        &'a self,
        ctx: &'a Context,
        cell: &Cell,
        branches: &'a [Branch],
    ) -> impl Fn(&Cell) -> bool + 'a {
        let pieces = cone::ConePieces::new(ctx.engine, &self.binary64, cell, branches);
        move |piece: &Cell| {
            let proved = self.broken == Broken::Cone || pieces.decide(piece) == Decision::Proved;
            tally(&self.counts.binary64, proved)
        }
    }

    /// Whether the Zero rule holds on the direction box, by the first tier
    /// that decides (`exact_only`: by the exact rule alone).
    pub fn zero(&self, ctx: &Context, cell: &Cell, branches: &[Branch], exact_only: bool) -> bool {
        let c = &self.counts;
        if exact_only {
            return tally(&c.zero_exact, ctx.zero(cell, branches).is_ok());
        }
        if self.broken == Broken::Zero {
            return tally(&c.zero_binary64, true);
        }
        match zero::zero(&self.binary64, cell, branches) {
            Decision::Proved => return tally(&c.zero_binary64, true),
            Decision::Failed => return tally(&c.zero_binary64, false),
            Decision::Unsure => {}
        }
        match zero::zero(&self.mpfr, cell, branches) {
            Decision::Proved => return tally(&c.zero_mpfr, true),
            Decision::Failed => return tally(&c.zero_mpfr, false),
            Decision::Unsure => {}
        }
        tally(&c.zero_exact, ctx.zero(cell, branches).is_ok())
    }

    /// Whether the first-layer Zero rule (`checker::zero_first`) proves the
    /// direction box; exact, as cheap as one forward pass per corner.
    pub fn zero_first(&self, ctx: &Context, cell: &Cell) -> bool {
        if self.no_zero_first {
            return false;
        }
        let proved = crate::checker::zero_first::zero_first(ctx.engine, cell).is_ok();
        tally(&self.counts.zero_first, proved)
    }

    /// Whether the test hook "proves" a direction box whose branches the
    /// engine could not enumerate (the exact rule cannot decide it: `false`
    /// unless the Zero tier is broken).
    pub fn broken_zero(&self, exact_only: bool) -> bool {
        let broken = !exact_only && self.broken == Broken::Zero;
        if broken {
            tally(&self.counts.zero_binary64, true);
        }
        broken
    }

    /// Whether `D_w f(0) < 0` is proved in binary64 (then the exact test of
    /// the corner `w` as a counterexample to (P2) is skipped); `false` with
    /// `exact_only` or if unsure.
    pub fn surely_descends(&self, w: &[crate::exact::dyadic::Dyadic], exact_only: bool) -> bool {
        let sure = !exact_only && self.descent.surely_descends(w);
        self.counts.zero_corners[usize::from(!sure)].fetch_add(1, Ordering::Relaxed);
        sure
    }
}
