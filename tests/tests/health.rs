//! The pipeline's health as OTel SDK metrics (`otel.sdk.processor.*`,
//! `otel.sdk.exporter.*`), read back by the in-process OTLP receiver and
//! compared with what `status()` counts at the same moment.

use std::time::Duration;

use selvedge::{Protocol, Telemetry, TelemetryBuilder};
use selvedge_testkit::proto::metrics::v1::{metric::Data, number_data_point, NumberDataPoint};
use selvedge_testkit::{attr_value, Behavior, ReceivedMetric, Receiver};
use selvedge_tests::CapturedWriter;

const WAIT: Duration = Duration::from_secs(15);

fn builder(receiver: &Receiver) -> TelemetryBuilder {
    Telemetry::builder()
        .with_service_name("health-test")
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_log_writer(CapturedWriter::default())
}

fn text(attrs: &[selvedge_testkit::proto::common::v1::KeyValue], key: &str) -> Option<String> {
    match attr_value(attrs, key)? {
        selvedge_testkit::proto::common::v1::any_value::Value::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

/// The data points of a `Sum` metric.
fn points(metric: &ReceivedMetric) -> &[NumberDataPoint] {
    match metric.metric.data.as_ref() {
        Some(Data::Sum(sum)) => &sum.data_points,
        other => panic!("{} is not a sum: {other:?}", metric.name()),
    }
}

/// The value of the point with this `error.type` (`None`: the one without).
fn value(metric: &ReceivedMetric, error_type: Option<&str>) -> Option<i64> {
    points(metric)
        .iter()
        .find(|p| text(&p.attributes, "error.type").as_deref() == error_type)
        .map(|p| match p.value {
            Some(number_data_point::Value::AsInt(n)) => n,
            other => panic!("{}: not an integer: {other:?}", metric.name()),
        })
}

fn component(metric: &ReceivedMetric) -> (String, String) {
    let p = &points(metric)[0];
    (
        text(&p.attributes, "otel.component.type").unwrap_or_default(),
        text(&p.attributes, "otel.component.name").unwrap_or_default(),
    )
}

/// Flushes everything, then collects the metrics once more, after the spans
/// and log records have settled: the status then is what those metrics say.
fn settle(telemetry: &Telemetry) -> selvedge::Status {
    let _ = telemetry.force_flush();
    telemetry
        .meter_provider()
        .expect("metrics on with an endpoint")
        .force_flush()
        .expect("metrics flush");
    telemetry.status()
}

#[test]
fn dropped_and_exported_spans_reach_the_metrics_backend_as_status_counts_them() {
    let receiver = Receiver::start();
    // Slow answers and room for two spans: most of a burst is dropped.
    receiver.set_behavior(Behavior::Delay(300));
    let (telemetry, dispatch) = builder(&receiver)
        .with_max_queue_size(2)
        .with_max_export_batch_size(1)
        .with_max_concurrent_exports(1)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..50 {
            tracing::info_span!("burst", i).in_scope(|| {});
        }
    });
    receiver.set_behavior(Behavior::Accept);
    let status = settle(&telemetry);
    assert!(status.spans_dropped > 0, "the burst overflowed: {status}");
    assert!(status.pipeline_metrics, "on by default with OTLP metrics");
    assert!(
        status.to_string().contains("pipeline health exported"),
        "{status}"
    );

    let processed = receiver.wait_for_metric("otel.sdk.processor.span.processed", WAIT);
    assert_eq!(
        component(&processed),
        (
            "batching_span_processor".into(),
            "batching_span_processor/0".into()
        )
    );
    assert_eq!(processed.metric.unit, "{span}");
    assert_eq!(value(&processed, None), Some(status.spans_exported as i64));
    assert_eq!(
        value(&processed, Some("queue_full")),
        Some(status.spans_dropped as i64)
    );
    assert_eq!(
        value(&processed, Some("already_shutdown")),
        None,
        "none yet"
    );

    let exported = receiver.wait_for_metric("otel.sdk.exporter.span.exported", WAIT);
    assert_eq!(
        component(&exported),
        (
            "otlp_http_span_exporter".into(),
            "otlp_http_span_exporter/0".into()
        )
    );
    assert_eq!(value(&exported, None), Some(status.spans_exported as i64));
    assert_eq!(value(&exported, Some("_OTHER")), None, "nothing failed");
    // The collector the exporter talks to.
    let point = &points(&exported)[0];
    let port = receiver
        .http_endpoint()
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    assert_eq!(
        text(&point.attributes, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attr_value(&point.attributes, "server.port"),
        Some(&selvedge_testkit::proto::common::v1::any_value::Value::IntValue(port))
    );

    let capacity = receiver.wait_for_metric("otel.sdk.processor.span.queue.capacity", WAIT);
    assert_eq!(value(&capacity, None), Some(2));
    for idle in [
        "otel.sdk.processor.span.queue.size",
        "otel.sdk.exporter.span.inflight",
    ] {
        let m = receiver.wait_for_metric(idle, WAIT);
        assert_eq!(value(&m, None), Some(0), "{idle} after the flush");
    }
    telemetry.shutdown().expect("clean shutdown");
}

#[test]
fn failed_exports_are_counted_by_error_type() {
    let receiver = Receiver::start();
    receiver.set_behavior(Behavior::Reject);
    let (telemetry, dispatch) = builder(&receiver).build().expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..5 {
            tracing::info_span!("rejected", i).in_scope(|| {});
        }
    });
    // The spans' exports fail; the metrics must get through.
    let _ = telemetry.force_flush();
    receiver.set_behavior(Behavior::Accept);
    let status = settle(&telemetry);
    assert_eq!(status.spans_failed, 5, "{status}");
    let exported = receiver.wait_for_metric("otel.sdk.exporter.span.exported", WAIT);
    assert_eq!(value(&exported, Some("_OTHER")), Some(5));
    assert_eq!(value(&exported, None), Some(0));
    telemetry.shutdown().expect("clean shutdown");
}

#[test]
fn pipeline_metrics_can_be_turned_off() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = builder(&receiver)
        .with_pipeline_metrics(false)
        .build()
        .expect("build");
    let meter = opentelemetry::metrics::MeterProvider::meter(
        telemetry.meter_provider().expect("metrics on"),
        "health-test",
    );
    assert!(!telemetry.status().pipeline_metrics);
    meter.u64_counter("app.work").build().add(1, &[]);
    tracing::dispatcher::with_default(&dispatch, || tracing::info_span!("one").in_scope(|| {}));
    telemetry.shutdown().expect("clean shutdown");
    receiver.wait_for_metric("app.work", WAIT);
    let names: Vec<String> = receiver
        .metrics()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("otel.sdk.")),
        "off: {names:?}"
    );
}

#[test]
fn exported_log_records_are_reported_under_the_log_names() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = builder(&receiver)
        .with_logs_exporter(selvedge::ExporterKind::Otlp)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..3 {
            tracing::info!(i, "a log record");
        }
    });
    let status = settle(&telemetry);
    assert_eq!(status.logs_exported, 3, "{status}");
    let exported = receiver.wait_for_metric("otel.sdk.exporter.log.exported", WAIT);
    assert_eq!(exported.metric.unit, "{log_record}");
    assert_eq!(
        component(&exported),
        (
            "otlp_http_log_exporter".into(),
            "otlp_http_log_exporter/0".into()
        )
    );
    assert_eq!(value(&exported, None), Some(3));
    let processed = receiver.wait_for_metric("otel.sdk.processor.log.processed", WAIT);
    assert_eq!(
        component(&processed),
        (
            "batching_log_processor".into(),
            "batching_log_processor/0".into()
        )
    );
    assert_eq!(value(&processed, None), Some(3));
    telemetry.shutdown().expect("clean shutdown");
}
