//! Any bytes as an invocation payload: parsing never panics or hangs, and every rejection names a
//! field under `payload`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use self_deployer::input::parse_request;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        // A fixed clock: the same input always takes the same path.
        let now = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
        if let Err(e) = parse_request(&value, now) {
            assert!(e.field.starts_with("payload"), "{e}");
            assert!(!e.problem.is_empty());
            assert!(e.problem.chars().count() <= 301, "unbounded message");
        }
    }
});
