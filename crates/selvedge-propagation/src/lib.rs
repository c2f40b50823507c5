//! W3C trace context across process boundaries: message queues and HTTP.
//!
//! One trace follows a request through HTTP calls, message queues and retried
//! background work. Everything here runs on OpenTelemetry's propagators — by
//! default the global one, which `selvedge::init` sets to W3C `tracecontext` +
//! `baggage` — so messages and headers interoperate with every other OTel SDK.
//!
//! # Producer and consumer
//!
//! ```
//! use selvedge_propagation::{continue_from, inject};
//!
//! // producer, inside the span that sends the message
//! let mut message = serde_json::json!({"job": "summarize", "doc": 42});
//! inject(&mut message); // adds "_trace_context": {"traceparent": …, "tracestate": …}
//!
//! // consumer: continue the trace *before* the span is entered
//! let span = tracing::info_span!("process summarize");
//! let _ = continue_from(&span, &message);
//! let _entered = span.enter();
//! ```
//!
//! # Carriers
//!
//! A [`Carrier`] is anything context can be written to and read from:
//! `HashMap<String, String>`, `http::HeaderMap`, a JSON message
//! (`serde_json::Value` / `Map`, under [`_trace_context`](TRACE_CONTEXT_KEY)),
//! NATS headers (feature `nats`), or your own type in a few lines.
//!
//! # Parent or link?
//!
//! - [`continue_from`] makes the carried context the span's **parent**: the
//!   work is part of the request that sent it — it happens once, soon, for
//!   one message (an HTTP handler; a worker handling a job end to end).
//! - [`link_from`] **links** the span to the carried context: the work is
//!   caused by the message but is its own unit — batches (one span, many
//!   messages), retries and redeliveries, fan-out, work delayed long after the
//!   request ended. [`attempt::record_attempt`] links a receive span to one
//!   process span per attempt, with the attempt number and outcome.
//!
//! # Robust input
//!
//! Missing, malformed, oversized or non-string values, a `_trace_context` of
//! the wrong type, odd key case: extraction yields a fresh root (or the valid
//! part — a good `traceparent` with a bad `tracestate` keeps the parent),
//! never a panic. Values longer than the W3C limits are ignored before any
//! parsing (`traceparent` 512 bytes, `tracestate` and `baggage` 8192).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod attempt;
mod carrier;
pub mod http;

pub use carrier::{Carrier, TRACE_CONTEXT_KEY};

use carrier::{Reading, Writing};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use tracing::Span;
use tracing_opentelemetry::{OpenTelemetrySpanExt, SetParentError};

/// Writes the current span's context (trace context and baggage) into
/// `carrier` with the global propagator.
pub fn inject<C: Carrier + ?Sized>(carrier: &mut C) {
    inject_context(&Span::current().context(), carrier);
}

/// Writes `cx` into `carrier` with the global propagator.
pub fn inject_context<C: Carrier + ?Sized>(cx: &Context, carrier: &mut C) {
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(cx, &mut Writing(carrier)));
}

/// Writes `cx` into `carrier` with an explicit propagator.
pub fn inject_with<C: Carrier + ?Sized>(
    propagator: &dyn TextMapPropagator,
    cx: &Context,
    carrier: &mut C,
) {
    propagator.inject_context(cx, &mut Writing(carrier));
}

/// Reads a context from `carrier` with the global propagator. An empty or
/// invalid carrier gives a context with no span (a fresh root).
pub fn extract<C: Carrier + ?Sized>(carrier: &C) -> Context {
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&Reading(carrier)))
}

/// Reads a context from `carrier` with an explicit propagator.
pub fn extract_with<C: Carrier + ?Sized>(
    propagator: &dyn TextMapPropagator,
    carrier: &C,
) -> Context {
    propagator.extract(&Reading(carrier))
}

/// Makes the context carried by `carrier` the parent of `span` (and its
/// baggage the span's baggage). Call it before the span is entered or has
/// children: an OTel span's parent cannot change once it has started.
///
/// Returns `Ok(true)` when the span now continues a remote trace, `Ok(false)`
/// when the carrier held no valid trace context (the span stays a root).
///
/// # Errors
/// When the span's OTel span has already started.
pub fn continue_from<C: Carrier + ?Sized>(
    span: &Span,
    carrier: &C,
) -> Result<bool, SetParentError> {
    continue_from_context(span, extract(carrier))
}

/// As [`continue_from`], with a context already extracted.
///
/// # Errors
/// When the span's OTel span has already started.
pub fn continue_from_context(span: &Span, cx: Context) -> Result<bool, SetParentError> {
    let remote = cx.span().span_context().is_valid();
    if remote || !cx.baggage().is_empty() {
        span.set_parent(cx)?;
    }
    Ok(remote)
}

/// Links `span` to the context carried by `carrier`, with `attributes` on the
/// link. Returns whether the carrier held a valid trace context to link to.
pub fn link_from<C: Carrier + ?Sized>(
    span: &Span,
    carrier: &C,
    attributes: impl IntoIterator<Item = KeyValue>,
) -> bool {
    let cx = extract(carrier);
    let target = cx.span().span_context().clone();
    let valid = target.is_valid();
    if valid {
        span.add_link_with_attributes(target, attributes.into_iter().collect());
    }
    valid
}
