//! What retyping alone cannot do: legacy names renamed to current ones (with
//! their renamed values), earlier values of keys recorded twice removed, and
//! compatibility mode's legacy mirrors added.

use opentelemetry::{Key, KeyValue, Value};

use crate::semconv::{self as sc, legacy};

/// Gives the value of `old` (mapped by `values`) to its current name `new`.
/// Of the two, the one recorded last wins (declared together: the one
/// declared last), as for a field recorded twice; `new` then stands just
/// after `old`, so its position still says when its value was recorded for
/// the renames after this one. `old` is removed unless `keep_old`.
pub(super) fn rename(
    attrs: &mut Vec<KeyValue>,
    old: &str,
    new: &'static str,
    values: &[(&'static str, &'static str)],
    keep_old: bool,
) {
    let Some(at) = position(attrs, old) else {
        return;
    };
    let value = renamed_value(values.iter().copied(), &attrs[at].value);
    let renamed = KeyValue::new(Key::from_static_str(new), value);
    match position(attrs, new) {
        Some(current) if current > at => {}
        // Recorded before `old`: replaced, and moved after it.
        Some(current) => {
            attrs.remove(current);
            attrs.insert(at, renamed);
        }
        None => attrs.insert(at + 1, renamed),
    }
    if !keep_old {
        attrs.retain(|kv| kv.key.as_str() != old);
    }
}

/// Where `key` was recorded last.
pub(super) fn position(attrs: &[KeyValue], key: &str) -> Option<usize> {
    attrs.iter().rposition(|kv| kv.key.as_str() == key)
}

/// `value`, or what `renames` (`(from, to)` pairs) turn it into if it is text
/// listed there.
fn renamed_value(
    mut renames: impl Iterator<Item = (&'static str, &'static str)>,
    value: &Value,
) -> Value {
    let listed = match value {
        Value::String(s) => renames.find(|(from, _)| *from == s.as_str()),
        _ => None,
    };
    match listed {
        Some((_, to)) => Value::String(to.into()),
        None => value.clone(),
    }
}

/// Keys that can carry GenAI data (current, legacy, and the server address).
fn is_genai_key(key: &str) -> bool {
    key.starts_with("gen_ai.") || key.starts_with("llm.") || key.starts_with("server.")
}

/// Removes earlier values of GenAI keys (and `error.type`) recorded twice: the
/// last one wins, as for a tracing field recorded twice. No allocation: spans
/// have few attributes.
pub(super) fn dedupe(attrs: &mut Vec<KeyValue>) {
    let mut i = attrs.len();
    while i > 0 {
        i -= 1;
        let key = attrs[i].key.as_str();
        if !is_genai_key(key) && key != sc::ERROR_TYPE {
            continue;
        }
        let mut j = i;
        while j > 0 {
            j -= 1;
            if attrs[j].key == attrs[i].key {
                // A specific error.type beats the generic fallback, whichever came last.
                if attrs[i].key.as_str() == sc::ERROR_TYPE
                    && attrs[i].value.as_str() == sc::ERROR_TYPE_OTHER
                {
                    attrs[i].value = attrs[j].value.clone();
                }
                attrs.remove(j);
                i -= 1;
            }
        }
    }
}

/// Compatibility mode: the legacy names beside the current ones (a legacy
/// name given as input keeps its value unless the current one was recorded
/// after it).
pub(super) fn emit_legacy(attrs: &mut Vec<KeyValue>) {
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
        let Some(at) = position(attrs, current) else {
            continue;
        };
        let value = match *old {
            // Old dashboards expect the old provider spellings.
            legacy::SYSTEM => {
                let back = legacy::SYSTEM_VALUES.iter().map(|&(old, new)| (new, old));
                renamed_value(back, &attrs[at].value)
            }
            _ => attrs[at].value.clone(),
        };
        match position(attrs, old) {
            Some(given) if given > at => {}
            Some(given) => attrs[given].value = value,
            None => attrs.push(KeyValue::new(Key::from_static_str(old), value)),
        }
    }
}
