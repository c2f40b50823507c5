//! [`Shape`]: how a conformant GenAI span is named and what kind it is, and
//! what its metrics read — all borrowed from its conformed attributes.

use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, KeyValue, Value};

use super::classify::Slot;
use super::pass::Found;
use crate::metrics::{SeriesKey, Stream, Tokens};
use crate::semconv as sc;
use crate::semconv::operation::{self, Op};

/// How a conformant GenAI span is named (`{operation} {subject}`) and what
/// kind it is; borrowed from its attributes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape<'a> {
    pub operation: &'a str,
    pub op: Op,
    pub subject: Option<&'a str>,
    pub kind: SpanKind,
    attrs: &'a [KeyValue],
    at: Found,
}

impl<'a> Shape<'a> {
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

    /// What the GenAI client metrics record for this span: its series, its
    /// token counts, and its time to first chunk; `None` for operations that
    /// have no client metrics (tools, workflows).
    pub(crate) fn measurements(&self) -> Option<(SeriesKey<'a>, Tokens, Stream<'a>)> {
        let key = self.series_key()?;
        // Agents and retrievals report no tokens of their own.
        let tokens = self.usage().unwrap_or_default();
        Some((key, tokens, self.stream()))
    }

    /// The span's metric series; `None` for operations that have no client
    /// metrics (tools, workflows).
    pub(crate) fn series_key(&self) -> Option<SeriesKey<'a>> {
        if !matches!(
            self.op,
            Op::ModelCall | Op::Retrieval | Op::CreateAgent | Op::InvokeAgent
        ) {
            return None;
        }
        let (attrs, at) = (self.attrs, &self.at);
        let text = |slot| text_at(attrs, at.at(slot));
        Some(SeriesKey {
            operation: self.operation,
            provider: text(Slot::Provider),
            request_model: text(Slot::RequestModel),
            response_model: text(Slot::ResponseModel),
            server_address: text(Slot::ServerAddress),
            server_port: self.int(Slot::ServerPort),
            error_type: text(Slot::ErrorType),
        })
    }

    /// What a stream measured: its time to first chunk, its chunk intervals.
    pub(crate) fn stream(&self) -> Stream<'a> {
        let (attrs, at) = (self.attrs, &self.at);
        let time_to_first_chunk =
            at.at(Slot::TimeToFirstChunk)
                .and_then(|i| match &attrs[i].value {
                    Value::F64(s) => Some(*s),
                    _ => None,
                });
        let chunk_intervals = match at.at(Slot::ChunkIntervals).map(|i| &attrs[i].value) {
            Some(Value::Array(Array::F64(v))) => v.as_slice(),
            _ => &[],
        };
        Stream {
            time_to_first_chunk,
            chunk_intervals,
        }
    }

    /// A model call's token counts; `None` for other operations.
    pub(crate) fn usage(&self) -> Option<Tokens> {
        if self.op != Op::ModelCall {
            return None;
        }
        Some(Tokens {
            input: self.int(Slot::Input),
            output: self.int(Slot::Output),
            cache_read: self.int(Slot::CacheRead),
            cache_write: self.int(Slot::CacheWrite),
            reasoning: self.int(Slot::Reasoning),
        })
    }

    /// The integer at `slot`.
    fn int(&self, slot: Slot) -> Option<i64> {
        match &self.attrs[self.at.at(slot)?].value {
            Value::I64(n) => Some(*n),
            _ => None,
        }
    }

    /// Where the chunk intervals a [`Streaming`](crate::Streaming) guard left
    /// for the metrics are (an internal attribute, removed before export).
    pub(crate) fn chunk_intervals_at(&self) -> Option<usize> {
        self.at.at(Slot::ChunkIntervals)
    }

    /// The slots the span's attributes fill, by bit.
    pub(crate) fn slots(&self) -> u32 {
        self.at.slots
    }

    /// The [`sig_bit`]s of its classified keys without a slot.
    pub(crate) fn sig_bits(&self) -> u64 {
        self.at.sig_bits
    }

    /// The span's `error.type`, if it failed.
    pub(crate) fn error_type(&self) -> Option<&'a str> {
        text_at(self.attrs, self.at.at(Slot::ErrorType))
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

/// The non-empty string at `index`.
fn text_at(attrs: &[KeyValue], index: Option<usize>) -> Option<&str> {
    match &attrs[index?].value {
        Value::String(s) if !s.as_str().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// The span's shape, from where its naming attributes are; a span described
/// only by a model or provider becomes a chat (`gen_ai.operation.name` added).
pub(super) fn shape(attrs: &mut Vec<KeyValue>, mut found: Found) -> Option<Shape<'_>> {
    if text_at(attrs, found.at(Slot::Operation)).is_none() {
        // A model call described only by legacy or partial fields is a chat.
        if found.at(Slot::RequestModel).is_none() && found.at(Slot::Provider).is_none() {
            return None;
        }
        let chat = Value::String(operation::CHAT.into());
        match found.at(Slot::Operation) {
            // Not text, or empty: replaced, so the span has one operation.
            Some(i) => attrs[i].value = chat,
            None => {
                found.set(Slot::Operation, attrs.len());
                attrs.push(KeyValue::new(sc::OPERATION_NAME, chat));
            }
        }
    }

    let attrs: &[KeyValue] = attrs;
    let text = |slot| text_at(attrs, found.at(slot));
    let operation = text(Slot::Operation).unwrap_or(operation::CHAT);
    let op = Op::of(operation);
    let subject = match op {
        Op::Retrieval => text(Slot::DataSource),
        Op::CreateAgent | Op::InvokeAgent => text(Slot::Agent),
        Op::ExecuteTool => text(Slot::Tool),
        Op::InvokeWorkflow => text(Slot::Workflow),
        Op::ModelCall | Op::Other => text(Slot::RequestModel),
    };
    let kind = match op {
        Op::ExecuteTool | Op::InvokeWorkflow => SpanKind::Internal,
        // An agent is remote when it has an address, in-process otherwise.
        Op::InvokeAgent if found.at(Slot::ServerAddress).is_none() => SpanKind::Internal,
        _ => SpanKind::Client,
    };
    Some(Shape {
        operation,
        op,
        subject,
        kind,
        attrs,
        at: found,
    })
}
