//! The benchmark's floor (`benches/common/floor.rs`) is a bound only if it
//! does all the required work: on the benchmark's LLM-call span it must
//! export what the real GenAI parts export — the span's name, kind and GenAI
//! attributes with their types, and the same metric data points.

#[allow(dead_code)] // the benchmark's other spans and stacks
#[path = "../benches/common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use opentelemetry::trace::SpanKind;
use opentelemetry::Value;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};

/// What one stack exported for one LLM-call span.
#[derive(Debug, PartialEq)]
struct Exported {
    name: String,
    kind: SpanKind,
    /// The span's `gen_ai.*` and `server.*` attributes.
    attributes: BTreeMap<String, Value>,
    /// Metric name → data points, each as (its attributes, count, sum).
    metrics: BTreeMap<String, Vec<(Vec<String>, u64, String)>>,
}

fn run(
    stack: fn(SimpleSpanProcessor<InMemorySpanExporter>, SdkMeterProvider) -> common::Stack,
) -> Exported {
    let spans = InMemorySpanExporter::default();
    let metrics = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    let stack = stack(SimpleSpanProcessor::new(spans.clone()), meters.clone());
    tracing::dispatcher::with_default(&stack.dispatch, common::llm_call);
    meters.force_flush().expect("metrics flushed");

    let mut finished = spans.get_finished_spans().expect("spans");
    assert_eq!(finished.len(), 1, "one span");
    let span = finished.remove(0);
    let attributes = span
        .attributes
        .iter()
        .filter(|kv| {
            ["gen_ai.", "server."]
                .iter()
                .any(|p| kv.key.as_str().starts_with(p))
        })
        .map(|kv| (kv.key.to_string(), kv.value.clone()))
        .collect();

    let mut points = BTreeMap::<String, Vec<_>>::new();
    let collected = metrics.get_finished_metrics().expect("metrics");
    let last = collected.last().expect("one collection");
    for metric in last.scope_metrics().flat_map(|s| s.metrics()) {
        let entry = points.entry(metric.name().to_string()).or_default();
        let attrs = |a: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
            let mut v: Vec<String> = a.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
            v.sort();
            v
        };
        match metric.data() {
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                for p in h.data_points() {
                    // Durations differ from run to run: counted, not summed.
                    entry.push((attrs(&mut p.attributes()), p.count(), String::new()));
                }
            }
            AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                for p in h.data_points() {
                    entry.push((attrs(&mut p.attributes()), p.count(), p.sum().to_string()));
                }
            }
            other => panic!("{}: not a histogram: {other:?}", metric.name()),
        }
        entry.sort();
    }
    Exported {
        name: span.name.to_string(),
        kind: span.span_kind,
        attributes,
        metrics: points,
    }
}

#[test]
fn the_floor_exports_what_the_genai_parts_export_for_the_benchmark_span() {
    let genai = run(common::with_genai_metered);
    let floor = run(common::floor_metered);

    // What the real parts export, so the comparison cannot pass on two empty sides.
    assert_eq!(genai.name, "chat gpt-4o");
    assert_eq!(genai.kind, SpanKind::Client);
    assert_eq!(
        genai.attributes.get("gen_ai.request.max_tokens"),
        Some(&Value::I64(256))
    );
    assert_eq!(
        genai.attributes.get("gen_ai.usage.input_tokens"),
        Some(&Value::I64(42))
    );
    let tokens = &genai.metrics["gen_ai.client.token.usage"];
    assert_eq!(tokens.len(), 2, "input and output");
    assert_eq!(genai.metrics["gen_ai.client.operation.duration"][0].1, 1);

    assert_eq!(floor, genai);
}
