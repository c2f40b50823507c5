//! Text lines for people: `timestamp LEVEL spans: target: message fields trace_id=… span_id=…`.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing_core::Event;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::{padded_level, quoted, JsonEscaped};
use crate::format::json::{with_fields, Line};
use crate::time;

/// Writes `name=value` pairs separated by spaces. The `message` field is
/// written bare; strings are quoted and escaped, so a value can never break the line.
pub(crate) struct TextFields<'a> {
    pub out: &'a mut Vec<u8>,
    pub wrote: bool,
}

impl TextFields<'_> {
    fn sep(&mut self) {
        if self.wrote {
            self.out.push(b' ');
        }
        self.wrote = true;
    }

    fn key(&mut self, field: &Field) {
        self.sep();
        self.out.extend_from_slice(field.name().as_bytes());
        self.out.push(b'=');
    }

    fn display(&mut self, field: &Field, value: impl std::fmt::Display) {
        self.key(field);
        let _ = write!(Unescaped(self.out), "{value}");
    }
}

struct Unescaped<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Unescaped<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl Visit for TextFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.sep();
            let _ = JsonEscaped(self.out).write_str(value);
            return;
        }
        self.key(field);
        quoted(self.out, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.display(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.display(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.display(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.display(field, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.key(field);
        self.out.push(b'"');
        let _ = write!(JsonEscaped(self.out), "{value}");
        self.out.push(b'"');
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            // Bare, but with newlines and control characters escaped: one event, one line.
            self.sep();
            let _ = write!(JsonEscaped(self.out), "{value:?}");
            return;
        }
        self.key(field);
        let _ = write!(JsonEscaped(self.out), "{value:?}");
    }
}

/// Writes one text line (without the newline).
pub(crate) fn write_line<S: for<'l> LookupSpan<'l>>(
    out: &mut Vec<u8>,
    event: &Event<'_>,
    line: &Line<'_, '_, S>,
    short_ids: bool,
) {
    let meta = event.metadata();
    time::write_now(out);
    out.push(b' ');
    out.extend_from_slice(padded_level(meta.level()).as_bytes());
    out.push(b' ');
    if let Some(span) = line.span {
        let mut write_span = |s: &SpanRef<'_, S>| {
            with_fields(s, |name, fields| {
                out.extend_from_slice(name.as_bytes());
                if !fields.is_empty() {
                    out.push(b'{');
                    out.extend_from_slice(fields.as_bytes());
                    out.push(b'}');
                }
                out.push(b':');
            })
        };
        if line.with_list {
            for s in span.scope().from_root() {
                write_span(&s);
            }
        } else if line.with_current {
            write_span(span);
        }
        if line.with_list || line.with_current {
            out.push(b' ');
        }
    }
    out.extend_from_slice(meta.target().as_bytes());
    out.extend_from_slice(b": ");
    let mut fields = TextFields { out, wrote: false };
    event.record(&mut fields);
    if let Some(ids) = &line.ids {
        let (trace, span) = if short_ids {
            (&ids.trace_id()[..8], &ids.span_id()[..8])
        } else {
            (ids.trace_id(), ids.span_id())
        };
        out.extend_from_slice(b" trace_id=");
        out.extend_from_slice(trace.as_bytes());
        out.extend_from_slice(b" span_id=");
        out.extend_from_slice(span.as_bytes());
    }
}
