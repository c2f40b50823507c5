//! The GenAI client metrics, with the conventions' instruments, units and buckets.

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::config::{Options, Profile};
use crate::semconv::{latest, v1_41, TOKEN_TYPE};

/// Token counts of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tokens {
    pub input: Option<i64>,
    pub output: Option<i64>,
    pub cache_read: Option<i64>,
    pub cache_write: Option<i64>,
    pub reasoning: Option<i64>,
}

pub(crate) enum Instruments {
    V1_41 {
        duration: Histogram<f64>,
        tokens: Histogram<u64>,
        time_to_first_chunk: Histogram<f64>,
    },
    Latest {
        duration: Histogram<f64>,
        input: Counter<u64>,
        output: Counter<u64>,
        cache_read: Counter<u64>,
        cache_write: Counter<u64>,
        reasoning: Counter<u64>,
        time_to_first_chunk: Histogram<f64>,
    },
}

impl Instruments {
    pub(crate) fn new(meter: &Meter, options: &Options) -> Self {
        let duration = |name: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description("GenAI operation duration")
                .with_boundaries(v1_41::DURATION_BUCKETS.to_vec())
                .build()
        };
        let ttfc = meter
            .f64_histogram(v1_41::METRIC_TIME_TO_FIRST_CHUNK)
            .with_unit("s")
            .with_description("Time to receive the first chunk of a streaming response")
            .with_boundaries(v1_41::DURATION_BUCKETS.to_vec())
            .build();
        match options.profile {
            Profile::V1_41 => Instruments::V1_41 {
                duration: duration(v1_41::METRIC_OPERATION_DURATION),
                tokens: meter
                    .u64_histogram(v1_41::METRIC_TOKEN_USAGE)
                    .with_unit("{token}")
                    .with_description("Number of input and output tokens used")
                    .with_boundaries(v1_41::TOKEN_BUCKETS.to_vec())
                    .build(),
                time_to_first_chunk: ttfc,
            },
            Profile::Latest => {
                let counter =
                    |name: &'static str| meter.u64_counter(name).with_unit("{token}").build();
                Instruments::Latest {
                    duration: duration(latest::METRIC_INFERENCE_DURATION),
                    input: counter(latest::METRIC_USAGE_INPUT_TOKENS),
                    output: counter(latest::METRIC_USAGE_OUTPUT_TOKENS),
                    cache_read: counter(latest::METRIC_USAGE_CACHE_READ_INPUT_TOKENS),
                    cache_write: counter(latest::METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS),
                    reasoning: counter(latest::METRIC_USAGE_REASONING_OUTPUT_TOKENS),
                    time_to_first_chunk: ttfc,
                }
            }
        }
    }

    pub(crate) fn record(
        &self,
        seconds: f64,
        tokens: &Tokens,
        ttfc: Option<f64>,
        attrs: &[KeyValue],
    ) {
        let with = |extra: KeyValue| {
            let mut a = attrs.to_vec();
            a.push(extra);
            a
        };
        let positive = |v: Option<i64>| v.filter(|v| *v >= 0).map(|v| v as u64);
        match self {
            Instruments::V1_41 {
                duration,
                tokens: hist,
                time_to_first_chunk,
            } => {
                duration.record(seconds, attrs);
                if let Some(n) = positive(tokens.input) {
                    hist.record(n, &with(KeyValue::new(TOKEN_TYPE, "input")));
                }
                if let Some(n) = positive(tokens.output) {
                    hist.record(n, &with(KeyValue::new(TOKEN_TYPE, "output")));
                }
                if let Some(t) = ttfc {
                    time_to_first_chunk.record(t, attrs);
                }
            }
            Instruments::Latest {
                duration,
                input,
                output,
                cache_read,
                cache_write,
                reasoning,
                time_to_first_chunk,
            } => {
                duration.record(seconds, attrs);
                let text = with(KeyValue::new(latest::TOKEN_MODALITY, "text"));
                for (counter, value) in [
                    (input, tokens.input),
                    (output, tokens.output),
                    (cache_read, tokens.cache_read),
                    (cache_write, tokens.cache_write),
                    (reasoning, tokens.reasoning),
                ] {
                    if let Some(n) = positive(value) {
                        counter.add(n, &text);
                    }
                }
                if let Some(t) = ttfc {
                    time_to_first_chunk.record(t, attrs);
                }
            }
        }
    }
}
