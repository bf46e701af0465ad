//! `limits::keep_freed_memory` sets mimalloc's purge delay, by the option
//! number that mimalloc itself reads from `MIMALLOC_PURGE_DELAY`: a child
//! process started with that variable must read it back through
//! `limits::purge_delay`, and after `set_hard_limit` (which both binaries
//! call before working) the delay must be -1 (never purge).

use std::process::Command;

#[global_allocator]
static ALLOC: hvcert::limits::CountingAlloc = hvcert::limits::CountingAlloc;

const CHILD: &str = "HVCERT_ALLOCATOR_OPTIONS_CHILD";

#[test]
fn purge_delay_is_the_option_mimalloc_reads_and_the_binaries_disable_it() {
    if std::env::var_os(CHILD).is_some() {
        assert_eq!(hvcert::limits::purge_delay(), 1234, "the env value");
        hvcert::limits::set_hard_limit(Some(1 << 30));
        assert_eq!(hvcert::limits::purge_delay(), -1, "after set_hard_limit");
        return;
    }
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "purge_delay_is_the_option_mimalloc_reads_and_the_binaries_disable_it",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("MIMALLOC_PURGE_DELAY", "1234")
        .output()
        .expect("child test");
    assert!(
        out.status.success(),
        "child failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}
