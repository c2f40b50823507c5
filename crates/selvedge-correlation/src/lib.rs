//! Log lines that name their trace.
//!
//! [`CorrelationLayer`] writes one line per `tracing` event — JSON or text —
//! carrying the `trace_id`, `span_id` and `trace_flags` of the OpenTelemetry
//! span the event belongs to, so a log search leads straight to the trace and
//! back. The ids always equal the exported span's: for an event with an
//! explicit `parent:`, for tasks moved across threads with `.instrument()`, for
//! spans whose parent is set from a remote context, and for unsampled spans
//! (`trace_flags` `"00"`).
//!
//! # JSON
//!
//! ```text
//! {"timestamp":"2026-11-21T22:04:33.818219Z","level":"INFO","target":"app","message":"chat completion",
//!  "input_tokens":42,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",
//!  "trace_flags":"01","span":{"name":"chat","model":"gpt-4o"},"spans":[{"name":"chat","model":"gpt-4o"}]}
//! ```
//!
//! Names are flat and top-level, as the OTel log data model and common log
//! backends expect. Event fields sit beside the line's own keys; one that
//! would clash (`level`, `trace_id`, …) is written as `fields.<name>`.
//!
//! # Text
//!
//! ```text
//! 2026-11-21T22:04:33.818219Z  INFO chat{model="gpt-4o"}: app: chat completion input_tokens=42 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7
//! ```
//!
//! Outside any span a line has no ids, and no empty fields either.
//!
//! # Use
//!
//! Add the layer after (outside) the tracing-opentelemetry layer:
//!
//! ```
//! use opentelemetry::trace::TracerProvider as _;
//! use tracing_subscriber::layer::SubscriberExt;
//! use selvedge_correlation::CorrelationLayer;
//!
//! let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("app")))
//!     .with(CorrelationLayer::text().with_short_ids(true).with_writer(std::io::stderr));
//! # let _ = subscriber;
//! ```
//!
//! The `selvedge` setup crate does this for you.
//!
//! # OTLP log records
//!
//! To export events as OTel log records with the same ids, wrap
//! opentelemetry-appender-tracing's bridge in [`WithEventContext`], so events
//! with an explicit `parent:` carry the parent's ids there too.
//!
//! # Cost
//!
//! Span fields are rendered once, when the span is created; the ids are looked
//! up once per span, at its first event, and cached; each line is built in a
//! reused thread-local buffer and written with one `write_all`. No line is
//! formatted into a temporary `String`, and no JSON value tree is built.
//! docs/performance.md has the figures.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod event_context;
mod format;
mod ids;
mod layer;
mod time;

pub use event_context::WithEventContext;
pub use format::Format;
pub use ids::TraceIds;
pub use layer::CorrelationLayer;
