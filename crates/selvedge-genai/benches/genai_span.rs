//! What the GenAI conventions cost per LLM-call span, against the
//! tracing-opentelemetry layer alone, in the same run.
//!
//! The span: `info_span!("llm.call", gen_ai.operation.name = "chat",
//! gen_ai.provider.name = "openai", gen_ai.request.model = "gpt-4o",
//! server.address, server.port, gen_ai.request.max_tokens = 256_u64, …)`, entered
//! and closed, with one usage record (input and output tokens as `u64`).
//! Both variants: simple span processor, no-op exporter.
//!
//! - `genai/otel_only`: registry + tracing-opentelemetry.
//! - `genai/with_genai`: + `GenAiTracer`, `GenAiProcessor` with metrics on (SDK
//!   histograms, exported never), `GenAiSampler`, `GenAiLayer`.
//!
//! - `genai/conform_only`, `genai/layer_only`: parts of `with_genai` (tracer +
//!   processor without metrics; the layer alone), to show where the cost is.
//! - `genai/otel_only_batch`, `genai/with_genai_batch`: the same pair with the
//!   SDK's batch span processor, as deployed (a thread of its own exports and
//!   frees the spans), instead of the simple processor.
//!
//! Each in its own process:
//! ```text
//! cargo bench -p selvedge-genai --bench genai_span -- --exact genai/otel_only
//! cargo bench -p selvedge-genai --bench genai_span -- --exact genai/with_genai
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
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

/// Accepts metrics and drops them (collected once an hour: never, in a benchmark).
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

fn otel_only(c: &mut Criterion) {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(Noop)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    tracing::subscriber::with_default(subscriber, || {
        c.bench_function("genai/otel_only", |b| b.iter(llm_call));
    });
}

/// A meter provider whose reader never collects during a benchmark.
fn meters() -> SdkMeterProvider {
    let reader = PeriodicReader::builder(NoopMetrics)
        .with_interval(std::time::Duration::from_secs(3600))
        .build();
    SdkMeterProvider::builder().with_reader(reader).build()
}

fn with_genai(c: &mut Criterion) {
    let options = Options::default();
    let meters = meters();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(
            GenAiProcessor::new(SimpleSpanProcessor::new(Noop), options)
                .with_metrics(&meters.meter("bench")),
        )
        .with_sampler(GenAiSampler::new(Sampler::ParentBased(Box::new(
            Sampler::AlwaysOn,
        ))))
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(GenAiLayer::new(options))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(GenAiTracer::new(provider.tracer("bench"), options)),
        );
    tracing::subscriber::with_default(subscriber, || {
        c.bench_function("genai/with_genai", |b| b.iter(llm_call));
    });
}

fn conform_only(c: &mut Criterion) {
    let options = Options::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(GenAiProcessor::new(SimpleSpanProcessor::new(Noop), options))
        .build();
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer()
            .with_tracer(GenAiTracer::new(provider.tracer("bench"), options)),
    );
    tracing::subscriber::with_default(subscriber, || {
        c.bench_function("genai/conform_only", |b| b.iter(llm_call));
    });
}

fn layer_only(c: &mut Criterion) {
    let options = Options::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(Noop)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(GenAiLayer::new(options))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    tracing::subscriber::with_default(subscriber, || {
        c.bench_function("genai/layer_only", |b| b.iter(llm_call));
    });
}

/// The same pair with the SDK's batch processor (its own thread exports and
/// frees finished spans, as in production) instead of the simple one.
fn otel_only_batch(c: &mut Criterion) {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Noop)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    tracing::subscriber::with_default(subscriber, || {
        c.bench_function("genai/otel_only_batch", |b| b.iter(llm_call));
    });
    let _ = provider.shutdown();
}

fn with_genai_batch(c: &mut Criterion) {
    let options = Options::default();
    let meters = meters();
    let batch = opentelemetry_sdk::trace::BatchSpanProcessor::builder(Noop).build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(
            GenAiProcessor::new(batch, options).with_metrics(&meters.meter("bench")),
        )
        .with_sampler(GenAiSampler::new(Sampler::ParentBased(Box::new(
            Sampler::AlwaysOn,
        ))))
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(GenAiLayer::new(options))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(GenAiTracer::new(provider.tracer("bench"), options)),
        );
    tracing::subscriber::with_default(subscriber, || {
        c.bench_function("genai/with_genai_batch", |b| b.iter(llm_call));
    });
    let _ = provider.shutdown();
}

criterion_group!(
    benches,
    otel_only,
    with_genai,
    conform_only,
    layer_only,
    otel_only_batch,
    with_genai_batch
);
criterion_main!(benches);
