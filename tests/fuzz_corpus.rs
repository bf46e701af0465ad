//! Replays the fuzz corpora (`fuzz/corpus/<target>/*`) as ordinary tests on
//! the stable toolchain: no input may panic.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
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
