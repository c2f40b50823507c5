//! What the GenAI conventions cost per LLM-call span, against the
//! tracing-opentelemetry layer alone, in the same run.
//!
//! The span and stacks are in `common/` (shared with `examples/genai_cost.rs`):
//! `info_span!("llm.call", gen_ai.operation.name = "chat",
//! gen_ai.provider.name = "openai", gen_ai.request.model = "gpt-4o",
//! server.address, server.port, gen_ai.request.max_tokens = 256_u64, …)`, entered
//! and closed, with one usage record (input and output tokens as `u64`).
//!
//! - `genai/otel_only`: registry + tracing-opentelemetry, simple span processor,
//!   no-op exporter.
//! - `genai/with_genai`: + `GenAiTracer`, `GenAiProcessor` with metrics on (SDK
//!   histograms, exported never), `GenAiLayer`.
//! - `genai/no_metrics`, `genai/layer_only`: parts of `with_genai` (all but
//!   the metrics; `GenAiLayer` alone around tracing-opentelemetry), to show
//!   where the cost is.
//! - `genai/floor`: the least (b) can add to (a) — name, kind, `max_tokens`
//!   typed, the three measurements in series bound in advance, with nothing
//!   looked up per span (`common/floor.rs`): a bound, not an implementation.
//! - `genai/otel_only_batch`, `genai/with_genai_batch`: the same pair with the
//!   SDK's batch span processor, as deployed (a thread of its own exports and
//!   frees the spans), instead of the simple processor.
//! - `genai/otel_only_mixed`, `genai/with_genai_mixed`: the first pair on three
//!   callsites in turn (a chat, embeddings on another model, a tool), as a
//!   service calling several models and tools runs them: no per-thread cache
//!   holds all of them at once.
//! - `genai/otel_only_unsampled`, `genai/with_genai_unsampled`: the first pair
//!   with a sampler that keeps nothing (the GenAI metrics still count every
//!   span), as a service sampling a small share of its traces runs most spans.
//!
//! Each in its own process:
//! ```text
//! cargo bench -p selvedge-genai --bench genai_span -- --exact genai/otel_only
//! cargo bench -p selvedge-genai --bench genai_span -- --exact genai/with_genai
//! ```

mod common;

use common::{api_call, llm_call, mixed, simple, Noop, Stack};
use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry_sdk::trace::BatchSpanProcessor;

fn measure(c: &mut Criterion, name: &str, stack: Stack) {
    measure_call(c, name, stack, llm_call);
}

fn measure_mixed(c: &mut Criterion, name: &str, stack: Stack) {
    let mut i = 0_u64;
    measure_call(c, name, stack, move || {
        mixed(i);
        i += 1;
    });
}

fn measure_call(c: &mut Criterion, name: &str, stack: Stack, mut call: impl FnMut()) {
    tracing::dispatcher::with_default(&stack.dispatch, || {
        c.bench_function(name, |b| b.iter(&mut call));
    });
    let _ = stack.tracers.shutdown();
}

fn otel_only(c: &mut Criterion) {
    measure(c, "genai/otel_only", common::otel_only(simple()));
}

fn with_genai(c: &mut Criterion) {
    measure(c, "genai/with_genai", common::with_genai(simple()));
}

fn no_metrics(c: &mut Criterion) {
    measure(c, "genai/no_metrics", common::no_metrics(simple()));
}

fn layer_only(c: &mut Criterion) {
    measure(c, "genai/layer_only", common::layer_only(simple()));
}

fn floor(c: &mut Criterion) {
    measure(c, "genai/floor", common::floor(simple()));
}

fn otel_only_batch(c: &mut Criterion) {
    let batch = BatchSpanProcessor::builder(Noop).build();
    measure(c, "genai/otel_only_batch", common::otel_only(batch));
}

fn with_genai_batch(c: &mut Criterion) {
    let batch = BatchSpanProcessor::builder(Noop).build();
    measure(c, "genai/with_genai_batch", common::with_genai(batch));
}

fn otel_only_mixed(c: &mut Criterion) {
    measure_mixed(c, "genai/otel_only_mixed", common::otel_only(simple()));
}

fn with_genai_mixed(c: &mut Criterion) {
    measure_mixed(c, "genai/with_genai_mixed", common::with_genai(simple()));
}

fn otel_only_unsampled(c: &mut Criterion) {
    let stack = common::otel_only_unsampled(simple());
    measure(c, "genai/otel_only_unsampled", stack);
}

fn with_genai_unsampled(c: &mut Criterion) {
    let stack = common::with_genai_unsampled(simple());
    measure(c, "genai/with_genai_unsampled", stack);
}

fn otel_only_api(c: &mut Criterion) {
    measure_call(
        c,
        "genai/otel_only_api",
        common::otel_only(simple()),
        api_call,
    );
}

fn with_genai_api(c: &mut Criterion) {
    measure_call(
        c,
        "genai/with_genai_api",
        common::with_genai(simple()),
        api_call,
    );
}

criterion_group!(
    benches,
    otel_only,
    with_genai,
    no_metrics,
    layer_only,
    floor,
    otel_only_batch,
    with_genai_batch,
    otel_only_mixed,
    with_genai_mixed,
    otel_only_unsampled,
    with_genai_unsampled,
    otel_only_api,
    with_genai_api
);
criterion_main!(benches);
