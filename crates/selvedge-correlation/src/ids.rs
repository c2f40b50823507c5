//! Trace and span ids of the OTel span a log line belongs to.
//!
//! Ids come from the span tracing-opentelemetry exported, looked up once per
//! span with [`tracing_opentelemetry::get_otel_context`] and cached in the
//! span's extensions, so every later line in that span costs one lookup of a
//! few bytes. The lookup happens at the first *event* of a span, never when
//! the span is created: starting the OTel span early would make a later
//! `span.set_parent(remote)` fail.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing::Dispatch;
use tracing_core::span;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The ids of one OTel span, already as lower-case hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceIds {
    trace_id: [u8; 32],
    span_id: [u8; 16],
    sampled: bool,
    raw_trace_id: TraceId,
    raw_span_id: SpanId,
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
            raw_trace_id: sc.trace_id(),
            raw_span_id: sc.span_id(),
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

    /// The span context these ids describe (not remote, empty trace state).
    pub fn span_context(&self) -> SpanContext {
        let flags = if self.sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        SpanContext::new(
            self.raw_trace_id,
            self.raw_span_id,
            flags,
            false,
            TraceState::default(),
        )
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

/// Per-span cache, inserted at the span's first event: the ids, or `None` when
/// no OTel layer knows the span (export off, or the span filtered out).
#[derive(Debug, Clone, Copy)]
struct CachedIds(Option<TraceIds>);

/// The ids of `span`'s OTel span, or of its nearest ancestor that has one.
///
/// The first call for a span asks tracing-opentelemetry (which starts the OTel
/// span if it has not started yet — only ever at its first event) and caches
/// the answer in the span's extensions; later calls read the cache.
pub(crate) fn span_ids<S>(span: &SpanRef<'_, S>, dispatch: Option<&Dispatch>) -> Option<TraceIds>
where
    S: for<'a> LookupSpan<'a>,
{
    for s in span.scope() {
        let cached = s.extensions().get::<CachedIds>().copied();
        let ids = match cached {
            Some(CachedIds(ids)) => ids,
            None => {
                // No extension guard may be held while tracing-opentelemetry locks the span.
                let ids = dispatch.and_then(|d| lookup(&s.id(), d));
                s.extensions_mut().replace(CachedIds(ids));
                ids
            }
        };
        if ids.is_some() {
            return ids;
        }
    }
    None
}

fn lookup(id: &span::Id, dispatch: &Dispatch) -> Option<TraceIds> {
    let cx = tracing_opentelemetry::get_otel_context(id, dispatch)?;
    TraceIds::from_span_context(cx.span().span_context())
}
