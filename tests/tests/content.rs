//! Content capture: nothing leaks when it is off; each mode writes where it says.
//! Every scenario runs in a fresh `selvedge-probe` process with its own environment.

use std::process::Command;
use std::time::Duration;

use selvedge::genai::semconv::content;
use selvedge_testkit::Receiver;

const SENTINEL: &str = "SENTINEL-7f3a9c";
const WAIT: Duration = Duration::from_secs(15);

/// Runs the content scenario with `vars`; returns (stdout + stderr, spans debug, logs debug, metrics debug).
fn scenario(vars: &[(&str, &str)]) -> (String, String, String, String) {
    let receiver = Receiver::start();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_selvedge-probe"));
    cmd.arg("content");
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key.starts_with("SELVEDGE_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_endpoint())
        .env("OTEL_LOGS_EXPORTER", "otlp")
        .env("OTEL_METRICS_EXPORTER", "otlp")
        .env("SELVEDGE_LOG_FORMAT", "json")
        .env("OTEL_TRACES_EXPORTER", "otlp");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("probe");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    receiver.wait_for_spans(1, WAIT);
    receiver.wait_for_logs(1, WAIT);
    receiver.wait_for_metric("gen_ai.client.operation.duration", WAIT);
    let spans = format!("{:?}", receiver.spans());
    let logs = format!("{:?}", receiver.logs());
    let metrics = format!("{:?}", receiver.metrics());
    (text, spans, logs, metrics)
}

#[test]
fn with_capture_off_the_sentinel_appears_nowhere() {
    for vars in [
        vec![],
        vec![(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "NO_CONTENT",
        )],
        vec![(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "false",
        )],
        vec![("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")],
        vec![(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "bogus",
        )],
        // The standard variable wins over selvedge's switch, even when it is invalid.
        vec![
            ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "nope"),
            ("SELVEDGE_TRACE_CONTENT", "1"),
        ],
        vec![("SELVEDGE_TRACE_CONTENT", "false")],
    ] {
        let (output, spans, logs, metrics) = scenario(&vars);
        for (place, text) in [
            ("output and status", &output),
            ("spans", &spans),
            ("logs", &logs),
            ("metrics", &metrics),
        ] {
            assert!(
                !text.contains(SENTINEL),
                "{vars:?}: the sentinel leaked into {place}"
            );
        }
        assert!(
            output.contains("content capture NoContent"),
            "{vars:?}: {output}"
        );
        assert!(logs.contains("answered"), "log records still flow");
        if let Some((_, value)) = vars
            .iter()
            .find(|(k, v)| k.starts_with("OTEL_INSTR") && *v != "NO_CONTENT")
        {
            assert!(
                output.contains(&format!(
                    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT={value:?}"
                )),
                "one warning naming the value: {output}"
            );
        }
    }
}

#[test]
fn span_only_writes_spans_not_logs() {
    let (output, spans, logs, metrics) = scenario(&[(
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "span_only",
    )]);
    assert!(spans.contains(SENTINEL));
    // Every content attribute of the conventions' table, named as the table
    // names it: the content layer's keys are checked against the table here.
    for key in content::ALL {
        assert!(spans.contains(key), "{key}");
    }
    assert!(!logs.contains(SENTINEL), "not in log records");
    assert!(!metrics.contains(SENTINEL));
    assert!(!output.contains(SENTINEL), "never in log lines or status");
}

#[test]
fn event_only_writes_log_events_not_spans() {
    let (output, spans, logs, _) = scenario(&[(
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "EVENT_ONLY",
    )]);
    assert!(logs.contains(SENTINEL));
    assert_eq!(
        selvedge::content::EVENT_NAME,
        content::EVENT_INFERENCE_DETAILS
    );
    assert!(logs.contains(content::EVENT_INFERENCE_DETAILS));
    for key in content::ALL {
        assert!(logs.contains(key), "{key} in the event's body");
    }
    assert!(!spans.contains(SENTINEL), "not in spans");
    assert!(!output.contains(SENTINEL), "never in log lines or status");
}

#[test]
fn selvedge_trace_content_gives_legacy_span_events() {
    let (output, spans, logs, _) = scenario(&[("SELVEDGE_TRACE_CONTENT", "1")]);
    assert!(
        spans.contains("gen_ai.content.prompt") && spans.contains("gen_ai.content.completion"),
        "{spans}"
    );
    assert!(spans.contains(SENTINEL));
    assert!(!logs.contains(SENTINEL));
    assert!(output.contains("content capture LegacySpanEvents"));
}

#[test]
fn with_capture_off_the_console_output_has_no_sentinel_either() {
    for (var, value) in [
        (
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "false",
        ),
        ("SELVEDGE_TRACE_CONTENT", "0"),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_selvedge-probe"));
        cmd.arg("content");
        for (key, _) in std::env::vars() {
            if key.starts_with("OTEL_") || key.starts_with("SELVEDGE_") || key == "RUST_LOG" {
                cmd.env_remove(key);
            }
        }
        let out = cmd
            .env(var, value)
            .env("OTEL_TRACES_EXPORTER", "console")
            .output()
            .expect("probe");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(
            stderr.contains("chat gpt-4o"),
            "the console trace printed: {stderr}"
        );
        assert!(
            !stdout.contains(SENTINEL) && !stderr.contains(SENTINEL),
            "{var}={value}"
        );
    }
}
