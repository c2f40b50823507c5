//! [`GenAiTracer`]: conforms GenAI spans as they start, and builds the
//! [`ConformedSpan`]s that follow them to their end.

use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::metrics::Meter;
use opentelemetry::trace::{Span as _, SpanBuilder, TraceContextExt as _, Tracer};
use opentelemetry::Context;

use crate::config::Options;
use crate::conform::conform_start;
use crate::metrics::Instruments;
use crate::rollup;
use crate::span::ConformedSpan;
use crate::tracked::Tracked;

/// Wraps the tracer given to tracing-opentelemetry, so every GenAI span gets
/// its conventional name (`chat gpt-4o`, `execute_tool get_weather`), kind
/// (CLIENT / INTERNAL) and typed attributes *before* it starts: the kind of an
/// OTel span cannot change later, and samplers see the span as it starts.
///
/// The span it returns, a [`ConformedSpan`], conforms each value recorded on
/// it later, and as it ends rolls usage up and records the GenAI client
/// metrics ([`with_metrics`](Self::with_metrics)) — for unsampled spans too,
/// which the inner tracer does not record. Pair it with
/// [`GenAiProcessor`](crate::GenAiProcessor) for the spans that need a full
/// pass after all: the span tells the processor, as it ends, whether it does.
///
/// It also notes agent and workflow spans, and while one is open the spans
/// that start beneath it, so the usage of the model calls beneath can be
/// rolled up onto them.
///
/// Spans without `gen_ai.*` / `llm.*` fields pass through untouched.
///
/// ```
/// use opentelemetry::trace::TracerProvider as _;
/// use selvedge_genai::{GenAiTracer, Options};
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// let tracer = GenAiTracer::new(provider.tracer("app"), Options::default())
///     .with_metrics(&opentelemetry::metrics::MeterProvider::meter(&meters, "selvedge-genai"));
/// let layer = tracing_opentelemetry::layer::<tracing_subscriber::Registry>().with_tracer(tracer);
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
pub struct GenAiTracer<T> {
    inner: T,
    options: Options,
    instruments: Option<Arc<Instruments>>,
}

impl<T> GenAiTracer<T> {
    /// Wraps `inner`.
    pub fn new(inner: T, options: Options) -> Self {
        Self {
            inner,
            options,
            instruments: None,
        }
    }

    /// Records the GenAI client metrics of the spans it builds with `meter`
    /// (e.g. `opentelemetry::global::meter("selvedge-genai")`), sampled or not.
    pub fn with_metrics(mut self, meter: &Meter) -> Self {
        self.instruments = Some(Arc::new(Instruments::new(meter, &self.options)));
        self
    }
}

impl<T: Tracer> Tracer for GenAiTracer<T> {
    type Span = ConformedSpan<T::Span>;

    fn build_with_context(&self, mut builder: SpanBuilder, parent_cx: &Context) -> Self::Span {
        let mut container = false;
        let mut genai = None;
        if let Some(attrs) = builder.attributes.as_mut() {
            if let Some(shape) = conform_start(attrs, &self.options) {
                let start = *builder.start_time.get_or_insert_with(SystemTime::now);
                genai = Some(Box::new(Tracked::start(
                    &shape,
                    &self.options,
                    self.instruments.as_ref(),
                    start,
                )));
                builder.name = crate::names::name(&shape);
                builder.span_kind = Some(shape.kind.clone());
                container = shape.op.is_container();
            }
        }
        let span = self.inner.build_with_context(builder, parent_cx);
        // Agents and workflows, and while one is open the spans beneath it. A
        // container the sampler dropped is not recorded (its sums would go
        // nowhere): not noted.
        let container = container && span.is_recording();
        if container || rollup::any_open() {
            let parent = parent_cx.span().span_context().span_id();
            let own = span.span_context();
            rollup::started(own.trace_id(), own.span_id(), parent, container);
        }
        ConformedSpan::new(span, genai)
    }
}
