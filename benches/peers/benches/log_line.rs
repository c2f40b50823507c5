//! The cost of one log line, with and without trace ids, against the usual
//! formatters, all behind the same tracing-opentelemetry layer (simple span
//! processor, no-op exporter).
//!
//! The event: `info!(input_tokens = 42_u64, finish_reason = "stop", "chat completion")`
//! inside an entered span, written to `io::sink` (or `/dev/null` where a
//! formatter can only write to files: init-tracing-opentelemetry). Each variant
//! must run in its own process (`--exact`): in one process, earlier benchmarks
//! skew later ones. `just bench` runs them that way; by hand:
//!
//! ```text
//! for v in json/fmt json/selvedge json/json_subscriber json/json_subscriber_ids \
//!          json/fmt_devnull json/init_tracing_otel_devnull text/fmt text/selvedge; do
//!   cargo bench --manifest-path benches/peers/Cargo.toml --bench log_line -- --exact "$v"
//! done
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use init_tracing_opentelemetry::config::{FmtTraceContext, LogTimer, TracingConfig};
use init_tracing_opentelemetry::formats::{JsonLayerBuilder, LayerBuilder};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use selvedge_correlation::CorrelationLayer;
use tracing::Dispatch;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

#[derive(Debug)]
struct Noop;

impl SpanExporter for Noop {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

type Inner = Layered<OpenTelemetryLayer<Registry, SdkTracer>, Registry>;

/// Registry + the shared OTel layer + `layer`.
fn dispatch<L: Layer<Inner> + Send + Sync + 'static>(layer: L) -> (Dispatch, SdkTracerProvider) {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(Noop)
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
    (
        Dispatch::new(tracing_subscriber::registry().with(otel).with(layer)),
        provider,
    )
}

fn run(c: &mut Criterion, name: &str, dispatch: Dispatch) {
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("chat", gen_ai.request.model = "gpt-4o");
        let _entered = span.enter();
        c.bench_function(name, |b| {
            b.iter(|| {
                tracing::info!(
                    input_tokens = black_box(42_u64),
                    finish_reason = "stop",
                    "chat completion"
                )
            })
        });
    });
}

/// One `/dev/null` handle shared by every line (as init-tracing-opentelemetry does).
fn dev_null() -> std::sync::Arc<std::fs::File> {
    std::sync::Arc::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open("/dev/null")
            .expect("/dev/null"),
    )
}

fn json(c: &mut Criterion) {
    let (d, _p) = dispatch(
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::sink),
    );
    run(c, "json/fmt", d);

    let (d, _p) = dispatch(CorrelationLayer::json().with_writer(std::io::sink));
    run(c, "json/selvedge", d);

    let (d, _p) = dispatch(
        json_subscriber::fmt::layer()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(std::io::sink),
    );
    run(c, "json/json_subscriber", d);

    let (d, _p) = dispatch(
        json_subscriber::fmt::layer()
            .with_current_span(true)
            .with_span_list(true)
            .with_opentelemetry_ids(true)
            .with_writer(std::io::sink),
    );
    run(c, "json/json_subscriber_ids", d);

    // init-tracing-opentelemetry writes only to stdout, stderr or a file: compare
    // it with fmt().json() writing to the same file.
    let (d, _p) = dispatch(
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(dev_null()),
    );
    run(c, "json/fmt_devnull", d);

    let config = TracingConfig::default()
        .with_json_format()
        .with_file("/dev/null")
        .with_file_names(false)
        .with_line_numbers(false)
        .with_thread_names(false)
        .with_span_events(FmtSpan::NONE)
        .with_timer(LogTimer::Time)
        .with_fmt_trace_context(FmtTraceContext::TraceIdSpanId);
    let layer = JsonLayerBuilder
        .build_layer::<Inner>(&config)
        .expect("init-tracing-opentelemetry layer");
    let (d, _p) = dispatch(layer);
    run(c, "json/init_tracing_otel_devnull", d);
}

fn text(c: &mut Criterion) {
    let (d, _p) = dispatch(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(std::io::sink),
    );
    run(c, "text/fmt", d);

    let (d, _p) = dispatch(CorrelationLayer::text().with_writer(std::io::sink));
    run(c, "text/selvedge", d);
}

criterion_group!(benches, json, text);
criterion_main!(benches);
