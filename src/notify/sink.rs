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
    /// A function's deployment is about to change its code (after the image checks, before
    /// `UpdateFunctionCode`; never for a dry run, a duplicate or a skip): a sink that tracks runs
    /// says so now, with the image's labels the run read (no sink reads them again). Bounded by the API timeout and `deadline`; it never stops the deployment. What
    /// it returns goes on the deployment (`AtStart`) for its [`Sink::deliver`] at the end. Most
    /// sinks (SNS) have nothing to say at the start.
    fn started<'a>(
        &'a self,
        _start: &'a Start<'a>,
        _deadline: Option<std::time::SystemTime>,
    ) -> BoxFuture<'a, Started> {
        Box::pin(std::future::ready(Started::default()))
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

/// One function's deployment at its start: what it deploys where.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    pub function: &'a crate::types::FunctionRef,
    pub target: &'a crate::config::Target,
    /// The image going to the function (for an image index, the one chosen for its architecture).
    pub image: &'a crate::types::ImageRef,
    /// Its labels, read once by the run for every function and sink (or why they could not be).
    pub labels: &'a crate::types::LabelsRead,
}

/// What a sink did at a deployment's start.
#[derive(Debug, Default, PartialEq)]
pub struct Started {
    /// What came of it, for its delivery at the end; `None` when the sink did not try (its
    /// end-of-run delivery is as it would be without a start).
    pub told: Option<crate::report::Told>,
    /// Problems, each for the deployment's warnings (never fail the run).
    pub warnings: Vec<String>,
}

impl Delivery {
    /// Writes what the sinks said into `report`: each function's warnings on its deployment.
    pub fn into_report(self, report: &mut crate::report::Report) {
        report.notification = self.status;
        report.warnings.extend(self.warnings);
        for (f, w) in self.per_function {
            match report.deployments.iter_mut().find(|d| d.function == f) {
                Some(d) => d.warnings.push(w),
                None => report.warnings.push(w),
            }
        }
    }
}
