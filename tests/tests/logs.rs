//! Tracing events as OTel log records: the same trace and span ids as the log
//! line and the exported span, over both transports.

use std::time::Duration;

use selvedge::{ExporterKind, LogFormat, Protocol, Telemetry};
use selvedge_testkit::{ReceivedLog, Receiver};
use selvedge_tests::CapturedWriter;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

fn record<'a>(logs: &'a [ReceivedLog], body: &str) -> &'a ReceivedLog {
    logs.iter()
        .find(|l| l.body_str() == Some(body))
        .unwrap_or_else(|| {
            panic!(
                "no log record {body:?}; got {:?}",
                logs.iter().map(|l| l.body_str()).collect::<Vec<_>>()
            )
        })
}

#[test]
fn events_become_log_records_with_the_lines_ids() {
    for protocol in [Protocol::HttpProtobuf, Protocol::Grpc] {
        let receiver = Receiver::start();
        let lines = CapturedWriter::default();
        let endpoint = match protocol {
            Protocol::Grpc => receiver.grpc_endpoint(),
            _ => receiver.http_endpoint(),
        };
        let (telemetry, dispatch) = Telemetry::builder()
            .with_service_name("logs-test")
            .with_endpoint(endpoint)
            .with_protocol(protocol)
            .with_logs_exporter(ExporterKind::Otlp)
            .with_log_format(LogFormat::Json)
            .with_log_writer(lines.clone())
            .with_log_filter("info")
            .build()
            .expect("build");
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!("outside any span");
            let outer = tracing::info_span!("outer");
            let _o = outer.enter();
            tracing::warn!(tokens = 42_i64, "in outer");
            let inner = tracing::info_span!("inner");
            inner.in_scope(|| tracing::info!(parent: &outer, "explicit parent outer"));
            inner.in_scope(|| tracing::info!("in inner"));
        });
        telemetry.shutdown().expect("shutdown");

        let spans = receiver.wait_for_spans(2, WAIT);
        let logs = receiver.wait_for_logs(4, WAIT);
        assert_eq!(logs.len(), 4, "{protocol}");
        let json: Vec<Value> = lines
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();

        for (body, span) in [
            ("in outer", "outer"),
            ("explicit parent outer", "outer"),
            ("in inner", "inner"),
        ] {
            let rec = record(&logs, body);
            let exported = spans.named(span);
            assert_eq!(rec.trace_id(), exported.trace_id(), "{protocol} {body}");
            assert_eq!(rec.span_id(), exported.span_id(), "{protocol} {body}");
            let line = json.iter().find(|l| l["message"] == body).unwrap();
            assert_eq!(
                line["span_id"],
                rec.span_id(),
                "the line and the record agree: {body}"
            );
        }
        let outside = record(&logs, "outside any span");
        assert_eq!(outside.trace_id(), "", "no trace outside a span");
        let warn = record(&logs, "in outer");
        assert_eq!(warn.record.severity_text, "WARN");
        assert_eq!(warn.attr_i64("tokens"), Some(42));
        assert_eq!(
            selvedge_testkit::attr_value(&warn.resource, "service.name"),
            Some(
                &selvedge_testkit::proto::common::v1::any_value::Value::StringValue(
                    "logs-test".into()
                )
            )
        );
    }
}

#[test]
fn the_exporters_own_transport_logs_are_not_exported() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_logs_exporter(ExporterKind::Otlp)
        .with_log_writer(CapturedWriter::default())
        .with_log_filter("trace")
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("app event");
        tracing::info!(target: "h2::codec", "h2 event");
        tracing::info!(target: "opentelemetry_sdk", "sdk event");
        // Real export traffic with every target at trace level, inside the dispatcher.
        for _ in 0..3 {
            telemetry.force_flush().expect("flush");
        }
    });
    telemetry.shutdown().expect("shutdown");
    let logs = receiver.wait_for_logs(1, WAIT);
    let bodies: Vec<_> = logs
        .iter()
        .map(|l| l.body_str().unwrap_or_default())
        .collect();
    assert_eq!(
        bodies,
        ["app event"],
        "scopes: {:?}",
        logs.iter().map(|l| &l.scope).collect::<Vec<_>>()
    );
}

#[test]
fn log_records_are_counted_in_status() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_logs_exporter(ExporterKind::Otlp)
        .with_log_writer(CapturedWriter::default())
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..10 {
            tracing::info!(i, "counted");
        }
    });
    telemetry.force_flush().expect("flush");
    let status = telemetry.status();
    assert_eq!(
        (
            status.logs_exported,
            status.logs_dropped,
            status.logs_failed,
            status.logs_queued
        ),
        (10, 0, 0, 0),
        "{status}"
    );
    assert!(
        format!("{status}").contains("logs     exported=10"),
        "{status}"
    );
    telemetry.shutdown().expect("shutdown");
}
