//! The examples, run as the user would, exporting to the in-process receiver.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use selvedge::genai::semconv::content;
use selvedge_testkit::{attr_value, proto::common::v1::any_value::Value, Receiver};

const WAIT: Duration = Duration::from_secs(15);

/// The example binary `cargo test` built next to this test.
fn example(name: &str) -> Command {
    let exe = std::env::current_exe().expect("test path");
    let dir: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples");
    let mut cmd = Command::new(dir.join(name));
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key.starts_with("SELVEDGE_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn run(mut cmd: Command, receiver: &Receiver) -> Output {
    let out = cmd
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_endpoint())
        .output()
        .expect("run example");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn quickstart_exports_its_pipeline() {
    let receiver = Receiver::start();
    let out = run(example("quickstart"), &receiver);
    let spans = receiver.wait_for_spans(5, WAIT);
    let root = spans.named("run_pipeline");
    assert!(spans.named("fetch_documents").is_child_of(root));
    assert_eq!(spans.all_named("summarize").len(), 2);
    assert_eq!(
        spans.named("publish").status_code(),
        2,
        "the failing step is an error"
    );
    assert_eq!(root.resource_str("service.name"), Some("research-pipeline"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("trace_id={}", root.trace_id())),
        "log lines carry the trace id:\n{stdout}"
    );
}

#[test]
fn http_service_is_one_trace_across_the_hop() {
    let receiver = Receiver::start();
    let out = run(example("http_service"), &receiver);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("response: summary for acme"),
        "baggage arrived"
    );
    let spans = receiver.wait_for_spans(2, WAIT);
    let server = spans.named("GET");
    let client = spans.named("call summarize");
    assert!(server.is_child_of(client));
}

struct Nats(Child);

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs nats-server (SELVEDGE_NATS_SERVER); run by `just e2e` and CI"]
fn queue_worker_links_three_attempts_per_job_over_nats() {
    let bin = std::env::var("SELVEDGE_NATS_SERVER")
        .expect("set SELVEDGE_NATS_SERVER to the nats-server binary");
    let port = selvedge_testkit::free_port();
    let _nats = Nats(
        Command::new(bin)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }

    let receiver = Receiver::start();
    let mut cmd = example("queue_worker");
    cmd.env("NATS_URL", format!("nats://127.0.0.1:{port}"));
    let out = run(cmd, &receiver);
    assert!(String::from_utf8_lossy(&out.stdout).contains("both jobs done"));

    let spans = receiver.wait_for_spans(10, WAIT);
    let sends = spans.all_named("send jobs");
    let receives = spans.all_named("receive jobs");
    let processes = spans.all_named("process jobs");
    assert_eq!(
        (sends.len(), receives.len(), processes.len()),
        (2, 2, 6),
        "{:?}",
        spans.names()
    );
    for carrier in ["body", "headers"] {
        let send = sends
            .iter()
            .find(|s| s.attr_str("carrier") == Some(carrier))
            .expect("send span");
        let receive = receives
            .iter()
            .find(|r| r.is_child_of(send))
            .unwrap_or_else(|| {
                panic!("the {carrier} job's receive span continues the producer's trace")
            });
        assert_eq!(receive.span.links.len(), 3, "one link per attempt");
        for (n, link) in receive.span.links.iter().enumerate() {
            let attempt = (n + 1) as i64;
            let outcome = if attempt < 3 { "failure" } else { "success" };
            assert_eq!(
                attr_value(&link.attributes, "messaging.message.delivery_attempt"),
                Some(&Value::IntValue(attempt))
            );
            assert_eq!(
                attr_value(&link.attributes, "messaging.process.outcome"),
                Some(&Value::StringValue(outcome.into()))
            );
            let target = processes
                .iter()
                .find(|p| p.span.span_id == link.span_id)
                .expect("linked span exported");
            assert!(target.is_child_of(receive));
            assert_eq!(
                target.attr_i64("messaging.message.delivery_attempt"),
                Some(attempt)
            );
        }
    }
}

#[test]
fn genai_chat_emits_conformant_spans_and_metrics() {
    let receiver = Receiver::start();
    let out = run(example("genai_chat"), &receiver);
    assert!(String::from_utf8_lossy(&out.stdout).contains("streamed: Sunny and 24°C."));
    let spans = receiver.wait_for_spans(6, WAIT);
    for span in spans.iter() {
        for key in content::ALL {
            assert!(span.attr_str(key).is_none(), "capture is off: {key}");
        }
    }
    let agent = spans.named("invoke_agent travel-agent");
    assert!(spans.named("retrieval travel-notes").is_child_of(agent));
    let chats = spans.all_named("chat gpt-4o");
    assert_eq!(chats.len(), 3);
    for chat in &chats {
        assert!(chat.is_child_of(agent));
        assert_eq!(chat.kind(), 3, "CLIENT");
        assert!(
            chat.attr_i64("gen_ai.usage.input_tokens").is_some(),
            "typed tokens"
        );
    }
    let tool = spans.named("execute_tool get_weather");
    assert_eq!(tool.kind(), 1, "INTERNAL");
    assert_eq!(
        agent.attr_i64("selvedge.rollup.gen_ai.usage.input_tokens"),
        Some(40 + 52 + 30)
    );
    assert_eq!(
        agent.attr_i64("selvedge.rollup.gen_ai.model_calls"),
        Some(3)
    );
    let streamed = chats
        .iter()
        .find(|c| c.attr_bool("gen_ai.request.stream") == Some(true))
        .expect("stream");
    assert!(streamed
        .attr_f64("gen_ai.response.time_to_first_chunk")
        .is_some());
    assert_eq!(
        streamed.attr_str_array("gen_ai.response.finish_reasons"),
        Some(vec!["stop"])
    );
    receiver.wait_for_metric("gen_ai.client.operation.duration", WAIT);
    receiver.wait_for_metric("gen_ai.client.token.usage", WAIT);
}

#[test]
fn genai_chat_records_content_when_the_operator_allows_it() {
    let receiver = Receiver::start();
    let mut cmd = example("genai_chat");
    cmd.env(
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "SPAN_ONLY",
    );
    run(cmd, &receiver);
    let spans = receiver.wait_for_spans(6, WAIT);
    let json = |span: &selvedge_testkit::ReceivedSpan, key: &str| -> serde_json::Value {
        serde_json::from_str(span.attr_str(key).unwrap_or_else(|| panic!("{key}"))).expect("JSON")
    };
    let retrieval = spans.named("retrieval travel-notes");
    assert_eq!(
        retrieval.attr_str(content::RETRIEVAL_QUERY_TEXT),
        Some("What's the weather in Lisbon?")
    );
    let docs = json(retrieval, content::RETRIEVAL_DOCUMENTS);
    assert_eq!(docs.as_array().map(Vec::len), Some(1), "{docs}");
    assert_eq!(docs[0]["id"], "note-lisbon");
    let chats = spans.all_named("chat gpt-4o");
    let first = chats
        .iter()
        .find(|c| json(c, content::OUTPUT_MESSAGES)[0]["finish_reason"] == "tool_calls")
        .expect("the call that asked for the tool");
    let output = json(first, content::OUTPUT_MESSAGES);
    assert_eq!(output[0]["parts"][0]["type"], "tool_call");
    assert_eq!(output[0]["parts"][0]["arguments"]["city"], "Lisbon");
    let input = json(first, content::INPUT_MESSAGES);
    assert_eq!(input[0]["role"], "system");
    assert_eq!(
        input[1]["parts"][0]["content"],
        "What's the weather in Lisbon?"
    );
    let tool = spans.named("execute_tool get_weather");
    assert_eq!(json(tool, content::TOOL_CALL_RESULT)["forecast"], "sunny");
}
