//! [`GenAiTracer`]: conforms GenAI spans as they start.

use opentelemetry::trace::{Span as _, SpanBuilder, TraceContextExt as _, Tracer};
use opentelemetry::Context;

use crate::config::Options;
use crate::conform::conform_start;
use crate::rollup;

/// Wraps the tracer given to tracing-opentelemetry, so every GenAI span gets
/// its conventional name (`chat gpt-4o`, `execute_tool get_weather`), kind
/// (CLIENT / INTERNAL) and typed attributes *before* it starts: the kind of an
/// OTel span cannot change later, and samplers see the span as it starts.
///
/// Pair it with [`GenAiProcessor`](crate::GenAiProcessor), which conforms what
/// is recorded after the start; the name it gives a span also lets the
/// processor find where the start left everything (plain text to anyone else).
///
/// It also notes agent and workflow spans, and while one is open the spans
/// that start beneath it, so the processor can roll the usage of the model
/// calls up onto them.
///
/// Spans without `gen_ai.*` / `llm.*` fields pass through untouched.
///
/// ```
/// use opentelemetry::trace::TracerProvider as _;
/// use selvedge_genai::{GenAiTracer, Options};
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let tracer = GenAiTracer::new(provider.tracer("app"), Options::default());
/// let layer = tracing_opentelemetry::layer::<tracing_subscriber::Registry>().with_tracer(tracer);
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
pub struct GenAiTracer<T> {
    inner: T,
    options: Options,
}

impl<T> GenAiTracer<T> {
    /// Wraps `inner`.
    pub fn new(inner: T, options: Options) -> Self {
        Self { inner, options }
    }
}

impl<T: Tracer> Tracer for GenAiTracer<T> {
    type Span = T::Span;

    fn build_with_context(&self, mut builder: SpanBuilder, parent_cx: &Context) -> Self::Span {
        let mut container = false;
        if let Some(attrs) = builder.attributes.as_mut() {
            if let Some(shape) = conform_start(attrs, &self.options) {
                builder.name = crate::names::name(&shape);
                builder.span_kind = Some(shape.kind);
                container = shape.op.is_container();
            }
        }
        let span = self.inner.build_with_context(builder, parent_cx);
        // Agents and workflows, and while one is open the spans beneath it. A
        // container the sampler dropped never reaches the processor: not noted.
        let container = container && span.is_recording();
        if container || rollup::any_open() {
            let parent = parent_cx.span().span_context().span_id();
            let own = span.span_context();
            rollup::started(own.trace_id(), own.span_id(), parent, container);
        }
        span
    }
}
