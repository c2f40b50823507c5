//! The global-propagator API (`inject`, `continue_from`, `link_from`) with the
//! propagator `install()` sets. One test in this binary: it owns the globals.

use std::time::Duration;

use selvedge::Protocol;
use selvedge_propagation::{continue_from, inject, link_from};
use selvedge_testkit::{attr_value, proto::common::v1::any_value::Value, Receiver};
use selvedge_tests::CapturedWriter;

#[test]
fn inject_continue_and_link_with_the_installed_propagator() {
    let receiver = Receiver::start();
    let telemetry = selvedge::Telemetry::builder()
        .with_service_name("global-propagation")
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_log_writer(CapturedWriter::default())
        .install()
        .expect("install");

    let mut headers = std::collections::HashMap::new();
    let mut message = serde_json::json!({"job": "batch"});
    tracing::info_span!("producer").in_scope(|| {
        inject(&mut headers);
        inject(&mut message);
    });
    assert!(headers.contains_key("traceparent"), "{headers:?}");
    assert!(
        message["_trace_context"]["traceparent"].is_string(),
        "{message}"
    );

    let consumer = tracing::info_span!("consumer");
    assert!(continue_from(&consumer, &headers).unwrap());
    consumer.in_scope(|| {});

    let batch = tracing::info_span!("batch");
    let attrs = [opentelemetry::KeyValue::new("messaging.batch.index", 0_i64)];
    assert!(link_from(&batch, &message, attrs));
    assert!(
        !link_from(&batch, &serde_json::json!({}), []),
        "nothing to link to"
    );
    batch.in_scope(|| {});

    // After start, the parent can no longer change: an error, not a silent no-op.
    let started = tracing::info_span!("started");
    started.in_scope(|| {});
    assert!(continue_from(&started, &headers).is_err());
    // Spans end (and are exported) when dropped.
    drop((consumer, batch, started));

    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(4, Duration::from_secs(15));
    assert_eq!(spans.len(), 4, "{:?}", spans.names());
    let producer = spans.named("producer");
    assert!(spans.named("consumer").is_child_of(producer));
    let batch = spans.named("batch");
    assert_ne!(
        batch.trace_id(),
        producer.trace_id(),
        "a link, not a parent"
    );
    assert_eq!(batch.span.links.len(), 1);
    assert_eq!(batch.span.links[0].span_id, producer.span.span_id);
    assert_eq!(
        attr_value(&batch.span.links[0].attributes, "messaging.batch.index"),
        Some(&Value::IntValue(0))
    );
}
