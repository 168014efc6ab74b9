//! What a notification channel is to the notifier. Each sink renders the report in its own shape
//! (SNS bodies, a GitHub deployment status, ...), so adding a channel is one file implementing
//! this trait plus one line in `setup::engine`.

use futures_util::future::BoxFuture;

/// One place notifications go. A sink never changes a deployment's outcome: what it could not do
/// comes back as a status / warnings.
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// Short name used in warnings ("sns", "github").
    fn name(&self) -> &'static str;
    /// Whether this sink tells people (SNS): a summarised fleet then tells it only failures and
    /// the one summary. A sink that tracks every run (GitHub deployments) says `false` and gets
    /// every report whole.
    fn tells_people(&self) -> bool {
        true
    }
    /// Renders and sends this report in the sink's own shape, finished before `deadline` (the
    /// invocation's, when there is one) comes near.
    fn deliver<'a>(
        &'a self,
        report: &'a crate::report::Report,
        deadline: Option<std::time::SystemTime>,
    ) -> BoxFuture<'a, Delivery>;
}

#[derive(Debug, Default)]
pub struct Delivery {
    /// The status shown as the report's `notification` (the SNS sink fills this; others leave None).
    pub status: Option<crate::report::NotificationStatus>,
    /// Problems to add to the report's warnings (never fail the run).
    pub warnings: Vec<String>,
    /// Problems with one function's part: they go on that function's deployment in the report.
    pub per_function: Vec<(crate::types::FunctionRef, String)>,
}
