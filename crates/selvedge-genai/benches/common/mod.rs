//! The span and the two stacks the GenAI cost is measured on, shared by the
//! criterion benchmark (`benches/genai_span.rs`) and the instruction-count
//! driver (`examples/genai_cost.rs`), so both measure exactly the same thing.

use std::hint::black_box;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter, SpanProcessor,
};
use selvedge_genai::{
    record_usage, GenAiLayer, GenAiProcessor, GenAiSpan, GenAiTracer, Options, Usage,
};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

mod floor;

/// Accepts every batch at once.
#[derive(Debug)]
pub struct Noop;

impl SpanExporter for Noop {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

/// Accepts metrics and drops them (collected once an hour: never, in a run).
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

/// An LLM call: its usual fields, entered, one usage record (two `u64`s), closed.
pub fn llm_call() {
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

/// The same LLM call written with selvedge's API: [`GenAiSpan`], and the
/// usage through [`record_usage`] (integers, no `u64` → text → integer).
pub fn api_call() {
    let span = GenAiSpan::chat("openai", "gpt-4o")
        .server("api.openai.com", 443)
        .max_tokens(256)
        .temperature(0.2)
        .start();
    let _entered = span.enter();
    record_usage(&span, &Usage::new(black_box(42), black_box(7)));
}

/// The simple span processor on the no-op exporter.
pub fn simple() -> SimpleSpanProcessor<Noop> {
    SimpleSpanProcessor::new(Noop)
}

/// The SDK's batch span processor on the no-op exporter, as deployed (a
/// thread of its own exports and frees the spans), with a queue that holds
/// every span of a counted run: none is dropped however the threads are
/// scheduled, so each run counts the same work.
#[allow(dead_code)] // used by the cost driver, not the benchmark
pub fn roomy_batch() -> opentelemetry_sdk::trace::BatchSpanProcessor {
    opentelemetry_sdk::trace::BatchSpanProcessor::builder(Noop)
        .with_batch_config(
            opentelemetry_sdk::trace::BatchConfigBuilder::default()
                .with_max_queue_size(1 << 16)
                .build(),
        )
        .build()
}

/// A running stack: keep it alive while measuring under `dispatch`.
pub struct Stack {
    pub dispatch: Dispatch,
    pub tracers: SdkTracerProvider,
    _meters: Option<SdkMeterProvider>,
}

/// (a) Registry + tracing-opentelemetry, spans handed to `processor`.
pub fn otel_only(processor: impl SpanProcessor + 'static) -> Stack {
    otel_sampled_by(processor, sdk_default())
}

/// (b) The same + `GenAiTracer` with metrics on (SDK histograms, collected
/// never), `GenAiProcessor` and `GenAiLayer`.
pub fn with_genai(processor: impl SpanProcessor + 'static) -> Stack {
    genai_sampled_by(processor, sdk_default())
}

/// (a) with nothing sampled: tracing-opentelemetry still builds every span.
pub fn otel_only_unsampled(processor: impl SpanProcessor + 'static) -> Stack {
    otel_sampled_by(processor, Sampler::AlwaysOff)
}

/// (b) with nothing sampled: the GenAI metrics still count every span.
pub fn with_genai_unsampled(processor: impl SpanProcessor + 'static) -> Stack {
    genai_sampled_by(processor, Sampler::AlwaysOff)
}

/// The SDK's own default sampler.
fn sdk_default() -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
}

fn otel_sampled_by(processor: impl SpanProcessor + 'static, sampler: Sampler) -> Stack {
    let tracers = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(sampler)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracers.tracer("bench")));
    Stack {
        dispatch: Dispatch::new(subscriber),
        tracers,
        _meters: None,
    }
}

fn genai_sampled_by(processor: impl SpanProcessor + 'static, sampler: Sampler) -> Stack {
    genai_metered(processor, sampler, idle_meters())
}

/// (b) with its metrics on `meters`.
#[allow(dead_code)] // used by the floor's test, not the benchmark
pub fn with_genai_metered(
    processor: impl SpanProcessor + 'static,
    meters: SdkMeterProvider,
) -> Stack {
    genai_metered(processor, sdk_default(), meters)
}

/// Meters whose reader collects once an hour: never, in a run.
fn idle_meters() -> SdkMeterProvider {
    let reader = PeriodicReader::builder(NoopMetrics)
        .with_interval(std::time::Duration::from_secs(3600))
        .build();
    SdkMeterProvider::builder().with_reader(reader).build()
}

fn genai_metered(
    processor: impl SpanProcessor + 'static,
    sampler: Sampler,
    meters: SdkMeterProvider,
) -> Stack {
    let options = Options::default();
    let meter = meters.meter("bench");
    let tracers = SdkTracerProvider::builder()
        .with_span_processor(GenAiProcessor::new(processor, options).with_metrics(&meter))
        .with_sampler(sampler)
        .build();
    let subscriber = tracing_subscriber::registry().with(GenAiLayer::new(
        tracing_opentelemetry::layer()
            .with_tracer(GenAiTracer::new(tracers.tracer("bench"), options).with_metrics(&meter)),
        options,
    ));
    Stack {
        dispatch: Dispatch::new(subscriber),
        tracers,
        _meters: Some(meters),
    }
}

/// The floor (`floor.rs`): the least the conventions and metrics add to
/// (a), everything a real implementation looks up per span known in advance.
pub fn floor(processor: impl SpanProcessor + 'static) -> Stack {
    floor_metered(processor, idle_meters())
}

/// The floor with its metrics on `meters`.
pub fn floor_metered(processor: impl SpanProcessor + 'static, meters: SdkMeterProvider) -> Stack {
    let tracers = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = floor::FloorTracer::new(tracers.tracer("bench"), &meters.meter("bench"));
    let subscriber = tracing_subscriber::registry().with(GenAiLayer::new(
        tracing_opentelemetry::layer().with_tracer(tracer),
        Options::default(),
    ));
    Stack {
        dispatch: Dispatch::new(subscriber),
        tracers,
        _meters: Some(meters),
    }
}

/// Three callsites in turn: a chat, an embeddings call on another model, a tool.
pub fn mixed(i: u64) {
    match i % 3 {
        0 => llm_call(),
        1 => {
            let span = tracing::info_span!(
                "embed",
                gen_ai.operation.name = "embeddings",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = "text-embedding-3-small",
                gen_ai.usage.input_tokens = tracing::field::Empty,
            );
            let _entered = span.enter();
            span.record("gen_ai.usage.input_tokens", black_box(12_u64));
        }
        _ => {
            let span = tracing::info_span!(
                "tool",
                gen_ai.operation.name = "execute_tool",
                gen_ai.tool.name = "get_weather",
            );
            let _entered = span.enter();
        }
    }
}

/// (b) in parts, to tell what each costs: `GenAiTracer` (its spans
/// conforming values as they are recorded) and `GenAiLayer`, metrics off;
/// the processor left plain.
#[allow(dead_code)] // used by the cost driver, not the benchmark
pub fn tracer_only(processor: impl SpanProcessor + 'static) -> Stack {
    let tracers = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let options = Options::default();
    let subscriber = tracing_subscriber::registry().with(GenAiLayer::new(
        tracing_opentelemetry::layer()
            .with_tracer(GenAiTracer::new(tracers.tracer("bench"), options)),
        options,
    ));
    Stack {
        dispatch: Dispatch::new(subscriber),
        tracers,
        _meters: None,
    }
}

/// (b) in parts: everything but the metrics.
pub fn no_metrics(processor: impl SpanProcessor + 'static) -> Stack {
    let options = Options::default();
    let tracers = SdkTracerProvider::builder()
        .with_span_processor(GenAiProcessor::new(processor, options))
        .build();
    let subscriber = tracing_subscriber::registry().with(GenAiLayer::new(
        tracing_opentelemetry::layer()
            .with_tracer(GenAiTracer::new(tracers.tracer("bench"), options)),
        options,
    ));
    Stack {
        dispatch: Dispatch::new(subscriber),
        tracers,
        _meters: None,
    }
}

/// (b) in parts: `GenAiLayer` alone around tracing-opentelemetry (its tracer
/// and processor plain): what handing it token counts as integers saves.
pub fn layer_only(processor: impl SpanProcessor + 'static) -> Stack {
    let tracers = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let subscriber = tracing_subscriber::registry().with(GenAiLayer::new(
        tracing_opentelemetry::layer().with_tracer(tracers.tracer("bench")),
        Options::default(),
    ));
    Stack {
        dispatch: Dispatch::new(subscriber),
        tracers,
        _meters: None,
    }
}

/// A span with no GenAI field, as most of a service's spans are: what the
/// GenAI parts cost everything else.
#[allow(dead_code)] // used by the cost driver, not the benchmark
pub fn plain_call() {
    let span = tracing::info_span!(
        "handle_request",
        http.request.method = "POST",
        url.path = "/v1/answer",
        user.id = tracing::field::Empty,
    );
    let _entered = span.enter();
    span.record("user.id", black_box(7_u64));
}
