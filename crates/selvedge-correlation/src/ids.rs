//! Trace and span ids of the OTel span a log line belongs to.
//!
//! Ids come from the span tracing-opentelemetry exported, looked up once per
//! span with [`tracing_opentelemetry::get_otel_context`] and cached in the
//! span's extensions, so every later line in that span costs one lookup of a
//! few bytes. The lookup happens at the first *event* of a span, never when
//! the span is created: starting the OTel span early would make a later
//! `span.set_parent(remote)` fail.

use std::sync::OnceLock;

use opentelemetry::trace::{SpanContext, TraceContextExt};
use tracing::Dispatch;
use tracing_core::span;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The ids of one OTel span, already as lower-case hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceIds {
    trace_id: [u8; 32],
    span_id: [u8; 16],
    sampled: bool,
}

impl TraceIds {
    /// The ids of an OTel span context, or `None` if it is invalid.
    pub fn from_span_context(sc: &SpanContext) -> Option<Self> {
        if !sc.is_valid() {
            return None;
        }
        let mut ids = TraceIds {
            trace_id: [0; 32],
            span_id: [0; 16],
            sampled: sc.is_sampled(),
        };
        hex(&sc.trace_id().to_bytes(), &mut ids.trace_id);
        hex(&sc.span_id().to_bytes(), &mut ids.span_id);
        Some(ids)
    }

    /// The trace id, 32 lower-case hex digits.
    pub fn trace_id(&self) -> &str {
        std::str::from_utf8(&self.trace_id).unwrap_or_default()
    }

    /// The span id, 16 lower-case hex digits.
    pub fn span_id(&self) -> &str {
        std::str::from_utf8(&self.span_id).unwrap_or_default()
    }

    /// Whether the trace is sampled (W3C trace flags `01`).
    pub fn is_sampled(&self) -> bool {
        self.sampled
    }

    /// The W3C trace flags: `"01"` sampled, `"00"` not.
    pub fn trace_flags(&self) -> &'static str {
        if self.sampled {
            "01"
        } else {
            "00"
        }
    }
}

fn hex(bytes: &[u8], out: &mut [u8]) {
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 0xf) as usize];
    }
}

/// Per-span cache: unset until the span's first event, then the ids (or `None`
/// when no OTel layer knows the span, e.g. export is off or the span is filtered).
#[derive(Debug, Default)]
pub(crate) struct CachedIds(OnceLock<Option<TraceIds>>);

impl CachedIds {
    pub(crate) fn get(&self) -> Option<Option<TraceIds>> {
        self.0.get().copied()
    }

    pub(crate) fn set(&self, ids: Option<TraceIds>) {
        let _ = self.0.set(ids);
    }
}

/// Asks tracing-opentelemetry for the span's OTel context (starting the OTel
/// span if it has not started yet — only ever at its first event).
pub(crate) fn lookup(id: &span::Id, dispatch: &Dispatch) -> Option<TraceIds> {
    let cx = tracing_opentelemetry::get_otel_context(id, dispatch)?;
    TraceIds::from_span_context(cx.span().span_context())
}
