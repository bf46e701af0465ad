//! Live progress of `certify` and `certify hunt` on standard error: an
//! [`indicatif`] bar on a terminal; plain log lines every few seconds
//! otherwise (`--progress` into a log). Whether to show anything at all
//! (`--quiet`, `--json`, `--progress`) is the caller's choice.
//!
//! The cover search's bar follows the decided share of the search space
//! ([`Progress::decided_fraction`], a measure kept exactly by the search:
//! a leaf at depth `d` weighs `2^-d / (2k)`), not a count of cells. Its ETA
//! comes from the rate at which the search *settles* that space (decided,
//! or left undecided at the resolution or the limits): in sharpest mode the
//! cells left undecided are only assigned to the excluded balls at the end,
//! so the decided share alone may stay below 100% until then.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::certifier::hunt::HuntProgress;
use crate::certifier::search::Progress;
use crate::cli::thousands;

/// How often the display samples the counters.
const TICK: Duration = Duration::from_millis(200);
/// How often a log line is written when standard error is not a terminal.
pub const LOG_EVERY: Duration = Duration::from_secs(5);
/// The bar's length: the decided share in millionths.
const PPM: u64 = 1_000_000;

/// One reading of the cover search's counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Seconds since the display started.
    pub secs: f64,
    /// Seconds at which the search first settled some of the space (the
    /// (P2) pass and the short hunt come first and settle none of it).
    pub settling_since: Option<f64>,
    pub cells: u64,
    /// Decided share of the search space, in `[0, 1]`.
    pub decided: f64,
    /// Share left undecided (and not re-opened), in `[0, 1]`.
    pub undecided_share: f64,
    pub depth: u64,
    pub region: u64,
    pub crease: u64,
    pub cone: u64,
    pub pairs: u64,
    pub excluded: u64,
    pub undecided: u64,
    pub pruned: u64,
    /// (P2), which runs first: direction boxes examined, the zero trees'
    /// decided share and the share left undecided.
    pub zero_boxes: u64,
    pub zero_decided: f64,
    pub zero_undecided_share: f64,
}

impl Snapshot {
    /// Reads `p` at `secs`; `settling_since` is carried from the previous
    /// reading.
    pub fn read(p: &Progress, secs: f64, settling_since: Option<f64>) -> Snapshot {
        let l = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let decided = p.decided_fraction().clamp(0.0, 1.0);
        let undecided_share = p.undecided_fraction().clamp(0.0, 1.0);
        let settled = decided + undecided_share > 0.0;
        let (zd, zu) = p.zero_fractions();
        Snapshot {
            secs,
            settling_since: settling_since.or(settled.then_some(secs)),
            cells: l(&p.cells),
            decided,
            undecided_share,
            depth: l(&p.depth),
            region: l(&p.region),
            crease: l(&p.crease),
            cone: l(&p.cone),
            pairs: l(&p.pairs),
            excluded: l(&p.excluded),
            undecided: l(&p.undecided),
            pruned: l(&p.pruned),
            zero_boxes: l(&p.zero_boxes),
            zero_decided: zd.clamp(0.0, 1.0),
            zero_undecided_share: zu.clamp(0.0, 1.0),
        }
    }

    /// Whether the search is still in (P2), the zero rule on direction
    /// boxes, which comes before any (P1) cell.
    pub fn in_zero_pass(&self) -> bool {
        self.cells == 0 && self.zero_decided + self.zero_undecided_share < 1.0
    }

    /// The share the bar shows: (P2)'s while in it, then (P1)'s.
    pub fn shown_share(&self) -> f64 {
        if self.in_zero_pass() {
            self.zero_decided
        } else {
            self.decided
        }
    }

    /// Decided plus left undecided.
    pub fn settled(&self) -> f64 {
        (self.decided + self.undecided_share).min(1.0)
    }

    /// Seconds left at the rate the space has been settled so far; `None`
    /// before anything is settled.
    pub fn eta(&self) -> Option<f64> {
        if self.in_zero_pass() {
            let s = self.zero_decided + self.zero_undecided_share;
            return (s > 0.0 && self.secs > 0.0).then(|| self.secs * (1.0 - s) / s);
        }
        let since = self.settling_since?;
        let s = self.settled();
        if s >= 1.0 {
            return Some(0.0);
        }
        let spent = self.secs - since;
        (s > 0.0 && spent > 0.0).then(|| spent * (1.0 - s) / s)
    }

    /// Direction boxes per second in (P2), since the display started;
    /// cells per second after it, since (P1) settled its first cell.
    pub fn rate(&self) -> f64 {
        let (n, secs) = if self.in_zero_pass() {
            (self.zero_boxes, self.secs)
        } else {
            (self.cells, self.secs - self.settling_since.unwrap_or(0.0))
        };
        if secs > 0.0 {
            n as f64 / secs
        } else {
            0.0
        }
    }

    /// The counters after the share: cells, rate, ETA, rules.
    pub fn details(&self) -> String {
        if self.in_zero_pass() {
            return format!(
                "{} boxes ({}/s), ETA {}",
                thousands(self.zero_boxes),
                thousands(self.rate().round() as u64),
                self.eta().map_or("?".into(), duration_text),
            );
        }
        format!(
            "{} cells ({}/s), ETA {}, depth {}, region {} crease {} cone {} pairs {} excluded {} undecided {} (inside the radii {})",
            thousands(self.cells),
            thousands(self.rate().round() as u64),
            self.eta().map_or("?".into(), duration_text),
            self.depth,
            thousands(self.region),
            thousands(self.crease),
            thousands(self.cone),
            thousands(self.pairs),
            thousands(self.excluded),
            thousands(self.undecided),
            thousands(self.pruned),
        )
    }

    /// `41.3% decided (2.0% left undecided)`.
    pub fn share_text(&self) -> String {
        if self.in_zero_pass() {
            return format!(
                "(P2) {} of directions decided ({} left undecided)",
                percent(self.zero_decided),
                percent(self.zero_undecided_share)
            );
        }
        format!(
            "{} decided ({} left undecided)",
            percent(self.decided),
            percent(self.undecided_share)
        )
    }

    /// The log line: `[12 s] 41.3% decided (…), 12,345 cells (1,020/s), ETA 17 s, …`.
    pub fn log_line(&self) -> String {
        format!(
            "[{:.0} s] {}, {}",
            self.secs,
            self.share_text(),
            self.details()
        )
    }
}

/// A share as a percentage with one decimal, rounded *down* (a share just
/// short of the whole never reads 100.0%).
pub fn percent(share: f64) -> String {
    let tenths = (share.clamp(0.0, 1.0) * 1000.0).floor() as u64;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// `17 s`, `3 min 05 s`, `2 h 07 min`.
pub fn duration_text(secs: f64) -> String {
    if !secs.is_finite() {
        return "?".into();
    }
    let s = secs.max(0.0).round() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

/// Where the display goes.
enum Sink {
    /// A bar drawn on the terminal.
    Bar(ProgressBar),
    /// Log lines; the bar is hidden (kept for its clock).
    Log { bar: ProgressBar, last: Instant },
}

impl Sink {
    /// A bar on a terminal, log lines otherwise; `template` styles the bar.
    fn new(len: u64, template: &str) -> Sink {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            Sink::Bar(bar)
        } else {
            let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
            Sink::Log {
                bar,
                last: Instant::now(),
            }
        }
    }

    fn bar(&self) -> &ProgressBar {
        match self {
            Sink::Bar(b) | Sink::Log { bar: b, .. } => b,
        }
    }

    fn secs(&self) -> f64 {
        self.bar().elapsed().as_secs_f64()
    }

    /// Updates the bar, or writes `log()` if a log line is due.
    fn update(&mut self, pos: u64, prefix: String, msg: String, log: impl FnOnce() -> String) {
        match self {
            Sink::Bar(bar) => {
                bar.set_position(pos);
                bar.set_prefix(prefix);
                bar.set_message(msg);
            }
            Sink::Log { bar, last } => {
                bar.set_position(pos);
                if last.elapsed() >= LOG_EVERY {
                    *last = Instant::now();
                    eprintln!("{}", log());
                }
            }
        }
    }

    /// Clears the bar; in a log, writes `last()` (the final reading).
    fn finish(self, last: impl FnOnce() -> String) {
        match self {
            Sink::Bar(bar) => bar.finish_and_clear(),
            Sink::Log { .. } => eprintln!("{}", last()),
        }
    }
}

/// Shows the cover search's progress until `p.done`.
pub fn show_search(p: &Progress) {
    let mut sink = Sink::new(
        PPM,
        "{spinner:.green} {elapsed_precise} [{bar:30.cyan/blue}] {prefix}\n  {wide_msg}",
    );
    let mut since = None;
    while !p.done.load(Ordering::Relaxed) {
        let s = Snapshot::read(p, sink.secs(), since);
        since = s.settling_since;
        let pos = (s.shown_share() * PPM as f64).floor() as u64;
        sink.update(pos, s.share_text(), s.details(), || s.log_line());
        std::thread::sleep(TICK);
    }
    let secs = sink.secs();
    sink.finish(|| Snapshot::read(p, secs, since).log_line());
}

/// Shows `certify hunt`'s progress until `p.done` (`total` starts).
pub fn show_hunt(p: &HuntProgress, total: usize) {
    let mut sink = Sink::new(
        total as u64,
        "{spinner:.green} {elapsed_precise} [{bar:30.cyan/blue}] {pos}/{len} starts, {msg} (ETA {eta})",
    );
    let found = |p: &HuntProgress| {
        format!(
            "{} candidates, {} confirmed",
            p.candidates.load(Ordering::Relaxed),
            p.confirmed.load(Ordering::Relaxed),
        )
    };
    let line = |secs: f64, done: u64, found: &str| {
        format!("[{secs:.0} s] hunt: {done}/{total} starts, {found}")
    };
    while !p.done.load(Ordering::Relaxed) {
        let done = p.starts_done.load(Ordering::Relaxed);
        let found = found(p);
        let secs = sink.secs();
        sink.update(done, String::new(), found.clone(), || {
            line(secs, done, &found)
        });
        std::thread::sleep(TICK);
    }
    let secs = sink.secs();
    sink.finish(|| {
        let found = found(p);
        line(secs, p.starts_done.load(Ordering::Relaxed), &found)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Snapshot {
        Snapshot {
            secs: 12.0,
            settling_since: Some(2.0),
            cells: 12_345,
            decided: 0.375,
            undecided_share: 0.125,
            depth: 18,
            region: 1_000,
            crease: 20,
            cone: 9_876,
            pairs: 3,
            excluded: 0,
            undecided: 1_446,
            pruned: 57,
            zero_boxes: 300,
            zero_decided: 1.0,
            zero_undecided_share: 0.0,
        }
    }

    #[test]
    fn zero_pass() {
        let mut s = Snapshot {
            secs: 6.0,
            zero_boxes: 1_500,
            zero_decided: 0.25,
            zero_undecided_share: 0.125,
            ..Snapshot::default()
        };
        assert!(s.in_zero_pass());
        assert_eq!(s.shown_share(), 0.25);
        // Settled 3/8 in 6 s: 10 s to go.
        assert_eq!(
            s.log_line(),
            "[6 s] (P2) 25.0% of directions decided (12.5% left undecided), 1,500 boxes (250/s), ETA 10 s"
        );
        s.zero_decided = 0.875;
        assert!(!s.in_zero_pass());
        assert!(s
            .log_line()
            .starts_with("[6 s] 0.0% decided (0.0% left undecided), 0 cells"));
    }

    #[test]
    fn log_line() {
        // Settled 50% in 10 s: 10 s to go.
        assert_eq!(
            snap().log_line(),
            "[12 s] 37.5% decided (12.5% left undecided), 12,345 cells (1,235/s), ETA 10 s, \
             depth 18, region 1,000 crease 20 cone 9,876 pairs 3 excluded 0 undecided 1,446 \
             (inside the radii 57)"
        );
    }

    #[test]
    fn eta() {
        let mut s = snap();
        assert_eq!(s.eta(), Some(10.0));
        s.settling_since = None;
        assert_eq!(s.eta(), None);
        assert!(s.details().contains("ETA ?,"));
        s.settling_since = Some(0.0);
        s.decided = 1.0;
        s.undecided_share = 0.0;
        assert_eq!(s.eta(), Some(0.0));
        assert!(s
            .log_line()
            .starts_with("[12 s] 100.0% decided (0.0% left undecided)"));
        // Nothing settled yet, even past the start of settling.
        s.decided = 0.0;
        assert_eq!(s.eta(), None);
    }

    #[test]
    fn texts() {
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.41349), "41.3%");
        assert_eq!(percent(0.99999), "99.9%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(1.5), "100.0%");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration_text(0.4), "0 s");
        assert_eq!(duration_text(59.4), "59 s");
        assert_eq!(duration_text(185.0), "3 min 05 s");
        assert_eq!(duration_text(7_620.0), "2 h 07 min");
        assert_eq!(duration_text(f64::INFINITY), "?");
    }
}
