//! Shapes a GenAI span's attributes, name and kind to the conventions.
//!
//! The same function runs twice: when the span starts (on the SpanBuilder, so
//! samplers and the span kind see conformant data) and when it ends (on the
//! final attribute list, which also holds values recorded later — tokens,
//! finish reasons — that tracing-opentelemetry exported as strings).

use std::borrow::Cow;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

use crate::config::{Options, Profile};
use crate::semconv::{self as sc, latest, legacy, operation, v1_41};

/// How a conformant GenAI span is named and what kind it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    pub name: String,
    pub kind: SpanKind,
}

#[derive(Clone, Copy)]
enum Ty {
    Int,
    Double,
    Bool,
    Strings,
}

fn type_of(key: &str, profile: Profile) -> Option<Ty> {
    Some(match key {
        sc::REQUEST_MAX_TOKENS
        | sc::REQUEST_CHOICE_COUNT
        | sc::REQUEST_SEED
        | sc::USAGE_INPUT_TOKENS
        | sc::USAGE_OUTPUT_TOKENS
        | sc::USAGE_CACHE_READ_INPUT_TOKENS
        | sc::USAGE_REASONING_OUTPUT_TOKENS
        | v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS
        | latest::USAGE_CACHE_WRITE_INPUT_TOKENS
        | sc::EMBEDDINGS_DIMENSION_COUNT
        | sc::SERVER_PORT
        | legacy::USAGE_PROMPT_TOKENS
        | legacy::USAGE_COMPLETION_TOKENS
        | legacy::LLM_PROMPT_TOKENS
        | legacy::LLM_COMPLETION_TOKENS
        | legacy::LLM_MAX_TOKENS => Ty::Int,
        sc::REQUEST_TOP_K if profile == Profile::Latest => Ty::Int,
        sc::REQUEST_TEMPERATURE
        | sc::REQUEST_TOP_P
        | sc::REQUEST_TOP_K
        | sc::REQUEST_FREQUENCY_PENALTY
        | sc::REQUEST_PRESENCE_PENALTY
        | sc::RESPONSE_TIME_TO_FIRST_CHUNK => Ty::Double,
        sc::REQUEST_STREAM => Ty::Bool,
        sc::RESPONSE_FINISH_REASONS | sc::REQUEST_STOP_SEQUENCES | sc::REQUEST_ENCODING_FORMATS => {
            Ty::Strings
        }
        _ => return None,
    })
}

fn convert(value: &Value, ty: Ty) -> Option<Value> {
    Some(match (ty, value) {
        (Ty::Int, Value::I64(_)) | (Ty::Double, Value::F64(_)) | (Ty::Bool, Value::Bool(_)) => {
            return None
        }
        (Ty::Strings, Value::Array(Array::String(_))) => return None,
        (Ty::Int, Value::String(s)) => Value::I64(s.as_str().trim().parse().ok()?),
        (Ty::Int, Value::F64(f)) if f.fract() == 0.0 && f.is_finite() => Value::I64(*f as i64),
        (Ty::Double, Value::I64(i)) => Value::F64(*i as f64),
        (Ty::Double, Value::String(s)) => Value::F64(s.as_str().trim().parse().ok()?),
        (Ty::Bool, Value::String(s)) => Value::Bool(s.as_str().trim().parse().ok()?),
        (Ty::Strings, Value::String(s)) => Value::Array(Array::String(string_list(s.as_str()))),
        _ => return None,
    })
}

/// `["stop","length"]` (JSON, or a `?vec` Debug rendering), or `stop, length`.
fn string_list(s: &str) -> Vec<StringValue> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(s) {
        return list.into_iter().map(StringValue::from).collect();
    }
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| StringValue::from(p.to_string()))
        .collect()
}

fn find<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// A non-empty string attribute, borrowed.
fn text<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match find(attrs, key)? {
        Value::String(s) if !s.as_str().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

fn renamed_value(table: &[(&'static str, &'static str)], value: &Value) -> Value {
    let s = value.as_str();
    match table.iter().find(|(old, _)| *old == s) {
        Some((_, new)) => Value::String((*new).into()),
        None => value.clone(),
    }
}

/// Keys that can carry GenAI data (current, legacy, and the server address).
fn is_genai_key(key: &str) -> bool {
    key.starts_with("gen_ai.") || key.starts_with("llm.") || key.starts_with("server.")
}

fn is_legacy_key(key: &str) -> bool {
    key.starts_with("llm.") || legacy::RENAMES.iter().any(|(old, _)| *old == key)
}

/// Removes earlier values of GenAI keys recorded twice (the last one wins, as
/// for a tracing field recorded twice). No allocation: spans have few attributes.
fn dedupe(attrs: &mut Vec<KeyValue>) {
    let mut i = attrs.len();
    while i > 0 {
        i -= 1;
        if !is_genai_key(attrs[i].key.as_str()) {
            continue;
        }
        let mut j = i;
        while j > 0 {
            j -= 1;
            if attrs[j].key == attrs[i].key {
                attrs.remove(j);
                i -= 1;
            }
        }
    }
}

/// Conforms `attrs` in place; returns the span's shape, or `None` when the
/// span is not a GenAI span (then nothing was changed).
pub(crate) fn conform(attrs: &mut Vec<KeyValue>, opts: &Options) -> Option<Shape> {
    let (mut genai, mut has_legacy) = (false, false);
    for kv in attrs.iter() {
        let key = kv.key.as_str();
        if key.starts_with("gen_ai.") || key.starts_with("llm.") {
            genai = true;
            has_legacy |= is_legacy_key(key);
        }
    }
    if !genai {
        return None;
    }
    dedupe(attrs);

    // Legacy inputs to current names (the current name wins when both are given).
    if has_legacy {
        for (old, new) in legacy::RENAMES {
            if let Some(value) = find(attrs, old).cloned() {
                let value = match *old {
                    legacy::SYSTEM => renamed_value(legacy::SYSTEM_VALUES, &value),
                    legacy::LLM_REQUEST_TYPE => renamed_value(legacy::REQUEST_TYPE_VALUES, &value),
                    _ => value,
                };
                if find(attrs, new).is_none() {
                    attrs.push(KeyValue::new(Key::from_static_str(new), value));
                }
                if !opts.compat {
                    attrs.retain(|kv| kv.key.as_str() != *old);
                }
            }
        }
    }
    if opts.profile == Profile::Latest {
        if let Some(pos) = attrs
            .iter()
            .position(|kv| kv.key.as_str() == v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS)
        {
            let value = attrs.remove(pos).value;
            if find(attrs, latest::USAGE_CACHE_WRITE_INPUT_TOKENS).is_none() {
                attrs.push(KeyValue::new(latest::USAGE_CACHE_WRITE_INPUT_TOKENS, value));
            }
        }
    }

    // Types the conventions require, whatever tracing recorded (u64 arrives as a string).
    for kv in attrs.iter_mut() {
        if !is_genai_key(kv.key.as_str()) {
            continue;
        }
        if let Some(ty) = type_of(kv.key.as_str(), opts.profile) {
            if let Some(v) = convert(&kv.value, ty) {
                kv.value = v;
            }
        }
    }

    let inferred = text(attrs, sc::OPERATION_NAME).is_none();
    if inferred {
        // A model call described only by legacy or partial fields is a chat.
        if find(attrs, sc::REQUEST_MODEL).is_none() && find(attrs, sc::PROVIDER_NAME).is_none() {
            return None;
        }
        attrs.push(KeyValue::new(sc::OPERATION_NAME, operation::CHAT));
    }
    if opts.compat {
        emit_legacy(attrs);
    }

    let op = text(attrs, sc::OPERATION_NAME).unwrap_or(operation::CHAT);
    let subject = match op {
        operation::RETRIEVAL => text(attrs, sc::DATA_SOURCE_ID),
        operation::CREATE_AGENT | operation::INVOKE_AGENT => text(attrs, sc::AGENT_NAME),
        operation::EXECUTE_TOOL => text(attrs, sc::TOOL_NAME),
        operation::INVOKE_WORKFLOW => text(attrs, sc::WORKFLOW_NAME),
        _ => text(attrs, sc::REQUEST_MODEL),
    };
    let name = match subject {
        Some(s) => {
            let mut name = String::with_capacity(op.len() + 1 + s.len());
            name.push_str(op);
            name.push(' ');
            name.push_str(s);
            name
        }
        None => op.to_string(),
    };
    let kind = match op {
        operation::EXECUTE_TOOL | operation::INVOKE_WORKFLOW => SpanKind::Internal,
        // An agent is remote when it has an address, in-process otherwise.
        operation::INVOKE_AGENT if find(attrs, sc::SERVER_ADDRESS).is_none() => SpanKind::Internal,
        _ => SpanKind::Client,
    };
    Some(Shape { name, kind })
}

/// Compatibility mode: the legacy names beside the current ones.
fn emit_legacy(attrs: &mut Vec<KeyValue>) {
    let pairs: &[(&str, &'static str)] = &[
        (sc::PROVIDER_NAME, legacy::SYSTEM),
        (sc::USAGE_INPUT_TOKENS, legacy::USAGE_PROMPT_TOKENS),
        (sc::USAGE_OUTPUT_TOKENS, legacy::USAGE_COMPLETION_TOKENS),
        (sc::REQUEST_MODEL, legacy::LLM_MODEL),
        (sc::USAGE_INPUT_TOKENS, legacy::LLM_PROMPT_TOKENS),
        (sc::USAGE_OUTPUT_TOKENS, legacy::LLM_COMPLETION_TOKENS),
        (sc::REQUEST_MAX_TOKENS, legacy::LLM_MAX_TOKENS),
    ];
    for (current, old) in pairs {
        if find(attrs, old).is_some() {
            continue;
        }
        if let Some(value) = find(attrs, current).cloned() {
            let value = if *old == legacy::SYSTEM {
                // Old dashboards expect the old provider spellings.
                let s: Cow<'_, str> = value.as_str();
                match legacy::SYSTEM_VALUES.iter().find(|(_, new)| *new == s) {
                    Some((old_value, _)) => Value::String((*old_value).into()),
                    None => value.clone(),
                }
            } else {
                value
            };
            attrs.push(KeyValue::new(Key::from_static_str(old), value));
        }
    }
}
