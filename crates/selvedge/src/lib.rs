//! One call to turn `tracing` instrumentation into OpenTelemetry traces and metrics.
//!
//! selvedge installs a standard `tracing` [`Registry`](tracing_subscriber::Registry)
//! with the tracing-opentelemetry layer, an OTLP exporter (gRPC or HTTP), log
//! lines, and the W3C propagators — configured by the standard `OTEL_*`
//! environment variables, with a builder for everything else.
//!
//! # Quick start
//!
//! ```no_run
//! #[tracing::instrument]
//! fn summarize(doc: &str) -> usize {
//!     tracing::info!(chars = doc.len(), "summarizing");
//!     doc.len() / 10
//! }
//!
//! fn main() -> Result<(), selvedge::Error> {
//!     // Console trace trees on stderr when no collector is configured;
//!     // OTLP export as soon as OTEL_EXPORTER_OTLP_ENDPOINT is set.
//!     let _telemetry = selvedge::init("research-pipeline")?;
//!     summarize("a long document");
//!     Ok(())
//! } // `_telemetry` is dropped here: queued spans are flushed (bounded by a timeout)
//! ```
//!
//! # Configuration
//!
//! [`Telemetry::builder()`] sets anything [`init`] does not; each setting also
//! has an environment variable, and the precedence is always
//! **builder > environment > default**. docs/configuration.md lists them all.
//!
//! ```no_run
//! use selvedge::{LogFormat, Protocol, Telemetry};
//!
//! let _telemetry = Telemetry::builder()
//!     .with_service_name("research-pipeline")
//!     .with_deployment_environment("production")
//!     .with_endpoint("http://collector:4317")
//!     .with_protocol(Protocol::Grpc)
//!     .with_header("x-api-key", "secret") // never shown in status or logs
//!     .with_log_format(LogFormat::Json)
//!     .install()?;
//! # Ok::<(), selvedge::Error>(())
//! ```
//!
//! # Is it working?
//!
//! [`status()`] tells where data goes, where each setting came from, and what
//! happened to every span: exported, failed, or dropped because the queue was
//! full. Nothing is lost silently. With metrics going to a collector, the same
//! counts are exported as the OpenTelemetry SDK metrics
//! (`otel.sdk.processor.span.processed` with `error.type = queue_full` for
//! drops, …), to alert on where the service's other metrics are
//! ([`TelemetryBuilder::with_pipeline_metrics`]).
//!
//! ```no_run
//! let _telemetry = selvedge::init("research-pipeline")?;
//! println!("{}", selvedge::status());
//! # Ok::<(), selvedge::Error>(())
//! ```
//!
//! # Without globals
//!
//! [`TelemetryBuilder::build`] returns the pipeline and a [`tracing::Dispatch`]
//! without installing anything, for tests and for programs that set their own
//! subscriber scope with `tracing::dispatcher::with_default`.
//!
//! # Across processes
//!
//! [`propagation`] carries the trace through message queues and HTTP:
//!
//! ```no_run
//! # let _t = selvedge::init("producer")?;
//! let mut message = serde_json::json!({"job": "summarize"});
//! tracing::info_span!("send").in_scope(|| selvedge::propagation::inject(&mut message));
//! // … on the consumer:
//! let span = tracing::info_span!("process");
//! let _ = selvedge::propagation::continue_from(&span, &message);
//! # Ok::<(), selvedge::Error>(())
//! ```
//!
//! # Cargo features
//!
//! - `propagation` (default): `selvedge::propagation`; `nats` adds NATS header carriers.
//! - `otlp-http` (default): OTLP over HTTP/protobuf.
//! - `otlp-grpc` (default): OTLP over gRPC (tonic). selvedge runs it on a
//!   one-thread runtime of its own, so it works from a plain `main`, and
//!   shutdown cannot deadlock a current-thread runtime.
//!
//! With both off, instrumented code still builds and runs; choosing OTLP is
//! then an error naming the missing feature, and the console exporter still works.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod accounting;
mod builder;
mod config;
mod console;
pub mod env;
mod error;
mod exporter;
mod fan_out;
pub mod filter;
#[cfg(feature = "otlp-grpc")]
mod grpc_connector;
mod health;
mod install;
mod lanes;
mod limits;
mod logs;
mod pipeline;
mod resource;
mod runtime;
mod status;
mod telemetry;

/// Prompt / completion capture, gated by `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (the `selvedge-content` crate).
pub use selvedge_content as content;
/// Log lines with `trace_id`/`span_id` (the `selvedge-correlation` crate).
pub use selvedge_correlation as correlation;
/// OpenTelemetry GenAI conventions for LLM spans, and the GenAI metrics (the `selvedge-genai` crate).
pub use selvedge_genai as genai;
/// W3C trace context through queues and HTTP (the `selvedge-propagation` crate).
#[cfg(feature = "propagation")]
pub use selvedge_propagation as propagation;

pub use builder::TelemetryBuilder;
pub use config::{ExporterKind, LogFormat, Propagator, Protocol, Sampler, Source};
pub use error::{Error, ShutdownError};
pub use status::{ExportLatency, SignalStatus, Status};
pub use telemetry::Telemetry;

/// Installs telemetry for `service_name` with everything else from the
/// environment or the defaults; the same as
/// `Telemetry::builder().with_service_name(service_name).install()`.
///
/// Keep the returned handle alive: dropping it flushes and shuts down.
///
/// # Errors
/// See [`TelemetryBuilder::install`].
pub fn init(service_name: impl Into<String>) -> Result<Telemetry, Error> {
    Telemetry::builder()
        .with_service_name(service_name)
        .install()
}

/// The status of the process-wide installation (see [`Status`]); a status
/// with `installed: false` when [`init`] / [`TelemetryBuilder::install`] has
/// not run.
pub fn status() -> Status {
    install::status()
}
