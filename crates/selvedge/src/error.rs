//! Errors from installing and shutting down telemetry.

use std::time::Duration;

/// Why [`TelemetryBuilder::install`](crate::TelemetryBuilder::install) or
/// [`TelemetryBuilder::build`](crate::TelemetryBuilder::build) failed.
///
/// Every variant names what to change: the environment variable or builder
/// method and the value that was rejected. Header values are never included,
/// since they usually carry credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value (from the environment or the builder) is invalid.
    #[error("invalid {name}={value:?}: {reason}")]
    InvalidValue {
        /// The environment variable or builder method that held the value.
        name: String,
        /// The rejected value (redacted for header values).
        value: String,
        /// What was expected instead.
        reason: String,
    },

    /// The OTLP exporter could not be built from the resolved configuration.
    #[error("could not build the OTLP {signal} exporter for {endpoint}: {source}")]
    Exporter {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// The endpoint the exporter was built for.
        endpoint: String,
        /// The exporter's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The requested transport is not compiled in.
    #[error("{protocol} export was requested (by {origin}) but selvedge was built without the `{feature}` feature")]
    TransportNotCompiled {
        /// The protocol that was asked for.
        protocol: crate::Protocol,
        /// Where the request came from (builder or variable name).
        origin: String,
        /// The cargo feature that enables it.
        feature: &'static str,
    },

    /// A global `tracing` subscriber that selvedge did not install is already set.
    #[error("another global tracing subscriber is already installed; selvedge left every global untouched (use TelemetryBuilder::build to compose with it)")]
    SubscriberAlreadySet,

    /// Telemetry was installed and then shut down in this process; globals cannot be set twice.
    #[error("telemetry was already installed and shut down in this process; it cannot be installed again")]
    AlreadyShutDown,

    /// The background runtime for the gRPC exporter could not be started.
    #[error("could not start the exporter runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// What [`Telemetry::shutdown`](crate::Telemetry::shutdown) could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// Flushing and shutting down did not finish within the timeout.
    ///
    /// Spans still queued at that point are lost; the counters in
    /// [`Status`](crate::Status) say how many were exported.
    #[error(
        "telemetry shutdown did not finish within {timeout:?}; not delivered: {pending_spans} span(s), {pending_logs} log record(s), {pending_metric_batches} metric batch(es)"
    )]
    Timeout {
        /// The shutdown timeout that elapsed.
        timeout: Duration,
        /// Spans accepted but neither exported nor failed when the timeout hit.
        pending_spans: u64,
        /// Log records accepted but neither exported nor failed when the timeout hit.
        pending_logs: u64,
        /// Metric batches (one export call carries every metric) that were still
        /// being exported, or never got to be, when the timeout hit: the final
        /// one at most, plus any periodic export stuck on the collector.
        pending_metric_batches: u64,
    },
    /// A provider reported an error while flushing or shutting down.
    #[error("telemetry shutdown reported errors: {}", .0.join("; "))]
    Failed(Vec<String>),
}
