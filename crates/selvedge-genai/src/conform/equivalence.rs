//! The fast paths against the full pass: for any attributes a span starts
//! with and any recorded after, conforming them as `GenAiTracer` and its span
//! do — at start (by the plans), then value by value ([`Tracked`]), then the
//! processor's full pass if the span asks for it — must give what one full
//! pass over all of them gives.

use std::time::SystemTime;

use opentelemetry::{Key, KeyValue, Value};
use proptest::prelude::*;

use super::{conform, conform_start, Shape};
use crate::config::{Options, Profile};
use crate::handoff::Verdict;
use crate::tracked::Tracked;

const KEYS: &[&str] = &[
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.provider.name",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.request.max_tokens",
    "gen_ai.request.temperature",
    "gen_ai.request.stream",
    "gen_ai.response.finish_reasons",
    "gen_ai.agent.name",
    "gen_ai.tool.name",
    "gen_ai.data_source.id",
    "gen_ai.custom.thing",
    "gen_ai.system",
    "gen_ai.usage.prompt_tokens",
    "llm.model",
    "llm.prompt_tokens",
    "llm.request.type",
    "server.address",
    "server.port",
    "error.type",
    "code.file.path",
    "thread.name",
    "app.user",
];

const TEXTS: &[&str] = &[
    "chat",
    "invoke_agent",
    "execute_tool",
    "embeddings",
    "retrieval",
    "gpt-4o",
    "openai",
    "az.ai.openai",
    "42",
    " 7 ",
    "0.5",
    "true",
    r#"["stop","length"]"#,
    "",
];

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        proptest::sample::select(TEXTS).prop_map(|s| Value::String(s.to_string().into())),
        (-3_i64..300).prop_map(Value::I64),
        (-1.0_f64..2.0).prop_map(Value::F64),
        any::<bool>().prop_map(Value::Bool),
    ]
}

/// Static keys mostly (as tracing's field names are), owned ones sometimes.
fn key() -> impl Strategy<Value = Key> {
    (proptest::sample::select(KEYS), 0..8_u8).prop_map(|(k, owned)| match owned {
        0 => Key::new(k.to_string()),
        _ => Key::from_static_str(k),
    })
}

fn attrs(max: usize) -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec((key(), value()), 0..max)
        .prop_map(|kvs| kvs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect())
}

fn options() -> impl Strategy<Value = Options> {
    (any::<bool>(), any::<bool>()).prop_map(|(latest, compat)| Options {
        profile: if latest {
            Profile::Latest
        } else {
            Profile::V1_41
        },
        compat,
    })
}

/// What a conformed span exports and measures.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    attrs: Vec<String>,
    name: Option<String>,
    error_type: Option<String>,
    usage: Option<crate::metrics::Tokens>,
}

/// What the shape says; read before the attributes it borrows are listed.
type Summary = (
    Option<String>,
    Option<String>,
    Option<crate::metrics::Tokens>,
);

/// What the shape says, as the processor leaves the span (named by it).
fn summary(shape: Option<Shape<'_>>) -> Summary {
    match shape {
        Some(s) => (
            Some(s.name()),
            s.error_type().map(str::to_string),
            s.usage(),
        ),
        None => (None, None, None),
    }
}

fn outcome((name, error_type, usage): Summary, attrs: &[KeyValue]) -> Outcome {
    let mut listed: Vec<String> = attrs
        .iter()
        .map(|kv| {
            let ty = match &kv.value {
                Value::String(_) => "text",
                Value::I64(_) => "int",
                Value::F64(_) => "double",
                Value::Bool(_) => "bool",
                Value::Array(_) => "array",
                _ => "other",
            };
            format!("{}={ty}:{}", kv.key, kv.value.as_str())
        })
        .collect();
    listed.sort();
    Outcome {
        attrs: listed,
        name,
        error_type,
        usage,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn start_and_end_conform_as_one_full_pass(
        start in attrs(10),
        later in attrs(5),
        opts in options(),
    ) {
        let mut all: Vec<KeyValue> = start.iter().chain(&later).cloned().collect();
        let full = summary(conform(&mut all, &opts));
        let expected = outcome(full, &all);

        for round in 0..2 {
            // The first round makes this thread's plans; the second uses them.
            let mut attrs = start.clone();
            let tracked = conform_start(&mut attrs, &opts).map(|shape| {
                let at = SystemTime::UNIX_EPOCH;
                (shape.name(), Tracked::start(&shape, &opts, None, at))
            });
            let got = match tracked {
                // Not a GenAI span as it started: the processor's full pass.
                None => {
                    attrs.extend(later.iter().cloned());
                    outcome(summary(conform(&mut attrs, &opts)), &attrs)
                }
                Some((name, mut tracked)) => {
                    for kv in &later {
                        let mut kv = kv.clone();
                        if tracked.record(&mut kv) {
                            attrs.push(kv);
                        }
                    }
                    let ending = tracked.end(SystemTime::UNIX_EPOCH);
                    match ending.verdict {
                        Verdict::Done => outcome((Some(name), ending.error, ending.usage), &attrs),
                        _ => outcome(summary(conform(&mut attrs, &opts)), &attrs),
                    }
                }
            };
            prop_assert_eq!(got, expected.clone(), "round {}", round);
        }
    }
}
