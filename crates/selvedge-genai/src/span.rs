//! [`ConformedSpan`]: the span [`GenAiTracer`](crate::GenAiTracer) builds.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{Span, SpanContext, Status};
use opentelemetry::KeyValue;

use crate::handoff::{self, Verdict};
use crate::rollup;
use crate::tracked::Tracked;

/// The OTel span [`GenAiTracer`](crate::GenAiTracer) builds: the inner
/// tracer's span, and for a GenAI span what it needs to conform each value
/// recorded on it (token counts arrive from tracing-opentelemetry as strings)
/// and, as it ends, to record its metrics and roll-up and set its status.
///
/// Unsampled spans are followed too (the inner span does not record them),
/// so the metrics count every operation whatever the sampler decides.
#[derive(Debug)]
pub struct ConformedSpan<S: Span> {
    inner: S,
    /// Boxed: most spans are not GenAI spans, and the SDK's span is moved
    /// a few times as it starts.
    genai: Option<Box<Tracked>>,
    /// Not a GenAI span as it started, but GenAI values were recorded since:
    /// `GenAiProcessor` conforms it, and rolls its usage up.
    late_genai: bool,
    /// Its end was seen (ended, or dropped).
    finished: bool,
}

impl<S: Span> ConformedSpan<S> {
    pub(crate) fn new(inner: S, genai: Option<Box<Tracked>>) -> Self {
        Self {
            inner,
            genai,
            late_genai: false,
            finished: false,
        }
    }

    /// What the span's end does before the inner span ends: its metrics,
    /// status and roll-up, and the processor's note. Once, whether the span
    /// is ended or only dropped.
    fn finish(&mut self, timestamp: SystemTime) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let (usage, verdict) = match self.genai.take() {
            Some(t) => {
                let ending = t.end(timestamp);
                if let Some(error) = ending.error {
                    // The SDK keeps a status set before (Ok, or Error with its
                    // own description): this only fills an Unset one.
                    self.inner.set_status(Status::error(error));
                }
                (ending.usage, ending.verdict)
            }
            None if self.late_genai => (None, Verdict::Late),
            None => (None, Verdict::Done),
        };
        // A late GenAI span's usage is known once the processor has
        // conformed it: the processor rolls it up — if it ever sees the span.
        let processor_rolls_up = verdict == Verdict::Late && self.inner.is_recording();
        let (trace, id) = {
            let cx = self.inner.span_context();
            (cx.trace_id(), cx.span_id())
        };
        if rollup::any_open() && !processor_rolls_up {
            if let Some(sums) = rollup::ended(trace, id, usage) {
                for kv in sums.attributes() {
                    self.inner.set_attribute(kv);
                }
            }
        }
        handoff::leave(id, verdict);
    }
}

impl<S: Span> Span for ConformedSpan<S> {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        self.inner
            .add_event_with_timestamp(name, timestamp, attributes)
    }

    fn span_context(&self) -> &SpanContext {
        self.inner.span_context()
    }

    fn is_recording(&self) -> bool {
        self.inner.is_recording()
    }

    fn set_attribute(&mut self, mut attribute: KeyValue) {
        match &mut self.genai {
            Some(genai) => {
                if !genai.record(&mut attribute) {
                    return;
                }
            }
            None => {
                self.late_genai |= crate::conform::marks_genai(attribute.key.as_str());
            }
        }
        self.inner.set_attribute(attribute)
    }

    fn set_status(&mut self, status: Status) {
        self.inner.set_status(status)
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        // A GenAI span keeps its conventional name (`otel.name` included).
        if self.genai.is_none() {
            self.inner.update_name(new_name)
        }
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        self.inner.add_link(span_context, attributes)
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.finish(timestamp);
        self.inner.end_with_timestamp(timestamp)
    }
}

impl<S: Span> Drop for ConformedSpan<S> {
    fn drop(&mut self) {
        // Ended without `end` (the inner span ends itself as it drops, right
        // after this): its measurements and roll-up are still taken.
        if !self.finished {
            self.finish(SystemTime::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::trace::{
        Link, Span as _, SpanBuilder, SpanKind, TraceContextExt as _, TraceId, Tracer as _,
        TracerProvider as _,
    };
    use opentelemetry::{Context, KeyValue};
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
    use opentelemetry_sdk::trace::{
        Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample, SpanData,
        SpanProcessor,
    };

    use crate::rollup;
    use crate::semconv as sc;
    use crate::{GenAiProcessor, GenAiTracer, Options};

    #[derive(Debug, Default, Clone)]
    struct Ended(Arc<AtomicUsize>);

    impl SpanProcessor for Ended {
        fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &Context) {}
        fn on_end(&self, _: SpanData) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    #[test]
    fn an_unsampled_genai_span_is_followed_but_not_recorded() {
        let ended = Ended::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(ended.clone())
            .with_sampler(Sampler::AlwaysOff)
            .build();
        let tracer = GenAiTracer::new(provider.tracer("test"), Options::default());
        let builder = SpanBuilder::from_name("llm.call").with_attributes([
            KeyValue::new(sc::OPERATION_NAME, "chat"),
            KeyValue::new(sc::REQUEST_MODEL, "m"),
        ]);
        let mut span = tracer.build_with_context(builder, &Context::new());
        assert!(!span.is_recording(), "no span data kept for it");
        assert!(span.genai.is_some(), "but its values are followed");
        span.set_attribute(KeyValue::new(sc::USAGE_INPUT_TOKENS, "3"));
        span.end();
        assert!(span.genai.is_none(), "measured as it ended");
        assert_eq!(
            ended.0.load(Ordering::Relaxed),
            0,
            "never reached a processor"
        );
    }

    /// Samples every span but those named `unsampled`.
    #[derive(Debug, Clone)]
    struct AllBut;

    impl ShouldSample for AllBut {
        fn should_sample(
            &self,
            _: Option<&Context>,
            _: TraceId,
            name: &str,
            _: &SpanKind,
            _: &[KeyValue],
            _: &[Link],
        ) -> SamplingResult {
            SamplingResult {
                decision: match name {
                    "unsampled" => SamplingDecision::Drop,
                    _ => SamplingDecision::RecordAndSample,
                },
                attributes: Vec::new(),
                trace_state: Default::default(),
            }
        }
    }

    #[test]
    fn spans_beneath_an_agent_leave_its_tree_however_they_end() {
        let options = Options::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(GenAiProcessor::new(Ended::default(), options))
            .with_sampler(AllBut)
            .build();
        let tracer = GenAiTracer::new(provider.tracer("test"), options);
        let agent = tracer.build_with_context(
            SpanBuilder::from_name("agent").with_attributes([
                KeyValue::new(sc::OPERATION_NAME, "invoke_agent"),
                KeyValue::new(sc::AGENT_NAME, "a"),
            ]),
            &Context::new(),
        );
        let trace = agent.span_context().trace_id();
        let cx = Context::new().with_span(agent);
        let child = |name| tracer.build_with_context(SpanBuilder::from_name(name), &cx);
        // GenAI only by a value recorded later that names no operation: the
        // processor's full pass makes no GenAI span of it.
        let mut late = child("late");
        // The same, unsampled: the processor never sees it.
        let mut late_unsampled = child("unsampled");
        for span in [&mut late, &mut late_unsampled] {
            span.set_attribute(KeyValue::new(sc::CONVERSATION_ID, "c"));
        }
        // Never ended, only dropped.
        let dropped = child("dropped");
        let ids = [&late, &late_unsampled, &dropped].map(|s| s.span_context().span_id());
        assert!(ids.iter().all(|id| rollup::is_tracked(trace, *id)));
        late.end();
        late_unsampled.end();
        drop(dropped);
        for id in ids {
            assert!(!rollup::is_tracked(trace, id), "{id:?} still tracked");
        }
        cx.span().end();
    }

    /// The operations measured under `gen_ai.client.operation.duration`.
    fn measured(exporter: &InMemoryMetricExporter) -> u64 {
        let finished = exporter.get_finished_metrics().expect("metrics");
        let Some(last) = finished.last() else {
            return 0;
        };
        last.scope_metrics()
            .flat_map(|s| s.metrics())
            .filter(|m| m.name() == sc::v1_41::METRIC_OPERATION_DURATION)
            .map(|m| match m.data() {
                AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                    h.data_points().map(|p| p.count()).sum::<u64>()
                }
                other => panic!("not an f64 histogram: {other:?}"),
            })
            .sum()
    }

    #[test]
    fn a_span_is_measured_once_whether_ended_or_dropped() {
        for end in [true, false] {
            let exporter = InMemoryMetricExporter::default();
            let meters = SdkMeterProvider::builder()
                .with_reader(PeriodicReader::builder(exporter.clone()).build())
                .build();
            let meter = meters.meter("test");
            let options = Options::default();
            let provider = SdkTracerProvider::builder()
                // The processor measures only what the span cannot: not this.
                .with_span_processor(
                    GenAiProcessor::new(Ended::default(), options).with_metrics(&meter),
                )
                .build();
            let tracer = GenAiTracer::new(provider.tracer("test"), options).with_metrics(&meter);
            let builder = SpanBuilder::from_name("llm.call").with_attributes([
                KeyValue::new(sc::OPERATION_NAME, "chat"),
                KeyValue::new(sc::REQUEST_MODEL, "m"),
            ]);
            let mut span = tracer.build_with_context(builder, &Context::new());
            span.set_attribute(KeyValue::new(sc::USAGE_INPUT_TOKENS, "3"));
            if end {
                span.end();
            }
            drop(span);
            meters.force_flush().expect("flush");
            assert_eq!(measured(&exporter), 1, "ended: {end}");
        }
    }
}
