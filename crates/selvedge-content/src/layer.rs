//! [`ContentLayer`]: holds the gate, the shaping and the log sink for one pipeline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
use opentelemetry::Key;
use opentelemetry_sdk::logs::SdkLogger;
use serde_json::Value;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::mode::Capture;
use crate::shape::Shaping;

/// Layers in this process whose capture is on. When zero — the usual case —
/// every content call returns after one relaxed load, before building anything.
pub(crate) static ENABLED: AtomicUsize = AtomicUsize::new(0);

/// The log event the event sink emits.
pub const EVENT_NAME: &str = "gen_ai.client.inference.operation.details";

/// What a content call carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Input,
    Output,
    SystemInstructions,
    ToolDefinitions,
    ToolCallArguments,
    ToolCallResult,
    RetrievalQuery,
    RetrievalDocuments,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Input => "gen_ai.input.messages",
            Kind::Output => "gen_ai.output.messages",
            Kind::SystemInstructions => "gen_ai.system_instructions",
            Kind::ToolDefinitions => "gen_ai.tool.definitions",
            Kind::ToolCallArguments => "gen_ai.tool.call.arguments",
            Kind::ToolCallResult => "gen_ai.tool.call.result",
            Kind::RetrievalQuery => "gen_ai.retrieval.query.text",
            Kind::RetrievalDocuments => "gen_ai.retrieval.documents",
        }
    }

    /// The span attribute's text: JSON, except for the query, a string
    /// attribute of its own (quoting it would put the quotes in the query).
    fn attribute(self, value: &Value) -> String {
        match (self, value) {
            (Kind::RetrievalQuery, Value::String(text)) => text.clone(),
            _ => value.to_string(),
        }
    }
}

/// The content-capture layer. It has no callbacks: the content API finds it
/// in the current dispatcher and asks it whether, and where, to record.
pub struct ContentLayer {
    capture: AtomicU8,
    shaping: Shaping,
    logger: Option<SdkLogger>,
}

impl std::fmt::Debug for ContentLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentLayer")
            .field("capture", &self.capture())
            .field("shaping", &self.shaping)
            .field("event_sink", &self.logger.is_some())
            .finish()
    }
}

impl ContentLayer {
    /// A layer with the given gate.
    pub fn new(capture: Capture) -> Self {
        if capture != Capture::NoContent {
            ENABLED.fetch_add(1, Ordering::AcqRel);
        }
        ContentLayer {
            capture: AtomicU8::new(capture.to_u8()),
            shaping: Shaping::default(),
            logger: None,
        }
    }

    /// Limits and redaction.
    pub fn with_shaping(mut self, shaping: Shaping) -> Self {
        self.shaping = shaping;
        self
    }

    /// Where the event sink emits `gen_ai.client.inference.operation.details`
    /// (a logger of the pipeline's OTLP logs provider). Without it, event
    /// capture records nothing.
    pub fn with_logger(mut self, logger: SdkLogger) -> Self {
        self.logger = Some(logger);
        self
    }

    /// The gate in effect.
    pub fn capture(&self) -> Capture {
        Capture::from_u8(self.capture.load(Ordering::Relaxed))
    }

    /// Changes the gate at run time.
    pub fn set_capture(&self, capture: Capture) {
        let old = Capture::from_u8(self.capture.swap(capture.to_u8(), Ordering::AcqRel));
        match (old == Capture::NoContent, capture == Capture::NoContent) {
            (true, false) => {
                ENABLED.fetch_add(1, Ordering::AcqRel);
            }
            (false, true) => {
                ENABLED.fetch_sub(1, Ordering::AcqRel);
            }
            _ => {}
        }
    }

    pub(crate) fn record(&self, capture: Capture, kind: Kind, value: Value) {
        let value = shape(value, &self.shaping);
        let span = Span::current();
        match capture {
            Capture::NoContent => {}
            Capture::LegacySpanEvents => match kind {
                Kind::Input => span.add_event(
                    "gen_ai.content.prompt",
                    vec![opentelemetry::KeyValue::new(
                        "gen_ai.prompt",
                        value.to_string(),
                    )],
                ),
                Kind::Output => span.add_event(
                    "gen_ai.content.completion",
                    vec![opentelemetry::KeyValue::new(
                        "gen_ai.completion",
                        value.to_string(),
                    )],
                ),
                _ => span.set_attribute(kind.key(), kind.attribute(&value)),
            },
            _ => {
                if capture.to_spans() {
                    span.set_attribute(kind.key(), kind.attribute(&value));
                }
                if capture.to_events() {
                    if let Some(logger) = &self.logger {
                        let mut record = logger.create_log_record();
                        record.set_event_name(EVENT_NAME);
                        record.set_severity_number(Severity::Info);
                        record.set_severity_text("INFO");
                        let mut body = HashMap::new();
                        body.insert(Key::from_static_str(kind.key()), any_value(&value));
                        record.set_body(AnyValue::Map(Box::new(body)));
                        // The record takes the current (entered) span's ids from the context.
                        logger.emit(record);
                    }
                }
            }
        }
    }
}

impl Drop for ContentLayer {
    fn drop(&mut self) {
        if self.capture() != Capture::NoContent {
            ENABLED.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ContentLayer {}

/// Applies redaction and truncation to every string in `value`.
fn shape(value: Value, shaping: &Shaping) -> Value {
    match value {
        Value::String(s) => Value::String(shaping.apply(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| shape(v, shaping)).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, shape(v, shaping)))
                .collect(),
        ),
        other => other,
    }
}

/// JSON as an OTel log `AnyValue` (maps and lists stay structured).
fn any_value(value: &Value) -> AnyValue {
    match value {
        Value::Null => AnyValue::String("".into()),
        Value::Bool(b) => AnyValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => AnyValue::Int(i),
            None => AnyValue::Double(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => AnyValue::String(s.clone().into()),
        Value::Array(items) => AnyValue::ListAny(Box::new(items.iter().map(any_value).collect())),
        Value::Object(map) => AnyValue::Map(Box::new(
            map.iter()
                .map(|(k, v)| (Key::from(k.clone()), any_value(v)))
                .collect(),
        )),
    }
}
