//! What a run tells machines besides its report and the SNS notification: CloudWatch metrics in
//! the embedded metric format (EMF: JSON lines in the log, no API call), and one EventBridge event
//! per function whose run changed or tried to change something.
//!
//! The engine calls [`Signals::after_run`] once a deploy or rollback has its report. Neither half
//! can change an outcome: an event EventBridge did not take is a warning on its deployment.

pub mod dora_emf;
pub mod emf;
pub mod events;

use crate::gateway::events::EventBus;
use crate::report::Report;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Where EMF records go.
#[derive(Clone, Debug, Default)]
pub enum MetricsOut {
    /// No metrics (the CLI without `--metrics`, or DEPLOYER_METRICS=false in Lambda).
    #[default]
    Off,
    /// Lambda: standard output goes to the function's log group, where CloudWatch extracts them.
    Stdout,
    /// The CLI with `--metrics`: standard output holds the report, so records go to stderr.
    Stderr,
    /// Tests: every record, one JSON text each.
    Memory(Arc<Mutex<Vec<String>>>),
}

impl MetricsOut {
    fn write(&self, lines: &[String]) {
        let result = match self {
            MetricsOut::Off => Ok(()),
            MetricsOut::Stdout => write_lines(std::io::stdout().lock(), lines),
            MetricsOut::Stderr => write_lines(std::io::stderr().lock(), lines),
            MetricsOut::Memory(m) => {
                match m.lock() {
                    Ok(mut m) => m.extend(lines.iter().cloned()),
                    Err(poisoned) => poisoned.into_inner().extend(lines.iter().cloned()),
                }
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "metrics not written");
        }
    }
}

/// Each record whole, in one write: a line never interleaves with a log line.
fn write_lines(mut out: impl Write, lines: &[String]) -> std::io::Result<()> {
    for line in lines {
        out.write_all(format!("{line}\n").as_bytes())?;
    }
    out.flush()
}

#[derive(Clone, Debug, Default)]
pub struct Signals {
    metrics: MetricsOut,
    namespace: String,
    events: Option<EventBus>,
}

impl Signals {
    /// Neither metrics nor events.
    pub fn off() -> Self {
        Self::default()
    }

    /// EMF records to `out`, in `namespace`.
    pub fn metrics(mut self, out: MetricsOut, namespace: impl Into<String>) -> Self {
        self.metrics = out;
        self.namespace = namespace.into();
        self
    }

    /// Deployment events on `bus` (a name or an ARN).
    pub fn events(mut self, client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        self.events = Some(EventBus::new(client, bus));
        self
    }

    /// After a deploy or rollback: the events first (a failure becomes a warning on its
    /// deployment, so the notification and the metrics' report carry it), then the EMF records.
    pub async fn after_run(&self, report: &mut Report, run_id: &str, now: SystemTime) {
        if let Some(bus) = &self.events {
            events::publish(bus, report, run_id).await;
        }
        if !matches!(self.metrics, MetricsOut::Off) {
            let ms = now
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64;
            let lines: Vec<String> = emf::records(report, &self.namespace, run_id, ms)
                .iter()
                .map(|r| r.to_string())
                .collect();
            self.metrics.write(&lines);
        }
    }
}

/// A rollout check that only confirmed the weight: it changed nothing, so it is neither a
/// deployment in the metrics nor an event (the notifier skips it too).
/// Likewise what a reconcile sweep only found (in sync, a rejected image, a deployment left for
/// the next sweep, anything told before): every 15 minutes, it would drown the real ones.
/// And a function handed to its own run (`dispatched`): that run counts it, once.
pub(crate) fn quiet_check(d: &crate::report::Deployment) -> bool {
    use crate::report::Outcome;
    (d.outcome == Outcome::RollingOut && d.rollout.as_ref().is_some_and(|r| !r.weight_changed))
        || d.notified_before
        || matches!(
            d.outcome,
            Outcome::InSync
                | Outcome::Rejected
                | Outcome::Deferred
                | Outcome::Dispatched
                | Outcome::WouldDispatch
        )
}
