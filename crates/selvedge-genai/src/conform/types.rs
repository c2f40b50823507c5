//! The types the conventions give values: tracing-opentelemetry exports a
//! `u64` as text, a `?vec` as its `Debug` rendering; they become the integer
//! or the string array the conventions require.

use opentelemetry::{Array, KeyValue, StringValue, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Ty {
    Int,
    Double,
    Bool,
    Strings,
}

pub(crate) fn retype(kv: &mut KeyValue, ty: Ty) {
    if let Some(v) = convert(&kv.value, ty) {
        kv.value = v;
    }
}

fn convert(value: &Value, ty: Ty) -> Option<Value> {
    Some(match (ty, value) {
        (Ty::Int, Value::I64(_)) | (Ty::Double, Value::F64(_)) | (Ty::Bool, Value::Bool(_)) => {
            return None
        }
        (Ty::Strings, Value::Array(Array::String(_))) => return None,
        (Ty::Int, Value::String(s)) => {
            let s = s.as_str();
            // Usually the digits tracing rendered a `u64` as: trim only if not.
            Value::I64(s.parse().or_else(|_| s.trim().parse()).ok()?)
        }
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
