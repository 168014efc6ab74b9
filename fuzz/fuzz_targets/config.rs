//! Any string as DEPLOYER_TARGETS (and the other variables): validation never panics, and every
//! rejection names its variable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use self_deployer::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line may carry the other variables, so they are fuzzed too.
    let (head, targets) = text.split_once('\n').unwrap_or(("", text));
    let mut parts = head.split('\t');
    let alias = parts.next().map(str::to_owned);
    let timeout = parts.next().map(str::to_owned);
    let parallel = parts.next().map(str::to_owned);
    let image_checks = parts.next().map(str::to_owned);
    let result = Config::from_lookup(|k| match k {
        "DEPLOYER_TARGETS" => Some(targets.to_owned()),
        "DEPLOYER_ALIAS" => alias.clone().filter(|a| !a.is_empty()),
        "DEPLOYER_UPDATE_TIMEOUT_SECS" => timeout.clone(),
        "DEPLOYER_MAX_PARALLEL" => parallel.clone(),
        "DEPLOYER_IMAGE_CHECKS" => image_checks.clone(),
        _ => None,
    });
    if let Err(e) = result {
        assert!(e.variable.starts_with("DEPLOYER_"), "{e}");
        assert!(e.problem.chars().count() <= 301, "unbounded message");
    }
});
