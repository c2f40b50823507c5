//! JSON messages with a `_trace_context` object, the shape other OTel SDKs'
//! messaging integrations put into message dictionaries.

use serde_json::{Map, Value};

use super::Carrier;

/// The key of the object holding `traceparent`, `tracestate` and `baggage`
/// inside a JSON message: `{"job": …, "_trace_context": {"traceparent": "00-…"}}`.
pub const TRACE_CONTEXT_KEY: &str = "_trace_context";

fn context(message: &Map<String, Value>) -> Option<&Map<String, Value>> {
    message.get(TRACE_CONTEXT_KEY)?.as_object()
}

fn get<'m>(message: &'m Map<String, Value>, key: &str) -> Option<&'m str> {
    let cx = context(message)?;
    cx.get(key)
        .or_else(|| {
            cx.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })?
        .as_str()
}

fn set(message: &mut Map<String, Value>, key: &str, value: String) {
    let entry = message
        .entry(TRACE_CONTEXT_KEY)
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(cx) = entry {
        cx.insert(key.to_string(), Value::String(value));
    }
}

fn keys(message: &Map<String, Value>) -> Vec<&str> {
    context(message)
        .map(|cx| cx.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// A JSON message object is a carrier: context lives under
/// [`_trace_context`](TRACE_CONTEXT_KEY), each entry a string. Reading ignores a
/// `_trace_context` that is not an object and entries that are not strings;
/// writing replaces a `_trace_context` that is not an object.
///
/// ```
/// use selvedge_propagation::Carrier;
///
/// let mut message = serde_json::json!({"job": "summarize"});
/// message.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
/// assert_eq!(
///     message["_trace_context"]["traceparent"],
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
/// );
/// ```
impl Carrier for Map<String, Value> {
    fn get(&self, key: &str) -> Option<&str> {
        get(self, key)
    }

    fn set(&mut self, key: &str, value: String) {
        set(self, key, value);
    }

    fn keys(&self) -> Vec<&str> {
        keys(self)
    }
}

/// A JSON value is a carrier when it is an object; reading anything else finds
/// nothing, and writing to it does nothing.
impl Carrier for Value {
    fn get(&self, key: &str) -> Option<&str> {
        get(self.as_object()?, key)
    }

    fn set(&mut self, key: &str, value: String) {
        if let Value::Object(map) = self {
            set(map, key, value);
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.as_object().map(keys).unwrap_or_default()
    }
}
