//! [`GenAiLayer`]: what a GenAI span needs beyond its attributes — metrics at
//! its end (sampled or not), `error.type` on failure, and token roll-ups.

use std::sync::OnceLock;
use std::time::Instant;

use opentelemetry::metrics::Meter;
use opentelemetry::trace::{Status, TraceContextExt};
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
use crate::metrics::{Instruments, SeriesKey, Tokens};
use crate::semconv::{self as sc, latest, legacy, operation, v1_41};

/// Roll-up attribute: input tokens of every model call beneath an agent or workflow span.
pub const ROLLUP_INPUT_TOKENS: &str = "selvedge.rollup.gen_ai.usage.input_tokens";
/// Roll-up attribute: output tokens of every model call beneath an agent or workflow span.
pub const ROLLUP_OUTPUT_TOKENS: &str = "selvedge.rollup.gen_ai.usage.output_tokens";
/// Roll-up attribute: how many model calls ran beneath an agent or workflow span.
pub const ROLLUP_MODEL_CALLS: &str = "selvedge.rollup.gen_ai.model_calls";

/// What the layer tracks per GenAI span.
#[derive(Debug)]
pub(crate) struct GenAiState {
    pub operation: Option<String>,
    pub provider: Option<String>,
    pub request_model: Option<String>,
    pub response_model: Option<String>,
    pub server_address: Option<String>,
    pub server_port: Option<i64>,
    pub tokens: Tokens,
    pub error_type: Option<String>,
    pub first_chunk: Option<f64>,
    pub start: Instant,
    rollup: Tokens,
    rollup_calls: i64,
}

impl GenAiState {
    fn new() -> Self {
        GenAiState {
            operation: None,
            provider: None,
            request_model: None,
            response_model: None,
            server_address: None,
            server_port: None,
            tokens: Tokens::default(),
            error_type: None,
            first_chunk: None,
            start: Instant::now(),
            rollup: Tokens::default(),
            rollup_calls: 0,
        }
    }

    fn is_model_call(&self) -> bool {
        matches!(
            self.operation.as_deref(),
            Some(
                operation::CHAT
                    | operation::TEXT_COMPLETION
                    | operation::GENERATE_CONTENT
                    | operation::EMBEDDINGS
            )
        ) || (self.operation.is_none() && (self.request_model.is_some() || self.provider.is_some()))
    }
}

/// Collects the GenAI fields of a span's attributes or records, into the
/// span's existing state or a new one. (Lives on the stack for one visit;
/// boxing the new state would cost an allocation per span.)
#[allow(clippy::large_enum_variant)]
enum Fields<'a> {
    Existing(&'a mut GenAiState),
    New(Option<GenAiState>),
}

impl Fields<'_> {
    fn state(&mut self) -> &mut GenAiState {
        match self {
            Fields::Existing(state) => state,
            Fields::New(state) => state.get_or_insert_with(GenAiState::new),
        }
    }

    fn has_state(&self) -> bool {
        matches!(self, Fields::Existing(_) | Fields::New(Some(_)))
    }

    fn text(&mut self, name: &str, value: &str) {
        if !name.starts_with("gen_ai.")
            && !name.starts_with("llm.")
            && !name.starts_with("server.")
            && name != sc::ERROR_TYPE
        {
            return;
        }
        let is_int_field = !matches!(
            name,
            sc::OPERATION_NAME
                | legacy::LLM_REQUEST_TYPE
                | sc::PROVIDER_NAME
                | legacy::SYSTEM
                | sc::REQUEST_MODEL
                | legacy::LLM_MODEL
                | sc::RESPONSE_MODEL
                | sc::SERVER_ADDRESS
                | sc::ERROR_TYPE
        );
        if is_int_field {
            if let Ok(n) = value.trim().parse::<i64>() {
                self.int(name, n);
            }
            return;
        }
        let value = value.to_string();
        match name {
            sc::OPERATION_NAME => self.state().operation = Some(value),
            legacy::LLM_REQUEST_TYPE => {
                let op = legacy::REQUEST_TYPE_VALUES
                    .iter()
                    .find(|(old, _)| *old == value)
                    .map_or(value.clone(), |(_, new)| new.to_string());
                self.state().operation.get_or_insert(op);
            }
            sc::PROVIDER_NAME => self.state().provider = Some(value),
            legacy::SYSTEM => {
                let p = legacy::SYSTEM_VALUES
                    .iter()
                    .find(|(old, _)| *old == value)
                    .map_or(value.clone(), |(_, new)| new.to_string());
                self.state().provider.get_or_insert(p);
            }
            sc::REQUEST_MODEL => self.state().request_model = Some(value),
            legacy::LLM_MODEL => {
                self.state().request_model.get_or_insert(value);
            }
            sc::RESPONSE_MODEL => self.state().response_model = Some(value),
            // Only on spans that are GenAI spans for another reason.
            sc::SERVER_ADDRESS if self.has_state() => self.state().server_address = Some(value),
            sc::ERROR_TYPE if self.has_state() => self.state().error_type = Some(value),
            _ => {}
        }
    }

    fn int(&mut self, name: &str, n: i64) {
        let slot = match name {
            sc::USAGE_INPUT_TOKENS | legacy::USAGE_PROMPT_TOKENS | legacy::LLM_PROMPT_TOKENS => {
                &mut self.state().tokens.input
            }
            sc::USAGE_OUTPUT_TOKENS
            | legacy::USAGE_COMPLETION_TOKENS
            | legacy::LLM_COMPLETION_TOKENS => &mut self.state().tokens.output,
            sc::USAGE_CACHE_READ_INPUT_TOKENS => &mut self.state().tokens.cache_read,
            v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS | latest::USAGE_CACHE_WRITE_INPUT_TOKENS => {
                &mut self.state().tokens.cache_write
            }
            sc::USAGE_REASONING_OUTPUT_TOKENS => &mut self.state().tokens.reasoning,
            sc::SERVER_PORT if self.has_state() => {
                self.state().server_port = Some(n);
                return;
            }
            _ => return,
        };
        *slot = Some(n);
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.int(field.name(), value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.int(field.name(), i64::try_from(value).unwrap_or(i64::MAX));
    }

    // No state is kept from doubles or booleans (temperature, stream, …): skip
    // the default, which would render them through `record_debug`.
    fn record_f64(&mut self, _field: &Field, _value: f64) {}

    fn record_bool(&mut self, _field: &Field, _value: bool) {}

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let name = field.name();
        if name.starts_with("gen_ai.")
            || name.starts_with("llm.")
            || name.starts_with("server.")
            || name == sc::ERROR_TYPE
        {
            self.text(name, format!("{value:?}").trim_matches('"'));
        }
    }
}

/// Finds ERROR events and `error` fields on events.
#[derive(Default)]
struct ErrorEvent {
    error_type: Option<String>,
    has_error: bool,
}

impl Visit for ErrorEvent {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == sc::ERROR_TYPE {
            self.error_type = Some(value.to_string());
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

/// The GenAI layer. Place it *before* (inside) the tracing-opentelemetry layer:
/// it must still reach the OTel span when the span closes.
pub struct GenAiLayer {
    options: Options,
    instruments: Instruments,
    dispatch: OnceLock<WeakDispatch>,
}

impl std::fmt::Debug for GenAiLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenAiLayer")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl GenAiLayer {
    /// A layer emitting `options`' conventions, recording metrics with `meter`
    /// (e.g. `opentelemetry::global::meter("selvedge-genai")`).
    pub fn new(options: Options, meter: &Meter) -> Self {
        Self {
            options,
            instruments: Instruments::new(meter, &options),
            dispatch: OnceLock::new(),
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
        let mut fields = Fields::New(None);
        attrs.record(&mut fields);
        if let (Fields::New(Some(state)), Some(span)) = (fields, ctx.span(id)) {
            span.extensions_mut().insert(state);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        // Update in place: moving the state out and back costs more than the record.
        if let Some(state) = ext.get_mut::<GenAiState>() {
            values.record(&mut Fields::Existing(state));
            return;
        }
        let mut fields = Fields::New(None);
        values.record(&mut fields);
        if let Fields::New(Some(state)) = fields {
            ext.insert(state);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut found = ErrorEvent::default();
        event.record(&mut found);
        if *event.metadata().level() != Level::ERROR
            && !found.has_error
            && found.error_type.is_none()
        {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut ext = span.extensions_mut();
        if let Some(state) = ext.get_mut::<GenAiState>() {
            let error_type = found
                .error_type
                .unwrap_or_else(|| sc::ERROR_TYPE_OTHER.to_string());
            // An explicit error.type beats the generic fallback.
            if state.error_type.is_none()
                || state.error_type.as_deref() == Some(sc::ERROR_TYPE_OTHER)
            {
                state.error_type = Some(error_type);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(state) = span.extensions_mut().remove::<GenAiState>() else {
            return;
        };

        // Roll usage up to the nearest GenAI ancestor (agents and workflows report it).
        let is_call = state.is_model_call();
        if is_call || state.rollup_calls > 0 {
            if let Some(parent) = span
                .scope()
                .skip(1)
                .find(|s| s.extensions().get::<GenAiState>().is_some())
            {
                if let Some(p) = parent.extensions_mut().get_mut::<GenAiState>() {
                    let add = |a: &mut Option<i64>, b: Option<i64>| {
                        if let Some(b) = b {
                            *a = Some(a.unwrap_or(0) + b);
                        }
                    };
                    let own = if is_call {
                        state.tokens
                    } else {
                        Tokens::default()
                    };
                    add(&mut p.rollup.input, own.input);
                    add(&mut p.rollup.input, state.rollup.input);
                    add(&mut p.rollup.output, own.output);
                    add(&mut p.rollup.output, state.rollup.output);
                    p.rollup_calls += state.rollup_calls + i64::from(is_call);
                }
            }
        }

        let is_container = matches!(
            state.operation.as_deref(),
            Some(operation::INVOKE_AGENT | operation::INVOKE_WORKFLOW)
        );
        let rollup = is_container && state.rollup_calls > 0;
        if state.error_type.is_some() || rollup {
            if let Some(cx) = self.otel_span(&id) {
                let otel = cx.span();
                if let Some(error_type) = &state.error_type {
                    otel.set_attribute(KeyValue::new(sc::ERROR_TYPE, error_type.clone()));
                    otel.set_status(Status::error(error_type.clone()));
                }
                if rollup {
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

        // Metrics for client operations, whether or not the span is sampled.
        let metered = is_call
            || matches!(
                state.operation.as_deref(),
                Some(operation::RETRIEVAL | operation::CREATE_AGENT | operation::INVOKE_AGENT)
            );
        if metered {
            let key = SeriesKey {
                operation: state.operation.as_deref().unwrap_or(operation::CHAT),
                provider: state.provider.as_deref(),
                request_model: state.request_model.as_deref(),
                response_model: state.response_model.as_deref(),
                server_address: state.server_address.as_deref(),
                server_port: state.server_port,
                error_type: state.error_type.as_deref(),
            };
            let tokens = if is_call {
                state.tokens
            } else {
                Tokens::default()
            };
            let seconds = state.start.elapsed().as_secs_f64();
            self.instruments
                .record(key, seconds, &tokens, state.first_chunk);
        }
    }
}
