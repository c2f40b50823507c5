//! What a content call costs when capture is off, against a level-filtered
//! `trace!` event in the same stack (registry + INFO level filter +
//! tracing-opentelemetry + the content layer), and what it costs when on.
//!
//! Each variant in its own process:
//! ```text
//! cargo bench -p selvedge-content --bench disabled -- --exact content/filtered_trace
//! cargo bench -p selvedge-content --bench disabled -- --exact content/disabled_prompt
//! cargo bench -p selvedge-content --bench disabled -- --exact content/enabled_prompt
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use selvedge_content::{Capture, ContentLayer, Message};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug)]
struct Noop;

impl SpanExporter for Noop {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

fn stack(capture: Capture) -> (tracing::Dispatch, SdkTracerProvider) {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(Noop)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(LevelFilter::INFO)
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")))
        .with(ContentLayer::new(capture));
    (tracing::Dispatch::new(subscriber), provider)
}

fn run(c: &mut Criterion, name: &str, capture: Capture, f: fn()) {
    let (dispatch, _provider) = stack(capture);
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("chat");
        let _entered = span.enter();
        c.bench_function(name, |b| b.iter(f));
    });
}

fn filtered_trace(c: &mut Criterion) {
    run(c, "content/filtered_trace", Capture::NoContent, || {
        tracing::trace!(prompt = black_box("what is the weather?"), "prompt")
    });
}

fn disabled_prompt(c: &mut Criterion) {
    run(c, "content/disabled_prompt", Capture::NoContent, || {
        selvedge_content::prompt(|| [Message::user(black_box("what is the weather?"))])
    });
}

fn enabled_prompt(c: &mut Criterion) {
    run(c, "content/enabled_prompt", Capture::SpanOnly, || {
        selvedge_content::prompt(|| [Message::user(black_box("what is the weather?"))])
    });
}

criterion_group!(benches, filtered_trace, disabled_prompt, enabled_prompt);
criterion_main!(benches);
