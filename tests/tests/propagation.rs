//! One trace across a queue hop and retried work, read back from the receiver.
//! Explicit propagators here (no process-wide global); `propagation_global.rs`
//! covers the global-propagator API in a binary of its own.

use std::time::Duration;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::KeyValue;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use selvedge::{Protocol, Telemetry};
use selvedge_propagation::attempt::{record_attempt, Outcome, DELIVERY_ATTEMPT, OUTCOME};
use selvedge_propagation::{continue_from_context, extract_with, inject_with};
use selvedge_testkit::{attr_value, proto::common::v1::any_value::Value, Receiver};
use selvedge_tests::CapturedWriter;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const WAIT: Duration = Duration::from_secs(15);

fn w3c() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

#[test]
fn a_job_crosses_the_queue_and_three_attempts_are_linked() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_service_name("queue-test")
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_log_writer(CapturedWriter::default())
        .build()
        .expect("build");
    let (tx, rx) = std::sync::mpsc::channel::<String>();

    tracing::dispatcher::with_default(&dispatch, || {
        // Producer: inject into the message body, as other SDKs do.
        let send = tracing::info_span!("send jobs");
        send.in_scope(|| {
            let cx = tracing::Span::current()
                .context()
                .with_baggage(vec![KeyValue::new("tenant", "acme")]);
            let mut message = serde_json::json!({"job": "summarize", "doc": 7});
            inject_with(&w3c(), &cx, &mut message);
            tx.send(message.to_string()).unwrap();
        });
        drop(send);

        // Consumer (the wire is a string: nothing but the message crosses).
        let body: serde_json::Value = serde_json::from_str(&rx.recv().unwrap()).unwrap();
        let carried = extract_with(&w3c(), &body);
        assert_eq!(
            carried.baggage().get("tenant").map(|v| v.to_string()),
            Some("acme".into())
        );
        let receive = tracing::info_span!("receive jobs");
        assert!(
            continue_from_context(&receive, carried.clone()).unwrap(),
            "a remote parent was found"
        );
        receive.in_scope(|| {
            for attempt in 1..=3 {
                let process = tracing::info_span!("process jobs", attempt);
                let outcome = if attempt < 3 {
                    Outcome::Failure
                } else {
                    Outcome::Success
                };
                process.in_scope(|| tracing::info!("working"));
                record_attempt(&receive, &process, attempt, outcome);
            }
        });
        drop(receive);

        // After a restart the receive span is gone; the redelivered job still joins the trace.
        let redelivered = tracing::info_span!("process jobs after restart");
        assert!(continue_from_context(&redelivered, carried).unwrap());
        redelivered.in_scope(|| tracing::info!("working again"));
    });
    telemetry.shutdown().expect("shutdown");

    let spans = receiver.wait_for_spans(6, WAIT);
    let send = spans.named("send jobs");
    let receive = spans.named("receive jobs");
    let restart = spans.named("process jobs after restart");
    assert!(receive.is_child_of(send), "one trace across the queue");
    assert!(
        restart.is_child_of(send),
        "joins through the carried context"
    );
    let attempts = spans.all_named("process jobs");
    assert_eq!(attempts.len(), 3);

    let links = &receive.span.links;
    assert_eq!(links.len(), 3, "one link per attempt");
    for (n, link) in links.iter().enumerate() {
        let attempt = attempts
            .iter()
            .find(|s| s.span.span_id == link.span_id)
            .expect("the link points at an exported process span");
        let want = (n + 1) as i64;
        assert_eq!(
            attr_value(&link.attributes, DELIVERY_ATTEMPT),
            Some(&Value::IntValue(want))
        );
        let outcome = if want < 3 { "failure" } else { "success" };
        assert_eq!(
            attr_value(&link.attributes, OUTCOME),
            Some(&Value::StringValue(outcome.into()))
        );
        assert_eq!(attempt.attr_i64(DELIVERY_ATTEMPT), Some(want));
        assert_eq!(attempt.attr_str(OUTCOME), Some(outcome));
    }
}

#[test]
fn a_message_without_context_starts_a_fresh_root() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_log_writer(CapturedWriter::default())
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for body in [
            serde_json::json!({"job": 1}),
            serde_json::json!({"job": 2, "_trace_context": {"traceparent": "garbage"}}),
            serde_json::json!({"job": 3, "_trace_context": 42}),
        ] {
            let span = tracing::info_span!("process", job = body["job"].as_i64().unwrap());
            assert!(!continue_from_context(&span, extract_with(&w3c(), &body)).unwrap());
            span.in_scope(|| {});
        }
    });
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(3, WAIT);
    for s in spans.iter() {
        assert_eq!(s.parent_span_id(), None, "{s} is a root");
    }
    let mut traces: Vec<String> = spans.iter().map(|s| s.trace_id()).collect();
    traces.dedup();
    assert_eq!(traces.len(), 3, "three separate traces");
}
