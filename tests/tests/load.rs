//! The export pipeline under load, against rotel and against a collector that
//! never answers. Each run is the `export_load` example (release build) in a
//! process of its own, so its RSS is the pipeline's and nothing else's.
//!
//! Ignored by default: it needs rotel and a release build, and takes ~3 minutes.
//! CI runs it one test at a time (they measure time and memory):
//! ```text
//! cargo build --release --example export_load
//! SELVEDGE_ROTEL=/path/to/rotel-agent SELVEDGE_LOAD_TOOL=target/release/examples/export_load \
//!   cargo test -p selvedge-tests --test load -- --ignored --nocapture --test-threads=1
//! ```

use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use selvedge_tests::rotel::Rotel;
use serde_json::Value;

/// Attempts a timing figure (zero drops at 50k/s, the black hole's p99 ratio)
/// gets. This two-core machine is shared: a stall of the host for ~100 ms
/// drops spans at 50k/s or doubles a p99 whatever the code does (one CI run in
/// four on 2026-12-07; the rerun passed). A figure that misses is printed and
/// measured once more, and fails if it misses again. What is counted (every
/// span accounted for, rotel's own count) is checked on every attempt.
const ATTEMPTS: usize = 2;
/// The producer may never be slowed down more than this by an unhealthy collector.
const MAX_P99_RATIO: f64 = 2.0;
/// Memory the pipeline may add over 1M spans sent into a black hole.
const MAX_BLACK_HOLE_GROWTH_MIB: f64 = 32.0;
/// Over the soak's last 40 s, RSS may grow at most this fast (0.8 MiB in 40 s).
const MAX_SOAK_SLOPE_MIB_PER_S: f64 = 0.02;

/// Runs the load tool and returns its JSON summary (its other output is echoed).
fn load(protocol: &str, endpoint: &str, rate: u64, seconds: u64) -> Value {
    let tool = std::env::var("SELVEDGE_LOAD_TOOL")
        .expect("set SELVEDGE_LOAD_TOOL to the release build of the export_load example");
    let mut cmd = Command::new(tool);
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key.starts_with("SELVEDGE_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args(["--protocol", protocol, "--endpoint", endpoint, "--json"])
        .args([
            "--rate",
            &rate.to_string(),
            "--seconds",
            &seconds.to_string(),
        ])
        .output()
        .expect("run export_load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("--- {protocol} {rate}/s for {seconds}s -> {endpoint}");
    let mut lines = stdout.lines().collect::<Vec<_>>();
    let json = lines.pop().expect("a JSON summary line");
    for l in lines {
        println!("{l}");
    }
    serde_json::from_str(json).expect("the summary is JSON")
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Every span is accounted for, once.
fn assert_accounted(run: &Value) {
    assert_eq!(
        n(run, "produced"),
        n(run, "exported") + n(run, "dropped") + n(run, "failed") + n(run, "queued"),
        "produced = exported + dropped + failed + queued: {run}"
    );
}

/// Spans rotel says it received (`--log-format json --debug-log-verbosity basic`
/// prints one line per request with its span count).
fn rotel_spans(output: &str) -> u64 {
    output
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["msg"] == "Received traces.")
        .filter_map(|l| l["spans"].as_u64())
        .sum()
}

fn counting_rotel() -> Rotel {
    Rotel::start(&[
        "--log-format",
        "json",
        "--debug-log",
        "traces",
        "--debug-log-verbosity",
        "basic",
    ])
}

fn endpoint(rotel: &Rotel, protocol: &str) -> String {
    match protocol {
        "grpc" => format!("http://127.0.0.1:{}", rotel.grpc),
        _ => format!("http://127.0.0.1:{}", rotel.http),
    }
}

/// Waits until rotel has counted `expected` spans (it logs asynchronously).
fn assert_rotel_counted(rotel: &Rotel, expected: u64) {
    rotel.wait_for(&format!("{expected} spans"), |o| rotel_spans(o) >= expected);
    // A moment more, so a surplus would show too.
    std::thread::sleep(Duration::from_millis(300));
    let counted = rotel_spans(&rotel.output());
    assert_eq!(
        counted, expected,
        "rotel's own count vs status().spans_exported"
    );
}

#[test]
#[ignore = "needs rotel and the release export_load; run by CI (see the module docs)"]
fn default_settings_keep_up_with_one_producer_and_rotel_counts_what_status_says() {
    for protocol in ["grpc", "http"] {
        let rotel = counting_rotel();
        let mut expected = 0;
        for rate in [50_000, 100_000] {
            let mut attempt = 0;
            let run = loop {
                attempt += 1;
                let run = load(protocol, &endpoint(&rotel, protocol), rate, 10);
                assert_accounted(&run);
                assert_eq!(n(&run, "produced"), rate * 10);
                assert_eq!(
                    (n(&run, "failed"), n(&run, "queued")),
                    (0, 0),
                    "nothing fails or stays behind against a healthy collector: {run}"
                );
                expected += n(&run, "exported");
                assert_rotel_counted(&rotel, expected);
                if rate == 50_000 && n(&run, "dropped") != 0 && attempt < ATTEMPTS {
                    println!(
                        "{protocol} {rate}/s: dropped {} on attempt {attempt}; measuring again",
                        n(&run, "dropped")
                    );
                    continue;
                }
                break run;
            };
            if rate == 50_000 {
                assert_eq!(
                    n(&run, "dropped"),
                    0,
                    "{protocol} at {rate}/s drops nothing: {run}"
                );
            }
            println!(
                "{protocol} {rate}/s: dropped {} of {} ({:.3} %)",
                n(&run, "dropped"),
                n(&run, "produced"),
                100.0 * n(&run, "dropped") as f64 / n(&run, "produced") as f64
            );
        }
    }
}

/// A collector that accepts connections and never reads or answers.
struct BlackHole {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl BlackHole {
    fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => held.push(conn),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        BlackHole { port, stop }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
#[ignore = "needs rotel and the release export_load; run by CI (see the module docs)"]
fn a_collector_that_never_answers_neither_blocks_the_app_nor_grows_memory() {
    for protocol in ["http", "grpc"] {
        for attempt in 1..=ATTEMPTS {
            if black_hole_run(protocol, attempt == ATTEMPTS) {
                break;
            }
            println!(
                "{protocol} black hole: p99 ratio missed on attempt {attempt}; measuring again"
            );
        }
    }
}

/// One healthy and one black-hole run of `protocol`; false when the p99 ratio
/// missed and `last` is not set (then it is measured again).
fn black_hole_run(protocol: &str, last: bool) -> bool {
    let healthy = {
        let rotel = counting_rotel();
        load(protocol, &endpoint(&rotel, protocol), 100_000, 10)
    };
    let hole = BlackHole::start();
    let stuck = load(
        protocol,
        &format!("http://127.0.0.1:{}", hole.port),
        100_000,
        10,
    );
    assert_accounted(&stuck);
    assert_eq!(n(&stuck, "produced"), 1_000_000);
    assert_eq!(n(&stuck, "exported"), 0, "{stuck}");

    let ratio = f(&stuck, "span_ns_p99") / f(&healthy, "span_ns_p99");
    let growth = f(&stuck, "rss_peak_mib") - f(&stuck, "rss_start_mib");
    println!(
        "{protocol} black hole: producer p99 {} ns vs {} ns healthy (x{ratio:.2}); \
         RSS +{growth:.1} MiB over 1M spans; flush {:.2} s, shutdown {:.2} s: {}",
        n(&stuck, "span_ns_p99"),
        n(&healthy, "span_ns_p99"),
        f(&stuck, "flush_secs"),
        f(&stuck, "shutdown_secs"),
        stuck["shutdown_error"]
    );
    assert!(
        growth <= MAX_BLACK_HOLE_GROWTH_MIB,
        "{protocol}: RSS grew {growth:.1} MiB"
    );
    // Exit waits at most the 2 s default (plus the guard's 0.5 s grace) and says what was lost.
    assert!(f(&stuck, "shutdown_secs") < 3.0, "{stuck}");
    let said = stuck["shutdown_error"].as_str().unwrap_or_default();
    assert!(said.contains("not delivered"), "{stuck}");
    if ratio > MAX_P99_RATIO && !last {
        return false;
    }
    assert!(ratio <= MAX_P99_RATIO, "{protocol}: p99 x{ratio:.2}");
    true
}

/// Least-squares slope of `ys` against their index (one sample a second).
fn slope(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (num, den) = ys
        .iter()
        .enumerate()
        .fold((0.0, 0.0), |(num, den), (i, y)| {
            let dx = i as f64 - mean_x;
            (num + dx * (y - mean_y), den + dx * dx)
        });
    num / den
}

#[test]
fn slope_of_a_line_and_of_a_flat_series() {
    assert!((slope(&[1.0, 3.0, 5.0, 7.0]) - 2.0).abs() < 1e-9);
    assert!(slope(&[4.0; 10]).abs() < 1e-9);
}

#[test]
#[ignore = "needs rotel and the release export_load; run by CI (see the module docs)"]
fn a_sixty_second_soak_at_20k_per_second_has_flat_memory() {
    let rotel = counting_rotel();
    let run = load("http", &endpoint(&rotel, "http"), 20_000, 60);
    assert_accounted(&run);
    assert_eq!(
        (n(&run, "exported"), n(&run, "dropped")),
        (1_200_000, 0),
        "{run}"
    );
    let samples: Vec<f64> = run["rss_samples_mib"]
        .as_array()
        .expect("samples")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert!(samples.len() >= 55, "one RSS sample a second: {samples:?}");
    let last_40 = &samples[samples.len() - 40..];
    let per_second = slope(last_40);
    println!(
        "soak: RSS {:.1} → {:.1} MiB; slope over the last 40 s {per_second:+.4} MiB/s \
         (threshold {MAX_SOAK_SLOPE_MIB_PER_S} MiB/s)",
        samples[0],
        samples[samples.len() - 1]
    );
    assert!(
        per_second <= MAX_SOAK_SLOPE_MIB_PER_S,
        "RSS keeps growing: {per_second} MiB/s over {last_40:?}"
    );
    assert_rotel_counted(&rotel, 1_200_000);
}
