//! [`GenAiProcessor`]: conforms GenAI spans as they end, and records their metrics.

use std::time::Duration;

use opentelemetry::metrics::Meter;
use opentelemetry::trace::Status;
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::config::Options;
use crate::conform::conform;
use crate::handoff::{self, Verdict};
use crate::metrics::Instruments;
use crate::rollup;

/// Wraps the span processor: the full conformance pass for the finished GenAI
/// spans that need it, before they are handed on.
///
/// A span [`GenAiTracer`](crate::GenAiTracer) built was conformed as it ran
/// and passes straight through — unless its [`ConformedSpan`](crate::ConformedSpan)
/// could not settle something value by value (a key recorded twice, a legacy
/// name or a name-giving attribute recorded late, compatibility mode's legacy
/// mirrors) and asked for this pass. Every other span with GenAI attributes —
/// started without `GenAiTracer`, or GenAI only by values recorded after it
/// started — is conformed here entirely: names and types, duplicates keeping
/// the last value, the conventional name, `error.type` as status.
///
/// With [`with_metrics`](Self::with_metrics) it records the GenAI client
/// metrics of the spans it conforms entirely, from the conformed span (the
/// tracer's spans record their own, sampled or not). It sees only the spans
/// the sampler kept: GenAI spans started without `GenAiTracer` are measured
/// only when sampled.
///
/// Register it with the tracer provider itself, not behind a processor that
/// hands spans on from another thread: a span tells it what it still needs
/// on the thread that ends it (the SDK calls its processors there), and a
/// span whose word is lost is conformed and measured once more.
///
/// ```
/// use opentelemetry::metrics::MeterProvider as _;
/// use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
/// use selvedge_genai::{GenAiProcessor, Options};
/// # #[derive(Debug)]
/// # struct MyExporter;
/// # impl opentelemetry_sdk::trace::SpanExporter for MyExporter {
/// #     async fn export(&self, _: Vec<opentelemetry_sdk::trace::SpanData>) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
/// # }
///
/// let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// let exporter = MyExporter;
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(
///         GenAiProcessor::new(SimpleSpanProcessor::new(exporter), Options::default())
///             .with_metrics(&meters.meter("selvedge-genai")),
///     )
///     .build();
/// # let _ = provider;
/// ```
#[derive(Debug)]
pub struct GenAiProcessor<P> {
    inner: P,
    options: Options,
    instruments: Option<Instruments>,
}

impl<P> GenAiProcessor<P> {
    /// Wraps `inner`; no metrics until [`with_metrics`](Self::with_metrics).
    pub fn new(inner: P, options: Options) -> Self {
        Self {
            inner,
            options,
            instruments: None,
        }
    }

    /// Records the GenAI client metrics of the spans it conforms entirely
    /// with `meter` (e.g. `opentelemetry::global::meter("selvedge-genai")`;
    /// give [`GenAiTracer::with_metrics`](crate::GenAiTracer::with_metrics)
    /// the same one).
    pub fn with_metrics(mut self, meter: &Meter) -> Self {
        self.instruments = Some(Instruments::new(meter, &self.options));
        self
    }
}

impl<P: SpanProcessor> SpanProcessor for GenAiProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        // Spans conformed here alone (not built by `GenAiTracer`, or GenAI
        // only by what was recorded after the start) are measured and rolled
        // up here; a tracked span's wrapper did that, unless it asked.
        match handoff::take(span.span_context.span_id()) {
            Some(Verdict::Done) => self.inner.on_end(span),
            verdict => self.inner.on_end(self.full_pass(span, verdict)),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<P> GenAiProcessor<P> {
    /// The full pass over an ended span that asked for it (`verdict`) or was
    /// never followed: out of line, so the path every other span takes stays
    /// short (code that is not run still takes instruction-cache lines).
    #[inline(never)]
    fn full_pass(&self, mut span: SpanData, verdict: Option<Verdict>) -> SpanData {
        let (measure, roll_up) = match verdict {
            Some(Verdict::FullPass { measure }) => (measure, false),
            Some(Verdict::Late) | None => (true, true),
            Some(Verdict::Done) => return span,
        };
        let mut internal = None;
        let mut usage = None;
        let mut genai = false;
        if let Some(shape) = conform(&mut span.attributes, &self.options) {
            genai = true;
            if roll_up && rollup::any_open() {
                usage = shape.usage();
            }
            if let (true, Some(instruments)) = (measure, &self.instruments) {
                if let Some((key, tokens, stream)) = shape.measurements() {
                    let seconds = span
                        .end_time
                        .duration_since(span.start_time)
                        .unwrap_or_default()
                        .as_secs_f64();
                    instruments.record(key, seconds, &tokens, stream);
                }
            }
            internal = shape.chunk_intervals_at();
            // error.type (from an error event, mark_error, or recorded by the
            // caller) means the operation failed.
            if let Some(error_type) = shape.error_type() {
                if span.status == Status::Unset {
                    span.status = Status::error(error_type.to_string());
                }
            }
            if !shape.names(&span.name) {
                span.name = shape.name().into();
            }
        }
        // Only for the metrics: never exported.
        if let Some(i) = internal {
            span.attributes.remove(i);
        }
        // A late span's wrapper left its roll-up to this, whatever the full
        // pass made of it: its place in the tree is given up here too.
        let late = verdict == Some(Verdict::Late);
        if roll_up && (genai || late) && rollup::any_open() {
            let own = &span.span_context;
            if let Some(sums) = rollup::ended(own.trace_id(), own.span_id(), usage) {
                span.attributes.extend(sums.attributes());
            }
        }
        span
    }
}
