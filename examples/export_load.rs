//! A bounded load generator for the export pipeline: one producer thread ends
//! spans at a paced rate for a fixed time, then reports what became of them.
//!
//! ```text
//! cargo run --release --example export_load -- \
//!     --rate 100000 --seconds 10 --protocol grpc --endpoint http://127.0.0.1:4317
//! ```
//! Options: `--rate` spans per second (default 50000), `--seconds` (default 10,
//! at most 600), `--protocol grpc|http` (default http), `--endpoint` (default
//! the protocol's localhost port), `--queue` span queue capacity (default:
//! selvedge's), `--stock-grpc` to use opentelemetry-otlp's own gRPC channel (no
//! NODELAY/QUICKACK), `--stock` for the SDK's stock settings (that channel, one
//! export at a time, queue 2048), `--shutdown-timeout-ms` (default: selvedge's 2 s), and
//! `--json` to end with one JSON line of every figure (used by the load tests).
//! Everything else comes from the usual `OTEL_*` variables. It stops by
//! itself; point it only at a collector on this machine.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use selvedge::{Protocol, Telemetry};

struct Args {
    rate: u64,
    seconds: u64,
    protocol: Protocol,
    endpoint: Option<String>,
    queue: Option<usize>,
    stock_grpc: bool,
    stock: bool,
    shutdown_timeout: Option<Duration>,
    json: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        rate: 50_000,
        seconds: 10,
        protocol: Protocol::HttpProtobuf,
        endpoint: None,
        queue: None,
        stock_grpc: false,
        stock: false,
        shutdown_timeout: None,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--rate" => a.rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--seconds" => {
                a.seconds = value()?
                    .parse::<u64>()
                    .map_err(|e| format!("--seconds: {e}"))?
                    .min(600)
            }
            "--protocol" => {
                a.protocol = match value()?.as_str() {
                    "grpc" => Protocol::Grpc,
                    "http" | "http/protobuf" => Protocol::HttpProtobuf,
                    other => return Err(format!("--protocol: {other:?} is not grpc or http")),
                }
            }
            "--endpoint" => a.endpoint = Some(value()?),
            "--stock-grpc" => a.stock_grpc = true,
            "--stock" => a.stock = true,
            "--queue" => a.queue = Some(value()?.parse().map_err(|e| format!("--queue: {e}"))?),
            "--shutdown-timeout-ms" => {
                let ms = value()?
                    .parse()
                    .map_err(|e| format!("--shutdown-timeout-ms: {e}"))?;
                a.shutdown_timeout = Some(Duration::from_millis(ms));
            }
            "--json" => a.json = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

/// A field of /proc/self/status in MiB (Linux); `None` elsewhere.
fn proc_status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Samples resident memory once a second until stopped.
struct RssSampler {
    samples: Arc<Mutex<Vec<f64>>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    fn start() -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (samples.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut next = Instant::now();
            while !st.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    if let (Some(rss), Ok(mut v)) = (proc_status_mib("VmRSS:"), s.lock()) {
                        v.push(rss);
                    }
                    next += Duration::from_secs(1);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Self {
            samples,
            stop,
            thread,
        }
    }

    fn finish(self) -> Vec<f64> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        let samples = self.samples.lock().map(|v| v.clone()).unwrap_or_default();
        samples
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let endpoint = a.endpoint.clone().unwrap_or_else(|| match a.protocol {
        Protocol::Grpc => "http://127.0.0.1:4317".into(),
        _ => "http://127.0.0.1:4318".into(),
    });
    let mut builder = Telemetry::builder()
        .with_service_name("export-load")
        .with_endpoint(&endpoint)
        .with_protocol(a.protocol)
        .with_log_filter("info")
        .with_log_writer(std::io::stderr)
        .with_grpc_low_latency(!(a.stock_grpc || a.stock));
    if a.stock {
        builder = builder
            .with_max_concurrent_exports(1)
            .with_max_queue_size(2048);
    }
    if let Some(q) = a.queue {
        builder = builder.with_max_queue_size(q);
    }
    if let Some(t) = a.shutdown_timeout {
        builder = builder.with_shutdown_timeout(t);
    }
    let (telemetry, dispatch) = builder.build()?;
    let rss_start = proc_status_mib("VmRSS:").unwrap_or(0.0);
    let sampler = RssSampler::start();

    // Paced in 1 ms ticks; every 64th span is timed on the producer thread.
    let total = a.rate * a.seconds;
    let per_tick = (a.rate / 1000).max(1);
    let mut produced = 0u64;
    let mut span_times: Vec<u32> = Vec::with_capacity((total / 64 + 1) as usize);
    let started = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        let mut tick = 0u64;
        while produced < total {
            for _ in 0..per_tick.min(total - produced) {
                let t = produced.is_multiple_of(64).then(Instant::now);
                let span = tracing::info_span!("load", i = produced as i64, kind = "synthetic");
                span.in_scope(|| {});
                drop(span);
                if let Some(t) = t {
                    span_times.push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
                }
                produced += 1;
            }
            tick += 1;
            let next = started + Duration::from_millis(tick);
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    });
    let produce_secs = started.elapsed().as_secs_f64();
    let rss_samples = sampler.finish();
    let flush = Instant::now();
    let flushed = telemetry.force_flush();
    let flush_secs = flush.elapsed().as_secs_f64();
    let s = telemetry.status();
    let shutdown = Instant::now();
    let shut = telemetry.shutdown();
    let shutdown_secs = shutdown.elapsed().as_secs_f64();

    span_times.sort_unstable();
    let pct = |q: f64| {
        span_times
            .get(((span_times.len() as f64 * q) as usize).min(span_times.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let peak_rss = proc_status_mib("VmHWM:").unwrap_or(0.0);
    println!("protocol        {} -> {endpoint}", a.protocol);
    println!(
        "target          {} spans/s for {} s = {total} spans",
        a.rate, a.seconds
    );
    println!(
        "produced        {produced} in {produce_secs:.2} s ({:.0} spans/s)",
        produced as f64 / produce_secs
    );
    println!(
        "pipeline        produced={} exported={} dropped={} failed={} queued={}",
        s.spans_produced, s.spans_exported, s.spans_dropped, s.spans_failed, s.spans_queued
    );
    if let Some(l) = &s.span_export_latency {
        println!(
            "export latency  p50≤{:?} p90≤{:?} p99≤{:?} max={:?}",
            l.p50, l.p90, l.p99, l.max
        );
    }
    println!(
        "per-span time   p50={} ns p99={} ns max={} ns (producer thread)",
        pct(0.5),
        pct(0.99),
        span_times.last().copied().unwrap_or(0)
    );
    println!(
        "final flush     {flush_secs:.2} s {}",
        if flushed.is_ok() { "ok" } else { "incomplete" }
    );
    println!(
        "shutdown        {shutdown_secs:.2} s {}",
        match &shut {
            Ok(()) => "ok".to_string(),
            Err(e) => e.to_string(),
        }
    );
    println!("RSS             start {rss_start:.1} MiB, peak {peak_rss:.1} MiB");
    if let Some(e) = &s.last_export_error {
        println!("last error      {e}");
    }
    if a.json {
        let summary = serde_json::json!({
            "protocol": a.protocol.to_string(),
            "rate": a.rate,
            "seconds": a.seconds,
            "produced": s.spans_produced,
            "exported": s.spans_exported,
            "dropped": s.spans_dropped,
            "failed": s.spans_failed,
            "queued": s.spans_queued,
            "produce_secs": produce_secs,
            "span_ns_p50": pct(0.5),
            "span_ns_p99": pct(0.99),
            "flush_secs": flush_secs,
            "shutdown_secs": shutdown_secs,
            "shutdown_error": shut.err().map(|e| e.to_string()),
            "rss_start_mib": rss_start,
            "rss_peak_mib": peak_rss,
            "rss_samples_mib": rss_samples,
        });
        println!("{summary}");
    }
    Ok(())
}
