//! The GenAI benchmark's LLM-call span, run a fixed number of times, for a
//! deterministic count of the instructions it costs (timings on a shared
//! two-core machine vary by ±20 % from run to run; instruction counts do not).
//!
//! ```text
//! cargo build --release -p selvedge-genai --example genai_cost
//! for v in otel_only with_genai; do
//!   for n in 0 20000; do
//!     valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
//!       target/release/examples/genai_cost $v $n 2>&1 | grep 'I *refs'
//!   done
//! done
//! ```
//! Instructions per span = (I refs at 20000 − I refs at 0) / 20000. The
//! variants are the criterion benchmark's (`benches/genai_span.rs`): the
//! tracing-opentelemetry layer alone, and with the GenAI tracer, processor
//! (metrics on), sampler and layer.

use std::hint::black_box;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter,
};
use selvedge_genai::{GenAiLayer, GenAiProcessor, GenAiSampler, GenAiTracer, Options};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug)]
struct Noop;

impl SpanExporter for Noop {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

#[derive(Debug)]
struct NoopMetrics;

impl PushMetricExporter for NoopMetrics {
    async fn export(&self, _metrics: &ResourceMetrics) -> OTelSdkResult {
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// The same span as the criterion benchmark's.
fn llm_call() {
    let span = tracing::info_span!(
        "llm.call",
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = "openai",
        gen_ai.request.model = "gpt-4o",
        server.address = "api.openai.com",
        server.port = 443_i64,
        gen_ai.request.max_tokens = 256_u64,
        gen_ai.request.temperature = 0.2,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
    );
    let _entered = span.enter();
    span.record("gen_ai.usage.input_tokens", black_box(42_u64));
    span.record("gen_ai.usage.output_tokens", black_box(7_u64));
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "with_genai".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let options = Options::default();
    let reader = PeriodicReader::builder(NoopMetrics)
        .with_interval(std::time::Duration::from_secs(3600))
        .build();
    let meters = SdkMeterProvider::builder().with_reader(reader).build();
    let run = || (0..n).for_each(|_| llm_call());
    match variant.as_str() {
        "otel_only" => {
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(Noop)
                .build();
            let subscriber = tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("cost")));
            tracing::subscriber::with_default(subscriber, run);
        }
        "with_genai" => {
            let provider = SdkTracerProvider::builder()
                .with_span_processor(
                    GenAiProcessor::new(SimpleSpanProcessor::new(Noop), options)
                        .with_metrics(&meters.meter("cost")),
                )
                .with_sampler(GenAiSampler::new(Sampler::ParentBased(Box::new(
                    Sampler::AlwaysOn,
                ))))
                .build();
            let subscriber = tracing_subscriber::registry()
                .with(GenAiLayer::new(options))
                .with(
                    tracing_opentelemetry::layer()
                        .with_tracer(GenAiTracer::new(provider.tracer("cost"), options)),
                );
            tracing::subscriber::with_default(subscriber, run);
        }
        other => {
            eprintln!("genai_cost: unknown variant {other:?} (otel_only | with_genai)");
            std::process::exit(2);
        }
    }
}
