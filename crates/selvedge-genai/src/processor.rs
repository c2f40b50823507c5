//! [`GenAiProcessor`]: conforms GenAI spans as they end, and records their metrics.

use std::time::Duration;

use opentelemetry::metrics::Meter;
use opentelemetry::trace::Status;
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::config::Options;
use crate::conform::conform_end;
use crate::metrics::Instruments;
use crate::names::layout_of;
use crate::rollup;

/// Wraps the span processor: before a finished GenAI span is handed on, its
/// attributes are conformed once more — values recorded after the span started
/// (token counts recorded as `u64` arrive as strings from tracing-opentelemetry,
/// finish reasons as a rendered list, legacy names) get their names and types,
/// duplicates keep the last value, and the name picks up a model recorded late.
///
/// With [`with_metrics`](Self::with_metrics) it also records the GenAI client
/// metrics from the conformed span: the duration from its own start and end
/// times, the attributes from its own attributes, so span and metrics always
/// agree. It sees every GenAI span the sampler did not drop; wrap the sampler
/// in [`GenAiSampler`](crate::GenAiSampler) so unsampled GenAI spans are
/// recorded (not exported) and still counted.
///
/// ```
/// use opentelemetry::metrics::MeterProvider as _;
/// use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
/// use selvedge_genai::{GenAiProcessor, GenAiSampler, Options};
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
///     .with_sampler(GenAiSampler::new(opentelemetry_sdk::trace::Sampler::AlwaysOn))
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

    /// Records the GenAI client metrics with `meter` (e.g.
    /// `opentelemetry::global::meter("selvedge-genai")`).
    pub fn with_metrics(mut self, meter: &Meter) -> Self {
        self.instruments = Some(Instruments::new(meter, &self.options));
        self
    }
}

impl<P: SpanProcessor> SpanProcessor for GenAiProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        let mut internal = None;
        let mut usage = None;
        let layout = layout_of(&span.name);
        if let Some(shape) = conform_end(&mut span.attributes, layout, &self.options) {
            if rollup::any_open() {
                usage = shape.usage();
            }
            if let Some(instruments) = &self.instruments {
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
            if !shape.named && !shape.names(&span.name) {
                span.name = shape.name().into();
            }
        }
        // Only for the metrics: never exported.
        if let Some(i) = internal {
            span.attributes.remove(i);
        }
        if rollup::any_open() {
            let own = &span.span_context;
            if let Some(sums) = rollup::ended(own.trace_id(), own.span_id(), usage) {
                span.attributes.extend(sums.attributes());
            }
        }
        self.inner.on_end(span);
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
