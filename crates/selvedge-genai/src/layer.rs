//! [`GenAiLayer`]: what a GenAI span needs from the `tracing` side —
//! `error.type` from error events.

use std::sync::OnceLock;

use opentelemetry::trace::TraceContextExt;
use opentelemetry::KeyValue;
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Level, Subscriber};
use tracing_core::span::Id;
use tracing_core::Event;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::semconv as sc;

/// Whether a span's callsite declares GenAI fields (static metadata: free to ask).
fn is_genai_callsite(metadata: &tracing::Metadata<'_>) -> bool {
    metadata
        .fields()
        .iter()
        .any(|f| crate::conform::marks_genai(f.name()))
}

/// Finds ERROR events and `error` fields on events.
#[derive(Default)]
struct ErrorEvent {
    error_type: Option<String>,
    has_error: bool,
}

impl Visit for ErrorEvent {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "error" => self.has_error = true,
            sc::ERROR_TYPE => self.error_type = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_error(&mut self, field: &Field, _value: &(dyn std::error::Error + 'static)) {
        if field.name() == "error" {
            self.has_error = true;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "error" => self.has_error = true,
            sc::ERROR_TYPE => {
                self.error_type = Some(format!("{value:?}").trim_matches('"').to_string())
            }
            _ => {}
        }
    }
}

/// The GenAI layer: `error.type` from error events on GenAI spans (an ERROR
/// event, or an event with an `error` / `error.type` field — what
/// `#[instrument(err)]` emits). Place it *before* (inside) the
/// tracing-opentelemetry layer, so the OTel span is still open when it writes.
///
/// It looks only at events, and only at those whose static metadata shows an
/// error: spans cost it nothing. Names, kinds, types, roll-ups and metrics
/// are the work of [`GenAiTracer`](crate::GenAiTracer), its spans, and
/// [`GenAiProcessor`](crate::GenAiProcessor).
#[derive(Default)]
pub struct GenAiLayer {
    dispatch: OnceLock<WeakDispatch>,
}

impl std::fmt::Debug for GenAiLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenAiLayer").finish_non_exhaustive()
    }
}

impl GenAiLayer {
    /// A new layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn otel_span(&self, id: &Id) -> Option<opentelemetry::Context> {
        let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade)?;
        tracing_opentelemetry::get_otel_context(id, &dispatch)
    }
}

impl<S> Layer<S> for GenAiLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Most events are neither errors nor carry an error field: told from
        // their static metadata, without visiting their values.
        let metadata = event.metadata();
        let is_error = *metadata.level() == Level::ERROR;
        if !is_error
            && !metadata
                .fields()
                .iter()
                .any(|f| matches!(f.name(), "error" | sc::ERROR_TYPE))
        {
            return;
        }
        let mut found = ErrorEvent::default();
        event.record(&mut found);
        if !is_error && !found.has_error && found.error_type.is_none() {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        if !is_genai_callsite(span.metadata()) {
            return;
        }
        // The span's own explicit error.type, if any, wins over this fallback
        // whichever is recorded first (see `tracked`).
        let error_type = found
            .error_type
            .unwrap_or_else(|| sc::ERROR_TYPE_OTHER.to_string());
        if let Some(cx) = self.otel_span(&span.id()) {
            cx.span()
                .set_attribute(KeyValue::new(sc::ERROR_TYPE, error_type));
        }
    }
}
