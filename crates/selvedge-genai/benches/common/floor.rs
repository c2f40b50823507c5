//! The floor: the least work the GenAI conventions and metrics add to the
//! benchmark's LLM-call span, with everything a real implementation has to
//! find out per span known in advance. Not a usable implementation — it
//! knows the one callsite it is measured on — but a bound on what that work
//! costs through tracing-opentelemetry and the SDK's metrics, done this way.
//!
//! What it does per span, and nothing else:
//! - the conventional name (`chat gpt-4o`, static) and kind (CLIENT) set on
//!   the builder before the span starts;
//! - `gen_ai.request.max_tokens`, which tracing-opentelemetry hands over as
//!   text, typed as an integer (found by its key, parsed);
//! - the two token counts noted as they are recorded (they arrive as
//!   integers: [`GenAiLayer`](selvedge_genai::GenAiLayer) is kept, as it saves
//!   work against the baseline);
//! - at the end, the operation duration and the two token-usage measurements
//!   in series bound once, before the run (no lookup of the series at all).
//!
//! What it leaves out, which the real parts must do: classifying the span's
//! keys (here known), building or finding its name and metric series from
//! its values (here static), the roll-up under agents, `error.type`, the
//! late, legacy and restructured cases, and the processor's hand-off.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::metrics::{BoundHistogram, Meter};
use opentelemetry::trace::{Span, SpanBuilder, SpanContext, SpanKind, Status, Tracer};
use opentelemetry::{Context, KeyValue, Value};
use selvedge_genai::semconv::{self as sc, v1_41};

/// The benchmark span's three measurements, bound once.
struct Bound {
    duration: BoundHistogram<f64>,
    input: BoundHistogram<u64>,
    output: BoundHistogram<u64>,
}

/// Sets the benchmark span's name and kind and types its `max_tokens`; its
/// spans record the metrics.
pub struct FloorTracer<T> {
    inner: T,
    bound: Arc<Bound>,
}

impl<T> FloorTracer<T> {
    /// Wraps `inner`; the instruments are built on `meter` as the real ones
    /// are (same names, units, buckets) and bound to the span's series.
    pub fn new(inner: T, meter: &Meter) -> Self {
        let series = [
            KeyValue::new(sc::OPERATION_NAME, "chat"),
            KeyValue::new(sc::PROVIDER_NAME, "openai"),
            KeyValue::new(sc::REQUEST_MODEL, "gpt-4o"),
            KeyValue::new(sc::SERVER_ADDRESS, "api.openai.com"),
            KeyValue::new(sc::SERVER_PORT, 443_i64),
        ];
        let duration = meter
            .f64_histogram(v1_41::METRIC_OPERATION_DURATION)
            .with_unit("s")
            .with_boundaries(v1_41::DURATION_BUCKETS.to_vec())
            .build();
        let tokens = meter
            .u64_histogram(v1_41::METRIC_TOKEN_USAGE)
            .with_unit("{token}")
            .with_boundaries(v1_41::TOKEN_BUCKETS.to_vec())
            .build();
        let typed = |token_type: &'static str| {
            let mut attrs = series.to_vec();
            attrs.push(KeyValue::new(sc::TOKEN_TYPE, token_type));
            tokens.bind(&attrs)
        };
        let bound = Bound {
            duration: duration.bind(&series),
            input: typed("input"),
            output: typed("output"),
        };
        FloorTracer {
            inner,
            bound: Arc::new(bound),
        }
    }
}

impl<T: Tracer> Tracer for FloorTracer<T> {
    type Span = FloorSpan<T::Span>;

    fn build_with_context(&self, mut builder: SpanBuilder, parent_cx: &Context) -> Self::Span {
        builder.name = Cow::Borrowed("chat gpt-4o");
        builder.span_kind = Some(SpanKind::Client);
        let start = *builder.start_time.get_or_insert_with(SystemTime::now);
        if let Some(kv) = builder
            .attributes
            .iter_mut()
            .flatten()
            .find(|kv| kv.key.as_str() == sc::REQUEST_MAX_TOKENS)
        {
            if let Value::String(s) = &kv.value {
                if let Ok(n) = s.as_str().parse::<i64>() {
                    kv.value = Value::I64(n);
                }
            }
        }
        FloorSpan {
            inner: self.inner.build_with_context(builder, parent_cx),
            start,
            tokens: [0; 2],
            bound: self.bound.clone(),
        }
    }
}

/// The inner span, the token counts recorded on it and its start.
pub struct FloorSpan<S> {
    inner: S,
    start: SystemTime,
    tokens: [i64; 2],
    bound: Arc<Bound>,
}

impl<S: Span> Span for FloorSpan<S> {
    fn add_event_with_timestamp<N>(
        &mut self,
        name: N,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        N: Into<Cow<'static, str>>,
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

    fn set_attribute(&mut self, attribute: KeyValue) {
        if let Value::I64(n) = attribute.value {
            let key = attribute.key.as_str();
            if key == sc::USAGE_INPUT_TOKENS {
                self.tokens[0] = n;
            } else if key == sc::USAGE_OUTPUT_TOKENS {
                self.tokens[1] = n;
            }
        }
        self.inner.set_attribute(attribute)
    }

    fn set_status(&mut self, status: Status) {
        self.inner.set_status(status)
    }

    fn update_name<N>(&mut self, _new_name: N)
    where
        N: Into<Cow<'static, str>>,
    {
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        self.inner.add_link(span_context, attributes)
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        let seconds = timestamp
            .duration_since(self.start)
            .unwrap_or_default()
            .as_secs_f64();
        self.bound.duration.record(seconds);
        self.bound.input.record(self.tokens[0] as u64);
        self.bound.output.record(self.tokens[1] as u64);
        self.inner.end_with_timestamp(timestamp)
    }
}
