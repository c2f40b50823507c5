//! Scenarios that need a process of their own, because selvedge installs
//! process-wide globals: each runs the `selvedge-probe` binary with its own
//! environment, pointed at an in-process receiver here.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use selvedge_testkit::{Behavior, Receiver, Transport};

const WAIT: Duration = Duration::from_secs(15);

/// A probe command with a clean OTel environment (nothing inherited from the
/// shell running the tests) plus `vars`.
fn probe(scenario: &str, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_selvedge-probe"));
    cmd.arg(scenario);
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key.starts_with("SELVEDGE_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("SELVEDGE_PROBE_WATCHDOG", "30");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

fn run(mut cmd: Command) -> (Output, String, String, Duration) {
    let started = Instant::now();
    let out = cmd.output().expect("run probe");
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(
        out.status.code(),
        Some(99),
        "the probe hung (watchdog fired)\n{stdout}\n{stderr}"
    );
    (out, stdout, stderr, took)
}

#[test]
fn sync_main_exports_over_grpc_with_resource_from_the_environment() {
    let receiver = Receiver::start();
    let endpoint = receiver.grpc_endpoint();
    let (out, stdout, stderr, _) = run(probe(
        "sync-main",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_SERVICE_NAME", "probe-service"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.version=9.9.9,deployment.environment.name=e2e,team=obs",
            ),
        ],
    ));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let spans = receiver.wait_for_spans(5, WAIT);
    assert_eq!(spans.len(), 5, "{:?}", spans.names());
    let root = spans.named("run_pipeline");
    assert!(spans.named("fetch_documents").is_child_of(root));
    assert_eq!(root.transport, Transport::Grpc);
    assert_eq!(root.resource_str("service.name"), Some("probe-service"));
    assert_eq!(root.resource_str("service.version"), Some("9.9.9"));
    assert_eq!(
        root.resource_str("deployment.environment.name"),
        Some("e2e")
    );
    assert_eq!(root.resource_str("team"), Some("obs"));
    assert!(
        stdout.contains("service=probe-service (env OTEL_SERVICE_NAME)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "-> {endpoint} (env OTEL_EXPORTER_OTLP_ENDPOINT) via grpc"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("exported=5 dropped=0"),
        "status after shutdown:\n{stdout}"
    );
}

#[test]
fn per_signal_http_variables_choose_the_transport() {
    let receiver = Receiver::start();
    let traces = format!("{}/v1/traces", receiver.http_endpoint());
    let (out, stdout, stderr, _) = run(probe(
        "sync-main",
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
    ));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let spans = receiver.wait_for_spans(5, WAIT);
    assert!(spans.iter().all(|s| s.transport == Transport::Http));
    assert!(stdout.contains("metrics  none (default)"), "{stdout}");
}

#[test]
fn without_an_endpoint_traces_print_on_stderr() {
    let (out, stdout, stderr, _) = run(probe("sync-main", &[]));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("trace ") && stderr.contains("(5 spans)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("└─ publish") && stderr.contains("ERROR"),
        "{stderr}"
    );
    assert!(stdout.contains("traces   console (default)"), "{stdout}");
}

#[test]
fn invalid_environment_is_an_error_naming_variable_and_value() {
    for (var, value) in [
        ("OTEL_TRACES_SAMPLER", "sometimes"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("OTEL_TRACES_EXPORTER", "jaeger"),
        ("RUST_LOG", "app=loudest"),
    ] {
        let (out, stdout, stderr, _) = run(probe("sync-main", &[(var, value)]));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{var}={value}\n{stdout}\n{stderr}"
        );
        assert!(
            stderr.contains(var) && stderr.contains(value),
            "{var}={value}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn sdk_disabled_exports_nothing_and_says_so() {
    let receiver = Receiver::start();
    let endpoint = receiver.http_endpoint();
    let (out, stdout, stderr, _) = run(probe(
        "sync-main",
        &[
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    ));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("selvedge: disabled"), "{stdout}");
    assert!(
        stdout.contains("fetched documents"),
        "logs still print: {stdout}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(receiver.spans().is_empty());
}

fn runtime_scenario(scenario: &str) {
    let receiver = Receiver::start();
    let endpoint = receiver.grpc_endpoint();
    let (out, stdout, stderr, took) = run(probe(
        scenario,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
    ));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    // 3 async steps with a child each + the 5-span pipeline.
    let spans = receiver.wait_for_spans(11, WAIT);
    assert_eq!(spans.len(), 11, "{:?}", spans.names());
    for child in spans.all_named("child_step") {
        let parent = spans
            .iter()
            .find(|s| child.is_child_of(s))
            .expect("child_step has its parent");
        assert_eq!(parent.name(), "async_step");
    }
}

#[test]
fn grpc_from_a_current_thread_runtime_drops_without_hanging() {
    runtime_scenario("current-thread");
}

#[test]
fn grpc_from_a_multi_thread_runtime() {
    runtime_scenario("multi-thread");
}

#[test]
fn drop_inside_a_current_thread_runtime_with_a_stalled_collector_is_bounded() {
    let receiver = Receiver::start();
    receiver.set_behavior(Behavior::Stall);
    let endpoint = receiver.grpc_endpoint();
    let (out, stdout, stderr, took) = run(probe(
        "current-thread",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("PROBE_SHUTDOWN_TIMEOUT_MS", "1000"),
        ],
    ));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        stderr.contains(
            "selvedge: telemetry shutdown did not finish within 1s; not delivered: 11 span(s), 0 log record(s), 1 metric batch(es)"
        ),
        "the guard says what was lost:\n{stderr}"
    );
}

#[test]
fn sixteen_threads_racing_to_install_get_one_pipeline() {
    let (out, stdout, stderr, _) = run(probe("race", &[]));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("race: ok=16 errors=0 owners=1"), "{stdout}");
    let service = stdout
        .lines()
        .find_map(|l| l.split("service=").nth(1))
        .expect("service printed")
        .to_string();
    assert!(
        service == "race-same" || service == "race-other",
        "{stdout}"
    );
    // Each install that asked for the other service name warned once, naming the difference.
    let warnings = stdout
        .matches("already installed with a different configuration")
        .count();
    assert_eq!(warnings, 8, "{stdout}");
    assert!(
        stdout.contains(&format!("service name: running {service}, requested")),
        "{stdout}"
    );
    assert!(
        stdout.contains("after dropping non-owners installed=true"),
        "{stdout}"
    );
    assert!(
        stdout.contains("after dropping owner installed=false"),
        "{stdout}"
    );
    assert_eq!(
        stderr.matches("trace ").count(),
        1,
        "one console pipeline printed the after_race trace:\n{stderr}"
    );
}

#[test]
fn the_w3c_propagator_is_installed_globally() {
    let receiver = Receiver::start();
    let endpoint = receiver.http_endpoint();
    let (out, stdout, stderr, _) = run(probe(
        "propagate",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
    ));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let span = receiver
        .wait_for_spans(1, WAIT)
        .named("propagation_check")
        .clone();
    let expected = format!("traceparent=00-{}-{}-01", span.trace_id(), span.span_id());
    assert!(
        stdout.contains(&expected),
        "expected {expected} in:\n{stdout}"
    );

    let (out, stdout, stderr, _) = run(probe(
        "propagate",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_PROPAGATORS", "none"),
        ],
    ));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("traceparent=<none>"), "{stdout}");
}

#[test]
fn a_pipeline_dropped_while_another_thread_registers_a_dispatcher_does_not_deadlock() {
    // tokio-rs/tracing#3269: without the innermost `Release` layer, 4 of 12
    // runs of this scenario hung; each run is a fresh process, because only
    // the first drop of the SDK providers in a process logs from a new
    // callsite. Eight runs: a regression fails all eight to pass ~96 % of
    // the time.
    let receiver = Receiver::start();
    for run_no in 1..=8 {
        let mut cmd = probe(
            "drop-while-registering",
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.http_endpoint())],
        );
        cmd.env("SELVEDGE_PROBE_WATCHDOG", "10");
        let (out, stdout, stderr, _) = run(cmd);
        assert!(out.status.success(), "run {run_no}: {stdout}\n{stderr}");
        assert!(
            stdout.contains("dispatchers were registered"),
            "run {run_no}: {stdout}"
        );
    }
}
