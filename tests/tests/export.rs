//! What selvedge puts on the wire, read back by the in-process OTLP receiver.
//!
//! Every test builds its own pipeline with `TelemetryBuilder::build` and runs
//! its workload under `tracing::dispatcher::with_default`, so no test touches a
//! process-wide global and they can run in parallel.

use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use selvedge::{ExporterKind, Protocol, ShutdownError, Telemetry, TelemetryBuilder};
use selvedge_testkit::{Behavior, Receiver, Spans, Transport};
use selvedge_tests::{workload, CapturedWriter};

const WAIT: Duration = Duration::from_secs(15);

/// A builder aimed at `receiver` over `protocol`, with logs kept out of the test output.
fn builder(receiver: &Receiver, protocol: Protocol) -> TelemetryBuilder {
    let endpoint = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    Telemetry::builder()
        .with_service_name("export-test")
        .with_service_version("1.2.3")
        .with_deployment_environment("ci")
        .with_resource_attribute("team", "selvedge")
        .with_endpoint(endpoint)
        .with_protocol(protocol)
        .with_log_writer(CapturedWriter::default())
        .with_log_filter("debug")
}

/// Runs the sync workload and an async span on a current-thread runtime, then shuts down.
fn run_workload(builder: TelemetryBuilder) -> Telemetry {
    let (telemetry, dispatch) = builder.build().expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        workload::run_pipeline();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(workload::async_step(1));
    });
    telemetry
}

fn check_workload(spans: &Spans, transport: Transport) {
    let root = spans.named("run_pipeline");
    let fetch = spans.named("fetch_documents");
    let summarize = spans.named("summarize");
    let embed = spans.named("embed");
    let publish = spans.named("publish");
    let async_step = spans.named("async_step");
    let child_step = spans.named("child_step");

    assert_eq!(root.parent_span_id(), None, "run_pipeline is a root span");
    for child in [fetch, summarize, publish] {
        assert!(
            child.is_child_of(root),
            "{child} should be a child of {root}"
        );
    }
    assert!(embed.is_child_of(summarize));
    assert!(
        child_step.is_child_of(async_step),
        "the async span's child keeps its parent"
    );
    assert_ne!(
        async_step.trace_id(),
        root.trace_id(),
        "separate roots, separate traces"
    );

    for span in spans.iter() {
        assert_eq!(span.transport, transport);
        assert_eq!(span.resource_str("service.name"), Some("export-test"));
        assert_eq!(span.resource_str("service.version"), Some("1.2.3"));
        assert_eq!(span.resource_str("deployment.environment.name"), Some("ci"));
        assert_eq!(span.resource_str("team"), Some("selvedge"));
        assert_eq!(span.scope, "selvedge");
    }

    // Typed attributes: i64, f64 and bool keep their types on the wire.
    assert_eq!(root.attr_i64("doc.count"), Some(3));
    assert_eq!(root.attr_str("pipeline.kind"), Some("research"));
    assert_eq!(fetch.attr_i64("n"), Some(3));
    assert_eq!(fetch.attr_i64("signed"), Some(-7));
    assert_eq!(fetch.attr_f64("ratio"), Some(0.5));
    assert_eq!(fetch.attr_bool("cached"), Some(true));
    // tracing-opentelemetry 0.34 exports u64 fields as strings (see the GenAI layer for typed tokens).
    assert_eq!(fetch.attr_str("tokens"), Some("42"));

    assert_eq!(
        publish.status_code(),
        2,
        "an Err from #[instrument(err)] sets status Error"
    );
    assert_eq!(root.status_code(), 0, "success leaves the status unset");
}

#[test]
fn grpc_spans_arrive_with_parents_resource_and_typed_attributes() {
    let receiver = Receiver::start();
    let telemetry = run_workload(builder(&receiver, Protocol::Grpc));
    telemetry.shutdown().expect("clean shutdown");
    let spans = receiver.wait_for_spans(7, WAIT);
    assert_eq!(
        spans.len(),
        7,
        "exactly the workload's spans: {:?}",
        spans.names()
    );
    check_workload(&spans, Transport::Grpc);
}

#[test]
fn http_spans_arrive_with_parents_resource_and_typed_attributes() {
    let receiver = Receiver::start();
    let telemetry = run_workload(builder(&receiver, Protocol::HttpProtobuf));
    let status = telemetry.status();
    assert_eq!(
        status.traces.endpoint.as_deref(),
        Some(format!("{}/v1/traces", receiver.http_endpoint()).as_str()),
        "a base endpoint gets the signal path over HTTP"
    );
    telemetry.shutdown().expect("clean shutdown");
    let spans = receiver.wait_for_spans(7, WAIT);
    assert_eq!(
        spans.len(),
        7,
        "exactly the workload's spans: {:?}",
        spans.names()
    );
    check_workload(&spans, Transport::Http);
}

#[test]
fn counters_match_what_arrived() {
    let receiver = Receiver::start();
    let telemetry = run_workload(builder(&receiver, Protocol::HttpProtobuf));
    telemetry.force_flush().expect("flush");
    let status = telemetry.status();
    assert_eq!(status.spans_produced, 7);
    assert_eq!(status.spans_exported, 7);
    let latency = status.span_export_latency.expect("exports were timed");
    assert!(
        latency.p50 <= latency.p99 && latency.p99 <= latency.max && latency.max > Duration::ZERO,
        "{latency:?}"
    );
    assert_eq!(status.spans_dropped, 0);
    assert_eq!(status.export_failures, 0);
    assert_eq!(status.spans_queued, 0);
    assert_eq!(receiver.spans().len(), 7);
    telemetry.shutdown().expect("clean shutdown");
}

#[test]
fn metrics_arrive_over_both_transports() {
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let receiver = Receiver::start();
        let (telemetry, dispatch) = builder(&receiver, protocol).build().expect("build");
        let meter = telemetry
            .meter_provider()
            .expect("metrics on with an endpoint")
            .meter("export-test");
        let counter = meter.u64_counter("documents.processed").build();
        counter.add(3, &[]);
        counter.add(4, &[]);
        // tracing-opentelemetry's MetricsLayer: `monotonic_counter.*` fields on events.
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!(monotonic_counter.pipeline_runs = 1_u64, "run finished");
            tracing::info!(monotonic_counter.pipeline_runs = 1_u64, "run finished");
        });
        telemetry.shutdown().expect("clean shutdown");

        let docs = receiver.wait_for_metric("documents.processed", WAIT);
        assert_eq!(docs.sum_value(), Some(7.0), "{protocol}");
        assert_eq!(
            selvedge_testkit::attr_value(&docs.resource, "service.name"),
            Some(
                &selvedge_testkit::proto::common::v1::any_value::Value::StringValue(
                    "export-test".into()
                )
            )
        );
        let runs = receiver.wait_for_metric("pipeline_runs", WAIT);
        assert_eq!(runs.sum_value(), Some(2.0), "{protocol}");
    }
}

#[test]
fn a_rejecting_collector_raises_export_failures() {
    let receiver = Receiver::start();
    receiver.set_behavior(Behavior::Reject);
    let telemetry = run_workload(builder(&receiver, Protocol::HttpProtobuf));
    let _ = telemetry.force_flush();
    let status = telemetry.status();
    assert!(status.export_failures >= 1, "{status}");
    assert_eq!(status.spans_failed, 7, "{status}");
    assert_eq!(status.spans_exported, 0, "{status}");
    assert!(status.last_export_error.is_some(), "{status}");
    assert!(receiver.rejected_requests() >= 1);
    assert!(receiver.spans().is_empty());
    let _ = telemetry.shutdown();
}

#[test]
fn a_full_queue_drops_exactly_what_the_collector_misses() {
    const BURST: usize = 500;
    const QUEUE: usize = 16;
    let receiver = Receiver::start();
    // Stall the collector so the queue fills, then release it and flush.
    receiver.set_behavior(Behavior::Stall);
    let (telemetry, dispatch) = builder(&receiver, Protocol::Grpc)
        .with_max_queue_size(QUEUE)
        .with_log_filter("info")
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..BURST {
            tracing::info_span!("burst", i).in_scope(|| {});
        }
    });
    let during = telemetry.status();
    assert!(
        during.spans_queued as usize <= QUEUE,
        "memory stays bounded: {during}"
    );
    receiver.set_behavior(Behavior::Accept);
    telemetry.force_flush().expect("flush");

    let received = receiver.spans().len();
    let status = telemetry.status();
    assert!(
        status.spans_dropped > 0,
        "the burst must overflow a queue of {QUEUE}: {status}"
    );
    assert_eq!(status.spans_dropped as usize, BURST - received, "{status}");
    assert_eq!(
        status.spans_produced,
        status.spans_exported + status.spans_dropped + status.spans_failed + status.spans_queued,
        "no silent loss: {status}"
    );
    assert_eq!(status.spans_exported as usize, received, "{status}");
    assert_eq!(status.spans_failed, 0, "{status}");
    telemetry.shutdown().expect("clean shutdown");
}

#[test]
fn shutdown_against_a_stalled_collector_is_bounded_and_says_what_was_lost() {
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let receiver = Receiver::start();
        receiver.set_behavior(Behavior::Stall);
        let telemetry = run_workload(
            builder(&receiver, protocol)
                .with_shutdown_timeout(Duration::from_millis(500))
                .with_timeout(Duration::from_secs(30)),
        );
        // One metric, so the final metric export has something to carry.
        let meter = telemetry.meter_provider().expect("metrics on").meter("t");
        meter.u64_counter("jobs").build().add(1, &[]);
        let started = std::time::Instant::now();
        let result = telemetry.shutdown();
        let took = started.elapsed();
        // The timeout for all signals together, plus the guard's 0.5 s grace.
        assert!(
            took < Duration::from_millis(1500),
            "{protocol}: shutdown took {took:?}"
        );
        match result {
            Err(
                err @ ShutdownError::Timeout {
                    pending_spans,
                    pending_logs,
                    pending_metric_batches,
                    ..
                },
            ) => {
                assert_eq!(
                    (pending_spans, pending_logs, pending_metric_batches),
                    (7, 0, 1),
                    "{protocol}: {err}"
                );
                let message = err.to_string();
                assert!(
                    message.contains("7 span(s)") && message.contains("1 metric batch(es)"),
                    "{message}"
                );
            }
            Err(other) => panic!("{protocol}: expected a timeout, got {other}"),
            Ok(()) => panic!("{protocol}: a stalled collector cannot have received the spans"),
        }
    }
}

#[test]
fn span_exports_run_concurrently_up_to_the_configured_number() {
    for protocol in [Protocol::HttpProtobuf, Protocol::Grpc] {
        for lanes in [1, 2, 3] {
            let receiver = Receiver::start();
            // Slow answers, so requests that can overlap do.
            receiver.set_behavior(Behavior::Delay(300));
            let (telemetry, dispatch) = builder(&receiver, protocol)
                .with_max_export_batch_size(10)
                .with_max_queue_size(200)
                .with_max_concurrent_exports(lanes)
                .build()
                .expect("build");
            tracing::dispatcher::with_default(&dispatch, || {
                for i in 0..60 {
                    tracing::info_span!("lane", i).in_scope(|| {});
                }
            });
            telemetry.force_flush().expect("flush");
            assert_eq!(receiver.wait_for_spans(60, WAIT).len(), 60, "{protocol}");
            assert_eq!(
                receiver.max_concurrent_trace_requests(),
                lanes,
                "{protocol}: {lanes} export(s) in flight at most, and that many used"
            );
            let status = telemetry.status();
            assert_eq!(
                (
                    status.spans_exported,
                    status.spans_dropped,
                    status.spans_queued
                ),
                (60, 0, 0),
                "{status}"
            );
            telemetry.shutdown().expect("shutdown");
        }
    }
}

#[test]
fn console_exporter_prints_a_tree_per_trace() {
    let console = CapturedWriter::default();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_service_name("console-test")
        .with_traces_exporter(ExporterKind::Console)
        .with_console_writer(console.clone())
        .with_log_writer(CapturedWriter::default())
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, workload::run_pipeline);
    telemetry.shutdown().expect("clean shutdown");

    let text = console.text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("trace ")
            && lines[0].contains("console-test")
            && lines[0].contains("(5 spans)"),
        "{text}"
    );
    let find = |needle: &str| {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
    };
    assert!(find("run_pipeline")
        .trim_start()
        .starts_with("run_pipeline"));
    assert!(find("fetch_documents").contains("├─ fetch_documents"));
    assert!(find("fetch_documents").contains("ratio=0.5"));
    assert!(
        find("embed").contains("│  └─ embed"),
        "grandchild indented under summarize:\n{text}"
    );
    assert!(find("publish").contains("└─ publish"));
    assert!(find("publish").contains("ERROR \"upstream timed out\""));
    assert!(
        !text.contains("code.file.path") && !text.contains("thread.id"),
        "bookkeeping hidden:\n{text}"
    );
}

#[test]
fn status_never_shows_header_values_or_url_credentials() {
    let receiver = Receiver::start();
    let endpoint = receiver
        .http_endpoint()
        .replace("http://", "http://user:hunter2@");
    let builder = builder(&receiver, Protocol::HttpProtobuf)
        .with_endpoint(endpoint)
        .with_header("x-api-key", "s3cr3t-value");
    let debug = format!("{builder:?}");
    let (telemetry, _dispatch) = builder.build().expect("build");
    let status = telemetry.status();
    let shown = format!("{status}\n{status:?}\n{debug}");
    assert!(!shown.contains("s3cr3t-value"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("x-api-key=<redacted>"), "{shown}");
    assert_eq!(status.traces.headers, vec!["x-api-key".to_string()]);
    let _ = telemetry.shutdown();
}

#[test]
fn builder_headers_reach_the_collector() {
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let receiver = Receiver::start();
        let telemetry =
            run_workload(builder(&receiver, protocol).with_header("x-api-key", "value-123"));
        telemetry.shutdown().expect("clean shutdown");
        receiver.wait_for_spans(7, WAIT);
        let sent = receiver.trace_request_header("x-api-key");
        assert!(!sent.is_empty(), "{protocol}: no trace request arrived");
        assert!(
            sent.iter().all(|v| v == "value-123"),
            "{protocol}: {sent:?}"
        );
    }
}

#[test]
fn transport_spans_are_not_exported() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = builder(&receiver, Protocol::Grpc)
        .with_log_filter("trace")
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("app_work").in_scope(|| {});
        // What the transport crates would emit while exporting.
        tracing::info_span!(target: "h2::proto", "h2_frame").in_scope(|| {});
        tracing::info_span!(target: "hyper::client", "hyper_conn").in_scope(|| {});
        tracing::info_span!(target: "opentelemetry_sdk", "sdk_internal").in_scope(|| {});
        tracing::info_span!(target: "tower_http::trace", "request").in_scope(|| {});
        // Real export traffic with trace-level logging on, inside the dispatcher.
        telemetry.force_flush().expect("flush");
    });
    telemetry.shutdown().expect("clean shutdown");
    let spans = receiver.wait_for_spans(2, WAIT);
    let mut names = spans.names();
    names.sort();
    assert_eq!(names, vec!["app_work", "request"], "only application spans");
}
