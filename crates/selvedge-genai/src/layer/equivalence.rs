//! `GenAiLayer`'s handoff of numbers against the way it saves: for any
//! values recorded on a GenAI span, handing the OTel layer `i64`s and `f64`s
//! must export exactly what the span's own retyping of tracing-opentelemetry's
//! text exports.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
use proptest::prelude::*;
use tracing_subscriber::layer::SubscriberExt as _;

use super::GenAiLayer;
use crate::config::{Options, Profile};
use crate::{GenAiProcessor, GenAiTracer};

/// The keys the span declares (a record must name one of them).
const KEYS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.request.max_tokens",
    "gen_ai.request.temperature",
    "gen_ai.request.top_k",
    "gen_ai.request.stream",
    "gen_ai.usage.prompt_tokens",
    "llm.prompt_tokens",
    "llm.max_tokens",
    "server.port",
    "app.count",
];

#[derive(Debug, Clone)]
enum Recorded {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    Text(String),
}

fn recorded() -> impl Strategy<Value = Recorded> {
    prop_oneof![
        4 => prop_oneof![0..100_000_u64, Just(i64::MAX as u64), Just(i64::MAX as u64 + 1), Just(u64::MAX)]
            .prop_map(Recorded::U64),
        1 => any::<i64>().prop_map(Recorded::I64),
        1 => prop_oneof![Just(0.5), Just(2.0), Just(-1.0)].prop_map(Recorded::F64),
        1 => any::<bool>().prop_map(Recorded::Bool),
        1 => prop_oneof![Just("12"), Just(" 7 "), Just("x")].prop_map(|s| Recorded::Text(s.into())),
    ]
}

/// A tracer provider with the GenAI processor, exporting into memory.
pub(super) fn provider(options: Options) -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(GenAiProcessor::new(
            SimpleSpanProcessor::new(exporter.clone()),
            options,
        ))
        .build();
    (provider, exporter)
}

/// A span with `records` recorded one field at a time — a chat span, or one
/// that is a GenAI span only if a GenAI value is recorded — exported through
/// the GenAI parts with or without `GenAiLayer` around the OTel layer.
fn exported(
    records: &[(usize, Recorded)],
    chat: bool,
    options: Options,
    wrapped: bool,
) -> Vec<KeyValue> {
    let (provider, exporter) = provider(options);
    let otel = tracing_opentelemetry::layer()
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_tracer(GenAiTracer::new(provider.tracer("test"), options));
    let run = || {
        let span = tracing::info_span!(
            "llm.call",
            gen_ai.operation.name = chat.then_some("chat"),
            gen_ai.request.model = chat.then_some("m"),
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            gen_ai.usage.cache_read.input_tokens = tracing::field::Empty,
            gen_ai.request.max_tokens = tracing::field::Empty,
            gen_ai.request.temperature = tracing::field::Empty,
            gen_ai.request.top_k = tracing::field::Empty,
            gen_ai.request.stream = tracing::field::Empty,
            gen_ai.usage.prompt_tokens = tracing::field::Empty,
            llm.prompt_tokens = tracing::field::Empty,
            llm.max_tokens = tracing::field::Empty,
            server.port = tracing::field::Empty,
            app.count = tracing::field::Empty,
        );
        let _entered = span.enter();
        for (key, value) in records {
            let key = KEYS[*key];
            match value {
                Recorded::U64(n) => span.record(key, *n),
                Recorded::I64(n) => span.record(key, *n),
                Recorded::F64(x) => span.record(key, *x),
                Recorded::Bool(b) => span.record(key, *b),
                Recorded::Text(s) => span.record(key, s.as_str()),
            };
        }
    };
    match wrapped {
        true => tracing::subscriber::with_default(
            tracing_subscriber::registry().with(GenAiLayer::new(otel, options)),
            run,
        ),
        false => tracing::subscriber::with_default(tracing_subscriber::registry().with(otel), run),
    }
    let mut spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 1);
    spans.remove(0).attributes
}

proptest! {
    #[test]
    fn handing_on_numbers_exports_what_retyping_text_does(
        records in proptest::collection::vec((0..KEYS.len(), recorded()), 0..8),
        chat in any::<bool>(),
        latest in any::<bool>(),
        compat in any::<bool>(),
    ) {
        let options = Options {
            profile: if latest { Profile::Latest } else { Profile::V1_41 },
            compat,
        };
        prop_assert_eq!(
            exported(&records, chat, options, true),
            exported(&records, chat, options, false)
        );
    }
}
