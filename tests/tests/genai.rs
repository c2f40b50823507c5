//! GenAI spans and metrics as they arrive at the collector.

use std::time::Duration;

use selvedge::genai::{
    mark_error, record_response, record_usage, GenAiSpan, Profile, Response, Streaming, Usage,
    ROLLUP_INPUT_TOKENS, ROLLUP_MODEL_CALLS, ROLLUP_OUTPUT_TOKENS,
};
use selvedge::{Protocol, Sampler, Telemetry, TelemetryBuilder};
use selvedge_testkit::proto::metrics::v1::metric::Data;
use selvedge_testkit::proto::metrics::v1::HistogramDataPoint;
use selvedge_testkit::{
    attr_value, proto::common::v1::any_value::Value, ReceivedMetric, Receiver, Spans,
};
use selvedge_tests::CapturedWriter;

const WAIT: Duration = Duration::from_secs(15);
const CLIENT: i32 = 3;
const INTERNAL: i32 = 1;

fn builder(receiver: &Receiver) -> TelemetryBuilder {
    Telemetry::builder()
        .with_service_name("genai-test")
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_log_writer(CapturedWriter::default())
        .with_metrics_interval(Duration::from_secs(3600))
}

/// Runs `work` under a fresh pipeline, shuts it down, returns what arrived.
fn run(receiver: &Receiver, builder: TelemetryBuilder, spans: usize, work: impl FnOnce()) -> Spans {
    let (telemetry, dispatch) = builder.build().expect("build");
    tracing::dispatcher::with_default(&dispatch, work);
    telemetry.shutdown().expect("shutdown");
    receiver.wait_for_spans(spans, WAIT)
}

#[tracing::instrument(name = "llm.call", skip_all, fields(
    gen_ai.operation.name = "chat",
    gen_ai.provider.name = "openai",
    gen_ai.request.model = %model,
    gen_ai.request.max_tokens = 256_u64,
    gen_ai.request.temperature = 0.2,
    gen_ai.request.stop_sequences = ?vec!["END"],
    server.address = "api.openai.com",
    server.port = 443_u64,
    gen_ai.usage.input_tokens = tracing::field::Empty,
    gen_ai.usage.output_tokens = tracing::field::Empty,
    gen_ai.response.finish_reasons = tracing::field::Empty,
))]
fn plain_instrumented_call(model: &str) {
    let span = tracing::Span::current();
    span.record("gen_ai.usage.input_tokens", 42_u64);
    span.record("gen_ai.usage.output_tokens", 7_usize as u64);
    span.record(
        "gen_ai.response.finish_reasons",
        tracing::field::debug(vec!["stop", "length"]),
    );
}

#[test]
fn plain_instrument_fields_become_a_conformant_span() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 1, || {
        plain_instrumented_call("gpt-4o")
    });
    let s = spans.named("chat gpt-4o");
    assert_eq!(
        s.kind(),
        CLIENT,
        "kind fixed at start although the span was named llm.call"
    );
    assert_eq!(s.attr_str("gen_ai.operation.name"), Some("chat"));
    assert_eq!(s.attr_i64("gen_ai.request.max_tokens"), Some(256));
    assert_eq!(s.attr_i64("server.port"), Some(443));
    assert_eq!(s.attr_f64("gen_ai.request.temperature"), Some(0.2));
    assert_eq!(
        s.attr_i64("gen_ai.usage.input_tokens"),
        Some(42),
        "u64 recorded later is an int"
    );
    assert_eq!(s.attr_i64("gen_ai.usage.output_tokens"), Some(7));
    assert_eq!(
        s.attr_str_array("gen_ai.response.finish_reasons"),
        Some(vec!["stop", "length"])
    );
    assert_eq!(
        s.attr_str_array("gen_ai.request.stop_sequences"),
        Some(vec!["END"])
    );
    let keys: Vec<&str> = s.span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(keys.len(), unique.len(), "no duplicate keys: {keys:?}");
    assert_eq!(s.status_code(), 0, "success leaves the status unset");
    assert!(s.attr_str("error.type").is_none());
}

/// Values recorded after the span started are conformed too: keys recorded
/// twice (with and without a naming role), late legacy names, and a span
/// renamed on the way through `otel.name` (it keeps its conventional name).
#[test]
fn values_recorded_after_the_start_are_conformed_too() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 4, || {
        let span = tracing::info_span!(
            "twice",
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = "openai",
            gen_ai.request.model = "draft",
            gen_ai.request.max_tokens = 1_u64,
        );
        // Entered first: the OTel span has started, so these come after it.
        span.in_scope(|| {});
        span.record("gen_ai.request.model", "final");
        span.record("gen_ai.request.max_tokens", 2_u64);
        drop(span);

        let span = tracing::info_span!(
            "legacy late",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = "old",
            gen_ai.usage.prompt_tokens = tracing::field::Empty,
        );
        span.in_scope(|| {});
        span.record("gen_ai.usage.prompt_tokens", 5_u64);
        drop(span);

        let span = tracing::info_span!(
            "renamed",
            gen_ai.operation.name = "embeddings",
            gen_ai.request.model = "e5",
            otel.name = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
        );
        span.in_scope(|| {});
        span.record("otel.name", "my name");
        span.record("gen_ai.usage.input_tokens", 9_u64);
        drop(span);

        let span = tracing::info_span!(
            "late model",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = tracing::field::Empty,
        );
        span.in_scope(|| {});
        span.record("gen_ai.request.model", "late");
    });

    let s = spans.named("chat final");
    let keys: Vec<&str> = s.span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    let count = |k: &str| keys.iter().filter(|key| **key == k).count();
    assert_eq!(count("gen_ai.request.model"), 1, "{keys:?}");
    assert_eq!(count("gen_ai.request.max_tokens"), 1, "{keys:?}");
    assert_eq!(
        s.attr_str("gen_ai.request.model"),
        Some("final"),
        "last value wins"
    );
    assert_eq!(s.attr_i64("gen_ai.request.max_tokens"), Some(2));

    let s = spans.named("chat old");
    assert_eq!(
        s.attr_i64("gen_ai.usage.input_tokens"),
        Some(5),
        "late legacy name"
    );
    assert!(attr_value(&s.span.attributes, "gen_ai.usage.prompt_tokens").is_none());

    let s = spans.named("embeddings e5");
    assert_eq!(s.kind(), CLIENT);
    assert_eq!(s.attr_i64("gen_ai.usage.input_tokens"), Some(9));

    let s = spans.named("chat late");
    assert_eq!(s.attr_str("gen_ai.request.model"), Some("late"));
}

#[test]
fn every_operation_gets_its_name_and_kind() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 8, || {
        for span in [
            GenAiSpan::chat("anthropic", "claude-sonnet")
                .server("api.anthropic.com", 443)
                .max_tokens(256)
                .temperature(0.2)
                .top_p(0.9)
                .start(),
            GenAiSpan::text_completion("openai", "davinci").start(),
            GenAiSpan::embeddings("openai", "text-embedding-3-small").start(),
            GenAiSpan::retrieval("docs-index").start(),
            GenAiSpan::execute_tool("get_weather")
                .tool_call_id("call_1")
                .start(),
            GenAiSpan::invoke_agent("researcher")
                .conversation_id("conv-7")
                .start(),
            GenAiSpan::invoke_agent("remote-planner")
                .server("agents.internal", 8443)
                .start(),
            GenAiSpan::invoke_workflow("summarize-pipeline").start(),
        ] {
            span.in_scope(|| {});
        }
    });
    for (name, kind) in [
        ("chat claude-sonnet", CLIENT),
        ("text_completion davinci", CLIENT),
        ("embeddings text-embedding-3-small", CLIENT),
        ("retrieval docs-index", CLIENT),
        ("execute_tool get_weather", INTERNAL),
        ("invoke_agent researcher", INTERNAL),
        ("invoke_agent remote-planner", CLIENT),
        ("invoke_workflow summarize-pipeline", INTERNAL),
    ] {
        assert_eq!(spans.named(name).kind(), kind, "{name}");
    }
    let chat = spans.named("chat claude-sonnet");
    assert_eq!(chat.attr_str("gen_ai.provider.name"), Some("anthropic"));
    assert_eq!(chat.attr_str("server.address"), Some("api.anthropic.com"));
    assert_eq!(chat.attr_i64("server.port"), Some(443));
    assert_eq!(chat.attr_i64("gen_ai.request.max_tokens"), Some(256));
    assert_eq!(chat.attr_f64("gen_ai.request.temperature"), Some(0.2));
    assert_eq!(chat.attr_f64("gen_ai.request.top_p"), Some(0.9));
    for other in [
        "gen_ai.agent.name",
        "gen_ai.tool.name",
        "gen_ai.data_source.id",
    ] {
        assert_eq!(
            chat.attr_str(other),
            None,
            "{other}: declared, not recorded"
        );
    }
    let tool = spans.named("execute_tool get_weather");
    assert_eq!(tool.attr_str("gen_ai.tool.name"), Some("get_weather"));
    assert_eq!(tool.attr_str("gen_ai.tool.call.id"), Some("call_1"));
    assert_eq!(
        spans
            .named("invoke_agent researcher")
            .attr_str("gen_ai.conversation.id"),
        Some("conv-7")
    );
    assert_eq!(
        chat.attr_str("gen_ai.conversation.id"),
        None,
        "never invented"
    );
}

#[test]
fn fields_the_builder_was_not_given_can_be_recorded_later() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 1, || {
        let span = GenAiSpan::chat("openai", "gpt-4o").start();
        span.record("gen_ai.request.temperature", 0.7);
        span.record("gen_ai.request.max_tokens", 64_u64);
        span.in_scope(|| span.record("server.address", "api.openai.com"));
    });
    let s = spans.named("chat gpt-4o");
    assert_eq!(s.attr_f64("gen_ai.request.temperature"), Some(0.7));
    assert_eq!(s.attr_i64("gen_ai.request.max_tokens"), Some(64));
    assert_eq!(s.attr_str("server.address"), Some("api.openai.com"));
    assert_eq!(s.attr_i64("server.port"), None, "declared, never given");
}

#[tracing::instrument(err, fields(gen_ai.operation.name = "chat", gen_ai.provider.name = "openai", gen_ai.request.model = "gpt-4o"))]
fn failing_call() -> Result<(), String> {
    Err("rate limited".into())
}

#[test]
fn failures_get_error_type_and_status() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 5, || {
        let _ = failing_call();
        let span = GenAiSpan::chat("openai", "gpt-4o-mini").start();
        span.in_scope(|| mark_error(&span, "timeout"));
        // Not an ERROR event, but it carries error.type.
        GenAiSpan::chat("openai", "o3")
            .start()
            .in_scope(|| tracing::warn!(error.type = "rate_limit", "retrying"));
        // Not an ERROR event, but it carries an error.
        GenAiSpan::chat("openai", "o1")
            .start()
            .in_scope(|| tracing::warn!(error = "connection reset", "retrying"));
        // An ordinary event is no failure.
        GenAiSpan::chat("openai", "o4-mini")
            .start()
            .in_scope(|| tracing::info!(attempt = 1_u64, "calling"));
    });
    // (span, error.type, status code: 2 Error, 0 Unset)
    for (name, error_type, status) in [
        ("chat gpt-4o", Some("_OTHER"), 2),
        ("chat gpt-4o-mini", Some("timeout"), 2),
        ("chat o3", Some("rate_limit"), 2),
        ("chat o1", Some("_OTHER"), 2),
        ("chat o4-mini", None, 0),
    ] {
        let s = spans.named(name);
        assert_eq!(s.attr_str("error.type"), error_type, "{name}");
        assert_eq!(s.status_code(), status, "{name}");
    }
}

#[test]
fn a_specific_error_type_wins_over_the_fallback_in_either_order() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 3, || {
        // Recorded first, then a generic ERROR event.
        let first = tracing::info_span!(
            "first",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = "m-first",
            error.type = tracing::field::Empty,
        );
        first.in_scope(|| {
            first.record("error.type", "timeout");
            tracing::error!("the call failed");
        });
        // A generic ERROR event, then the specific type.
        let second = GenAiSpan::chat("openai", "m-second").start();
        second.in_scope(|| {
            tracing::error!("the call failed");
            mark_error(&second, "rate_limited");
        });
        // Only the field, no event: still a failure.
        let third = tracing::info_span!(
            "third",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = "m-third",
            error.type = "invalid_request",
        );
        third.in_scope(|| {});
    });
    for (name, error_type) in [
        ("chat m-first", "timeout"),
        ("chat m-second", "rate_limited"),
        ("chat m-third", "invalid_request"),
    ] {
        let span = spans.named(name);
        assert_eq!(span.attr_str("error.type"), Some(error_type), "{name}");
        assert_eq!(span.status_code(), 2, "{name}: status Error");
    }
}

#[test]
fn legacy_inputs_map_to_current_names() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 1, || {
        tracing::info_span!(
            "llm",
            gen_ai.system = "xai",
            llm.model = "grok-2",
            gen_ai.usage.prompt_tokens = 10_u64,
            llm.completion_tokens = 3_u64,
            llm.max_tokens = 64_u64,
            llm.has_tools = true
        )
        .in_scope(|| {});
    });
    let s = spans.named("chat grok-2");
    assert_eq!(s.kind(), CLIENT);
    assert_eq!(
        s.attr_str("gen_ai.provider.name"),
        Some("x_ai"),
        "renamed provider value"
    );
    assert_eq!(s.attr_str("gen_ai.request.model"), Some("grok-2"));
    assert_eq!(s.attr_i64("gen_ai.usage.input_tokens"), Some(10));
    assert_eq!(s.attr_i64("gen_ai.usage.output_tokens"), Some(3));
    assert_eq!(s.attr_i64("gen_ai.request.max_tokens"), Some(64));
    assert_eq!(
        s.attr_bool("llm.has_tools"),
        Some(true),
        "no GenAI equivalent: kept"
    );
    for old in [
        "gen_ai.system",
        "llm.model",
        "gen_ai.usage.prompt_tokens",
        "llm.completion_tokens",
        "llm.max_tokens",
    ] {
        assert!(
            attr_value(&s.span.attributes, old).is_none(),
            "{old} is not emitted outside compat mode"
        );
    }
}

#[test]
fn a_legacy_field_recorded_again_later_exports_its_last_value() {
    // Legacy instrumentation that declares its counters with 0 and records
    // them when the response arrives; in compat mode, the mirrors follow.
    for compat in [false, true] {
        let receiver = Receiver::start();
        let builder = builder(&receiver).with_genai_compat(compat);
        let spans = run(&receiver, builder, 1, || {
            let span = tracing::info_span!(
                "llm",
                llm.model = "grok-2",
                llm.prompt_tokens = 0_u64,
                gen_ai.usage.output_tokens = 0_u64,
            );
            span.in_scope(|| {
                span.record("llm.prompt_tokens", 21_u64);
                span.record("gen_ai.usage.output_tokens", 4_u64);
            });
        });
        let s = spans.named("chat grok-2");
        assert_eq!(
            s.attr_i64("gen_ai.usage.input_tokens"),
            Some(21),
            "compat {compat}"
        );
        assert_eq!(
            s.attr_i64("gen_ai.usage.output_tokens"),
            Some(4),
            "compat {compat}"
        );
        if compat {
            assert_eq!(s.attr_i64("llm.prompt_tokens"), Some(21));
            assert_eq!(s.attr_i64("llm.completion_tokens"), Some(4));
            assert_eq!(s.attr_i64("gen_ai.usage.completion_tokens"), Some(4));
        }
    }
}

#[test]
fn compat_mode_also_emits_legacy_names() {
    let receiver = Receiver::start();
    let spans = run(
        &receiver,
        builder(&receiver).with_genai_compat(true),
        1,
        || {
            let span = GenAiSpan::chat("x_ai", "grok-2").start();
            span.in_scope(|| record_usage(&span, &Usage::new(11, 4)));
        },
    );
    let s = spans.named("chat grok-2");
    assert_eq!(s.attr_str("gen_ai.provider.name"), Some("x_ai"));
    assert_eq!(
        s.attr_str("gen_ai.system"),
        Some("xai"),
        "the old spelling for old dashboards"
    );
    assert_eq!(s.attr_str("llm.model"), Some("grok-2"));
    assert_eq!(s.attr_i64("gen_ai.usage.prompt_tokens"), Some(11));
    assert_eq!(s.attr_i64("gen_ai.usage.completion_tokens"), Some(4));
    assert_eq!(s.attr_i64("llm.prompt_tokens"), Some(11));
}

#[test]
fn an_operation_recorded_after_the_start_is_named_and_measured_as_such() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 1, || {
        let span = tracing::info_span!(
            "embed",
            gen_ai.request.model = "text-embedding-3-small",
            gen_ai.operation.name = tracing::field::Empty,
        );
        // Started as a chat (a span with only a model is one) ...
        let _entered = span.enter();
        // ... and told otherwise later.
        span.record("gen_ai.operation.name", "embeddings");
    });
    let s = spans.named("embeddings text-embedding-3-small");
    let operations: Vec<_> = s
        .span
        .attributes
        .iter()
        .filter(|kv| kv.key == "gen_ai.operation.name")
        .collect();
    assert_eq!(operations.len(), 1, "one operation: {operations:?}");
    assert_eq!(s.attr_str("gen_ai.operation.name"), Some("embeddings"));
    let duration = receiver.wait_for_metric("gen_ai.client.operation.duration", WAIT);
    let points = histogram(&duration);
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, 1);
    assert_eq!(
        point_attr(&points[0], "gen_ai.operation.name"),
        Some(&Value::StringValue("embeddings".into()))
    );
}

#[test]
fn agents_roll_up_the_usage_beneath_them() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 5, || {
        let agent = GenAiSpan::invoke_agent("researcher").start();
        agent.in_scope(|| {
            for (i, o) in [(10, 5), (20, 7)] {
                let call = GenAiSpan::chat("openai", "gpt-4o").start();
                call.in_scope(|| record_usage(&call, &Usage::new(i, o)));
            }
            let tool = GenAiSpan::execute_tool("search").start();
            tool.in_scope(|| {
                // A model call inside a tool still counts for the agent.
                let nested = GenAiSpan::chat("openai", "gpt-4o-mini").start();
                nested.in_scope(|| record_usage(&nested, &Usage::new(1, 1)));
            });
        });
    });
    let agent = spans.named("invoke_agent researcher");
    assert_eq!(agent.attr_i64(ROLLUP_INPUT_TOKENS), Some(31));
    assert_eq!(agent.attr_i64(ROLLUP_OUTPUT_TOKENS), Some(13));
    assert_eq!(agent.attr_i64(ROLLUP_MODEL_CALLS), Some(3));
    assert!(
        agent.attr_i64("gen_ai.usage.input_tokens").is_none(),
        "never its own usage"
    );
}

#[test]
fn roll_ups_pass_plain_spans_and_nest_in_workflows() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 6, || {
        let workflow = GenAiSpan::invoke_workflow("triage").start();
        workflow.in_scope(|| {
            let agent = GenAiSpan::invoke_agent("planner").start();
            agent.in_scope(|| {
                // A plain span between the agent and its model call.
                let step = tracing::info_span!("plan.step");
                step.in_scope(|| {
                    // Plain #[instrument]-style fields, tokens as u64.
                    let call = tracing::info_span!(
                        "llm.call",
                        gen_ai.operation.name = "chat",
                        gen_ai.request.model = "gpt-4o",
                        gen_ai.usage.input_tokens = 100_u64,
                        gen_ai.usage.output_tokens = tracing::field::Empty,
                    );
                    call.in_scope(|| {
                        call.record("gen_ai.usage.output_tokens", 9_u64);
                    });
                });
            });
            // A model call in the workflow itself, and an agent with none.
            let call = GenAiSpan::chat("openai", "gpt-4o-mini").start();
            call.in_scope(|| record_usage(&call, &Usage::new(5, 1)));
            let idle = GenAiSpan::invoke_agent("idle").start();
            drop(idle);
        });
    });
    let agent = spans.named("invoke_agent planner");
    assert_eq!(agent.attr_i64(ROLLUP_INPUT_TOKENS), Some(100));
    assert_eq!(agent.attr_i64(ROLLUP_OUTPUT_TOKENS), Some(9));
    assert_eq!(agent.attr_i64(ROLLUP_MODEL_CALLS), Some(1));
    let workflow = spans.named("invoke_workflow triage");
    assert_eq!(workflow.attr_i64(ROLLUP_INPUT_TOKENS), Some(105));
    assert_eq!(workflow.attr_i64(ROLLUP_OUTPUT_TOKENS), Some(10));
    assert_eq!(workflow.attr_i64(ROLLUP_MODEL_CALLS), Some(2));
    let idle = spans.named("invoke_agent idle");
    assert_eq!(
        idle.attr_i64(ROLLUP_MODEL_CALLS),
        None,
        "nothing ran beneath"
    );
    let step = spans.named("plan.step");
    assert_eq!(step.attr_i64(ROLLUP_MODEL_CALLS), None, "not a container");
}

#[test]
fn agents_on_several_threads_roll_up_only_their_own_calls() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = builder(&receiver).build().expect("build");
    let agents = 4_u64;
    std::thread::scope(|scope| {
        for a in 0..agents {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let agent = GenAiSpan::invoke_agent(&format!("worker-{a}")).start();
                    agent.in_scope(|| {
                        for _ in 0..=a {
                            let call = GenAiSpan::chat("openai", "gpt-4o").start();
                            call.in_scope(|| record_usage(&call, &Usage::new(10, 1)));
                        }
                    });
                })
            });
        }
    });
    telemetry.shutdown().expect("shutdown");
    let calls: u64 = (1..=agents).sum();
    let spans = receiver.wait_for_spans((agents + calls) as usize, WAIT);
    for a in 0..agents {
        let agent = spans.named(&format!("invoke_agent worker-{a}"));
        let n = a as i64 + 1;
        assert_eq!(agent.attr_i64(ROLLUP_MODEL_CALLS), Some(n), "worker-{a}");
        assert_eq!(
            agent.attr_i64(ROLLUP_INPUT_TOKENS),
            Some(10 * n),
            "worker-{a}"
        );
        assert_eq!(agent.attr_i64(ROLLUP_OUTPUT_TOKENS), Some(n), "worker-{a}");
    }
}

#[test]
fn the_latest_profile_renames() {
    let receiver = Receiver::start();
    let builder = builder(&receiver).with_genai_profile(Profile::Latest);
    let (telemetry, dispatch) = builder.build().expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let span = GenAiSpan::chat("openai", "gpt-4o").start();
        let usage = Usage {
            cache_creation_input_tokens: Some(9),
            ..Usage::new(30, 2)
        };
        span.in_scope(|| record_usage(&span, &usage));
    });
    telemetry.shutdown().expect("shutdown");
    let s = receiver
        .wait_for_spans(1, WAIT)
        .named("chat gpt-4o")
        .clone();
    assert_eq!(s.attr_i64("gen_ai.usage.cache_write.input_tokens"), Some(9));
    assert!(s
        .attr_i64("gen_ai.usage.cache_creation.input_tokens")
        .is_none());
    receiver.wait_for_metric("gen_ai.client.inference.duration", WAIT);
    let input = receiver.wait_for_metric("gen_ai.client.inference.usage.input_tokens", WAIT);
    assert_eq!(input.sum_value(), Some(30.0));
}

fn histogram(m: &ReceivedMetric) -> Vec<HistogramDataPoint> {
    match m.metric.data.as_ref() {
        Some(Data::Histogram(h)) => h.data_points.clone(),
        other => panic!("{} is not a histogram: {other:?}", m.name()),
    }
}

fn point_attr<'a>(p: &'a HistogramDataPoint, key: &str) -> Option<&'a Value> {
    attr_value(&p.attributes, key)
}

#[test]
fn metrics_follow_the_spec_and_ignore_sampling() {
    let receiver = Receiver::start();
    // Nothing sampled: spans are dropped, metrics must still be recorded.
    let (telemetry, dispatch) = builder(&receiver)
        .with_sampler(Sampler::AlwaysOff)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let ok = GenAiSpan::chat("openai", "gpt-4o")
            .server("api.openai.com", 443)
            .start();
        ok.in_scope(|| {
            record_response(
                &ok,
                &Response {
                    model: Some("gpt-4o-2024-08-06"),
                    usage: Usage::new(100, 20),
                    ..Default::default()
                },
            )
        });
        drop(ok);
        let _ = failing_call();
    });
    telemetry.shutdown().expect("shutdown");
    assert!(receiver.spans().is_empty(), "nothing sampled");

    let duration = receiver.wait_for_metric("gen_ai.client.operation.duration", WAIT);
    assert_eq!(duration.metric.unit, "s");
    let points = histogram(&duration);
    assert_eq!(points.len(), 2, "one series per outcome");
    assert_eq!(
        points[0].explicit_bounds,
        vec![
            0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92
        ]
    );
    let ok = points
        .iter()
        .find(|p| point_attr(p, "error.type").is_none())
        .expect("success series");
    for (key, want) in [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.request.model", "gpt-4o"),
        ("gen_ai.response.model", "gpt-4o-2024-08-06"),
        ("server.address", "api.openai.com"),
    ] {
        assert_eq!(
            point_attr(ok, key),
            Some(&Value::StringValue(want.into())),
            "{key}"
        );
    }
    assert_eq!(point_attr(ok, "server.port"), Some(&Value::IntValue(443)));
    let failed = points
        .iter()
        .find(|p| point_attr(p, "error.type").is_some())
        .expect("error series");
    assert_eq!(
        point_attr(failed, "error.type"),
        Some(&Value::StringValue("_OTHER".into()))
    );

    let tokens = receiver.wait_for_metric("gen_ai.client.token.usage", WAIT);
    assert_eq!(tokens.metric.unit, "{token}");
    let points = histogram(&tokens);
    assert_eq!(points[0].explicit_bounds.first(), Some(&1.0));
    assert_eq!(points[0].explicit_bounds.last(), Some(&67108864.0));
    let by_type = |t: &str| {
        points
            .iter()
            .find(|p| point_attr(p, "gen_ai.token.type") == Some(&Value::StringValue(t.into())))
            .map(|p| p.sum)
    };
    assert_eq!(by_type("input"), Some(Some(100.0)));
    assert_eq!(by_type("output"), Some(Some(20.0)));
    assert!(receiver
        .metrics()
        .iter()
        .all(|m| !m.name().starts_with("gen_ai.server.")));
}

#[test]
fn a_stream_dropped_early_still_ends_its_span() {
    let receiver = Receiver::start();
    let spans = run(&receiver, builder(&receiver), 2, || {
        let mut stream = Streaming::new(GenAiSpan::chat("openai", "gpt-4o").start());
        stream.chunk();
        stream.chunk();
        drop(stream); // the caller stopped reading

        let mut done = Streaming::new(GenAiSpan::chat("openai", "gpt-4o-mini").start());
        for _ in 0..3 {
            done.chunk();
        }
        done.finish(&Response {
            finish_reasons: &["stop"],
            usage: Usage::new(5, 50),
            ..Default::default()
        });
    });
    let dropped = spans.named("chat gpt-4o");
    assert_eq!(dropped.attr_bool("gen_ai.request.stream"), Some(true));
    assert_eq!(
        dropped.attr_bool("selvedge.gen_ai.stream.incomplete"),
        Some(true)
    );
    assert!(dropped
        .attr_f64("gen_ai.response.time_to_first_chunk")
        .is_some_and(|t| t >= 0.0));
    let finished = spans.named("chat gpt-4o-mini");
    assert!(finished
        .attr_bool("selvedge.gen_ai.stream.incomplete")
        .is_none());
    assert_eq!(
        finished.attr_str_array("gen_ai.response.finish_reasons"),
        Some(vec!["stop"])
    );
    let ttfc = receiver.wait_for_metric("gen_ai.client.operation.time_to_first_chunk", WAIT);
    assert_eq!(histogram(&ttfc).iter().map(|p| p.count).sum::<u64>(), 2);
    // One interval in the dropped stream (2 chunks), two in the finished one (3 chunks).
    let per_chunk = receiver.wait_for_metric("gen_ai.client.operation.time_per_output_chunk", WAIT);
    assert_eq!(per_chunk.metric.unit, "s");
    let points = histogram(&per_chunk);
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 3);
    assert_eq!(
        points[0].explicit_bounds,
        vec![0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5]
    );
    let models: Vec<_> = points
        .iter()
        .filter_map(|p| point_attr(p, "gen_ai.request.model").cloned())
        .collect();
    assert_eq!(models.len(), 2, "one series per model: {models:?}");
    for span in [&dropped, &finished] {
        assert!(
            attr_value(&span.span.attributes, "selvedge.gen_ai.chunk_intervals").is_none(),
            "the internal carrier is never exported"
        );
    }
}

#[test]
fn metrics_are_recorded_with_traces_off() {
    let receiver = Receiver::start();
    let (telemetry, dispatch) = builder(&receiver)
        .with_traces_exporter(selvedge::ExporterKind::None)
        .build()
        .expect("build");
    assert!(
        telemetry.tracer_provider().is_none(),
        "traces are off: no tracer provider is offered"
    );
    tracing::dispatcher::with_default(&dispatch, || {
        plain_instrumented_call("gpt-4o");
        // An ordinary span is neither recorded nor measured.
        tracing::info_span!("not_genai").in_scope(|| {});
    });
    telemetry.shutdown().expect("shutdown");
    let duration = receiver.wait_for_metric("gen_ai.client.operation.duration", WAIT);
    let points = histogram(&duration);
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, 1);
    assert_eq!(
        point_attr(&points[0], "gen_ai.request.model"),
        Some(&Value::StringValue("gpt-4o".into()))
    );
    assert!(receiver.spans().is_empty(), "no span is exported");
}
