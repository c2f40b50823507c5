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
//! Instructions per span = (I refs at 20000 − I refs at 0) / 20000. The span
//! and the two stacks are the criterion benchmark's (`benches/common/`), with
//! the simple span processor. A third argument `mixed` runs three callsites
//! in turn instead (`common::mixed`); `plain`, a span with no GenAI field
//! (`common::plain_call`); `api`, the LLM call written with selvedge's API
//! (`common::api_call`).
//!
//! More variants: `layer_only` (`GenAiLayer` around tracing-opentelemetry,
//! nothing else), `tracer_only` (and `GenAiTracer` with its spans, metrics
//! off, plain processor) and `no_metrics` (all but the metrics) tell the
//! parts of (b) apart; `floor`, the least (b) can add (`common/floor.rs`);
//! `otel_only_unsampled` / `with_genai_unsampled` are the pair with a
//! sampler that keeps nothing (the metrics still count every span);
//! `otel_only_batch` / `with_genai_batch`, the pair with the SDK's batch span
//! processor as deployed (its export thread's instructions are counted too;
//! its queue holds every span of the run, so none is dropped).

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "with_genai".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let stack = match variant.as_str() {
        "otel_only" => common::otel_only(common::simple()),
        "with_genai" => common::with_genai(common::simple()),
        "tracer_only" => common::tracer_only(common::simple()),
        "no_metrics" => common::no_metrics(common::simple()),
        "layer_only" => common::layer_only(common::simple()),
        "floor" => common::floor(common::simple()),
        "otel_only_batch" => common::otel_only(common::roomy_batch()),
        "with_genai_batch" => common::with_genai(common::roomy_batch()),
        "otel_only_unsampled" => common::otel_only_unsampled(common::simple()),
        "with_genai_unsampled" => common::with_genai_unsampled(common::simple()),
        other => {
            eprintln!(
                "genai_cost: unknown variant {other:?} \
                 (otel_only | with_genai | layer_only | tracer_only | no_metrics | floor | \
                 otel_only_batch | with_genai_batch | \
                 otel_only_unsampled | with_genai_unsampled)"
            );
            std::process::exit(2);
        }
    };
    // `mixed`: three callsites in turn (a chat, embeddings, a tool), as a
    // service calling several models and tools runs them.
    let mode = args.next();
    let (mixed, plain, api) = (
        mode.as_deref() == Some("mixed"),
        mode.as_deref() == Some("plain"),
        mode.as_deref() == Some("api"),
    );
    tracing::dispatcher::with_default(&stack.dispatch, || {
        (0..n).for_each(|i| {
            if mixed {
                common::mixed(i)
            } else if plain {
                common::plain_call()
            } else if api {
                common::api_call()
            } else {
                common::llm_call()
            }
        })
    });
    let _ = stack.tracers.shutdown();
}
