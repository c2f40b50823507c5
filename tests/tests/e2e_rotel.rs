//! End to end against a real third-party collector, rotel (an independent OTLP
//! implementation): what it accepts, a production collector accepts.
//!
//! Ignored by default because it needs the rotel binary; `just e2e` and CI run it:
//! `SELVEDGE_ROTEL=/path/to/rotel-agent cargo test -p selvedge-tests --test e2e_rotel -- --ignored --nocapture`

use std::process::Command;

use selvedge_tests::rotel::Rotel;

fn export(service: &str, vars: &[(&str, String)]) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_selvedge-probe"));
    cmd.arg("sync-main").env("SELVEDGE_PROBE_WATCHDOG", "30");
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("OTEL_SERVICE_NAME", service).env(
        "OTEL_RESOURCE_ATTRIBUTES",
        "service.version=0.1.0,deployment.environment.name=e2e",
    );
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run probe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("exported=5 dropped=0 failed=0"), "{stdout}");
}

#[test]
#[ignore = "needs the rotel collector binary (SELVEDGE_ROTEL); run by `just e2e` and CI"]
fn spans_reach_rotel_over_grpc_and_http_with_their_attributes() {
    let rotel = Rotel::start(&[
        "--debug-log",
        "traces",
        "--debug-log",
        "logs",
        "--debug-log",
        "metrics",
        "--debug-log-verbosity",
        "detailed",
    ]);
    export(
        "e2e-grpc",
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", rotel.grpc),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ],
    );
    export(
        "e2e-http",
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", rotel.http),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
            ("OTEL_LOGS_EXPORTER", "otlp".into()),
        ],
    );
    let out = rotel.wait_for("10 spans from both services", |o| {
        o.matches("Name           : ").count() >= 10
            && o.contains("e2e-grpc")
            && o.contains("e2e-http")
            && o.contains("Body: Str(fetched documents)")
    });
    // The pipeline's health, as the conventions' SDK metrics, in each service's final export.
    let health = rotel.wait_for("the pipeline health metrics", |o| {
        o.matches("otel.sdk.processor.span.processed").count() >= 2
            && o.matches("otel.sdk.exporter.span.exported").count() >= 2
    });
    assert!(health.contains("otlp_grpc_span_exporter"), "{health}");
    assert!(health.contains("otlp_http_span_exporter"), "{health}");

    for expected in [
        "service.name: Str(e2e-grpc)",
        "service.name: Str(e2e-http)",
        "service.version: Str(0.1.0)",
        "deployment.environment.name: Str(e2e)",
        "InstrumentationScope selvedge",
        "Name           : run_pipeline",
        "Name           : fetch_documents",
        "Name           : publish",
        "Status code    : STATUS_CODE_ERROR",
        "-> doc.count: Int(3)",
        "-> ratio: Double(0.5)",
        "-> cached: Bool(true)",
        "-> signed: Int(-7)",
    ] {
        assert!(
            out.contains(expected),
            "rotel output lacks {expected:?}:\n{out}"
        );
    }
    assert_eq!(
        out.matches("Name           : run_pipeline").count(),
        2,
        "one pipeline per transport"
    );

    // The log record carries the trace and span of the span it was logged in.
    let lines: Vec<&str> = out.lines().collect();
    let body = lines
        .iter()
        .position(|l| l.contains("Body: Str(fetched documents)"))
        .expect("log record");
    let field = |name: &str| -> String {
        lines[body..]
            .iter()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim_start_matches([' ', ':']).trim().to_string())
            .unwrap_or_else(|| panic!("no {name} after the log body"))
    };
    let (log_trace, log_span) = (field("Trace ID"), field("Span ID"));
    assert_eq!(log_trace.len(), 32, "{log_trace}");
    let span_line = lines
        .iter()
        .position(|l| l.trim() == format!("ID             : {log_span}"))
        .unwrap_or_else(|| panic!("no exported span with id {log_span}"));
    assert!(lines[span_line + 1].contains("Name           : fetch_documents"));
    assert!(lines[span_line - 2].contains(&log_trace), "same trace");
    println!("rotel| log record 'fetched documents' trace_id={log_trace} span_id={log_span} = span fetch_documents");
    // Evidence for the record (visible with --nocapture).
    println!(
        "rotel received {} spans",
        out.matches("Name           : ").count()
    );
    for line in out.lines().filter(|l| {
        l.contains("service.name")
            || l.contains("Name           :")
            || l.contains("Parent ID")
            || l.contains("ratio")
    }) {
        println!("rotel| {}", line.trim_end());
    }
}
