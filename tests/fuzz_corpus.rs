//! Replays the fuzz corpora (`fuzz/corpus/<target>/*`) as ordinary tests on
//! the stable toolchain: no input may panic. The landscape corpus (each input
//! a certify + verify + exact evaluation run) is replayed in part in the
//! debug profile (every `LANDSCAPE_DEBUG_STRIDE`-th file) and whole in
//! release (`cargo test --release --test fuzz_corpus`).

use std::path::Path;

/// In the debug profile, every this-many-th landscape input is replayed
/// (about a dozen of the corpus's ~160 inputs, each a certify + verify run).
const LANDSCAPE_DEBUG_STRIDE: usize = 12;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    replay_every(target, run, 1)
}

/// Replays every `stride`-th file (in name order); returns how many.
fn replay_every(target: &str, run: fn(&[u8]), stride: usize) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut n = 0;
    for path in paths.into_iter().step_by(stride) {
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panics", path.display());
        n += 1;
    }
    n
}

#[test]
fn network_reader_corpus() {
    assert!(replay("network_reader", hvcert::fuzzing::network_reader) >= 5);
}

#[test]
fn certificate_reader_corpus() {
    assert!(replay("certificate_reader", hvcert::fuzzing::certificate_reader) >= 5);
}

#[test]
fn landscape_corpus() {
    let stride = if cfg!(debug_assertions) {
        LANDSCAPE_DEBUG_STRIDE
    } else {
        1
    };
    let start = std::time::Instant::now();
    let n = replay_every("landscape", hvcert::fuzzing::landscape, stride);
    eprintln!(
        "landscape corpus: {n} inputs in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    assert!(n >= 3);
}
