//! What selvedge's pipeline costs on the application thread, per span, against
//! the same stack assembled by hand, in the same run.
//!
//! Both variants: Registry + EnvFilter("info") + tracing-opentelemetry + a fmt
//! layer writing to `io::sink`, and the SDK's BatchSpanProcessor (queue 2048)
//! feeding an exporter that returns at once — so the measure is the
//! application thread's work, not the network. selvedge adds its exact span
//! accounting (admission counter, counting exporter) and the transport filter.
//! The span: `info_span!("chat", gen_ai.request.model = "gpt-4o", tokens = 42_i64)`,
//! entered, exited and closed.
//!
//! Run each variant in its own process (`just bench` does):
//! ```text
//! cargo bench -p selvedge --bench span_pipeline -- --exact span/hand_assembled
//! cargo bench -p selvedge --bench span_pipeline -- --exact span/selvedge
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use selvedge::Telemetry;
use tracing_subscriber::layer::SubscriberExt;

/// Accepts every batch at once.
#[derive(Debug)]
struct Noop;

impl SpanExporter for Noop {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

fn one_span() {
    let span = tracing::info_span!("chat", gen_ai.request.model = "gpt-4o", tokens = 42_i64);
    let _entered = black_box(&span).enter();
}

fn hand_assembled(c: &mut Criterion) {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Noop)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")))
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
    let dispatch = tracing::Dispatch::new(subscriber);
    c.bench_function("span/hand_assembled", |b| {
        tracing::dispatcher::with_default(&dispatch, || b.iter(one_span))
    });
    let _ = provider.shutdown();
}

fn selvedge(c: &mut Criterion) {
    let (telemetry, dispatch) = Telemetry::builder()
        .with_service_name("bench")
        .with_span_exporter(Noop)
        .with_log_writer(std::io::sink)
        .with_log_filter("info")
        .build()
        .expect("pipeline");
    c.bench_function("span/selvedge", |b| {
        tracing::dispatcher::with_default(&dispatch, || b.iter(one_span))
    });
    let _ = telemetry.force_flush();
    let status = telemetry.status();
    eprintln!(
        "selvedge accounting: exported={} dropped={} failed={}",
        status.spans_exported, status.spans_dropped, status.spans_failed
    );
    let _ = telemetry.shutdown();
}

criterion_group!(benches, hand_assembled, selvedge);
criterion_main!(benches);
