//! The global allocator, mimalloc, tuned for a long stream of short-lived allocations.
//!
//! Shared with the detection benchmark (`crates/rampart-detect/examples/bench_detect.rs`
//! includes this file) so the benchmark measures what the binary does.

use std::ffi::c_long;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (the version `libmimalloc-sys`
/// builds by default; the test below checks that the option holds v3's default).
const PURGE_DELAY: i32 = 15;

/// mimalloc v3's purge delay unless `MIMALLOC_PURGE_DELAY` says otherwise, in milliseconds.
const DEFAULT_PURGE_DELAY: c_long = 1000;

unsafe extern "C" {
    fn mi_option_get(option: i32) -> c_long;
    fn mi_option_set(option: i32, value: c_long);
}

/// Keep freed memory for reuse instead of returning it to the OS a second later. Detection builds
/// and drops alerts without pause: with the default, the same pages were returned, faulted
/// back in and zeroed over and over (~5% of `rampart detect`, BENCHMARKS.md). Peak memory is
/// unchanged. A delay set through `MIMALLOC_PURGE_DELAY` is left alone.
pub fn keep_freed_memory() {
    // SAFETY: mimalloc's option functions take any option index and value and only read or
    // write its option table.
    unsafe {
        if mi_option_get(PURGE_DELAY) == DEFAULT_PURGE_DELAY {
            mi_option_set(PURGE_DELAY, -1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_the_option_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: as in `keep_freed_memory`.
        let before = unsafe { mi_option_get(PURGE_DELAY) };
        assert!(
            before == DEFAULT_PURGE_DELAY || before == -1,
            "option {PURGE_DELAY} is {before}: not the purge delay"
        );
        keep_freed_memory();
        // SAFETY: as above.
        assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, -1);
    }
}
