//! Shapes a GenAI span's attributes, name and kind to the conventions.
//!
//! [`conform_start`] runs when the span starts (on the SpanBuilder, so samplers
//! and the span kind see conformant data), reusing per-thread `plan`s; the
//! values recorded since — tokens, finish reasons, that tracing-opentelemetry
//! exports as strings — are conformed one by one as they are recorded
//! ([`Tracked`](crate::tracked::Tracked)); [`conform`], the full pass, runs on
//! everything when something needs restructuring.

use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

use crate::config::{Options, Profile};
use crate::metrics::{SeriesKey, Stream, Tokens};
use crate::semconv::operation::{self, Op};
use crate::semconv::{self as sc, latest, legacy, v1_41};

#[cfg(test)]
mod equivalence;
mod plan;

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

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Ty {
    Int,
    Double,
    Bool,
    Strings,
}

/// The types of the app-level `llm.*` names that carry numbers.
fn legacy_type_of(key: &str) -> Option<Ty> {
    match key {
        legacy::LLM_PROMPT_TOKENS | legacy::LLM_COMPLETION_TOKENS | legacy::LLM_MAX_TOKENS => {
            Some(Ty::Int)
        }
        _ => None,
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

/// Gives the value of `old` (mapped by `values`) to its current name `new`.
/// Of the two, the one recorded last wins (declared together: the one
/// declared last), as for a field recorded twice; `new` then stands just
/// after `old`, so its position still says when its value was recorded for
/// the renames after this one. `old` is removed unless `keep_old`.
fn rename(
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
fn position(attrs: &[KeyValue], key: &str) -> Option<usize> {
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
fn dedupe(attrs: &mut Vec<KeyValue>) {
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

/// The attributes a span's name, kind and metrics are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Operation,
    RequestModel,
    Provider,
    ServerAddress,
    DataSource,
    Agent,
    Tool,
    Workflow,
    ResponseModel,
    ServerPort,
    ErrorType,
    Input,
    Output,
    CacheRead,
    CacheWrite,
    Reasoning,
    TimeToFirstChunk,
    ChunkIntervals,
}

const SLOTS: usize = Slot::ChunkIntervals as usize + 1;

/// What a key means to the conventions.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(crate) struct Class {
    /// A `gen_ai.*` or `llm.*` key: the span is a GenAI span.
    pub(crate) genai: bool,
    /// A legacy name, mapped to its current one.
    pub(crate) legacy: bool,
    /// The v1.41 cache-creation name, renamed in the latest profile.
    pub(crate) cache_creation: bool,
    pub(crate) slot: Option<Slot>,
    pub(crate) ty: Option<Ty>,
}

/// Whether `key` makes its span a GenAI span: a `gen_ai.*` or `llm.*` key,
/// the keys [`classify`] marks `genai`.
pub(crate) fn marks_genai(key: &str) -> bool {
    match key.as_bytes().first() {
        Some(b'g') => key.starts_with("gen_ai."),
        Some(b'l') => key.starts_with("llm."),
        _ => false,
    }
}

/// Whether any of `attrs` is a GenAI key: most spans are not GenAI spans, and
/// are told so by a byte or two per key, without classifying a key or looking
/// for a plan. From the end: a span's own fields come after
/// tracing-opentelemetry's `code.*` and `thread.*`, so a GenAI span is
/// usually told by its last key.
fn any_genai_key(attrs: &[KeyValue]) -> bool {
    attrs.iter().rev().any(|kv| marks_genai(kv.key.as_str()))
}

/// Classifies a key with one byte test for most non-GenAI keys and one string
/// `match` (compiled to a length switch) for GenAI keys: this runs for every
/// attribute of every span that reaches the tracer and the processor.
#[inline]
pub(crate) fn classify(key: &str, profile: Profile) -> Option<Class> {
    let slot = |slot: Slot| Class {
        slot: Some(slot),
        ..Class::default()
    };
    match key.as_bytes().first()? {
        b'g' if key.starts_with("gen_ai.") => Some(classify_genai(key, profile)),
        b'l' if key.starts_with("llm.") => Some(Class {
            genai: true,
            legacy: true,
            ty: legacy_type_of(key),
            ..Class::default()
        }),
        b's' => match key {
            crate::record::CHUNK_INTERVALS => Some(slot(Slot::ChunkIntervals)),
            sc::SERVER_ADDRESS => Some(slot(Slot::ServerAddress)),
            sc::SERVER_PORT => Some(Class {
                ty: Some(Ty::Int),
                ..slot(Slot::ServerPort)
            }),
            _ => None,
        },
        b'e' if key == sc::ERROR_TYPE => Some(slot(Slot::ErrorType)),
        _ => None,
    }
}

/// A `gen_ai.*` key: dispatched on the first byte of its namespace, so each
/// key is compared with a handful of names rather than all of them. The
/// single place that knows which GenAI attribute has which type and role.
fn classify_genai(key: &str, profile: Profile) -> Class {
    let c = Class {
        genai: true,
        ..Class::default()
    };
    let slot = |slot: Slot, ty: Option<Ty>| Class {
        slot: Some(slot),
        ty,
        ..c
    };
    let typed = |ty: Ty| Class { ty: Some(ty), ..c };
    let int = Some(Ty::Int);
    match key.as_bytes().get(7) {
        Some(b'o') => match key {
            sc::OPERATION_NAME => slot(Slot::Operation, None),
            legacy::OPENAI_REQUEST_SEED | legacy::OPENAI_RESPONSE_FORMAT => {
                Class { legacy: true, ..c }
            }
            _ => c,
        },
        Some(b'p') if key == sc::PROVIDER_NAME => slot(Slot::Provider, None),
        Some(b'r') => match key {
            sc::REQUEST_MODEL => slot(Slot::RequestModel, None),
            sc::RESPONSE_MODEL => slot(Slot::ResponseModel, None),
            sc::RESPONSE_TIME_TO_FIRST_CHUNK => slot(Slot::TimeToFirstChunk, Some(Ty::Double)),
            sc::REQUEST_MAX_TOKENS | sc::REQUEST_CHOICE_COUNT | sc::REQUEST_SEED => typed(Ty::Int),
            sc::REQUEST_TOP_K if profile == Profile::Latest => typed(Ty::Int),
            sc::REQUEST_TEMPERATURE
            | sc::REQUEST_TOP_P
            | sc::REQUEST_TOP_K
            | sc::REQUEST_FREQUENCY_PENALTY
            | sc::REQUEST_PRESENCE_PENALTY => typed(Ty::Double),
            sc::REQUEST_STREAM => typed(Ty::Bool),
            sc::RESPONSE_FINISH_REASONS
            | sc::REQUEST_STOP_SEQUENCES
            | sc::REQUEST_ENCODING_FORMATS => typed(Ty::Strings),
            _ => c,
        },
        Some(b'u') => match key {
            sc::USAGE_INPUT_TOKENS => slot(Slot::Input, int),
            sc::USAGE_OUTPUT_TOKENS => slot(Slot::Output, int),
            sc::USAGE_CACHE_READ_INPUT_TOKENS => slot(Slot::CacheRead, int),
            v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS => Class {
                cache_creation: true,
                ..slot(Slot::CacheWrite, int)
            },
            latest::USAGE_CACHE_WRITE_INPUT_TOKENS => slot(Slot::CacheWrite, int),
            sc::USAGE_REASONING_OUTPUT_TOKENS => slot(Slot::Reasoning, int),
            legacy::USAGE_PROMPT_TOKENS | legacy::USAGE_COMPLETION_TOKENS => Class {
                legacy: true,
                ..typed(Ty::Int)
            },
            _ => c,
        },
        Some(b'a') if key == sc::AGENT_NAME => slot(Slot::Agent, None),
        Some(b'd') if key == sc::DATA_SOURCE_ID => slot(Slot::DataSource, None),
        Some(b't') if key == sc::TOOL_NAME => slot(Slot::Tool, None),
        Some(b'w') if key == sc::WORKFLOW_NAME => slot(Slot::Workflow, None),
        Some(b'e') if key == sc::EMBEDDINGS_DIMENSION_COUNT => typed(Ty::Int),
        Some(b's') if key == legacy::SYSTEM => Class { legacy: true, ..c },
        _ => c,
    }
}

/// What one pass over the attributes found.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Found {
    genai: bool,
    legacy: bool,
    cache_creation: bool,
    /// A classified key may have been recorded twice (dedupe to be sure).
    maybe_duplicate: bool,
    /// The [`sig_bit`]s of the classified keys without a slot.
    sig_bits: u64,
    /// The slots filled, by bit: what `at` says, kept as it is filled
    /// (deriving it from `at` for every tracked span measured +130
    /// instructions).
    slots: u32,
    /// Where each slot's attribute is ([`NOWHERE`] if absent). Small on
    /// purpose: it is copied into every plan.
    at: [u16; SLOTS],
}

/// No attribute (spans hold at most a few hundred).
const NOWHERE: u16 = u16::MAX;

impl Default for Found {
    fn default() -> Self {
        Found {
            genai: false,
            legacy: false,
            cache_creation: false,
            maybe_duplicate: false,
            sig_bits: 0,
            slots: 0,
            at: [NOWHERE; SLOTS],
        }
    }
}

impl Found {
    fn at(&self, slot: Slot) -> Option<usize> {
        Some(self.at[slot as usize])
            .filter(|i| *i != NOWHERE)
            .map(usize::from)
    }

    /// Whether keys must be removed or renamed (not only retyped).
    fn restructures(&self, profile: Profile) -> bool {
        self.maybe_duplicate || self.legacy || (profile == Profile::Latest && self.cache_creation)
    }

    fn set(&mut self, slot: Slot, index: usize) {
        self.at[slot as usize] = u16::try_from(index).unwrap_or(NOWHERE);
        self.slots |= 1 << slot as u32;
    }
}

/// A bit for `key` in [`Found::sig_bits`] (from its length and two bytes):
/// equal keys share it, so a clear bit proves a key new without comparing.
pub(crate) fn sig_bit(key: &str) -> u64 {
    let b = key.as_bytes();
    let (n, last, mid) = (b.len(), b.last().copied(), b.get(b.len() / 2).copied());
    let h = (n as u32).wrapping_mul(31)
        ^ u32::from(last.unwrap_or(0))
        ^ u32::from(mid.unwrap_or(0)) << 3;
    1 << (h.wrapping_mul(0x9e37_79b1) >> 26)
}

/// One pass: classifies every key, gives values the type the conventions
/// require (u64 arrives from tracing as a string), and notes where the naming
/// and metric attributes are and whether anything needs restructuring.
fn pass(attrs: &mut [KeyValue], profile: Profile) -> Found {
    let mut found = Found::default();
    // A typed key seen before the span was known to be a GenAI span (only
    // `server.port` can be): retyped once it is, left alone otherwise.
    let mut pending = None;
    for i in 0..attrs.len() {
        let key = attrs[i].key.as_str();
        // Most attributes (code.*, thread.*, the app's own) stop at this
        // byte, without a call: `classify` is too large to inline here.
        if !matches!(key.as_bytes().first(), Some(b'g' | b'l' | b's' | b'e')) {
            continue;
        }
        let Some(class) = classify(key, profile) else {
            continue;
        };
        found.genai |= class.genai;
        found.legacy |= class.legacy;
        found.cache_creation |= class.cache_creation;
        // Recorded twice? A slot's key is known by its slot; any other key by
        // its bit, confirmed by comparing keys only when the bit is taken.
        match class.slot {
            Some(slot) => {
                found.maybe_duplicate |= found.at(slot).is_some();
                found.set(slot, i);
            }
            None => {
                let bit = sig_bit(key);
                if found.sig_bits & bit != 0 && attrs[..i].iter().any(|kv| kv.key.as_str() == key) {
                    found.maybe_duplicate = true;
                }
                found.sig_bits |= bit;
            }
        }
        if let Some(ty) = class.ty {
            match found.genai {
                true => retype(&mut attrs[i], ty),
                false => pending = Some((i, ty)),
            }
        }
    }
    if let (true, Some((i, ty))) = (found.genai, pending) {
        retype(&mut attrs[i], ty);
    }
    found
}

pub(crate) fn retype(kv: &mut KeyValue, ty: Ty) {
    if let Some(v) = convert(&kv.value, ty) {
        kv.value = v;
    }
}

/// The non-empty string at `index`.
fn text_at(attrs: &[KeyValue], index: Option<usize>) -> Option<&str> {
    match &attrs[index?].value {
        Value::String(s) if !s.as_str().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// Conforms `attrs` in place; returns the span's shape, or `None` when the
/// span is not a GenAI span.
pub(crate) fn conform<'a>(attrs: &'a mut Vec<KeyValue>, opts: &Options) -> Option<Shape<'a>> {
    if !any_genai_key(attrs) {
        return None;
    }
    let found = pass(attrs, opts.profile);
    finish(attrs, found, opts, opts.compat)
}

/// [`conform`] for a starting span: its keys, when this thread has seen the
/// same keys start a span before, are not classified again (see `plan`).
pub(crate) fn conform_start<'a>(attrs: &'a mut Vec<KeyValue>, opts: &Options) -> Option<Shape<'a>> {
    if !any_genai_key(attrs) {
        return None;
    }
    if let Some(found) = plan::reuse(attrs, opts.profile) {
        return shape(attrs, found);
    }
    let found = pass(attrs, opts.profile);
    // GenAI spans only: a service has a handful of GenAI callsites but many
    // others, which would push their plans out (and allocate one each).
    if found.genai && !found.restructures(opts.profile) {
        plan::keep(attrs, &found, opts.profile);
    }
    // Compatibility mode's legacy mirrors are added as the span ends, from
    // the final values: added now, they would read as legacy inputs then.
    finish(attrs, found, opts, false)
}

/// The rest of [`conform`], after the first pass `found` what `attrs` hold;
/// in compatibility mode, legacy mirrors are added if `mirror_legacy`.
fn finish<'a>(
    attrs: &'a mut Vec<KeyValue>,
    mut found: Found,
    opts: &Options,
    mirror_legacy: bool,
) -> Option<Shape<'a>> {
    if !found.genai {
        return None;
    }
    if found.restructures(opts.profile) {
        if found.maybe_duplicate {
            dedupe(attrs);
        }
        // Legacy inputs to current names.
        if found.legacy {
            for (old, new) in legacy::RENAMES {
                let values = match *old {
                    legacy::SYSTEM => legacy::SYSTEM_VALUES,
                    legacy::LLM_REQUEST_TYPE => legacy::REQUEST_TYPE_VALUES,
                    _ => &[],
                };
                rename(attrs, old, new, values, opts.compat);
            }
        }
        if opts.profile == Profile::Latest && found.cache_creation {
            let (old, new) = (
                v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS,
                latest::USAGE_CACHE_WRITE_INPUT_TOKENS,
            );
            rename(attrs, old, new, &[], false);
        }
        // Positions moved, and renamed values need their types.
        found = pass(attrs, opts.profile);
    }

    if mirror_legacy {
        emit_legacy(attrs);
    }
    shape(attrs, found)
}

/// The span's shape, from where its naming attributes are; a span described
/// only by a model or provider becomes a chat (`gen_ai.operation.name` added).
fn shape(attrs: &mut Vec<KeyValue>, mut found: Found) -> Option<Shape<'_>> {
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

/// Compatibility mode: the legacy names beside the current ones (a legacy
/// name given as input keeps its value unless the current one was recorded
/// after it).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_renamed_legacy_key_is_classified_legacy() {
        for (old, _) in legacy::RENAMES {
            let class = classify(old, Profile::V1_41).expect(old);
            assert!(class.genai && class.legacy, "{old}: {class:?}");
        }
        for current in [sc::PROVIDER_NAME, sc::USAGE_INPUT_TOKENS, sc::REQUEST_MODEL] {
            assert!(!classify(current, Profile::V1_41).expect(current).legacy);
        }
    }

    #[test]
    fn the_quick_test_for_a_genai_key_agrees_with_the_classification() {
        let keys = [
            sc::OPERATION_NAME,
            sc::USAGE_INPUT_TOKENS,
            "gen_ai.custom.thing",
            "gen_ai.",
            "gen_ai",
            "gen_aix.model",
            "llm.model",
            "llm.",
            "llm",
            "llmx.model",
            sc::SERVER_PORT,
            sc::ERROR_TYPE,
            "code.file.path",
            "g",
            "l",
            "",
        ];
        for key in keys {
            for profile in [Profile::V1_41, Profile::Latest] {
                let classified = classify(key, profile).is_some_and(|c| c.genai);
                assert_eq!(marks_genai(key), classified, "{key:?}");
            }
        }
    }

    #[test]
    fn spans_with_more_attributes_than_the_fast_paths_hold_are_conformed_too() {
        // 40 typed GenAI values (more than the retype list) and 40 other GenAI keys
        // (more than the signature list), one of them recorded twice.
        let mut attrs = vec![KeyValue::new(sc::OPERATION_NAME, "chat")];
        attrs.push(KeyValue::new(sc::REQUEST_MODEL, "m"));
        for i in 0..40 {
            attrs.push(KeyValue::new(format!("gen_ai.custom.{i}"), "x"));
        }
        for _ in 0..40 {
            attrs.push(KeyValue::new(sc::REQUEST_MAX_TOKENS, "256"));
        }
        attrs.push(KeyValue::new(sc::USAGE_INPUT_TOKENS, "42"));
        let shape = conform(&mut attrs, &Options::default()).expect("a GenAI span");
        assert_eq!(shape.name(), "chat m");
        let max_tokens: Vec<_> = attrs
            .iter()
            .filter(|kv| kv.key.as_str() == sc::REQUEST_MAX_TOKENS)
            .collect();
        assert_eq!(max_tokens.len(), 1, "duplicates removed");
        assert_eq!(max_tokens[0].value, Value::I64(256));
        let input = position(&attrs, sc::USAGE_INPUT_TOKENS).map(|i| &attrs[i].value);
        assert_eq!(input, Some(&Value::I64(42)));
        assert_eq!(attrs.len(), 2 + 40 + 1 + 1);
    }

    #[test]
    fn keys_get_the_types_the_conventions_give_them() {
        let cases = [
            (sc::REQUEST_MAX_TOKENS, Some(Ty::Int)),
            (sc::USAGE_INPUT_TOKENS, Some(Ty::Int)),
            (sc::USAGE_OUTPUT_TOKENS, Some(Ty::Int)),
            (sc::USAGE_CACHE_READ_INPUT_TOKENS, Some(Ty::Int)),
            (v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS, Some(Ty::Int)),
            (latest::USAGE_CACHE_WRITE_INPUT_TOKENS, Some(Ty::Int)),
            (sc::USAGE_REASONING_OUTPUT_TOKENS, Some(Ty::Int)),
            (sc::EMBEDDINGS_DIMENSION_COUNT, Some(Ty::Int)),
            (sc::REQUEST_CHOICE_COUNT, Some(Ty::Int)),
            (sc::REQUEST_SEED, Some(Ty::Int)),
            (sc::SERVER_PORT, Some(Ty::Int)),
            (legacy::USAGE_PROMPT_TOKENS, Some(Ty::Int)),
            (legacy::LLM_PROMPT_TOKENS, Some(Ty::Int)),
            (legacy::LLM_MAX_TOKENS, Some(Ty::Int)),
            (sc::REQUEST_TEMPERATURE, Some(Ty::Double)),
            (sc::REQUEST_TOP_P, Some(Ty::Double)),
            (sc::REQUEST_TOP_K, Some(Ty::Double)),
            (sc::REQUEST_FREQUENCY_PENALTY, Some(Ty::Double)),
            (sc::REQUEST_PRESENCE_PENALTY, Some(Ty::Double)),
            (sc::RESPONSE_TIME_TO_FIRST_CHUNK, Some(Ty::Double)),
            (sc::REQUEST_STREAM, Some(Ty::Bool)),
            (sc::RESPONSE_FINISH_REASONS, Some(Ty::Strings)),
            (sc::REQUEST_STOP_SEQUENCES, Some(Ty::Strings)),
            (sc::REQUEST_ENCODING_FORMATS, Some(Ty::Strings)),
            (sc::REQUEST_MODEL, None),
            (sc::OPERATION_NAME, None),
        ];
        for (key, ty) in cases {
            assert_eq!(classify(key, Profile::V1_41).expect(key).ty, ty, "{key}");
        }
        assert_eq!(
            classify(sc::REQUEST_TOP_K, Profile::Latest).unwrap().ty,
            Some(Ty::Int)
        );
        for other in [
            "code.file.path",
            "thread.id",
            "gen",
            "",
            "llm",
            "server.x",
            "e",
        ] {
            assert!(
                classify(other, Profile::V1_41).is_none_or(|c| !c.genai && c.slot.is_none()),
                "{other}"
            );
        }
    }
}
