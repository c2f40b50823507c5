//! Views over what the receiver decoded: spans, metrics and log records, with
//! their resource attached.

use std::fmt;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::Transport;

/// The value of `key` in an OTLP attribute list.
pub fn attr_value<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

/// Typed getters shared by spans, metrics' data points and logs.
macro_rules! typed_getters {
    ($attrs:ident) => {
        /// The attribute as a string, only if it was sent as one.
        pub fn attr_str(&self, key: &str) -> Option<&str> {
            match attr_value(&self.$attrs, key)? {
                any_value::Value::StringValue(s) => Some(s),
                _ => None,
            }
        }
        /// The attribute as an integer, only if it was sent as one.
        pub fn attr_i64(&self, key: &str) -> Option<i64> {
            match attr_value(&self.$attrs, key)? {
                any_value::Value::IntValue(v) => Some(*v),
                _ => None,
            }
        }
        /// The attribute as a double, only if it was sent as one.
        pub fn attr_f64(&self, key: &str) -> Option<f64> {
            match attr_value(&self.$attrs, key)? {
                any_value::Value::DoubleValue(v) => Some(*v),
                _ => None,
            }
        }
        /// The attribute as a boolean, only if it was sent as one.
        pub fn attr_bool(&self, key: &str) -> Option<bool> {
            match attr_value(&self.$attrs, key)? {
                any_value::Value::BoolValue(v) => Some(*v),
                _ => None,
            }
        }
        /// The attribute as a list of strings, only if it was sent as an array of strings.
        pub fn attr_str_array(&self, key: &str) -> Option<Vec<&str>> {
            match attr_value(&self.$attrs, key)? {
                any_value::Value::ArrayValue(a) => a
                    .values
                    .iter()
                    .map(|v| match v.value.as_ref()? {
                        any_value::Value::StringValue(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            }
        }
    };
}

/// A span as received, with the resource and scope it came under.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The OTLP span.
    pub span: Span,
    /// Its resource's attributes.
    pub resource: Vec<KeyValue>,
    /// Its instrumentation scope's name.
    pub scope: String,
    /// The transport it arrived over.
    pub transport: Transport,
    attributes: Vec<KeyValue>,
}

impl ReceivedSpan {
    pub(crate) fn new(
        span: Span,
        resource: Vec<KeyValue>,
        scope: String,
        transport: Transport,
    ) -> Self {
        let attributes = span.attributes.clone();
        Self {
            span,
            resource,
            scope,
            transport,
            attributes,
        }
    }

    /// The span name.
    pub fn name(&self) -> &str {
        &self.span.name
    }

    /// The trace id as 32 lower-case hex digits.
    pub fn trace_id(&self) -> String {
        hex::encode(&self.span.trace_id)
    }

    /// The span id as 16 lower-case hex digits.
    pub fn span_id(&self) -> String {
        hex::encode(&self.span.span_id)
    }

    /// The parent span id as hex, or `None` for a root span.
    pub fn parent_span_id(&self) -> Option<String> {
        (!self.span.parent_span_id.is_empty()).then(|| hex::encode(&self.span.parent_span_id))
    }

    /// Whether `parent` is this span's parent (same trace, matching parent id).
    pub fn is_child_of(&self, parent: &ReceivedSpan) -> bool {
        self.span.trace_id == parent.span.trace_id
            && self.span.parent_span_id == parent.span.span_id
    }

    /// The span kind as its OTLP enum number (`Span::kind`): 1 internal, 2 server, 3 client, …
    pub fn kind(&self) -> i32 {
        self.span.kind
    }

    /// The status code: 0 unset, 1 ok, 2 error.
    pub fn status_code(&self) -> i32 {
        self.span.status.as_ref().map_or(0, |s| s.code)
    }

    /// A resource attribute as a string.
    pub fn resource_str(&self, key: &str) -> Option<&str> {
        match attr_value(&self.resource, key)? {
            any_value::Value::StringValue(s) => Some(s),
            _ => None,
        }
    }

    typed_getters!(attributes);
}

impl fmt::Display for ReceivedSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}/{})",
            self.name(),
            self.trace_id(),
            self.span_id()
        )
    }
}

/// A snapshot of received spans, with lookups that fail with a useful message.
#[derive(Debug, Clone, Default)]
pub struct Spans(pub Vec<ReceivedSpan>);

impl Spans {
    /// All spans with this name.
    pub fn all_named(&self, name: &str) -> Vec<&ReceivedSpan> {
        self.0.iter().filter(|s| s.name() == name).collect()
    }

    /// The one span with this name.
    ///
    /// # Panics
    /// If there is none or more than one, listing the names that did arrive.
    pub fn named(&self, name: &str) -> &ReceivedSpan {
        let found = self.all_named(name);
        match found.as_slice() {
            [one] => one,
            [] => panic!("no span named {name:?}; received: {:?}", self.names()),
            many => panic!("{} spans named {name:?}, expected one", many.len()),
        }
    }

    /// The names of all spans, in arrival order.
    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|s| s.name()).collect()
    }

    /// The number of spans.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no span arrived.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the spans.
    pub fn iter(&self) -> impl Iterator<Item = &ReceivedSpan> {
        self.0.iter()
    }
}

/// A metric as received, with its resource.
#[derive(Debug, Clone)]
pub struct ReceivedMetric {
    /// The OTLP metric (all its data points).
    pub metric: Metric,
    /// Its resource's attributes.
    pub resource: Vec<KeyValue>,
    /// Its instrumentation scope's name.
    pub scope: String,
}

impl ReceivedMetric {
    /// The metric name.
    pub fn name(&self) -> &str {
        &self.metric.name
    }

    /// The sum of an integer or double `Sum` metric's data points, as f64.
    pub fn sum_value(&self) -> Option<f64> {
        use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point::Value};
        match self.metric.data.as_ref()? {
            Data::Sum(sum) => Some(
                sum.data_points
                    .iter()
                    .map(|p| match p.value {
                        Some(Value::AsInt(i)) => i as f64,
                        Some(Value::AsDouble(d)) => d,
                        None => 0.0,
                    })
                    .sum(),
            ),
            _ => None,
        }
    }
}

/// A log record as received, with its resource.
#[derive(Debug, Clone)]
pub struct ReceivedLog {
    /// The OTLP log record.
    pub record: LogRecord,
    /// Its resource's attributes.
    pub resource: Vec<KeyValue>,
    /// Its instrumentation scope's name (the tracing target, for the appender bridge).
    pub scope: String,
    attributes: Vec<KeyValue>,
}

impl ReceivedLog {
    pub(crate) fn new(record: LogRecord, resource: Vec<KeyValue>, scope: String) -> Self {
        let attributes = record.attributes.clone();
        Self {
            record,
            resource,
            scope,
            attributes,
        }
    }

    /// The body as a string, if it is one.
    pub fn body_str(&self) -> Option<&str> {
        use opentelemetry_proto::tonic::common::v1::any_value::Value;
        match self.record.body.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s),
            _ => None,
        }
    }

    /// The trace id as hex (empty when the record has none).
    pub fn trace_id(&self) -> String {
        hex::encode(&self.record.trace_id)
    }

    /// The span id as hex (empty when the record has none).
    pub fn span_id(&self) -> String {
        hex::encode(&self.record.span_id)
    }

    typed_getters!(attributes);
}
