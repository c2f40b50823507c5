//! The two line formats and the field visitors they share.

mod escape;
pub(crate) mod json;
pub(crate) mod text;

pub(crate) use escape::{escape_into, quoted, JsonEscaped};

/// How a log line is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// One JSON object per line with top-level `trace_id`, `span_id`, `trace_flags`.
    Json,
    /// Human-readable text ending in `trace_id=… span_id=…`.
    Text,
}

/// Keys the JSON line writes itself; an event field with one of these names is
/// written as `fields.<name>` so the object never has duplicate keys.
pub(crate) fn is_reserved(name: &str) -> bool {
    matches!(
        name,
        "timestamp"
            | "level"
            | "target"
            | "trace_id"
            | "span_id"
            | "trace_flags"
            | "span"
            | "spans"
    )
}

/// The level as fmt prints it: five characters, right-aligned.
pub(crate) fn padded_level(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::TRACE => "TRACE",
        tracing::Level::DEBUG => "DEBUG",
        tracing::Level::INFO => " INFO",
        tracing::Level::WARN => " WARN",
        tracing::Level::ERROR => "ERROR",
    }
}
