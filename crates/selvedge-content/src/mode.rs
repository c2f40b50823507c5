//! The gate: whether content is captured, and where it goes.

/// The standard variable: `NO_CONTENT` (default), `SPAN_ONLY`, `EVENT_ONLY`,
/// `SPAN_AND_EVENT`, case-insensitive. Anything else fails closed to `NO_CONTENT`.
pub const OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: &str =
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";
/// selvedge's simple switch, in the style older frameworks used: `1` / `true`
/// captures prompts and completions as legacy span events.
pub const SELVEDGE_TRACE_CONTENT: &str = "SELVEDGE_TRACE_CONTENT";

/// Where captured content goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Capture {
    /// Nothing is captured (the default). The API does no work at all.
    #[default]
    NoContent,
    /// Span attributes holding JSON (`gen_ai.input.messages`, …).
    SpanOnly,
    /// The log event `gen_ai.client.inference.operation.details`, structured.
    EventOnly,
    /// Both.
    SpanAndEvent,
    /// Legacy span events `gen_ai.content.prompt {gen_ai.prompt}` and
    /// `gen_ai.content.completion {gen_ai.completion}` (what `SELVEDGE_TRACE_CONTENT=1` selects).
    LegacySpanEvents,
}

impl Capture {
    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Capture::NoContent => 0,
            Capture::SpanOnly => 1,
            Capture::EventOnly => 2,
            Capture::SpanAndEvent => 3,
            Capture::LegacySpanEvents => 4,
        }
    }

    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            1 => Capture::SpanOnly,
            2 => Capture::EventOnly,
            3 => Capture::SpanAndEvent,
            4 => Capture::LegacySpanEvents,
            _ => Capture::NoContent,
        }
    }

    pub(crate) fn to_spans(self) -> bool {
        matches!(self, Capture::SpanOnly | Capture::SpanAndEvent)
    }

    pub(crate) fn to_events(self) -> bool {
        matches!(self, Capture::EventOnly | Capture::SpanAndEvent)
    }
}

/// The resolved gate and, when a value was rejected, the warning to log once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The mode in effect.
    pub capture: Capture,
    /// Why a value was ignored (it names the variable and the value).
    pub warning: Option<String>,
}

/// Resolves the gate: the builder wins; else the standard variable (when set,
/// even to an invalid value, which fails closed); else `SELVEDGE_TRACE_CONTENT`;
/// else `NO_CONTENT`. See docs/content-capture.md for the full table.
pub fn resolve(builder: Option<Capture>, var: impl Fn(&str) -> Option<String>) -> Resolved {
    if let Some(capture) = builder {
        return Resolved {
            capture,
            warning: None,
        };
    }
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(value) = set(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT) {
        let capture = match value.trim().to_ascii_uppercase().as_str() {
            "NO_CONTENT" => Capture::NoContent,
            "SPAN_ONLY" => Capture::SpanOnly,
            "EVENT_ONLY" => Capture::EventOnly,
            "SPAN_AND_EVENT" => Capture::SpanAndEvent,
            _ => {
                return Resolved {
                    capture: Capture::NoContent,
                    warning: Some(format!(
                        "ignored {OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT}={value:?}: expected \
                         NO_CONTENT, SPAN_ONLY, EVENT_ONLY or SPAN_AND_EVENT; content capture stays off"
                    )),
                }
            }
        };
        return Resolved {
            capture,
            warning: None,
        };
    }
    if let Some(value) = set(SELVEDGE_TRACE_CONTENT) {
        return match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Resolved { capture: Capture::LegacySpanEvents, warning: None },
            "0" | "false" => Resolved { capture: Capture::NoContent, warning: None },
            _ => Resolved {
                capture: Capture::NoContent,
                warning: Some(format!(
                    "ignored {SELVEDGE_TRACE_CONTENT}={value:?}: expected 1, true, 0 or false; content capture stays off"
                )),
            },
        };
    }
    Resolved {
        capture: Capture::NoContent,
        warning: None,
    }
}
