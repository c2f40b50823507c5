//! Retried and redelivered work: one process span per attempt, linked from
//! the receive span, each with its attempt number and outcome.

use opentelemetry::trace::TraceContextExt;
use opentelemetry::KeyValue;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The attempt number (1 for the first delivery), an integer, on the process
/// span and on the receive span's link to it. Named after the messaging
/// conventions' `messaging.*` namespace (GCP Pub/Sub uses
/// `messaging.gcp_pubsub.message.delivery_attempt` for the same idea).
pub const DELIVERY_ATTEMPT: &str = "messaging.message.delivery_attempt";

/// How the attempt ended (`success`, `failure`), on the process span and on the link.
pub const OUTCOME: &str = "messaging.process.outcome";

/// How one attempt at processing a message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The work succeeded.
    Success,
    /// The work failed (it may be retried).
    Failure,
}

impl Outcome {
    /// The attribute value: `success` or `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Records one processing attempt: sets [`DELIVERY_ATTEMPT`] and [`OUTCOME`] on
/// `process`, and links `receive` to `process` with the same attributes, so
/// the receive span lists every attempt. Call it when the attempt ends, while
/// both spans are open.
pub fn record_attempt(receive: &Span, process: &Span, attempt: u32, outcome: Outcome) {
    let attrs = [
        KeyValue::new(DELIVERY_ATTEMPT, i64::from(attempt)),
        KeyValue::new(OUTCOME, outcome.as_str()),
    ];
    for kv in &attrs {
        process.set_attribute(kv.key.clone(), kv.value.clone());
    }
    let target = process.context().span().span_context().clone();
    if target.is_valid() {
        receive.add_link_with_attributes(target, attrs.to_vec());
    }
}
