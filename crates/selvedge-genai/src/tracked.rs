//! [`Tracked`]: what a GenAI span's wrapper keeps between its start and its
//! end — enough to conform each value as it is recorded, and to record the
//! span's metrics and roll-up as it ends, without reading the span back.
//!
//! Anything it cannot settle value by value — a key recorded twice, a legacy
//! name, a name-giving attribute recorded late, compatibility mode — it leaves
//! to `GenAiProcessor`'s full pass (see `handoff`).

use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::{Array, KeyValue, Value};

use crate::config::{Options, Profile};
use crate::conform::{classify, retype, sig_bit, Shape, Slot};
use crate::handoff::Verdict;
use crate::metrics::{Entry, Field, Instruments, Stream, Tokens};
use crate::semconv::operation::Op;
use crate::semconv::{self as sc, legacy};

/// The slots of token counts, by bit.
const TOKEN_SLOTS: u32 = 1 << Slot::Input as u32
    | 1 << Slot::Output as u32
    | 1 << Slot::CacheRead as u32
    | 1 << Slot::CacheWrite as u32
    | 1 << Slot::Reasoning as u32;

/// A tracked GenAI span's state.
pub(crate) struct Tracked {
    profile: Profile,
    op: Op,
    start: SystemTime,
    instruments: Option<Arc<Instruments>>,
    /// The metric series of the span's current attributes (`None` for
    /// operations without metrics, or metrics off).
    series: Option<Arc<Entry>>,
    tokens: Tokens,
    time_to_first_chunk: Option<f64>,
    chunk_intervals: Vec<f64>,
    /// The last `error.type` recorded.
    error: Option<Value>,
    /// Slots recorded so far, by bit.
    slots: u32,
    /// [`sig_bit`]s of the classified keys without a slot recorded so far.
    sig_bits: u64,
    /// The processor's full pass is needed.
    full_pass: bool,
    /// ... and it records the metrics.
    processor_measures: bool,
}

impl std::fmt::Debug for Tracked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked")
            .field("op", &self.op)
            .field("tokens", &self.tokens)
            .field("full_pass", &self.full_pass)
            .finish_non_exhaustive()
    }
}

/// What a tracked span's end needs done on the span itself.
#[derive(Debug)]
pub(crate) struct Ending {
    /// Its token usage, for a model call (the roll-up).
    pub usage: Option<Tokens>,
    /// The `error.type` it failed with: its status becomes Error.
    pub error: Option<String>,
    /// What `GenAiProcessor` does with it.
    pub verdict: Verdict,
}

impl Tracked {
    /// Starts tracking a span conformed at start to `shape`.
    pub(crate) fn start(
        shape: &Shape<'_>,
        opts: &Options,
        instruments: Option<&Arc<Instruments>>,
        start: SystemTime,
    ) -> Tracked {
        let slots = shape.slots();
        let mut t = Tracked {
            profile: opts.profile,
            op: shape.op,
            start,
            instruments: instruments.cloned(),
            series: None,
            // Usually recorded later: not looked for unless there.
            tokens: match slots & TOKEN_SLOTS {
                0 => Tokens::default(),
                _ => shape.usage().unwrap_or_default(),
            },
            time_to_first_chunk: None,
            chunk_intervals: Vec::new(),
            error: shape
                .error_type()
                .map(|e| Value::String(e.to_string().into())),
            slots,
            sig_bits: shape.sig_bits(),
            full_pass: opts.compat,
            processor_measures: false,
        };
        if t.slots & 1 << Slot::ChunkIntervals as u32 != 0 {
            // Recorded before the span started: the internal attribute is on
            // the span, and the processor's to remove.
            t.chunk_intervals = shape.stream().chunk_intervals.to_vec();
            t.full_pass = true;
        }
        // The series key only with metrics on: building it reads five attributes.
        if let Some((instruments, key)) = instruments.and_then(|i| Some((i, shape.series_key()?))) {
            t.series = Some(instruments.series(key));
            t.time_to_first_chunk = shape.stream().time_to_first_chunk;
        }
        t
    }

    /// Conforms a value recorded on the span; `false` when it is for the
    /// metrics only and must not reach the span.
    pub(crate) fn record(&mut self, kv: &mut KeyValue) -> bool {
        let key = kv.key.as_str();
        let Some(class) = classify(key, self.profile) else {
            return true;
        };
        let slot = match class.slot {
            Some(slot) => Some(slot),
            None if class.legacy => self.legacy(key),
            None => {
                let bit = sig_bit(key);
                self.full_pass |= self.sig_bits & bit != 0;
                self.sig_bits |= bit;
                None
            }
        };
        self.full_pass |= class.cache_creation && self.profile == Profile::Latest;
        if let Some(ty) = class.ty {
            retype(kv, ty);
        }
        let Some(slot) = slot else {
            return true;
        };
        let bit = 1 << slot as u32;
        self.full_pass |= self.slots & bit != 0;
        self.slots |= bit;
        self.note(slot, kv)
    }

    /// A legacy name recorded: the processor's full pass renames it; the
    /// slot of its current name, if the span tracks it.
    #[inline(never)]
    fn legacy(&mut self, key: &str) -> Option<Slot> {
        self.full_pass = true;
        match legacy_slot(key, self.profile) {
            Some(slot @ (Slot::Input | Slot::Output)) => Some(slot),
            // A legacy provider, model or request type (values renamed too):
            // the processor measures the span.
            Some(_) => {
                self.processor_measures = true;
                None
            }
            None => None,
        }
    }

    /// What the value at `slot` changes; `false` to keep it off the span.
    /// Token counts, what most spans record, are noted here; the rest out of
    /// line (code that is not run still takes instruction-cache lines).
    fn note(&mut self, slot: Slot, kv: &KeyValue) -> bool {
        let int = match kv.value {
            Value::I64(n) => Some(n),
            _ => None,
        };
        match slot {
            Slot::Input => self.tokens.input = int,
            Slot::Output => self.tokens.output = int,
            Slot::CacheRead => self.tokens.cache_read = int,
            Slot::CacheWrite => self.tokens.cache_write = int,
            Slot::Reasoning => self.tokens.reasoning = int,
            _ => return self.note_other(slot, kv),
        }
        true
    }

    /// [`note`](Self::note) for the slots other than token counts: stream
    /// timings, and what names the span or picks its metric series.
    #[inline(never)]
    fn note_other(&mut self, slot: Slot, kv: &KeyValue) -> bool {
        let int = match kv.value {
            Value::I64(n) => Some(n),
            _ => None,
        };
        let text = match &kv.value {
            Value::String(s) if !s.as_str().is_empty() => Some(s.as_str()),
            _ => None,
        };
        match slot {
            // Noted by `note`.
            Slot::Input | Slot::Output | Slot::CacheRead | Slot::CacheWrite | Slot::Reasoning => {}
            Slot::TimeToFirstChunk => {
                self.time_to_first_chunk = match kv.value {
                    Value::F64(s) => Some(s),
                    _ => None,
                }
            }
            Slot::ChunkIntervals => {
                if let Value::Array(Array::F64(v)) = &kv.value {
                    self.chunk_intervals = v.clone();
                }
                return false;
            }
            // The name follows these: the processor renames the span.
            Slot::Agent | Slot::Tool | Slot::Workflow | Slot::DataSource => self.full_pass = true,
            // What the operation is, changed: the processor measures it.
            Slot::Operation => {
                self.full_pass = true;
                self.processor_measures = true;
            }
            Slot::RequestModel => {
                self.full_pass = true;
                self.series = self.reseries(Field::RequestModel(text));
            }
            Slot::Provider => self.series = self.reseries(Field::Provider(text)),
            Slot::ServerAddress => self.series = self.reseries(Field::ServerAddress(text)),
            Slot::ServerPort => self.series = self.reseries(Field::ServerPort(int)),
            Slot::ResponseModel => self.series = self.reseries(Field::ResponseModel(text)),
            Slot::ErrorType => {
                // A specific error.type beats the generic fallback (an error
                // event's), whichever came last.
                let fallback = text == Some(sc::ERROR_TYPE_OTHER);
                if !(fallback && self.error.is_some()) {
                    self.error = Some(kv.value.clone());
                }
                self.series = self.reseries(Field::ErrorType(self.error_text()));
            }
        }
        true
    }

    /// The series with `field` changed (none if there is no series).
    fn reseries(&self, field: Field<'_>) -> Option<Arc<Entry>> {
        let (instruments, series) = (self.instruments.as_ref()?, self.series.as_ref()?);
        Some(instruments.series(series.key_with(field)))
    }

    fn error_text(&self) -> Option<&str> {
        match &self.error {
            Some(Value::String(s)) if !s.as_str().is_empty() => Some(s.as_str()),
            _ => None,
        }
    }

    /// Records the span's metrics (unless the processor will), and says what
    /// its end needs done on it.
    pub(crate) fn end(&self, end: SystemTime) -> Ending {
        // Agents and retrievals report no tokens of their own.
        let usage = (self.op == Op::ModelCall).then_some(self.tokens);
        if !self.processor_measures {
            if let (Some(instruments), Some(series)) = (&self.instruments, &self.series) {
                let seconds = end
                    .duration_since(self.start)
                    .unwrap_or_default()
                    .as_secs_f64();
                let stream = Stream {
                    time_to_first_chunk: self.time_to_first_chunk,
                    chunk_intervals: &self.chunk_intervals,
                };
                instruments.record_entry(series, seconds, &usage.unwrap_or_default(), stream);
            }
        }
        Ending {
            usage,
            error: self.error_text().map(str::to_owned),
            verdict: match self.full_pass {
                true => Verdict::FullPass {
                    measure: self.processor_measures,
                },
                false => Verdict::Done,
            },
        }
    }
}

/// The slot a legacy name's current name fills.
fn legacy_slot(key: &str, profile: Profile) -> Option<Slot> {
    let (_, current) = legacy::RENAMES.iter().find(|(old, _)| *old == key)?;
    classify(current, profile)?.slot
}

#[cfg(test)]
mod tests {
    use opentelemetry::{Array, KeyValue, Value};

    use super::*;
    use crate::conform::conform_start;
    use crate::record::CHUNK_INTERVALS;

    /// A chat span started with `attrs`, tracked (metrics off).
    fn tracked(mut attrs: Vec<KeyValue>, opts: Options) -> Tracked {
        let shape = conform_start(&mut attrs, &opts).expect("a GenAI span");
        Tracked::start(&shape, &opts, None, SystemTime::UNIX_EPOCH)
    }

    fn chat() -> Vec<KeyValue> {
        vec![
            KeyValue::new(sc::OPERATION_NAME, "chat"),
            KeyValue::new(sc::REQUEST_MODEL, "m"),
        ]
    }

    fn record(t: &mut Tracked, key: &'static str, value: impl Into<Value>) -> (bool, KeyValue) {
        let mut kv = KeyValue::new(key, value.into());
        (t.record(&mut kv), kv)
    }

    #[test]
    fn token_counts_recorded_later_are_typed_and_counted() {
        let mut t = tracked(chat(), Options::default());
        let (kept, kv) = record(&mut t, sc::USAGE_INPUT_TOKENS, "42");
        assert!(kept);
        assert_eq!(kv.value, Value::I64(42), "u64 arrives as text");
        record(&mut t, sc::USAGE_OUTPUT_TOKENS, 7_i64);
        record(&mut t, "app.other", "x");
        let ending = t.end(SystemTime::UNIX_EPOCH);
        let usage = ending.usage.expect("a model call");
        assert_eq!((usage.input, usage.output), (Some(42), Some(7)));
        assert_eq!(
            ending.verdict,
            Verdict::Done,
            "nothing for the processor to do"
        );
        assert!(ending.error.is_none());
    }

    #[test]
    fn what_cannot_be_settled_value_by_value_asks_for_the_full_pass() {
        let ask = |key: &'static str, value: Value| {
            let mut t = tracked(chat(), Options::default());
            record(&mut t, key, value);
            t.end(SystemTime::UNIX_EPOCH).verdict
        };
        let conform_only = Verdict::FullPass { measure: false };
        assert_eq!(ask(sc::REQUEST_MODEL, "m2".into()), conform_only, "renamed");
        assert_eq!(ask(legacy::LLM_PROMPT_TOKENS, 3_i64.into()), conform_only);
        assert_eq!(
            ask(sc::OPERATION_NAME, "embeddings".into()),
            Verdict::FullPass { measure: true },
            "another operation: measured by the processor"
        );
        assert_eq!(
            ask(legacy::SYSTEM, "openai".into()),
            Verdict::FullPass { measure: true }
        );
        assert_eq!(ask(sc::RESPONSE_MODEL, "m-1".into()), Verdict::Done);

        // A key recorded twice.
        let mut t = tracked(chat(), Options::default());
        record(&mut t, sc::REQUEST_TEMPERATURE, 0.5);
        assert_eq!(t.end(SystemTime::UNIX_EPOCH).verdict, Verdict::Done);
        let mut t = tracked(chat(), Options::default());
        record(&mut t, sc::REQUEST_TEMPERATURE, 0.5);
        record(&mut t, sc::REQUEST_TEMPERATURE, 0.7);
        assert_eq!(t.end(SystemTime::UNIX_EPOCH).verdict, conform_only);

        // Compatibility mode always: its legacy mirrors are the processor's.
        let compat = Options {
            compat: true,
            ..Options::default()
        };
        assert_eq!(
            tracked(chat(), compat).end(SystemTime::UNIX_EPOCH).verdict,
            conform_only
        );
    }

    #[test]
    fn legacy_token_names_count_as_the_current_ones() {
        let mut t = tracked(chat(), Options::default());
        record(&mut t, legacy::LLM_PROMPT_TOKENS, "11");
        record(&mut t, legacy::USAGE_COMPLETION_TOKENS, 4_i64);
        let usage = t.end(SystemTime::UNIX_EPOCH).usage.expect("a model call");
        assert_eq!((usage.input, usage.output), (Some(11), Some(4)));
    }

    #[test]
    fn a_specific_error_type_beats_the_fallback_in_either_order() {
        for order in [
            [sc::ERROR_TYPE_OTHER, "timeout"],
            ["timeout", sc::ERROR_TYPE_OTHER],
        ] {
            let mut t = tracked(chat(), Options::default());
            for e in order {
                record(&mut t, sc::ERROR_TYPE, e);
            }
            assert_eq!(
                t.end(SystemTime::UNIX_EPOCH).error.as_deref(),
                Some("timeout")
            );
        }
    }

    #[test]
    fn chunk_intervals_are_kept_off_the_span() {
        let mut t = tracked(chat(), Options::default());
        let (kept, _) = record(&mut t, CHUNK_INTERVALS, Value::Array(Array::F64(vec![0.1])));
        assert!(!kept, "for the metrics only");
        assert_eq!(t.chunk_intervals, vec![0.1]);

        // Already on the span as it started (metrics on or off): the
        // processor removes them.
        let mut attrs = chat();
        attrs.push(KeyValue::new(
            CHUNK_INTERVALS,
            Value::Array(Array::F64(vec![0.2])),
        ));
        let t = tracked(attrs, Options::default());
        assert_eq!(t.chunk_intervals, vec![0.2]);
        assert_eq!(
            t.end(SystemTime::UNIX_EPOCH).verdict,
            Verdict::FullPass { measure: false }
        );
    }
}
