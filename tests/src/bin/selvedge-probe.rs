//! A small program the process tests run with different environments, so each
//! scenario gets a fresh process: selvedge installs process-wide globals.
//!
//! Usage: `selvedge-probe <scenario>`; configuration comes from the environment.
//! Exit codes: 0 ok, 2 install error (printed), 99 watchdog fired (a hang).

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use selvedge::Telemetry;
use selvedge_tests::workload;

fn main() {
    let watchdog_secs = std::env::var("SELVEDGE_PROBE_WATCHDOG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(watchdog_secs));
        eprintln!("probe: watchdog fired after {watchdog_secs}s");
        std::process::exit(99);
    });

    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "sync-main" => sync_main(),
        "current-thread" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(in_runtime());
        }
        "multi-thread" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(in_runtime());
        }
        "race" => race(),
        "propagate" => propagate(),
        "content" => content(),
        "drop-while-registering" => drop_while_registering(),
        other => {
            eprintln!("probe: unknown scenario {other:?}");
            std::process::exit(64);
        }
    }
}

fn install() -> Telemetry {
    let mut builder = Telemetry::builder();
    if let Ok(ms) = std::env::var("PROBE_SHUTDOWN_TIMEOUT_MS") {
        builder = builder.with_shutdown_timeout(Duration::from_millis(ms.parse().expect("ms")));
    }
    match builder.install() {
        Ok(t) => t,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(2);
        }
    }
}

fn sync_main() {
    let telemetry = install();
    let failure = workload::run_pipeline();
    println!("workload error: {failure:?}");
    println!("{}", selvedge::status());
    drop(telemetry);
    println!("after shutdown: {}", selvedge::status());
}

async fn in_runtime() {
    let telemetry = install();
    let mut handles = Vec::new();
    for step in 0..3 {
        handles.push(tokio::spawn(workload::async_step(step)));
    }
    for h in handles {
        h.await.expect("task");
    }
    workload::run_pipeline();
    // One metric through tracing-opentelemetry's MetricsLayer, for the final metric export.
    tracing::info!(monotonic_counter.probe_jobs = 1u64, "job counted");
    let started = Instant::now();
    // Dropped inside the runtime on purpose: this must not hang.
    drop(telemetry);
    println!("shutdown took {} ms", started.elapsed().as_millis());
    println!("{}", selvedge::status());
}

fn race() {
    const THREADS: usize = 16;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                // Half ask for the same service, half for a different one.
                let name = if i % 2 == 0 {
                    "race-same"
                } else {
                    "race-other"
                };
                Telemetry::builder().with_service_name(name).install()
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    let errors = results.iter().filter(|r| r.is_err()).count();
    let telemetries: Vec<Telemetry> = results.into_iter().filter_map(Result::ok).collect();
    let owners = telemetries.iter().filter(|t| t.is_owner()).count();
    let service = selvedge::status().service_name;
    println!(
        "race: ok={} errors={errors} owners={owners} service={service}",
        telemetries.len()
    );
    tracing::info_span!("after_race").in_scope(|| tracing::info!("still one pipeline"));
    // Non-owners first: dropping them must not shut the pipeline down.
    let (owner, others): (Vec<_>, Vec<_>) = telemetries.into_iter().partition(|t| t.is_owner());
    drop(others);
    println!(
        "race: after dropping non-owners installed={}",
        selvedge::status().installed
    );
    drop(owner);
    println!(
        "race: after dropping owner installed={}",
        selvedge::status().installed
    );
}

/// Injects the current context with the global propagator from inside a span and
/// prints what a carrier would hold.
fn propagate() {
    let telemetry = install();
    tracing::info_span!("propagation_check").in_scope(|| {
        let mut carrier = std::collections::HashMap::new();
        opentelemetry::global::get_text_map_propagator(|p| p.inject(&mut carrier));
        println!(
            "traceparent={}",
            carrier.get("traceparent").map_or("<none>", String::as_str)
        );
    });
    drop(telemetry);
}

/// Passes a sentinel as every kind of content inside an LLM-call span, so the
/// test can look for it everywhere the pipeline writes.
fn content() {
    use selvedge::content::{self, Document, Message, Part};
    use selvedge::genai::{record_response, GenAiSpan, Response, Usage};
    const SENTINEL: &str = "SENTINEL-7f3a9c";
    let telemetry = install();
    let span = GenAiSpan::chat("openai", "gpt-4o").start();
    span.in_scope(|| {
        content::system_instructions(|| [Part::text(format!("be brief {SENTINEL}"))]);
        content::prompt(|| [Message::user(format!("what is {SENTINEL}?"))]);
        content::tool_call_arguments(|| format!("{{\"q\":\"{SENTINEL}\"}}"));
        content::tool_call_result(|| format!("result {SENTINEL}"));
        content::tool_definitions(|| serde_json::json!([{ "name": SENTINEL }]));
        GenAiSpan::retrieval("kb").start().in_scope(|| {
            content::retrieval_query(|| format!("where is {SENTINEL}"));
            content::retrieval_documents(|| [Document::new("d1").score(0.5).content(SENTINEL)]);
        });
        content::completion(|| [Message::assistant(format!("it is {SENTINEL}")).finished("stop")]);
        record_response(
            &span,
            &Response {
                usage: Usage::new(3, 4),
                finish_reasons: &["stop"],
                ..Default::default()
            },
        );
        tracing::info!("answered");
    });
    drop(span);
    println!("{}", selvedge::status());
    drop(telemetry);
}

/// A pipeline built with `build()` (no globals), used, shut down, and its
/// subscriber dropped while another thread keeps registering dispatchers.
/// tracing-core holds its registry's write lock while it rebuilds callsite
/// interest, with a strong reference to every live subscriber in turn; if it
/// holds the last one, the subscriber is dropped under that lock, and a
/// first-time event in a drop — the SDK providers log as they drop — then
/// waits for the lock forever (tokio-rs/tracing#3269). Prints how many
/// dispatchers the other thread registered; hangs (the watchdog) if it
/// deadlocks.
fn drop_while_registering() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let registering = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut registered = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                drop(tracing::Dispatch::new(tracing_subscriber::registry()));
                registered += 1;
            }
            registered
        })
    };
    let (telemetry, dispatch) = Telemetry::builder().build().unwrap_or_else(|err| {
        eprintln!("error: {err}");
        std::process::exit(2);
    });
    tracing::dispatcher::with_default(&dispatch, workload::run_pipeline);
    if let Err(err) = telemetry.shutdown() {
        eprintln!("shutdown: {err}");
    }
    drop(dispatch);
    stop.store(true, Ordering::Relaxed);
    let registered = registering.join().expect("registering thread");
    println!("dropped while {registered} dispatchers were registered");
}
