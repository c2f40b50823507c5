//! Attribute value length limits (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`,
//! `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`), which the OpenTelemetry SDK does not apply.

use std::time::Duration;

use opentelemetry::{Array, StringValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

/// Cuts string attribute values (and each string of a string array) on span
/// and event attributes to `limit` characters, as the OTel specification
/// defines the limit, before the span is queued.
#[derive(Debug)]
pub(crate) struct LimitProcessor<P> {
    inner: P,
    /// `None`: no limit configured, spans pass untouched.
    limit: Option<usize>,
}

impl<P> LimitProcessor<P> {
    pub(crate) fn new(inner: P, limit: Option<usize>) -> Self {
        Self { inner, limit }
    }
}

fn cut(s: &str, limit: usize) -> Option<String> {
    // No more bytes than the limit means no more characters: nothing to count.
    if s.len() <= limit {
        return None;
    }
    let (end, _) = s.char_indices().nth(limit)?;
    Some(s[..end].to_string())
}

fn limit_value(value: &mut Value, limit: usize) {
    let shorten = |s: &mut StringValue| {
        if let Some(short) = cut(s.as_str(), limit) {
            *s = StringValue::from(short);
        }
    };
    match value {
        Value::String(s) => shorten(s),
        Value::Array(Array::String(items)) => items.iter_mut().for_each(shorten),
        _ => {}
    }
}

impl<P: SpanProcessor> SpanProcessor for LimitProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &opentelemetry::Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        let Some(limit) = self.limit else {
            return self.inner.on_end(span);
        };
        for kv in span.attributes.iter_mut() {
            limit_value(&mut kv.value, limit);
        }
        for event in span.events.events.iter_mut() {
            for kv in event.attributes.iter_mut() {
                limit_value(&mut kv.value, limit);
            }
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_by_characters_never_inside_one() {
        assert_eq!(cut("héllo", 2).as_deref(), Some("hé"));
        assert_eq!(cut("hi", 2), None);
        let mut v = Value::Array(Array::String(vec!["abcdef".into(), "xy".into()]));
        limit_value(&mut v, 3);
        assert_eq!(
            v,
            Value::Array(Array::String(vec!["abc".into(), "xy".into()]))
        );
        let mut n = Value::I64(123456);
        limit_value(&mut n, 1);
        assert_eq!(n, Value::I64(123456));
    }
}
