//! Resource bounds shared by both binaries: a wall-clock deadline and a
//! memory bound (issue 13, item 3).
//!
//! Memory is counted by [`CountingAlloc`], a thin wrapper over mimalloc
//! (faster than glibc's allocator on the checker's many small integers)
//! that each binary installs as its global allocator. Each thread counts
//! its own allocations and adds them to the shared count once they reach
//! [`COUNT_BATCH`] bytes either way, so the shared count lags the truth by
//! less than `COUNT_BATCH` per thread (the atomics were a tenth of the
//! checker's time). Two limits apply:
//!
//! - the *soft* limit ([`Budget::exceeded`]) is polled by long loops (the
//!   cover search, the checker's tree walk); past it they stop and say so
//!   (`unknown`, or "not checked"), never `holds`;
//! - the *hard* limit ([`set_hard_limit`], the soft limit plus a margin) is
//!   enforced by the allocator itself: an allocation that would cross it
//!   prints one line on stderr and ends the process with exit status 3, so
//!   no single allocation can run past the bound either.
//!
//! Nothing here affects a verdict: a budget only ever stops work early.
//! Without the allocator installed (library tests), [`allocated_bytes`] is 0
//! and no memory limit ever trips. GMP/MPFR (the certifier's MPFR tier)
//! allocate through `malloc` directly and are not counted; their numbers are
//! small (128-bit floats).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

use mimalloc::MiMalloc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Live bytes as published by the threads (see [`COUNT_BATCH`]); it may
/// dip below 0 while a thread frees what another has not yet published.
static ALLOCATED: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// 0: no hard limit.
static HARD_LIMIT: AtomicUsize = AtomicUsize::new(0);

/// The default memory bound of `certify` and `verify` (`--max-memory`).
pub const DEFAULT_MAX_MEMORY: usize = 2 << 30;

/// The hard limit is the soft limit plus this fraction of it (a loop that
/// polls the soft limit stops before the allocator has to).
const HARD_MARGIN_DIVISOR: usize = 4;

/// A global allocator that counts live bytes (and the peak) and refuses to
/// cross the hard limit.
pub struct CountingAlloc;

fn over_hard_limit(size: usize) -> bool {
    let limit = HARD_LIMIT.load(Ordering::Relaxed);
    limit != 0 && allocated_bytes().saturating_add(size) > limit
}

fn die_out_of_memory() -> ! {
    // No allocation here: write a fixed line with the raw syscall wrapper.
    const MSG: &[u8] = b"error: memory limit reached (raise it with --max-memory BYTES, e.g. 8G)\n";
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
        libc::_exit(3)
    }
}

/// Bytes a thread may allocate (or free) before it adds them to the shared
/// count: the shared count is within `COUNT_BATCH` per thread of the truth.
pub const COUNT_BATCH: isize = 1 << 18;

thread_local! {
    /// This thread's bytes not yet added to [`ALLOCATED`] (negative: freed).
    /// `const`-initialised and without a destructor, so it is usable at any
    /// point of the thread's life, and touching it never allocates.
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` bytes to the shared count (and the peak).
fn publish(delta: isize) {
    let now = ALLOCATED
        .fetch_add(delta, Ordering::Relaxed)
        .saturating_add(delta);
    // A plain load first: the read-modify-write (a compare-exchange loop)
    // only when the peak may rise (PEAK never decreases, so skipping it when
    // `now` is not above a value already read changes nothing).
    let now = now.max(0) as usize;
    if delta > 0 && now > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

/// Counts `delta` bytes on this thread, publishing them once the batch is
/// full (directly where the thread-local is gone).
fn count(delta: isize) {
    let batched = PENDING.try_with(|p| {
        let v = p.get() + delta;
        if v.abs() >= COUNT_BATCH {
            p.set(0);
            publish(v);
        } else {
            p.set(v);
        }
    });
    if batched.is_err() {
        publish(delta);
    }
}

// SAFETY: every call is forwarded to mimalloc with the same layout; the
// counters are plain atomics and a const thread-local.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if over_hard_limit(layout.size()) {
            die_out_of_memory();
        }
        let p = unsafe { MiMalloc.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if over_hard_limit(layout.size()) {
            die_out_of_memory();
        }
        let p = unsafe { MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { MiMalloc.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() && over_hard_limit(new_size - layout.size()) {
            die_out_of_memory();
        }
        let p = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Live bytes allocated through [`CountingAlloc`] (0 when it is not the
/// global allocator).
pub fn allocated_bytes() -> usize {
    ALLOCATED.load(Ordering::Relaxed).max(0) as usize
}

/// The most bytes live at once so far.
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Sets the allocator's hard limit for a soft limit of `soft` bytes
/// (`soft + soft / 4`; `None`: no limit), and tunes mimalloc for the
/// binaries' work ([`keep_freed_memory`]).
pub fn set_hard_limit(soft: Option<usize>) {
    let hard = soft.map_or(0, |s| s.saturating_add(s / HARD_MARGIN_DIVISOR));
    HARD_LIMIT.store(hard, Ordering::Relaxed);
    keep_freed_memory();
}

/// mimalloc's option `purge_delay` (`mi_option_purge_delay` in its
/// `mimalloc.h`, v2 and v3 alike; `libmimalloc-sys` names no constant).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to return freed pages to the system. The pattern
/// engine's caches fill, are cleared and fill again, and its matrices are
/// large (100 KB); with the default purge delay (10 ms to 1 s), freed
/// pages went back to the kernel and came back zeroed on the next touch:
/// 6% of `verify` in `clear_page_erms` on `k3-50-500-m100`, and 7 to 11%
/// faster certify and verify without it (`MIMALLOC_PURGE_DELAY=-1`). The
/// resident set then stays at its peak, which the memory limit bounds
/// anyway (it counts live bytes; freed pages are reused, not leaked).
pub fn keep_freed_memory() {
    // SAFETY: sets one integer option; mimalloc allows it at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// mimalloc's current purge delay (for the test that
/// [`keep_freed_memory`] names the right option).
pub fn purge_delay() -> std::ffi::c_long {
    // SAFETY: reads one integer option.
    unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }
}

/// What stopped a bounded computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    Time,
    Memory,
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Exceeded::Time => "time limit reached",
            Exceeded::Memory => "memory limit reached",
        })
    }
}

/// A deadline and a (soft) memory bound; both optional.
#[derive(Clone, Copy, Debug, Default)]
pub struct Budget {
    pub deadline: Option<Instant>,
    pub max_bytes: Option<usize>,
}

impl Budget {
    /// No limits.
    pub fn unlimited() -> Self {
        Self::default()
    }

    /// A budget of `time` from now (if given) and `max_bytes`.
    pub fn new(time: Option<Duration>, max_bytes: Option<usize>) -> Self {
        Budget {
            deadline: time.and_then(|t| Instant::now().checked_add(t)),
            max_bytes,
        }
    }

    /// Whether either limit has been reached.
    pub fn exceeded(&self) -> Option<Exceeded> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Exceeded::Time);
        }
        if self.max_bytes.is_some_and(|m| allocated_bytes() >= m) {
            return Some(Exceeded::Memory);
        }
        None
    }

    /// Time left before the deadline (`None`: no deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// Parses a byte count such as `2G`, `512M`, `1500000` (suffixes K, M, G, T
/// are powers of 1024; an optional trailing `B` or `iB`).
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 30),
        Some('T' | 't') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a byte count (e.g. 2G, 512M, 1000000)"))?;
    n.checked_mul(1usize << shift)
        .filter(|&b| b >= 1 << 20)
        .ok_or_else(|| format!("'{s}': must be between 1M and 2^64 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts() {
        assert_eq!(parse_bytes("2G").unwrap(), 2 << 30);
        assert_eq!(parse_bytes("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("1048576").unwrap(), 1 << 20);
        assert!(parse_bytes("1000").is_err());
        assert!(parse_bytes("x").is_err());
        assert!(parse_bytes("99999999999T").is_err());
    }

    #[test]
    fn budget_deadline() {
        let b = Budget::new(Some(Duration::ZERO), None);
        assert_eq!(b.exceeded(), Some(Exceeded::Time));
        assert_eq!(Budget::unlimited().exceeded(), None);
    }
}
