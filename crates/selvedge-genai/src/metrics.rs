//! The GenAI client metrics, with the conventions' instruments, units and buckets.
//!
//! Every operation records two or three measurements with the same six or
//! seven attributes. Handing those attributes to the SDK each time costs more
//! than the rest of the span (each record hashes, compares and clones every
//! key and value), so each distinct attribute set — a *series*: operation,
//! provider, models, server, error — is bound once with the SDK's bound
//! instruments and kept in a small map; recording is then one lookup of the
//! span's values and an update per instrument.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::config::{Options, Profile};
use crate::fnv::Fnv1a;
use crate::recent::Recent;
use crate::semconv::{self as sc, latest, v1_41, TOKEN_TYPE};

/// Distinct series kept bound (by hash; keys that share a 64-bit hash are
/// next to none); beyond this, measurements go through the SDK's unbound
/// path (which applies its own cardinality limit).
const MAX_BOUND_SERIES: usize = 2000;

/// Token counts of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tokens {
    pub input: Option<i64>,
    pub output: Option<i64>,
    pub cache_read: Option<i64>,
    pub cache_write: Option<i64>,
    pub reasoning: Option<i64>,
}

/// What a streaming operation measured (empty for other operations).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stream<'a> {
    pub time_to_first_chunk: Option<f64>,
    /// Seconds from each chunk to the next, after the first.
    pub chunk_intervals: &'a [f64],
}

/// The attribute values of one operation's measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SeriesKey<'a> {
    pub operation: &'a str,
    pub provider: Option<&'a str>,
    pub request_model: Option<&'a str>,
    pub response_model: Option<&'a str>,
    pub server_address: Option<&'a str>,
    pub server_port: Option<i64>,
    pub error_type: Option<&'a str>,
}

impl SeriesKey<'_> {
    fn attributes(&self) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(7);
        attrs.push(KeyValue::new(
            sc::OPERATION_NAME,
            self.operation.to_string(),
        ));
        let mut text = |key: &'static str, value: Option<&str>| {
            if let Some(v) = value {
                attrs.push(KeyValue::new(key, v.to_string()));
            }
        };
        text(sc::PROVIDER_NAME, self.provider);
        text(sc::REQUEST_MODEL, self.request_model);
        text(sc::RESPONSE_MODEL, self.response_model);
        text(sc::SERVER_ADDRESS, self.server_address);
        if let Some(p) = self.server_port {
            attrs.push(KeyValue::new(sc::SERVER_PORT, p));
        }
        if let Some(e) = self.error_type {
            attrs.push(KeyValue::new(sc::ERROR_TYPE, e.to_string()));
        }
        attrs
    }

    fn to_owned(self) -> OwnedKey {
        let own = |s: Option<&str>| s.map(Box::from);
        OwnedKey {
            operation: self.operation.into(),
            provider: own(self.provider),
            request_model: own(self.request_model),
            response_model: own(self.response_model),
            server_address: own(self.server_address),
            server_port: self.server_port,
            error_type: own(self.error_type),
        }
    }

    fn hash_value(&self) -> u64 {
        let mut h = Fnv1a::default();
        self.hash(&mut h);
        h.finish()
    }
}

/// One field of a series key, changed (see [`Entry::key_with`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field<'a> {
    Provider(Option<&'a str>),
    RequestModel(Option<&'a str>),
    ResponseModel(Option<&'a str>),
    ServerAddress(Option<&'a str>),
    ServerPort(Option<i64>),
    ErrorType(Option<&'a str>),
}

#[derive(Debug)]
struct OwnedKey {
    operation: Box<str>,
    provider: Option<Box<str>>,
    request_model: Option<Box<str>>,
    response_model: Option<Box<str>>,
    server_address: Option<Box<str>>,
    server_port: Option<i64>,
    error_type: Option<Box<str>>,
}

impl OwnedKey {
    fn as_key(&self) -> SeriesKey<'_> {
        SeriesKey {
            operation: &self.operation,
            provider: self.provider.as_deref(),
            request_model: self.request_model.as_deref(),
            response_model: self.response_model.as_deref(),
            server_address: self.server_address.as_deref(),
            server_port: self.server_port,
            error_type: self.error_type.as_deref(),
        }
    }
}

/// One series: its attributes, and each instrument bound to them on first use
/// (a bound series is exported even before its first measurement, so a span
/// without tokens must not bind the token instruments).
struct Series {
    attrs: Vec<KeyValue>,
    duration: OnceLock<BoundHistogram<f64>>,
    time_to_first_chunk: OnceLock<BoundHistogram<f64>>,
    time_per_output_chunk: OnceLock<BoundHistogram<f64>>,
    /// v1.41: the token histogram with `gen_ai.token.type` input, output.
    token_types: [OnceLock<BoundHistogram<u64>>; 2],
    /// latest: the token counters, in [`token_values`] order.
    token_counters: [OnceLock<BoundCounter<u64>>; 5],
}

/// The instruments, unbound.
struct Unbound {
    duration: Histogram<f64>,
    time_to_first_chunk: Histogram<f64>,
    time_per_output_chunk: Histogram<f64>,
    tokens: TokenInstruments,
}

enum TokenInstruments {
    V1_41(Histogram<u64>),
    /// In [`token_values`] order.
    Latest([Counter<u64>; 5]),
}

/// A series with the key it was bound for.
pub(crate) struct Entry {
    key: OwnedKey,
    series: Series,
    /// Bound (kept in the map), or past the cap: recorded unbound.
    bound: bool,
}

impl Entry {
    fn new(key: SeriesKey<'_>, bound: bool) -> Entry {
        Entry {
            key: key.to_owned(),
            series: Series {
                attrs: key.attributes(),
                duration: OnceLock::new(),
                time_to_first_chunk: OnceLock::new(),
                time_per_output_chunk: OnceLock::new(),
                token_types: Default::default(),
                token_counters: Default::default(),
            },
            bound,
        }
    }

    /// This series' key with `field` changed.
    pub(crate) fn key_with<'a>(&'a self, field: Field<'a>) -> SeriesKey<'a> {
        let mut key = self.key.as_key();
        match field {
            Field::Provider(v) => key.provider = v,
            Field::RequestModel(v) => key.request_model = v,
            Field::ResponseModel(v) => key.response_model = v,
            Field::ServerAddress(v) => key.server_address = v,
            Field::ServerPort(v) => key.server_port = v,
            Field::ErrorType(v) => key.error_type = v,
        }
        key
    }
}

/// Series by the hash of their key; colliding keys share a bucket. The map's
/// own hasher is FNV too: its keys are already hashes.
type SeriesMap = HashMap<u64, Vec<Arc<Entry>>, BuildHasherDefault<Fnv1a>>;

thread_local! {
    /// The series this thread recorded last, with the id of their
    /// `Instruments`: a service calling a few models again and again finds
    /// them without hashing or locking.
    static USED: RefCell<Recent<(u64, Arc<Entry>), 4>> = const { RefCell::new(Recent::new()) };
}

/// Tells `Instruments` apart in [`USED`] (an address could be reused).
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The GenAI instruments and the series bound so far.
pub(crate) struct Instruments {
    id: u64,
    unbound: Unbound,
    series: RwLock<SeriesMap>,
}

impl std::fmt::Debug for Instruments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let series = self.series.read().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("Instruments")
            .field("series", &series)
            .finish_non_exhaustive()
    }
}

impl Instruments {
    pub(crate) fn new(meter: &Meter, options: &Options) -> Self {
        let seconds = |name: &'static str, description: &'static str, buckets: &[f64]| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(buckets.to_vec())
                .build()
        };
        let duration = |name| seconds(name, "GenAI operation duration", &v1_41::DURATION_BUCKETS);
        let time_to_first_chunk = seconds(
            v1_41::METRIC_TIME_TO_FIRST_CHUNK,
            "Time to receive the first chunk of a streaming response",
            &v1_41::DURATION_BUCKETS,
        );
        let time_per_output_chunk = seconds(
            v1_41::METRIC_TIME_PER_OUTPUT_CHUNK,
            "Time per output chunk after the first of a streaming response",
            &v1_41::CHUNK_BUCKETS,
        );
        let unbound = match options.profile {
            Profile::V1_41 => Unbound {
                duration: duration(v1_41::METRIC_OPERATION_DURATION),
                time_to_first_chunk,
                time_per_output_chunk,
                tokens: TokenInstruments::V1_41(
                    meter
                        .u64_histogram(v1_41::METRIC_TOKEN_USAGE)
                        .with_unit("{token}")
                        .with_description("Number of input and output tokens used")
                        .with_boundaries(v1_41::TOKEN_BUCKETS.to_vec())
                        .build(),
                ),
            },
            Profile::Latest => {
                let counter =
                    |name: &'static str| meter.u64_counter(name).with_unit("{token}").build();
                Unbound {
                    duration: duration(latest::METRIC_INFERENCE_DURATION),
                    time_to_first_chunk,
                    time_per_output_chunk,
                    tokens: TokenInstruments::Latest([
                        counter(latest::METRIC_USAGE_INPUT_TOKENS),
                        counter(latest::METRIC_USAGE_OUTPUT_TOKENS),
                        counter(latest::METRIC_USAGE_CACHE_READ_INPUT_TOKENS),
                        counter(latest::METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS),
                        counter(latest::METRIC_USAGE_REASONING_OUTPUT_TOKENS),
                    ]),
                }
            }
        };
        Instruments {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            unbound,
            series: RwLock::new(SeriesMap::default()),
        }
    }

    /// Records one operation's duration, token usage, and for a stream its time
    /// to first chunk and the time of every chunk after the first.
    pub(crate) fn record(
        &self,
        key: SeriesKey<'_>,
        seconds: f64,
        tokens: &Tokens,
        stream: Stream<'_>,
    ) {
        self.record_entry(&self.series(key), seconds, tokens, stream);
    }

    /// The series for `key`, to record a span's measurements in as it ends:
    /// one this thread used lately, else one from the map (bound now if new);
    /// past [`MAX_BOUND_SERIES`] one recorded unbound.
    pub(crate) fn series(&self, key: SeriesKey<'_>) -> Arc<Entry> {
        let used = USED.with(|used| {
            used.borrow()
                .find(|(id, e)| *id == self.id && e.key.as_key() == key)
                .map(|(_, e)| e.clone())
        });
        if let Some(entry) = used {
            return entry;
        }
        let entry = self.lookup(key);
        if entry.bound {
            USED.with(|used| used.borrow_mut().keep((self.id, entry.clone())));
        }
        entry
    }

    /// Records one operation's measurements in the series `entry`.
    pub(crate) fn record_entry(
        &self,
        entry: &Entry,
        seconds: f64,
        tokens: &Tokens,
        stream: Stream<'_>,
    ) {
        match entry.bound {
            true => self.record_in(&entry.series, seconds, tokens, stream),
            false => self.record_unbound(&entry.series.attrs, seconds, tokens, stream),
        }
    }

    fn record_in(&self, series: &Series, seconds: f64, tokens: &Tokens, stream: Stream<'_>) {
        let u = &self.unbound;
        let attrs = &series.attrs;
        series
            .duration
            .get_or_init(|| u.duration.bind(attrs))
            .record(seconds);
        if let Some(t) = stream.time_to_first_chunk {
            series
                .time_to_first_chunk
                .get_or_init(|| u.time_to_first_chunk.bind(attrs))
                .record(t);
        }
        if !stream.chunk_intervals.is_empty() {
            let h = series
                .time_per_output_chunk
                .get_or_init(|| u.time_per_output_chunk.bind(attrs));
            stream.chunk_intervals.iter().for_each(|t| h.record(*t));
        }
        match &u.tokens {
            TokenInstruments::V1_41(hist) => {
                let record = |slot: &OnceLock<BoundHistogram<u64>>, value, token_type| {
                    if let Some(n) = positive(value) {
                        slot.get_or_init(|| {
                            hist.bind(&with(attrs, KeyValue::new(TOKEN_TYPE, token_type)))
                        })
                        .record(n);
                    }
                };
                let [input, output] = &series.token_types;
                record(input, tokens.input, "input");
                record(output, tokens.output, "output");
            }
            TokenInstruments::Latest(counters) => {
                for ((slot, value), counter) in series
                    .token_counters
                    .iter()
                    .zip(token_values(tokens))
                    .zip(counters)
                {
                    if let Some(n) = positive(value) {
                        slot.get_or_init(|| {
                            counter
                                .bind(&with(attrs, KeyValue::new(latest::TOKEN_MODALITY, "text")))
                        })
                        .add(n);
                    }
                }
            }
        }
    }

    /// The series for `key` from the map, bound and kept if new; past
    /// [`MAX_BOUND_SERIES`] (or with the map's lock poisoned) one that is
    /// neither: its measurements take the SDK's unbound path. The cap is told
    /// under the read lock: past it, a new series never waits for the write
    /// lock.
    #[cold]
    #[inline(never)]
    fn lookup(&self, key: SeriesKey<'_>) -> Arc<Entry> {
        let hash = key.hash_value();
        let find = |map: &SeriesMap| {
            map.get(&hash)?
                .iter()
                .find(|e| e.key.as_key() == key)
                .cloned()
        };
        let unbound = || Arc::new(Entry::new(key, false));
        match self.series.read() {
            Ok(map) if map.len() >= MAX_BOUND_SERIES => return find(&map).unwrap_or_else(unbound),
            Ok(map) => {
                if let Some(found) = find(&map) {
                    return found;
                }
            }
            Err(_) => return unbound(),
        }
        let Ok(mut map) = self.series.write() else {
            return unbound();
        };
        if let Some(found) = find(&map) {
            return found;
        }
        if map.len() >= MAX_BOUND_SERIES {
            return unbound();
        }
        let entry = Arc::new(Entry::new(key, true));
        map.entry(hash).or_default().push(entry.clone());
        entry
    }

    fn record_unbound(
        &self,
        attrs: &[KeyValue],
        seconds: f64,
        tokens: &Tokens,
        stream: Stream<'_>,
    ) {
        let u = &self.unbound;
        u.duration.record(seconds, attrs);
        if let Some(t) = stream.time_to_first_chunk {
            u.time_to_first_chunk.record(t, attrs);
        }
        for t in stream.chunk_intervals {
            u.time_per_output_chunk.record(*t, attrs);
        }
        match &u.tokens {
            TokenInstruments::V1_41(hist) => {
                for (value, token_type) in [(tokens.input, "input"), (tokens.output, "output")] {
                    if let Some(n) = positive(value) {
                        hist.record(n, &with(attrs, KeyValue::new(TOKEN_TYPE, token_type)));
                    }
                }
            }
            TokenInstruments::Latest(counters) => {
                let text = with(attrs, KeyValue::new(latest::TOKEN_MODALITY, "text"));
                for (counter, value) in counters.iter().zip(token_values(tokens)) {
                    if let Some(n) = positive(value) {
                        counter.add(n, &text);
                    }
                }
            }
        }
    }
}

fn with(attrs: &[KeyValue], extra: KeyValue) -> Vec<KeyValue> {
    let mut a = Vec::with_capacity(attrs.len() + 1);
    a.extend_from_slice(attrs);
    a.push(extra);
    a
}

/// In the order of the `latest` token counters.
fn token_values(t: &Tokens) -> [Option<i64>; 5] {
    [t.input, t.output, t.cache_read, t.cache_write, t.reasoning]
}

/// Token counts are never negative; a negative value is a caller's bug, not data.
fn positive(v: Option<i64>) -> Option<u64> {
    v.filter(|v| *v >= 0).map(|v| v as u64)
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;

    use super::*;

    #[test]
    fn past_the_cap_new_series_are_unbound_and_known_ones_stay_bound() {
        let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
        let instruments = Instruments::new(&meters.meter("test"), &Options::default());
        let series = |model: &str| {
            instruments.lookup(SeriesKey {
                operation: "chat",
                provider: Some("openai"),
                request_model: Some(model),
                response_model: None,
                server_address: None,
                server_port: None,
                error_type: None,
            })
        };
        for i in 0..MAX_BOUND_SERIES {
            assert!(series(&format!("cap-{i}")).bound);
        }
        assert!(!series("cap-new").bound, "past the cap");
        assert_eq!(instruments.series.read().unwrap().len(), MAX_BOUND_SERIES);
        assert!(series("cap-0").bound, "known before the cap");
    }
}
