//! Which of a repository's configured functions a fleet is, as a payload carries it: a bitmask
//! over them in configuration order (fanout/members.rs lists them), in hex, so that a schedule's
//! input (at most 8 KB) names a fleet of any size. Read back against the same configuration.
//! It lives with the parser, which checks a mask before anything runs.

use crate::types::{AliasName, FunctionRef};

/// The mask of `chosen` among `all`: bit `i % 4` of hex digit `i / 4` is function `i`.
pub fn mask(all: &[(FunctionRef, AliasName)], chosen: &[FunctionRef]) -> String {
    let mut nibbles = vec![0u8; all.len().div_ceil(4)];
    for (i, (f, _)) in all.iter().enumerate() {
        if chosen.contains(f) {
            nibbles[i / 4] |= 1 << (i % 4);
        }
    }
    nibbles
        .iter()
        .map(|n| char::from_digit(u32::from(*n), 16).unwrap_or('0'))
        .collect()
}

/// The functions of `all` that `mask` names; every one when there is no mask.
pub fn select(
    all: Vec<(FunctionRef, AliasName)>,
    mask: Option<&str>,
) -> Vec<(FunctionRef, AliasName)> {
    let Some(mask) = mask else { return all };
    let digits: Vec<u32> = mask.chars().map(|c| c.to_digit(16).unwrap_or(0)).collect();
    all.into_iter()
        .enumerate()
        .filter(|(i, _)| digits.get(i / 4).is_some_and(|d| d & (1 << (i % 4)) != 0))
        .map(|(_, f)| f)
        .collect()
}

/// A mask as a payload may carry it: hex digits only, at most 10,000 functions' worth.
pub fn check(mask: &str) -> Result<(), String> {
    if mask.len() <= 2_500 && mask.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("must be at most 2500 hex digits (one bit per configured function)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize) -> Vec<(FunctionRef, AliasName)> {
        let alias = AliasName::parse("live").unwrap();
        (0..n)
            .map(|i| (FunctionRef::parse(&format!("f{i}")).unwrap(), alias.clone()))
            .collect()
    }

    #[test]
    fn a_mask_names_exactly_the_chosen_functions() {
        let all = fleet(10);
        let chosen: Vec<FunctionRef> = [0, 3, 4, 9].iter().map(|i| all[*i].0.clone()).collect();
        let m = mask(&all, &chosen);
        assert_eq!(m, "912");
        let back: Vec<FunctionRef> = select(all.clone(), Some(&m))
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(back, chosen);
        assert_eq!(select(all.clone(), None).len(), 10);
        assert_eq!(
            mask(&fleet(500), &[]).len(),
            125,
            "500 functions in 125 characters"
        );
        assert!(check(&m).is_ok());
        assert!(check("xyz").is_err());
    }
}
