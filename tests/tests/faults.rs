//! Export faults, bounded in time: a collector that comes up late, goes away,
//! throttles, or is sent a huge attribute.

use std::time::Duration;

use selvedge::{Protocol, Telemetry};
use selvedge_testkit::{Behavior, Receiver};
use selvedge_tests::{free_port, CapturedWriter};

/// A pipeline aimed at ports where no collector listens yet; returns it and the two ports.
fn aimed_at_free_ports(protocol: Protocol) -> (selvedge::Telemetry, tracing::Dispatch, u16, u16) {
    let (grpc_port, http_port) = (free_port(), free_port());
    let endpoint = match protocol {
        Protocol::Grpc => format!("http://127.0.0.1:{grpc_port}"),
        _ => format!("http://127.0.0.1:{http_port}"),
    };
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(endpoint)
        .with_protocol(protocol)
        .with_timeout(Duration::from_secs(2))
        .with_log_writer(CapturedWriter::default())
        .with_log_filter("info")
        .build()
        .expect("build");
    (telemetry, dispatch, grpc_port, http_port)
}

#[test]
fn a_collector_started_later_receives_what_is_produced_after_it_is_up() {
    for protocol in [Protocol::HttpProtobuf, Protocol::Grpc] {
        let (telemetry, dispatch, grpc_port, http_port) = aimed_at_free_ports(protocol);
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..10 {
                tracing::info_span!("before").in_scope(|| {});
            }
        });
        // Nothing listens yet: this flush fails (bounded), the spans are counted as failed.
        let _ = telemetry.force_flush();
        let before = telemetry.status();
        assert_eq!(before.spans_exported, 0, "{protocol}: {before}");

        let receiver = Receiver::start_on(grpc_port, http_port);
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..10 {
                tracing::info_span!("after").in_scope(|| {});
            }
        });
        telemetry
            .force_flush()
            .expect("flush once the collector is up");
        let spans = receiver.wait_for_spans(10, Duration::from_secs(15));
        assert_eq!(
            spans.all_named("after").len(),
            10,
            "{protocol}: {:?}",
            spans.names()
        );
        let status = telemetry.status();
        assert_eq!(
            status.spans_produced,
            status.spans_exported
                + status.spans_dropped
                + status.spans_failed
                + status.spans_queued,
            "{protocol}: every span accounted for: {status}"
        );
        assert_eq!(status.spans_produced, 20);
        let _ = telemetry.shutdown();
    }
}

#[test]
fn throttling_and_unavailable_answers_are_retried_and_delivered() {
    // HTTP 429 and 503 carry Retry-After; over gRPC both are UNAVAILABLE.
    let cases = [
        (Protocol::HttpProtobuf, Behavior::ThrottleOnce(1)),
        (Protocol::HttpProtobuf, Behavior::UnavailableOnce(1)),
        (Protocol::Grpc, Behavior::UnavailableOnce(1)),
    ];
    for (protocol, behavior) in cases {
        let receiver = Receiver::start();
        receiver.set_behavior(behavior);
        let endpoint = match protocol {
            Protocol::Grpc => receiver.grpc_endpoint(),
            _ => receiver.http_endpoint(),
        };
        let (telemetry, dispatch) = Telemetry::builder()
            .with_endpoint(endpoint)
            .with_protocol(protocol)
            .with_log_writer(CapturedWriter::default())
            .build()
            .expect("build");
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..5 {
                tracing::info_span!("throttled").in_scope(|| {});
            }
        });
        telemetry.force_flush().expect("flush");
        let spans = receiver.wait_for_spans(5, Duration::from_secs(15));
        assert_eq!(spans.len(), 5, "{protocol} {behavior:?}");
        assert_eq!(
            receiver.rejected_requests(),
            1,
            "{protocol} {behavior:?}: the first attempt was turned away"
        );
        let status = telemetry.status();
        assert_eq!(
            (status.spans_exported, status.spans_failed),
            (5, 0),
            "{protocol} {behavior:?}: {status}"
        );
        telemetry.shutdown().expect("shutdown");
    }
}

#[test]
fn a_one_mib_attribute_still_goes_out_and_limits_cut_it() {
    let huge = "x".repeat(1024 * 1024);
    for limit in [None, Some(1000)] {
        let receiver = Receiver::start();
        let mut builder = Telemetry::builder()
            .with_endpoint(receiver.http_endpoint())
            .with_log_writer(CapturedWriter::default());
        if let Some(n) = limit {
            builder = builder.with_attribute_value_length_limit(n);
        }
        let (telemetry, dispatch) = builder.build().expect("build");
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info_span!("big", payload = huge.as_str()).in_scope(|| {});
            tracing::info_span!("small").in_scope(|| {});
        });
        telemetry.shutdown().expect("shutdown");
        let spans = receiver.wait_for_spans(2, Duration::from_secs(15));
        let payload = spans
            .named("big")
            .attr_str("payload")
            .expect("payload")
            .len();
        assert_eq!(payload, limit.unwrap_or(huge.len()), "{limit:?}");
        assert_eq!(spans.len(), 2, "the rest of the batch went out too");
    }
}

#[test]
fn a_collector_killed_and_restarted_loses_only_what_was_counted() {
    for protocol in [Protocol::HttpProtobuf, Protocol::Grpc] {
        let (telemetry, dispatch, grpc_port, http_port) = aimed_at_free_ports(protocol);
        let burst = |name: &'static str| {
            tracing::dispatcher::with_default(&dispatch, || {
                for _ in 0..10 {
                    tracing::info_span!("phase", name).in_scope(|| {});
                }
            })
        };
        let first = Receiver::start_on(grpc_port, http_port);
        burst("up");
        telemetry.force_flush().expect("flush while up");
        assert_eq!(first.wait_for_spans(10, Duration::from_secs(15)).len(), 10);
        drop(first); // killed

        burst("down");
        let _ = telemetry.force_flush();

        let second = Receiver::start_on(grpc_port, http_port); // restarted
        burst("again");
        telemetry.force_flush().expect("flush after restart");
        let spans = second.wait_for_spans(10, Duration::from_secs(15));
        assert!(
            spans.iter().any(|s| s.attr_str("name") == Some("again")),
            "{protocol}"
        );

        let s = telemetry.status();
        assert_eq!(s.spans_produced, 30, "{protocol}: {s}");
        assert_eq!(
            s.spans_produced,
            s.spans_exported + s.spans_dropped + s.spans_failed + s.spans_queued,
            "{protocol}: {s}"
        );
        let lost = s.spans_dropped + s.spans_failed;
        assert!(
            lost <= 10,
            "{protocol}: at most the outage's spans are lost: {s}"
        );
        assert_eq!(
            s.spans_exported,
            20 + (10 - lost),
            "{protocol}: every span not counted lost arrived: {s}"
        );
        let _ = telemetry.shutdown();
    }
}
