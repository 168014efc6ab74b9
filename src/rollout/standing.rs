//! Where a rollout really stands, read from the alias: its split and the record the deployer wrote
//! with the weight. A check's payload says which rollout it belongs to and what it expected; the
//! alias says what happened. A weight whose answer was lost, a check replayed into a later
//! rollout of the same version, a step's clock: all are read here, never from the payload alone.

use crate::config::Rollout;
use crate::gateway::AliasState;
use crate::record::MoveKind;
use crate::types::Version;
use chrono::{DateTime, Utc};

/// A rollout's position on the alias.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    /// Which of the target's steps is set (1-based).
    pub step: usize,
    pub weight: f64,
    /// When that weight was set: the step's clock (its interval, its metrics) starts here.
    pub since: DateTime<Utc>,
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// The rollout of `new` over `stable` as the alias shows it, or `None` when the alias is not that
/// rollout's (a person's change, another rollout, no split, a weight that is no step).
///
/// With a record of the deployer's own weight (`kind=rollout` with its step), the record decides:
/// its step must be the one whose weight the alias sends, and its move time starts the clock. A
/// person's `update-alias` keeps the description, so a weight changed by hand shows as a record
/// whose step has another weight: not ours. Without a step in the record (written by an older
/// release, or not ours at all), `fallback` (the step and start a check was given) decides, as
/// before steps were recorded: the alias must send exactly that step's weight.
pub fn standing(
    state: &AliasState,
    stable: Version,
    new: Version,
    cfg: &Rollout,
    fallback: Option<(usize, DateTime<Utc>)>,
) -> Option<Standing> {
    let (canary, weight) = state.canary()?;
    if state.target.version() != Some(stable) || canary != new || state.routing.len() != 1 {
        return None;
    }
    match state.record() {
        Some(r) if r.kind == MoveKind::Rollout && r.step.is_some() => {
            let step = r.step?;
            let w = cfg.weight(step)?;
            (r.to == stable && same(w, weight)).then_some(Standing {
                step,
                weight,
                since: r.moved,
            })
        }
        _ => {
            let (step, since) = fallback?;
            same(cfg.weight(step)?, weight).then_some(Standing {
                step,
                weight,
                since,
            })
        }
    }
}

/// Where check `a`'s rollout stands on `state`, the check's own step and start as the fallback.
pub fn of_check(
    state: &AliasState,
    a: &crate::input::AdvanceRequest,
    cfg: &Rollout,
) -> Option<Standing> {
    standing(
        state,
        a.stable_version,
        a.version,
        cfg,
        Some((a.step, a.started)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::AliasRecord;
    use crate::types::{AliasTarget, RevisionId};
    use chrono::TimeZone;

    fn v(n: u64) -> Version {
        Version::new(n).unwrap()
    }

    fn cfg() -> Rollout {
        Rollout {
            steps: vec![10, 50],
            ..Rollout::default()
        }
    }

    fn t(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, s).unwrap()
    }

    fn alias(weight: f64, description: String) -> AliasState {
        AliasState {
            revision_id: RevisionId::new("r1"),
            target: AliasTarget::Version(v(1)),
            routing: vec![(v(2), weight)],
            description,
            transition: None,
        }
    }

    fn ours(step: usize, at: DateTime<Utc>) -> String {
        AliasRecord {
            kind: MoveKind::Rollout,
            moved: at,
            to: v(1),
            from: Some(v(1)),
            run: "r".into(),
            step: Some(step),
        }
        .to_description()
    }

    #[test]
    fn the_record_decides_the_step_and_its_clock() {
        let s = standing(
            &alias(0.5, ours(2, t(9))),
            v(1),
            v(2),
            &cfg(),
            Some((1, t(0))),
        );
        assert_eq!(
            s,
            Some(Standing {
                step: 2,
                weight: 0.5,
                since: t(9)
            })
        );
        // A weight changed by hand under our description: not ours.
        assert_eq!(
            standing(
                &alias(0.5, ours(1, t(9))),
                v(1),
                v(2),
                &cfg(),
                Some((2, t(0)))
            ),
            None
        );
        // Another rollout's split, or another stable version: not this one.
        assert_eq!(
            standing(&alias(0.5, ours(2, t(9))), v(1), v(3), &cfg(), None),
            None
        );
        assert_eq!(
            standing(&alias(0.5, ours(2, t(9))), v(4), v(2), &cfg(), None),
            None
        );
    }

    #[test]
    fn without_a_recorded_step_the_payload_decides_as_before() {
        let old = "self-deployer moved=2026-11-28T15:00:00Z kind=rollout to=1 from=1 run=r";
        let s = standing(&alias(0.1, old.into()), v(1), v(2), &cfg(), Some((1, t(3))));
        assert_eq!(s.map(|s| (s.step, s.since)), Some((1, t(3))));
        assert_eq!(
            standing(&alias(0.1, old.into()), v(1), v(2), &cfg(), Some((2, t(3)))),
            None
        );
        assert_eq!(
            standing(&alias(0.1, "by hand".into()), v(1), v(2), &cfg(), None),
            None
        );
    }
}
