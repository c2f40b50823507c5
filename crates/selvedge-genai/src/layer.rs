//! [`GenAiLayer`]: what a GenAI span needs from the `tracing` side —
//! `error.type` on failure, and token roll-ups onto agents and workflows.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use opentelemetry::trace::TraceContextExt;
use opentelemetry::KeyValue;
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Level, Subscriber};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Event;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::config::Options;
use crate::metrics::Tokens;
use crate::semconv::{self as sc, legacy, operation};

/// Roll-up attribute: input tokens of every model call beneath an agent or workflow span.
pub const ROLLUP_INPUT_TOKENS: &str = "selvedge.rollup.gen_ai.usage.input_tokens";
/// Roll-up attribute: output tokens of every model call beneath an agent or workflow span.
pub const ROLLUP_OUTPUT_TOKENS: &str = "selvedge.rollup.gen_ai.usage.output_tokens";
/// Roll-up attribute: how many model calls ran beneath an agent or workflow span.
pub const ROLLUP_MODEL_CALLS: &str = "selvedge.rollup.gen_ai.model_calls";

/// What the layer tracks, only for spans that take part in a roll-up: agent
/// and workflow spans, and the model calls beneath them.
#[derive(Debug)]
pub(crate) struct GenAiState {
    /// An `invoke_agent` / `invoke_workflow` span, summing what runs beneath it.
    container: bool,
    /// A model call beneath a container: its own token counts.
    model_call: bool,
    pub tokens: Tokens,
    rollup: Tokens,
    rollup_calls: i64,
}

/// The operation a span declares at creation, mapped to its constant.
fn operation_of(value: &str) -> Option<&'static str> {
    let known = |name: &str| operation::ALL.iter().copied().find(|op| *op == name);
    known(value).or_else(|| {
        legacy::REQUEST_TYPE_VALUES
            .iter()
            .find(|(old, _)| *old == value)
            .and_then(|(_, new)| known(new))
    })
}

/// Reads what the roll-up needs from a span's fields: its operation (or
/// whether it names a model or provider, which makes it a chat), and tokens.
#[derive(Default)]
struct Fields {
    operation: Option<&'static str>,
    names_model: bool,
    tokens: Tokens,
}

impl Fields {
    fn text(&mut self, name: &str, value: &str) {
        match name {
            sc::OPERATION_NAME => self.operation = operation_of(value),
            legacy::LLM_REQUEST_TYPE => {
                self.operation = self.operation.or_else(|| operation_of(value))
            }
            sc::PROVIDER_NAME | legacy::SYSTEM | sc::REQUEST_MODEL | legacy::LLM_MODEL => {
                self.names_model = true
            }
            // Token counts recorded as text (e.g. with `%`).
            _ if name.starts_with("gen_ai.usage.") || name.starts_with("llm.") => {
                if let Ok(n) = value.trim().parse::<i64>() {
                    self.int(name, n);
                }
            }
            _ => {}
        }
    }

    fn int(&mut self, name: &str, n: i64) {
        let slot = match name {
            sc::USAGE_INPUT_TOKENS | legacy::USAGE_PROMPT_TOKENS | legacy::LLM_PROMPT_TOKENS => {
                &mut self.tokens.input
            }
            sc::USAGE_OUTPUT_TOKENS
            | legacy::USAGE_COMPLETION_TOKENS
            | legacy::LLM_COMPLETION_TOKENS => &mut self.tokens.output,
            _ => return,
        };
        *slot = Some(n);
    }

    fn is_container(&self) -> bool {
        matches!(
            self.operation,
            Some(operation::INVOKE_AGENT | operation::INVOKE_WORKFLOW)
        )
    }

    fn is_model_call(&self) -> bool {
        match self.operation {
            Some(op) => operation::is_model_call(op),
            None => self.names_model,
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.int(field.name(), value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.int(field.name(), i64::try_from(value).unwrap_or(i64::MAX));
    }

    // Nothing the roll-up needs is a double or a boolean.
    fn record_f64(&mut self, _field: &Field, _value: f64) {}

    fn record_bool(&mut self, _field: &Field, _value: bool) {}

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let name = field.name();
        if name.starts_with("gen_ai.") || name.starts_with("llm.") {
            self.text(name, format!("{value:?}").trim_matches('"'));
        }
    }
}

/// Whether a span's callsite declares GenAI fields (static metadata: free to ask).
fn is_genai_callsite(metadata: &tracing::Metadata<'_>) -> bool {
    metadata
        .fields()
        .iter()
        .any(|f| f.name().starts_with("gen_ai.") || f.name().starts_with("llm."))
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

/// The GenAI layer: `error.type` on failure, and token roll-ups onto agent and
/// workflow spans. Place it *before* (inside) the tracing-opentelemetry layer:
/// it must still reach the OTel span when the span closes.
///
/// It keeps state only for agent and workflow spans and the model calls
/// beneath them; a model call outside any agent costs it a field scan.
/// Metrics are recorded by [`GenAiProcessor`](crate::GenAiProcessor), from
/// the finished span.
pub struct GenAiLayer {
    options: Options,
    dispatch: OnceLock<WeakDispatch>,
    /// Spans holding state now. While it is zero (no agent or workflow is
    /// running), model calls and records cost the layer nothing more.
    tracked: AtomicUsize,
}

impl std::fmt::Debug for GenAiLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenAiLayer")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl GenAiLayer {
    /// A layer for `options`' conventions.
    pub fn new(options: Options) -> Self {
        Self {
            options,
            dispatch: OnceLock::new(),
            tracked: AtomicUsize::new(0),
        }
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

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_genai_callsite(attrs.metadata()) {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let container = fields.is_container();
        let model_call = !container && fields.is_model_call();
        // A model call matters only beneath an agent or workflow, which would be tracked.
        if !container && (!model_call || self.tracked.load(Ordering::Acquire) == 0) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        // A model call matters to the layer only beneath an agent or workflow.
        let beneath_container = || {
            span.scope().skip(1).any(|s| {
                s.extensions()
                    .get::<GenAiState>()
                    .is_some_and(|st| st.container)
            })
        };
        if container || beneath_container() {
            self.tracked.fetch_add(1, Ordering::AcqRel);
            span.extensions_mut().insert(GenAiState {
                container,
                model_call,
                tokens: fields.tokens,
                rollup: Tokens::default(),
                rollup_calls: 0,
            });
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if self.tracked.load(Ordering::Acquire) == 0 {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(state) = ext.get_mut::<GenAiState>() {
            let mut fields = Fields {
                tokens: state.tokens,
                ..Fields::default()
            };
            values.record(&mut fields);
            state.tokens = fields.tokens;
        }
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
        // when the span ends (GenAiProcessor).
        let error_type = found
            .error_type
            .unwrap_or_else(|| sc::ERROR_TYPE_OTHER.to_string());
        if let Some(cx) = self.otel_span(&span.id()) {
            cx.span()
                .set_attribute(KeyValue::new(sc::ERROR_TYPE, error_type));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if self.tracked.load(Ordering::Acquire) == 0 {
            return;
        }
        let Some(span) = ctx.span(&id) else { return };
        let Some(state) = span.extensions_mut().remove::<GenAiState>() else {
            return;
        };
        self.tracked.fetch_sub(1, Ordering::AcqRel);

        // Usage rolls up to the nearest agent or workflow above.
        if state.model_call || state.rollup_calls > 0 {
            if let Some(parent) = span.scope().skip(1).find(|s| {
                s.extensions()
                    .get::<GenAiState>()
                    .is_some_and(|st| st.container)
            }) {
                if let Some(p) = parent.extensions_mut().get_mut::<GenAiState>() {
                    let add = |a: &mut Option<i64>, b: Option<i64>| {
                        if let Some(b) = b {
                            *a = Some(a.unwrap_or(0) + b);
                        }
                    };
                    if state.model_call {
                        add(&mut p.rollup.input, state.tokens.input);
                        add(&mut p.rollup.output, state.tokens.output);
                    }
                    add(&mut p.rollup.input, state.rollup.input);
                    add(&mut p.rollup.output, state.rollup.output);
                    p.rollup_calls += state.rollup_calls + i64::from(state.model_call);
                }
            }
        }

        if state.container && state.rollup_calls > 0 {
            if let Some(cx) = self.otel_span(&id) {
                let otel = cx.span();
                if let Some(n) = state.rollup.input {
                    otel.set_attribute(KeyValue::new(ROLLUP_INPUT_TOKENS, n));
                }
                if let Some(n) = state.rollup.output {
                    otel.set_attribute(KeyValue::new(ROLLUP_OUTPUT_TOKENS, n));
                }
                otel.set_attribute(KeyValue::new(ROLLUP_MODEL_CALLS, state.rollup_calls));
            }
        }
    }
}
