//! The actions the deployer can be asked for, written down once: the name a payload's `"action"`
//! carries (also the report's `action`, the metric dimension and the event's `action`) and the CLI
//! subcommand, if the action has one. The payload parser, its "known actions" error, the CLI test
//! and the signals all read this table.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// What a run was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Rollback,
    Deploy,
    Promote,
    /// The same digest from one stage to the next (`after`).
    PromoteStage,
    /// Where every function's alias points; never changes anything.
    Status,
    /// One function's versions; never changes anything.
    History,
    /// A sweep: every configured function compared with its repository's newest image.
    Reconcile,
    /// A scheduled rollout check, or an alarm that acted on a rollout.
    Advance,
    /// One run's batch of a fleet's deploy (sent by the deployer to itself).
    DeployBatch,
    /// One run's batch of a fleet rollback (sent by the deployer to itself).
    RollbackBatch,
    /// A fleet's summary check (sent by the deployer to itself, through EventBridge Scheduler).
    FleetReport,
}

/// One action: its name everywhere outside the program, and its CLI subcommand.
#[derive(Debug, Clone, Copy)]
pub struct ActionDef {
    pub kind: ActionKind,
    /// The payload's `"action"`, the report's `action`, the metric's and the event's.
    pub name: &'static str,
    /// The CLI subcommand; `None` for what only a schedule sends.
    pub cli: Option<&'static str>,
    /// Sent only by the deployer to itself: left out of the "known actions" a person is offered.
    pub internal: bool,
}

/// In `ActionKind`'s order (a test checks it), which is also the order the "known actions" error
/// lists them in.
pub const ACTIONS: [ActionDef; 11] = [
    def(ActionKind::Rollback, "rollback", Some("rollback")),
    def(ActionKind::Deploy, "deploy", Some("deploy")),
    def(ActionKind::Promote, "promote", Some("promote")),
    def(
        ActionKind::PromoteStage,
        "promote_stage",
        Some("promote-stage"),
    ),
    def(ActionKind::Status, "status", Some("status")),
    def(ActionKind::History, "history", Some("history")),
    def(ActionKind::Reconcile, "reconcile", Some("reconcile")),
    def(ActionKind::Advance, "advance", None),
    internal(ActionKind::DeployBatch, "deploy_batch"),
    internal(ActionKind::RollbackBatch, "rollback_batch"),
    internal(ActionKind::FleetReport, "fleet_report"),
];

const fn def(kind: ActionKind, name: &'static str, cli: Option<&'static str>) -> ActionDef {
    ActionDef {
        kind,
        name,
        cli,
        internal: false,
    }
}

const fn internal(kind: ActionKind, name: &'static str) -> ActionDef {
    ActionDef {
        kind,
        name,
        cli: None,
        internal: true,
    }
}

impl ActionKind {
    pub const ALL: [ActionKind; 11] = {
        let mut all = [ActionKind::Rollback; 11];
        let mut i = 0;
        while i < ACTIONS.len() {
            all[i] = ACTIONS[i].kind;
            i += 1;
        }
        all
    };

    pub const fn def(self) -> &'static ActionDef {
        &ACTIONS[self as usize]
    }

    pub const fn as_str(self) -> &'static str {
        self.def().name
    }

    pub const fn cli(self) -> Option<&'static str> {
        self.def().cli
    }

    /// "\"rollback\", \"deploy\", … or \"advance\"": what an unknown action's error offers.
    pub fn known() -> String {
        let names: Vec<String> = ACTIONS
            .iter()
            .filter(|a| !a.internal)
            .map(|a| format!("{:?}", a.name))
            .collect();
        match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

impl FromStr for ActionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ACTIONS
            .iter()
            .find(|a| a.name == s)
            .map(|a| a.kind)
            .ok_or_else(|| format!("{s:?} is not an action: use {}", Self::known()))
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ActionKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_enums_order_and_names_are_unique() {
        for (i, a) in ACTIONS.iter().enumerate() {
            assert_eq!(a.kind as usize, i, "{a:?} is out of place");
            assert_eq!(ActionKind::ALL[i], a.kind);
        }
        let mut names: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
        names.extend(ACTIONS.iter().filter_map(|a| a.cli));
        names.sort_unstable();
        names.dedup();
        // Each name once, and each CLI name once (some are the same word as the payload's).
        let clis = ACTIONS
            .iter()
            .filter(|a| a.cli.is_some_and(|c| c != a.name));
        assert_eq!(names.len(), ACTIONS.len() + clis.count());
    }

    #[test]
    fn names_parse_back_and_serialize_as_themselves() {
        for k in ActionKind::ALL {
            assert_eq!(k.as_str().parse::<ActionKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(ActionKind::PromoteStage.as_str(), "promote_stage");
        assert_eq!(ActionKind::PromoteStage.cli(), Some("promote-stage"));
        assert_eq!(ActionKind::Advance.cli(), None);
        assert_eq!(
            "promote-stage".parse::<ActionKind>().unwrap_err(),
            "\"promote-stage\" is not an action: use \"rollback\", \"deploy\", \"promote\", \"promote_stage\", \"status\", \"history\", \"reconcile\" or \"advance\""
        );
    }
}
