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

/// How a conformant GenAI span is named (`{operation} {subject}`) and what
/// kind it is; borrowed from its attributes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape<'a> {
    pub operation: &'a str,
    pub subject: Option<&'a str>,
    pub kind: SpanKind,
}

impl Shape<'_> {
    /// The conventional span name.
    pub(crate) fn name(&self) -> String {
        match self.subject {
            Some(s) => {
                let mut name = String::with_capacity(self.operation.len() + 1 + s.len());
                name.push_str(self.operation);
                name.push(' ');
                name.push_str(s);
                name
            }
            None => self.operation.to_string(),
        }
    }

    /// Whether `name` is already the conventional one (checked without building it).
    pub(crate) fn names(&self, name: &str) -> bool {
        match self.subject {
            Some(s) => {
                name.len() == self.operation.len() + 1 + s.len()
                    && name.starts_with(self.operation)
                    && name.as_bytes()[self.operation.len()] == b' '
                    && name.ends_with(s)
            }
            None => name == self.operation,
        }
    }
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

/// A key `legacy::RENAMES` maps (a `match`, compiled to a length switch: this
/// runs for every attribute of every GenAI span, twice).
fn is_legacy_key(key: &str) -> bool {
    matches!(
        key,
        legacy::SYSTEM
            | legacy::USAGE_PROMPT_TOKENS
            | legacy::USAGE_COMPLETION_TOKENS
            | legacy::OPENAI_REQUEST_SEED
            | legacy::OPENAI_RESPONSE_FORMAT
    ) || key.starts_with("llm.")
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

/// What one pass over the attributes found.
#[derive(Default)]
struct Scan {
    genai: bool,
    legacy: bool,
    /// Two GenAI keys might be equal (a cheap fingerprint collided).
    maybe_duplicate: bool,
    cache_creation: bool,
}

fn scan(attrs: &[KeyValue]) -> Scan {
    let mut found = Scan::default();
    let mut fingerprints = 0u64;
    for kv in attrs {
        let key = kv.key.as_str();
        if key.starts_with("gen_ai.") || key.starts_with("llm.") {
            found.genai = true;
            found.legacy |= is_legacy_key(key);
            found.cache_creation |= key == v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS;
        } else if !key.starts_with("server.") {
            continue;
        }
        // Length and last byte tell almost every GenAI key apart; only when two
        // collide does `dedupe` compare keys pairwise.
        let b = key.as_bytes();
        let bit = 1u64 << ((b.len() * 7 + usize::from(b[b.len() - 1])) % 64);
        found.maybe_duplicate |= fingerprints & bit != 0;
        fingerprints |= bit;
    }
    found
}

/// Where the attributes that name a span are, after conforming.
#[derive(Default)]
struct Found {
    operation: Option<usize>,
    request_model: Option<usize>,
    provider: Option<usize>,
    server_address: Option<usize>,
    data_source: Option<usize>,
    agent: Option<usize>,
    tool: Option<usize>,
    workflow: Option<usize>,
}

/// The non-empty string at `index`.
fn text_at(attrs: &[KeyValue], index: Option<usize>) -> Option<&str> {
    match &attrs[index?].value {
        Value::String(s) if !s.as_str().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// Conforms `attrs` in place; returns the span's shape, or `None` when the
/// span is not a GenAI span (then nothing was changed).
pub(crate) fn conform<'a>(attrs: &'a mut Vec<KeyValue>, opts: &Options) -> Option<Shape<'a>> {
    let scan = scan(attrs);
    if !scan.genai {
        return None;
    }
    if scan.maybe_duplicate {
        dedupe(attrs);
    }

    // Legacy inputs to current names (the current name wins when both are given).
    if scan.legacy {
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
    if opts.profile == Profile::Latest && scan.cache_creation {
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

    // Types the conventions require, whatever tracing recorded (u64 arrives as a
    // string); and where the naming attributes are, in the same pass.
    let mut at = Found::default();
    for (i, kv) in attrs.iter_mut().enumerate() {
        let key = kv.key.as_str();
        if !is_genai_key(key) {
            continue;
        }
        let slot = match key {
            sc::OPERATION_NAME => &mut at.operation,
            sc::REQUEST_MODEL => &mut at.request_model,
            sc::PROVIDER_NAME => &mut at.provider,
            sc::SERVER_ADDRESS => &mut at.server_address,
            sc::DATA_SOURCE_ID => &mut at.data_source,
            sc::AGENT_NAME => &mut at.agent,
            sc::TOOL_NAME => &mut at.tool,
            sc::WORKFLOW_NAME => &mut at.workflow,
            _ => {
                if let Some(ty) = type_of(key, opts.profile) {
                    if let Some(v) = convert(&kv.value, ty) {
                        kv.value = v;
                    }
                }
                continue;
            }
        };
        *slot = Some(i);
    }

    if text_at(attrs, at.operation).is_none() {
        // A model call described only by legacy or partial fields is a chat.
        if at.request_model.is_none() && at.provider.is_none() {
            return None;
        }
        at.operation = Some(attrs.len());
        attrs.push(KeyValue::new(sc::OPERATION_NAME, operation::CHAT));
    }
    if opts.compat {
        emit_legacy(attrs);
    }

    let attrs: &'a [KeyValue] = attrs;
    let op = text_at(attrs, at.operation).unwrap_or(operation::CHAT);
    let subject = match op {
        operation::RETRIEVAL => text_at(attrs, at.data_source),
        operation::CREATE_AGENT | operation::INVOKE_AGENT => text_at(attrs, at.agent),
        operation::EXECUTE_TOOL => text_at(attrs, at.tool),
        operation::INVOKE_WORKFLOW => text_at(attrs, at.workflow),
        _ => text_at(attrs, at.request_model),
    };
    let kind = match op {
        operation::EXECUTE_TOOL | operation::INVOKE_WORKFLOW => SpanKind::Internal,
        // An agent is remote when it has an address, in-process otherwise.
        operation::INVOKE_AGENT if at.server_address.is_none() => SpanKind::Internal,
        _ => SpanKind::Client,
    };
    Some(Shape {
        operation: op,
        subject,
        kind,
    })
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
