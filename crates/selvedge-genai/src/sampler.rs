//! [`GenAiSampler`]: unsampled GenAI spans are still recorded, for their metrics.

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

use crate::semconv as sc;

/// Wraps a sampler so that a GenAI span it would drop is recorded instead
/// (`RecordOnly`): not exported — batch processors and exporters only take
/// sampled spans — but seen by [`GenAiProcessor`](crate::GenAiProcessor), so
/// the GenAI client metrics count every operation, as the conventions expect
/// of metrics, whatever the trace sampling rate.
///
/// A span is a GenAI span when it carries `gen_ai.operation.name` as it starts
/// ([`GenAiTracer`](crate::GenAiTracer) adds it for spans described only by a
/// model or provider). Other spans get the inner sampler's decision unchanged.
#[derive(Debug, Clone)]
pub struct GenAiSampler<S> {
    inner: S,
}

impl<S> GenAiSampler<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S: ShouldSample + Clone + 'static> ShouldSample for GenAiSampler<S> {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let mut result =
            self.inner
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
        if result.decision == SamplingDecision::Drop
            && attributes
                .iter()
                .any(|kv| kv.key.as_str() == sc::OPERATION_NAME)
        {
            result.decision = SamplingDecision::RecordOnly;
        }
        result
    }
}
