//! The API: conformant spans, and what to record on them.

use std::time::Instant;

use opentelemetry::{Array, StringValue, Value};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::semconv::{self as sc, operation, v1_41};

/// Token usage of one model call. `input` includes cached tokens, as the
/// conventions define it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// `gen_ai.usage.input_tokens`.
    pub input_tokens: Option<u64>,
    /// `gen_ai.usage.output_tokens`.
    pub output_tokens: Option<u64>,
    /// `gen_ai.usage.cache_read.input_tokens`.
    pub cache_read_input_tokens: Option<u64>,
    /// `gen_ai.usage.cache_creation.input_tokens` (`cache_write` in the latest profile).
    pub cache_creation_input_tokens: Option<u64>,
    /// `gen_ai.usage.reasoning.output_tokens`.
    pub reasoning_output_tokens: Option<u64>,
}

impl Usage {
    /// Input and output tokens.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens: Some(input_tokens),
            output_tokens: Some(output_tokens),
            ..Usage::default()
        }
    }
}

/// What a model call returned, for [`record_response`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response<'a> {
    /// `gen_ai.response.id`.
    pub id: Option<&'a str>,
    /// `gen_ai.response.model`.
    pub model: Option<&'a str>,
    /// `gen_ai.response.finish_reasons` (one per choice).
    pub finish_reasons: &'a [&'a str],
    /// Token usage.
    pub usage: Usage,
}

/// OTel integers are `i64`; a count past `i64::MAX` is exported as that.
fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Records token usage on `span`, as integers, and for the token metrics and
/// the roll-up onto agent spans.
pub fn record_usage(span: &Span, usage: &Usage) {
    for (key, value) in [
        (sc::USAGE_INPUT_TOKENS, usage.input_tokens),
        (sc::USAGE_OUTPUT_TOKENS, usage.output_tokens),
        (
            sc::USAGE_CACHE_READ_INPUT_TOKENS,
            usage.cache_read_input_tokens,
        ),
        (
            v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS,
            usage.cache_creation_input_tokens,
        ),
        (
            sc::USAGE_REASONING_OUTPUT_TOKENS,
            usage.reasoning_output_tokens,
        ),
    ] {
        if let Some(n) = value {
            span.set_attribute(key, saturating_i64(n));
        }
    }
}

/// Records a model response on `span`: id, model, finish reasons (a string
/// array) and usage.
pub fn record_response(span: &Span, response: &Response<'_>) {
    if let Some(id) = response.id {
        span.set_attribute(sc::RESPONSE_ID, id.to_string());
    }
    if let Some(model) = response.model {
        span.set_attribute(sc::RESPONSE_MODEL, model.to_string());
    }
    if !response.finish_reasons.is_empty() {
        let reasons: Vec<StringValue> = response
            .finish_reasons
            .iter()
            .map(|r| StringValue::from(r.to_string()))
            .collect();
        span.set_attribute(
            sc::RESPONSE_FINISH_REASONS,
            Value::Array(Array::String(reasons)),
        );
    }
    record_usage(span, &response.usage);
}

/// Marks `span` as failed with a low-cardinality `error_type` (an exception
/// type name, an HTTP status, `timeout`, …): `error.type` and status Error at
/// its end, and `error.type` on its metrics.
pub fn mark_error(span: &Span, error_type: &str) {
    span.set_attribute(sc::ERROR_TYPE, error_type.to_string());
}

/// A conformant GenAI span, with the sampling-relevant attributes set at
/// creation (operation, provider, model, server address and port), the
/// request parameters given, and the rest declared empty so they can be
/// recorded later. It borrows what it is given until [`start`](Self::start).
///
/// ```
/// use selvedge_genai::{record_response, GenAiSpan, Response, Usage};
///
/// let span = GenAiSpan::chat("openai", "gpt-4o")
///     .server("api.openai.com", 443)
///     .max_tokens(1024)
///     .temperature(0.2)
///     .start();
/// let _entered = span.enter();
/// // … call the model …
/// record_response(&span, &Response {
///     id: Some("chatcmpl-123"),
///     model: Some("gpt-4o-2024-08-06"),
///     finish_reasons: &["stop"],
///     usage: Usage::new(42, 7),
/// });
/// ```
#[derive(Debug, Clone)]
#[must_use = "call .start() to create the span"]
pub struct GenAiSpan<'a> {
    operation: &'static str,
    provider: Option<&'a str>,
    subject: Subject<'a>,
    server: Option<(&'a str, u16)>,
    max_tokens: Option<u64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    conversation_id: Option<&'a str>,
    tool_call_id: Option<&'a str>,
}

/// What the span is named after, besides its operation.
#[derive(Debug, Clone, Copy)]
enum Subject<'a> {
    Model(&'a str),
    DataSource(&'a str),
    Agent(&'a str),
    Tool(&'a str),
    Workflow(&'a str),
}

impl<'a> GenAiSpan<'a> {
    fn new(operation: &'static str, subject: Subject<'a>) -> Self {
        GenAiSpan {
            operation,
            provider: None,
            subject,
            server: None,
            max_tokens: None,
            temperature: None,
            top_p: None,
            conversation_id: None,
            tool_call_id: None,
        }
    }

    /// A chat completion (`chat {model}`, CLIENT).
    pub fn chat(provider: &'a str, model: &'a str) -> Self {
        Self::new(operation::CHAT, Subject::Model(model)).provider(provider)
    }

    /// A text completion (`text_completion {model}`, CLIENT).
    pub fn text_completion(provider: &'a str, model: &'a str) -> Self {
        Self::new(operation::TEXT_COMPLETION, Subject::Model(model)).provider(provider)
    }

    /// An embeddings request (`embeddings {model}`, CLIENT).
    pub fn embeddings(provider: &'a str, model: &'a str) -> Self {
        Self::new(operation::EMBEDDINGS, Subject::Model(model)).provider(provider)
    }

    /// A retrieval (`retrieval {data_source_id}`, CLIENT).
    pub fn retrieval(data_source_id: &'a str) -> Self {
        Self::new(operation::RETRIEVAL, Subject::DataSource(data_source_id))
    }

    /// An agent invocation (`invoke_agent {name}`; INTERNAL, or CLIENT with a server).
    pub fn invoke_agent(name: &'a str) -> Self {
        Self::new(operation::INVOKE_AGENT, Subject::Agent(name))
    }

    /// A tool execution (`execute_tool {name}`, INTERNAL).
    pub fn execute_tool(name: &'a str) -> Self {
        Self::new(operation::EXECUTE_TOOL, Subject::Tool(name))
    }

    /// A workflow invocation (`invoke_workflow {name}`, INTERNAL).
    pub fn invoke_workflow(name: &'a str) -> Self {
        Self::new(operation::INVOKE_WORKFLOW, Subject::Workflow(name))
    }

    /// The provider (`gen_ai.provider.name`).
    pub fn provider(mut self, provider: &'a str) -> Self {
        self.provider = Some(provider);
        self
    }

    /// The server (`server.address`, `server.port`).
    pub fn server(mut self, address: &'a str, port: u16) -> Self {
        self.server = Some((address, port));
        self
    }

    /// `gen_ai.request.max_tokens`, exported as an integer.
    pub fn max_tokens(mut self, max_tokens: u64) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// `gen_ai.request.temperature`.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// `gen_ai.request.top_p`.
    pub fn top_p(mut self, top_p: f64) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// `gen_ai.conversation.id`: the conversation (session, thread) the call
    /// belongs to, when the application has one — the conventions ask for it
    /// then, and never for an invented one.
    pub fn conversation_id(mut self, id: &'a str) -> Self {
        self.conversation_id = Some(id);
        self
    }

    /// `gen_ai.tool.call.id`: the id the model gave the tool call this span
    /// executes.
    pub fn tool_call_id(mut self, id: &'a str) -> Self {
        self.tool_call_id = Some(id);
        self
    }

    /// Creates the span (a child of the current span). Enter it, or
    /// `.instrument()` a future with it.
    ///
    /// Everything given is recorded as the span is created, typed (a `u64`
    /// as an `i64`, so it is not made text on the way), where samplers see
    /// it; the fields not given are declared empty, to record later.
    pub fn start(self) -> Span {
        let (address, port) = match self.server {
            Some((a, p)) => (Some(a), Some(i64::from(p))),
            None => (None, None),
        };
        let (mut model, mut data_source, mut agent, mut tool, mut workflow) =
            (None, None, None, None, None);
        match self.subject {
            Subject::Model(m) => model = Some(m),
            Subject::DataSource(d) => data_source = Some(d),
            Subject::Agent(a) => agent = Some(a),
            Subject::Tool(t) => tool = Some(t),
            Subject::Workflow(w) => workflow = Some(w),
        }
        // The name (`chat gpt-4o`) and kind come from these fields as the
        // span starts (`GenAiTracer`). A `None` field is declared, not
        // recorded: it can still be recorded later.
        tracing::info_span!(
            target: "gen_ai",
            "gen_ai",
            gen_ai.operation.name = self.operation,
            gen_ai.provider.name = self.provider,
            gen_ai.request.model = model,
            gen_ai.data_source.id = data_source,
            gen_ai.agent.name = agent,
            gen_ai.tool.name = tool,
            gen_ai.workflow.name = workflow,
            server.address = address,
            server.port = port,
            gen_ai.request.max_tokens = self.max_tokens.map(saturating_i64),
            gen_ai.request.temperature = self.temperature,
            gen_ai.request.top_p = self.top_p,
            gen_ai.request.stream = tracing::field::Empty,
            gen_ai.conversation.id = self.conversation_id,
            gen_ai.tool.call.id = self.tool_call_id,
        )
    }
}

/// Ends a streaming call's span when the stream is done — or dropped before
/// it was fully read, with what was known by then. Mark the first chunk with
/// [`chunk`](Self::chunk) for `gen_ai.response.time_to_first_chunk` and the
/// time-to-first-chunk metric.
#[derive(Debug)]
pub struct Streaming {
    span: Span,
    started: Instant,
    /// When the last chunk arrived (`None` before the first).
    last: Option<Instant>,
    /// Seconds between consecutive chunks after the first, for the
    /// time-per-output-chunk metric (at most [`MAX_CHUNK_INTERVALS`]).
    intervals: Vec<f64>,
    finished: bool,
}

/// The span attribute that carries a stream's chunk intervals to the
/// [`ConformedSpan`](crate::ConformedSpan), which keeps them off the span and
/// records them as `gen_ai.client.operation.time_per_output_chunk` (or to
/// [`GenAiProcessor`](crate::GenAiProcessor), which measures the spans it
/// conforms entirely and removes the attribute before export): this is how
/// a stream's per-chunk timings reach the metrics.
pub(crate) const CHUNK_INTERVALS: &str = "selvedge.gen_ai.chunk_intervals";

/// Chunk intervals kept per stream; later chunks are not measured (a stream of
/// more chunks than this is measured by its first ones).
pub const MAX_CHUNK_INTERVALS: usize = 16_384;

impl Streaming {
    /// Takes over `span` (marked `gen_ai.request.stream = true`).
    pub fn new(span: Span) -> Self {
        span.set_attribute(sc::REQUEST_STREAM, true);
        Streaming {
            span,
            started: Instant::now(),
            last: None,
            intervals: Vec::new(),
            finished: false,
        }
    }

    /// The span, e.g. to `.instrument()` the code that reads the stream.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Call for every chunk received: the first sets the time to first chunk,
    /// each later one is measured from the one before (time per output chunk).
    pub fn chunk(&mut self) {
        let now = Instant::now();
        match self.last {
            None => {
                let seconds = now.duration_since(self.started).as_secs_f64();
                self.span
                    .set_attribute(sc::RESPONSE_TIME_TO_FIRST_CHUNK, seconds);
            }
            Some(last) if self.intervals.len() < MAX_CHUNK_INTERVALS => {
                self.intervals.push(now.duration_since(last).as_secs_f64());
            }
            Some(_) => {}
        }
        self.last = Some(now);
    }

    /// The stream ended normally with `response`; the span ends now.
    pub fn finish(mut self, response: &Response<'_>) {
        record_response(&self.span, response);
        self.finished = true;
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        if !self.intervals.is_empty() {
            let intervals = std::mem::take(&mut self.intervals);
            self.span
                .set_attribute(CHUNK_INTERVALS, Value::Array(Array::F64(intervals)));
        }
        if !self.finished {
            // Dropped before the end: the span still ends, saying so.
            self.span
                .set_attribute("selvedge.gen_ai.stream.incomplete", true);
        }
    }
}
