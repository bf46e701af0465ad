//! The counting allocator's shared count follows the live heap within
//! `COUNT_BATCH` bytes per thread (each thread publishes its count in
//! batches), whichever thread frees what another allocated. One test per
//! file: the count is process-wide.

use hvcert::limits::{allocated_bytes, COUNT_BATCH};

#[global_allocator]
static ALLOC: hvcert::limits::CountingAlloc = hvcert::limits::CountingAlloc;

fn within(a: usize, b: usize, slack: usize) -> bool {
    a.abs_diff(b) <= slack
}

#[test]
fn shared_count_follows_the_heap_within_a_batch_per_thread() {
    let batch = COUNT_BATCH as usize;
    // The test harness's own threads hold a few batches at most.
    let slack = 8 * batch;
    let start = allocated_bytes();
    // One large block is published at once.
    let big = vec![1u8; 64 << 20];
    assert!(within(allocated_bytes(), start + (64 << 20), slack));
    drop(big);
    assert!(within(allocated_bytes(), start, slack));
    // Many small blocks allocated on four threads and freed on others.
    let blocks: Vec<Vec<Box<[u8; 200]>>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| (0..50_000).map(|_| Box::new([7u8; 200])).collect()))
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    // The boxes and each thread's vector of pointers.
    let live = 4 * 50_000 * (200 + std::mem::size_of::<usize>());
    assert!(
        within(allocated_bytes(), start + live, slack),
        "count {} for {} live bytes over {}",
        allocated_bytes(),
        live,
        start
    );
    std::thread::scope(|s| {
        for b in blocks {
            s.spawn(move || drop(b));
        }
    });
    assert!(
        within(allocated_bytes(), start, slack),
        "count {} after freeing, {} before",
        allocated_bytes(),
        start
    );
    assert!(hvcert::limits::peak_bytes() >= start + (64 << 20) - slack);
}
