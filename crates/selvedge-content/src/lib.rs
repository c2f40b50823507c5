//! Prompts, completions, tool payloads and retrieved documents — recorded
//! only when the operator allows it.
//!
//! Content is the most useful and the most sensitive telemetry there is.
//! Nothing is captured unless the gate is open:
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` = `SPAN_ONLY`,
//! `EVENT_ONLY` or `SPAN_AND_EVENT` (or selvedge's `SELVEDGE_TRACE_CONTENT=1`
//! for the legacy span events). Every call takes a closure: when capture is
//! off nothing is built, serialised or allocated.
//!
//! ```
//! use selvedge_content::{completion, prompt, Message};
//!
//! # let req = "What is the weather?"; let answer = "Sunny.";
//! prompt(|| [Message::user(req)]);
//! completion(|| [Message::assistant(answer).finished("stop")]);
//! ```
//!
//! Captured text is redacted (API keys, bearer tokens; e-mails on request;
//! your own hook) and cut to a maximum per part (8 KiB by default) with a
//! marker, keeping the JSON valid. docs/content-capture.md has the decision
//! table and the formats.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod document;
mod layer;
mod message;
mod mode;
mod shape;

pub use document::Document;
pub use layer::{ContentLayer, EVENT_NAME};
pub use message::{Message, Part};
pub use mode::{
    resolve, Capture, Resolved, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
    SELVEDGE_TRACE_CONTENT,
};
pub use shape::{Redactor, Shaping, DEFAULT_MAX_PART_BYTES, REDACTED, SELVEDGE_CONTENT_MAX_BYTES};

use std::sync::atomic::Ordering;

use layer::{Kind, ENABLED};
use serde_json::Value;
use tracing::Dispatch;

/// Runs `f` with the current pipeline's layer when its gate is open. The
/// check is one relaxed load and a branch; everything else is out of line, so
/// a call with capture off costs about what a level-filtered event does.
#[inline(always)]
fn when_open(f: impl FnOnce(&ContentLayer, Capture)) {
    if ENABLED.load(Ordering::Relaxed) != 0 {
        open(f);
    }
}

#[cold]
#[inline(never)]
fn open(f: impl FnOnce(&ContentLayer, Capture)) {
    // Record outside `get_default`: inside it, tracing disables the dispatcher
    // for re-entrant calls, so the span lookups below would see none.
    let dispatch = tracing::dispatcher::get_default(Dispatch::clone);
    if let Some(layer) = dispatch.downcast_ref::<ContentLayer>() {
        let capture = layer.capture();
        if capture != Capture::NoContent {
            f(layer, capture);
        }
    }
}

/// `items` as a JSON array (messages, parts, documents).
fn array<T: serde::Serialize>(items: impl IntoIterator<Item = T>) -> Value {
    serde_json::to_value(items.into_iter().collect::<Vec<_>>()).unwrap_or(Value::Null)
}

/// Records the input messages (`gen_ai.input.messages`) on the current span.
#[inline(always)]
pub fn prompt<I: IntoIterator<Item = Message>>(input: impl FnOnce() -> I) {
    when_open(|layer, capture| layer.record(capture, Kind::Input, array(input())));
}

/// Records the output messages (`gen_ai.output.messages`) on the current span.
#[inline(always)]
pub fn completion<I: IntoIterator<Item = Message>>(output: impl FnOnce() -> I) {
    when_open(|layer, capture| layer.record(capture, Kind::Output, array(output())));
}

/// Records a plain-text prompt as one user message.
#[inline(always)]
pub fn prompt_text<S: Into<String>>(text: impl FnOnce() -> S) {
    prompt(|| [Message::user(text())]);
}

/// Records a plain-text completion as one assistant message.
#[inline(always)]
pub fn completion_text<S: Into<String>>(text: impl FnOnce() -> S) {
    completion(|| [Message::assistant(text())]);
}

/// Records the system instructions (`gen_ai.system_instructions`, an array of parts).
#[inline(always)]
pub fn system_instructions<I: IntoIterator<Item = Part>>(parts: impl FnOnce() -> I) {
    when_open(|layer, capture| layer.record(capture, Kind::SystemInstructions, array(parts())));
}

/// Records the tool definitions offered to the model (`gen_ai.tool.definitions`).
#[inline(always)]
pub fn tool_definitions(definitions: impl FnOnce() -> Value) {
    when_open(|layer, capture| layer.record(capture, Kind::ToolDefinitions, definitions()));
}

/// Records a tool call's arguments (`gen_ai.tool.call.arguments`); JSON if they parse, else text.
#[inline(always)]
pub fn tool_call_arguments<S: AsRef<str>>(arguments: impl FnOnce() -> S) {
    when_open(|layer, capture| {
        layer.record(
            capture,
            Kind::ToolCallArguments,
            message::json_or_text(arguments().as_ref()),
        )
    });
}

/// Records a tool call's result (`gen_ai.tool.call.result`); JSON if it parses, else text.
#[inline(always)]
pub fn tool_call_result<S: AsRef<str>>(result: impl FnOnce() -> S) {
    when_open(|layer, capture| {
        layer.record(
            capture,
            Kind::ToolCallResult,
            message::json_or_text(result().as_ref()),
        )
    });
}

/// Records the query a retrieval ran (`gen_ai.retrieval.query.text`), as text.
///
/// ```
/// use selvedge_content::{retrieval_documents, retrieval_query, Document};
///
/// # let query = "weather in Lisbon"; let hits = [("doc-1", 0.91, "Sunny in July.")];
/// retrieval_query(|| query);
/// retrieval_documents(|| hits.iter().map(|(id, score, text)| Document::new(*id).score(*score).content(*text)));
/// ```
#[inline(always)]
pub fn retrieval_query<S: Into<String>>(query: impl FnOnce() -> S) {
    when_open(|layer, capture| {
        layer.record(capture, Kind::RetrievalQuery, Value::String(query().into()))
    });
}

/// Records the documents a retrieval returned (`gen_ai.retrieval.documents`,
/// an array of [`Document`]s).
#[inline(always)]
pub fn retrieval_documents<I: IntoIterator<Item = Document>>(documents: impl FnOnce() -> I) {
    when_open(|layer, capture| layer.record(capture, Kind::RetrievalDocuments, array(documents())));
}

/// The gate of the current pipeline (`NoContent` when none is installed).
pub fn capture() -> Capture {
    tracing::dispatcher::get_default(|d| {
        d.downcast_ref::<ContentLayer>()
            .map_or(Capture::NoContent, ContentLayer::capture)
    })
}

/// Changes the current pipeline's gate at run time, without a restart.
/// Returns false when no content layer is installed.
pub fn set_capture(capture: Capture) -> bool {
    let found = tracing::dispatcher::get_default(|d| match d.downcast_ref::<ContentLayer>() {
        Some(layer) => {
            layer.set_capture(capture);
            true
        }
        None => false,
    });
    // Callsite interest may depend on the mode in layers that filter on it.
    tracing::callsite::rebuild_interest_cache();
    found
}
