//! Every log line names the trace and span it belongs to, and those ids are the
//! ones the collector received (read back from the testkit receiver).

use std::time::Duration;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use selvedge::{LogFormat, Protocol, Sampler, Telemetry, TelemetryBuilder};
use selvedge_testkit::{Receiver, Spans};
use selvedge_tests::CapturedWriter;
use serde_json::Value;
use tracing::instrument::{Instrument, WithSubscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;

const WAIT: Duration = Duration::from_secs(15);

fn builder(receiver: &Receiver, logs: &CapturedWriter) -> TelemetryBuilder {
    Telemetry::builder()
        .with_service_name("correlation-test")
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_log_format(LogFormat::Json)
        .with_log_writer(logs.clone())
        .with_log_filter("info")
}

/// Every line as JSON (each must parse), keyed by message.
fn lines(logs: &CapturedWriter) -> Vec<Value> {
    logs.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn line<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["message"] == message)
        .unwrap_or_else(|| panic!("no line {message:?} in {lines:#?}"))
}

/// Asserts `line` carries exactly the exported span `name`'s ids.
fn assert_ids(spans: &Spans, lines: &[Value], message: &str, name: &str) {
    let l = line(lines, message);
    let span = spans.named(name);
    assert_eq!(l["trace_id"], span.trace_id(), "{message}: {l}");
    assert_eq!(l["span_id"], span.span_id(), "{message}: {l}");
    assert_eq!(l["trace_flags"], "01", "{message}: {l}");
}

#[test]
fn nested_spans_and_explicit_parents() {
    let receiver = Receiver::start();
    let logs = CapturedWriter::default();
    let (telemetry, dispatch) = builder(&receiver, &logs).build().expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("outside");
        let outer = tracing::info_span!("outer", job = "ingest");
        let _o = outer.enter();
        tracing::info!("in outer");
        {
            let inner = tracing::info_span!("inner");
            let _i = inner.enter();
            tracing::info!(n = 1_i64, "in inner");
            // An explicit parent that is not the entered span.
            tracing::info!(parent: &outer, "to outer from inner");
        }
        // A span created but never entered, addressed explicitly.
        let never = tracing::info_span!("never_entered");
        tracing::info!(parent: &never, "to never_entered");
        drop(never);
        tracing::info!(parent: None, "explicit root");
    });
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(3, WAIT);
    let lines = lines(&logs);

    assert_ids(&spans, &lines, "in outer", "outer");
    assert_ids(&spans, &lines, "in inner", "inner");
    assert_ids(&spans, &lines, "to outer from inner", "outer");
    assert_ids(&spans, &lines, "to never_entered", "never_entered");
    assert!(spans.named("inner").is_child_of(spans.named("outer")));

    for message in ["outside", "explicit root"] {
        let l = line(&lines, message);
        // serde_json's map is sorted by key.
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["level", "message", "target", "timestamp"],
            "no ids, no empty fields: {l}"
        );
    }

    let inner = line(&lines, "in inner");
    assert_eq!(inner["n"], 1, "event fields are top-level and typed");
    assert_eq!(inner["level"], "INFO");
    assert_eq!(inner["span"]["name"], "inner");
    assert_eq!(inner["spans"][0]["name"], "outer");
    assert_eq!(inner["spans"][0]["job"], "ingest");
    assert_eq!(inner["spans"][1]["name"], "inner");
    let ts = inner["timestamp"].as_str().unwrap();
    assert!(
        ts.len() == 27 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
        "{ts}"
    );
}

#[test]
fn tasks_moved_across_worker_threads_keep_their_ids() {
    let receiver = Receiver::start();
    let logs = CapturedWriter::default();
    let (telemetry, dispatch) = builder(&receiver, &logs).build().expect("build");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..8 {
            let span =
                tracing::dispatcher::with_default(&dispatch, || tracing::info_span!("task", i));
            let fut = async move {
                tracing::info!(i, "task started");
                for _ in 0..3 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    tokio::task::yield_now().await;
                }
                tracing::info!(i, "task finished");
            };
            tasks.push(tokio::spawn(
                fut.instrument(span).with_subscriber(dispatch.clone()),
            ));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(8, WAIT);
    let lines = lines(&logs);
    assert_eq!(lines.len(), 16);
    for l in &lines {
        let i = l["i"].as_i64().unwrap();
        let span = spans
            .all_named("task")
            .into_iter()
            .find(|s| s.attr_i64("i") == Some(i))
            .expect("task span exported");
        assert_eq!(l["span_id"], span.span_id(), "{l}");
        assert_eq!(l["trace_id"], span.trace_id(), "{l}");
    }
}

fn remote(flags: TraceFlags) -> (opentelemetry::Context, TraceId, SpanId) {
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    let sc = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
    (
        opentelemetry::Context::new().with_remote_span_context(sc),
        trace_id,
        span_id,
    )
}

#[test]
fn a_parent_set_after_creation_is_honoured() {
    let receiver = Receiver::start();
    let logs = CapturedWriter::default();
    let (telemetry, dispatch) = builder(&receiver, &logs).build().expect("build");
    let (cx, trace_id, parent_id) = remote(TraceFlags::SAMPLED);
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("continued");
        // The correlation layer saw the span's creation; it must not have started the OTel span.
        span.set_parent(cx)
            .expect("set_parent after creation still works");
        span.in_scope(|| tracing::info!("in continued"));
    });
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(1, WAIT);
    let continued = spans.named("continued");
    assert_eq!(continued.trace_id(), trace_id.to_string());
    assert_eq!(continued.parent_span_id(), Some(parent_id.to_string()));
    assert_ids(&spans, &lines(&logs), "in continued", "continued");
}

#[test]
fn an_unsampled_span_has_ids_and_flags_00() {
    let receiver = Receiver::start();
    let logs = CapturedWriter::default();
    let (telemetry, dispatch) = builder(&receiver, &logs)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .build()
        .expect("build");
    let (cx, trace_id, _) = remote(TraceFlags::default());
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("not_sampled");
        span.set_parent(cx).unwrap();
        span.in_scope(|| {
            tracing::info!("in unsampled");
            tracing::info_span!("unsampled_child")
                .in_scope(|| tracing::info!("in unsampled child"));
        });
        tracing::info_span!("sampled_root").in_scope(|| tracing::info!("in sampled"));
    });
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(1, WAIT);
    assert_eq!(
        spans.names(),
        ["sampled_root"],
        "the unsampled trace is not exported"
    );
    let lines = lines(&logs);
    let parent = line(&lines, "in unsampled");
    let child = line(&lines, "in unsampled child");
    for l in [parent, child] {
        assert_eq!(l["trace_id"], trace_id.to_string(), "{l}");
        assert_eq!(l["trace_flags"], "00", "{l}");
        assert_eq!(l["span_id"].as_str().unwrap().len(), 16, "{l}");
    }
    assert_ne!(parent["span_id"], child["span_id"]);
    assert_ids(&spans, &lines, "in sampled", "sampled_root");
}

#[test]
fn text_lines_end_with_the_ids() {
    let receiver = Receiver::start();
    let logs = CapturedWriter::default();
    let (telemetry, dispatch) = builder(&receiver, &logs)
        .with_log_format(LogFormat::Text)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("outside");
        tracing::info_span!("work", k = "v")
            .in_scope(|| tracing::warn!(tokens = 42_u64, "inside\nnext"));
    });
    telemetry.shutdown().expect("shutdown");
    let span = receiver.wait_for_spans(1, WAIT).named("work").clone();
    let text = logs.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "a newline in a message does not split the line:\n{text}"
    );
    assert!(
        lines[0].ends_with("selvedge_tests: outside") || lines[0].contains(": outside"),
        "{text}"
    );
    assert!(!lines[0].contains("trace_id"), "{text}");
    let expected_tail = format!(
        "work{{k=\"v\"}}: correlation: inside\\nnext tokens=42 trace_id={} span_id={}",
        span.trace_id(),
        span.span_id()
    );
    assert!(
        lines[1].ends_with(&expected_tail),
        "{}\nexpected tail: {expected_tail}",
        lines[1]
    );
    assert!(
        lines[1].contains("  WARN ") || lines[1].contains(" WARN "),
        "{text}"
    );
}
