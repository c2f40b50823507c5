//! What captured content looks like on the wire: formats, limits, redaction,
//! and the runtime toggle. In-process pipelines (no globals touched).

use std::time::Duration;

use selvedge::content::{self, Capture, Document, Message, Part};
use selvedge::genai::semconv::content as names;
use selvedge::genai::GenAiSpan;
use selvedge::{Protocol, Telemetry};
use selvedge_testkit::Receiver;
use selvedge_tests::CapturedWriter;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

fn attr_json(s: &selvedge_testkit::ReceivedSpan, key: &str) -> Value {
    serde_json::from_str(s.attr_str(key).unwrap_or_else(|| panic!("no {key}"))).expect("valid JSON")
}

#[test]
fn span_attributes_follow_the_conventions_json() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_log_writer(CapturedWriter::default())
        .with_content_capture(Capture::SpanOnly)
        .with_content_max_part_bytes(64)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let span = GenAiSpan::chat("openai", "gpt-4o").start();
        span.in_scope(|| {
            content::system_instructions(|| [Part::text("You are terse.")]);
            content::prompt(|| {
                [Message::with_parts(
                    "user",
                    vec![
                        Part::text("key sk-abcdefghijklmnopqrstuvwxyz012345 please"),
                        Part::Uri {
                            uri: "https://x/y.png".into(),
                            mime_type: None,
                        },
                    ],
                )]
            });
            content::tool_call_arguments(|| "{not json");
            content::tool_call_result(|| format!("{}€", "a".repeat(63))); // the cut falls inside €
            content::completion(|| {
                [Message::with_parts(
                    "assistant",
                    vec![Part::tool_call(
                        Some("call_1"),
                        "get_weather",
                        "{\"city\":\"Lisbon\"}",
                    )],
                )
                .finished("tool_calls")]
            });
        });
    });
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(1, WAIT);
    let s = spans.named("chat gpt-4o");

    let input = attr_json(s, "gen_ai.input.messages");
    assert_eq!(input[0]["role"], "user");
    assert_eq!(input[0]["parts"][0]["type"], "text");
    assert_eq!(
        input[0]["parts"][0]["content"], "key [REDACTED] please",
        "secrets redacted"
    );
    assert_eq!(input[0]["parts"][1]["type"], "uri");
    let output = attr_json(s, "gen_ai.output.messages");
    assert_eq!(output[0]["finish_reason"], "tool_calls");
    assert_eq!(output[0]["parts"][0]["type"], "tool_call");
    assert_eq!(
        output[0]["parts"][0]["arguments"]["city"], "Lisbon",
        "valid JSON arguments stay structured"
    );
    assert_eq!(
        attr_json(s, "gen_ai.system_instructions")[0]["content"],
        "You are terse."
    );
    assert_eq!(
        attr_json(s, "gen_ai.tool.call.arguments"),
        Value::String("{not json".into()),
        "invalid JSON kept as text"
    );
    let result = attr_json(s, "gen_ai.tool.call.result");
    assert_eq!(
        result,
        Value::String(format!("{}…[truncated 1 chars]", "a".repeat(63))),
        "cut before the 3-byte character"
    );
}

#[test]
fn huge_content_is_bounded_and_stays_valid_json() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_log_writer(CapturedWriter::default())
        .with_content_capture(Capture::SpanOnly)
        .build()
        .expect("build");
    let ten_mib = "é".repeat(5 * 1024 * 1024) + "\u{0}\u{1b}[2J";
    tracing::dispatcher::with_default(&dispatch, || {
        GenAiSpan::chat("openai", "gpt-4o")
            .start()
            .in_scope(|| content::prompt_text(|| ten_mib.clone()));
    });
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(1, WAIT);
    let raw = spans
        .named("chat gpt-4o")
        .attr_str("gen_ai.input.messages")
        .unwrap()
        .to_string();
    assert!(
        raw.len() < 8 * 1024 + 200,
        "bounded by the 8 KiB default: {} bytes",
        raw.len()
    );
    let v: Value = serde_json::from_str(&raw).expect("valid JSON");
    let text = v[0]["parts"][0]["content"].as_str().unwrap();
    assert!(
        text.ends_with("chars]") && text.contains("…[truncated "),
        "marked cut"
    );
}

#[test]
fn capture_can_be_switched_at_run_time() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_log_writer(CapturedWriter::default())
        .with_content_capture(Capture::NoContent)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        assert_eq!(content::capture(), Capture::NoContent);
        let mut built = false;
        GenAiSpan::chat("openai", "before").start().in_scope(|| {
            content::prompt(|| {
                built = true;
                [Message::user("early")]
            })
        });
        assert!(!built, "nothing is built while capture is off");
        assert!(content::set_capture(Capture::SpanOnly));
        GenAiSpan::chat("openai", "after")
            .start()
            .in_scope(|| content::prompt_text(|| "late"));
        assert!(content::set_capture(Capture::NoContent));
    });
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(2, WAIT);
    assert!(spans
        .named("chat before")
        .attr_str("gen_ai.input.messages")
        .is_none());
    assert!(spans
        .named("chat after")
        .attr_str("gen_ai.input.messages")
        .unwrap()
        .contains("late"));
}

/// A retrieval's query and documents, as a RAG step records them.
fn retrieve() {
    GenAiSpan::retrieval("kb-weather").start().in_scope(|| {
        content::retrieval_query(|| "Bearer abcdefghijklmnop weather in \"Lisbon\"");
        content::retrieval_documents(|| {
            [
                Document::new("doc-1")
                    .score(0.91)
                    .content("x".repeat(100))
                    .with("title", "Climate"),
                Document::new("doc-2").score(f64::NAN),
            ]
        });
    });
}

#[test]
fn retrieval_content_on_spans_is_the_query_as_text_and_the_documents_as_json() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_log_writer(CapturedWriter::default())
        .with_content_capture(Capture::SpanOnly)
        .with_content_max_part_bytes(64)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, retrieve);
    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(1, WAIT);
    let s = spans.named("retrieval kb-weather");
    assert_eq!(
        s.attr_str(names::RETRIEVAL_QUERY_TEXT),
        Some("[REDACTED] weather in \"Lisbon\""),
        "plain text (not a JSON string), redacted"
    );
    let docs = attr_json(s, names::RETRIEVAL_DOCUMENTS);
    assert_eq!(docs[0]["id"], "doc-1");
    assert_eq!(docs[0]["score"], 0.91);
    assert_eq!(docs[0]["title"], "Climate");
    assert_eq!(
        docs[0]["content"],
        format!("{}…[truncated 36 chars]", "x".repeat(64)),
        "each document's text is cut like any part"
    );
    assert_eq!(
        docs[1],
        serde_json::json!({ "id": "doc-2" }),
        "a NaN score is left out"
    );
}

#[test]
fn retrieval_content_in_the_event_is_structured() {
    use selvedge_testkit::proto::common::v1::any_value::Value as Any;
    let receiver = Receiver::start();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_log_writer(CapturedWriter::default())
        .with_logs_exporter(selvedge::ExporterKind::Otlp)
        .with_content_capture(Capture::EventOnly)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, retrieve);
    telemetry.shutdown().expect("shutdown");
    let logs = receiver.wait_for_logs(2, WAIT);
    let body = |key: &str| {
        let found = logs.iter().find_map(|l| {
            assert_eq!(l.record.event_name, names::EVENT_INFERENCE_DETAILS);
            let Some(Any::KvlistValue(map)) = l.record.body.as_ref()?.value.as_ref() else {
                return None;
            };
            map.values
                .iter()
                .find(|kv| kv.key == key)?
                .value
                .clone()?
                .value
        });
        found.unwrap_or_else(|| panic!("no event with {key}: {logs:?}"))
    };
    assert_eq!(
        body(names::RETRIEVAL_QUERY_TEXT),
        Any::StringValue("[REDACTED] weather in \"Lisbon\"".into())
    );
    let Any::ArrayValue(docs) = body(names::RETRIEVAL_DOCUMENTS) else {
        panic!("the documents are a list")
    };
    let Some(Any::KvlistValue(first)) = docs.values[0].value.clone() else {
        panic!("each document is a map")
    };
    let field = |k: &str| {
        first
            .values
            .iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.clone()?.value)
    };
    assert_eq!(field("id"), Some(Any::StringValue("doc-1".into())));
    assert_eq!(field("score"), Some(Any::DoubleValue(0.91)));
    assert!(spans_have_no_content(&receiver));
}

/// Event-only capture puts nothing on the spans.
fn spans_have_no_content(receiver: &Receiver) -> bool {
    let spans = receiver.wait_for_spans(1, WAIT);
    let s = spans.named("retrieval kb-weather");
    names::ALL.iter().all(|key| s.attr_str(key).is_none())
}
