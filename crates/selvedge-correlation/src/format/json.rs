//! JSON lines: written straight into the line buffer, no intermediate values.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing_core::Event;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::{escape_into, is_reserved, quoted, JsonEscaped};
use crate::ids::TraceIds;
use crate::layer::SpanState;
use crate::time;

/// Writes `"name":value` pairs separated by commas (event or span fields).
pub(crate) struct JsonFields<'a> {
    pub out: &'a mut Vec<u8>,
    /// Whether a pair was already written (so the next needs a comma).
    pub wrote: bool,
    /// Rename reserved keys (event fields sit beside the line's own keys).
    pub guard_reserved: bool,
}

impl JsonFields<'_> {
    fn key(&mut self, field: &Field) {
        if self.wrote {
            self.out.push(b',');
        }
        self.wrote = true;
        self.out.push(b'"');
        if self.guard_reserved && is_reserved(field.name()) {
            self.out.extend_from_slice(b"fields.");
        }
        escape_into(self.out, field.name());
        self.out.extend_from_slice(b"\":");
    }

    fn display(&mut self, field: &Field, value: impl std::fmt::Display) {
        self.key(field);
        let _ = write!(RawWriter(self.out), "{value}");
    }
}

/// `fmt::Write` into the buffer with no escaping (numbers and literals only).
struct RawWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for RawWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        quoted(self.out, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.display(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.display(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.display(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.display(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.display(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.display(field, value);
        } else {
            // JSON has no NaN or infinity; keep the information as a string.
            self.key(field);
            quoted(self.out, &value.to_string());
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.key(field);
        self.out.push(b'"');
        let _ = write!(JsonEscaped(self.out), "{value}");
        self.out.push(b'"');
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.key(field);
        self.out.push(b'"');
        let _ = write!(JsonEscaped(self.out), "{value:?}");
        self.out.push(b'"');
    }
}

/// What a line needs beside the event.
pub(crate) struct Line<'a, 'b, S: for<'l> LookupSpan<'l>> {
    /// The event's span (its explicit parent, or the current span).
    pub span: Option<&'b SpanRef<'a, S>>,
    pub ids: Option<TraceIds>,
    pub with_current: bool,
    pub with_list: bool,
}

/// Calls `f(name, rendered fields)` for `span`.
pub(crate) fn with_fields<S, R>(span: &SpanRef<'_, S>, f: impl FnOnce(&str, &str) -> R) -> R
where
    S: for<'l> LookupSpan<'l>,
{
    let ext = span.extensions();
    let fields = ext.get::<SpanState>().map_or("", |s| s.fields.as_str());
    f(span.name(), fields)
}

fn span_object<S: for<'l> LookupSpan<'l>>(out: &mut Vec<u8>, span: &SpanRef<'_, S>) {
    with_fields(span, |name, fields| {
        out.extend_from_slice(b"{\"name\":");
        quoted(out, name);
        if !fields.is_empty() {
            out.push(b',');
            out.extend_from_slice(fields.as_bytes());
        }
        out.push(b'}');
    });
}

/// Writes one JSON line (without the newline).
pub(crate) fn write_line<S: for<'l> LookupSpan<'l>>(
    out: &mut Vec<u8>,
    event: &Event<'_>,
    line: &Line<'_, '_, S>,
) {
    let meta = event.metadata();
    out.extend_from_slice(b"{\"timestamp\":\"");
    time::write_now(out);
    out.extend_from_slice(b"\",\"level\":\"");
    out.extend_from_slice(meta.level().as_str().as_bytes());
    out.extend_from_slice(b"\",\"target\":");
    quoted(out, meta.target());
    let mut fields = JsonFields {
        out,
        wrote: true,
        guard_reserved: true,
    };
    event.record(&mut fields);
    if let Some(ids) = &line.ids {
        out.extend_from_slice(b",\"trace_id\":\"");
        out.extend_from_slice(ids.trace_id().as_bytes());
        out.extend_from_slice(b"\",\"span_id\":\"");
        out.extend_from_slice(ids.span_id().as_bytes());
        out.extend_from_slice(b"\",\"trace_flags\":\"");
        out.extend_from_slice(ids.trace_flags().as_bytes());
        out.push(b'"');
    }
    if let Some(span) = line.span {
        if line.with_current {
            out.extend_from_slice(b",\"span\":");
            span_object(out, span);
        }
        if line.with_list {
            out.extend_from_slice(b",\"spans\":[");
            for (i, s) in span.scope().from_root().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                span_object(out, &s);
            }
            out.push(b']');
        }
    }
    out.push(b'}');
}
