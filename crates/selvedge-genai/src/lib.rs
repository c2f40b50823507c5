//! OpenTelemetry GenAI semantic conventions for `tracing` spans.
//!
//! LLM calls, embeddings, retrievals, agents and tools instrumented with plain
//! `tracing` become spans that follow the GenAI conventions (v1.41.0 by
//! default, or the `latest` profile): conventional names and kinds, typed
//! attributes, `error.type` on failure, legacy names mapped (and, in
//! compatibility mode, emitted too), token roll-ups onto agent spans, and the
//! GenAI client metrics.
//!
//! ```
//! # fn model(_: &str) -> &'static str { "gpt-4o" }
//! #[tracing::instrument(skip_all, fields(
//!     gen_ai.operation.name = "chat",
//!     gen_ai.provider.name = "openai",
//!     gen_ai.request.model = %model("m"),
//!     gen_ai.usage.input_tokens = tracing::field::Empty,
//! ))]
//! fn call_model() {
//!     // exported as "chat gpt-4o", kind CLIENT, tokens as integers
//!     tracing::Span::current().record("gen_ai.usage.input_tokens", 42_u64);
//! }
//! ```
//!
//! Or let [`GenAiSpan`] declare everything, and record the response with
//! [`record_response`].
//!
//! # Parts
//!
//! - [`GenAiTracer`] wraps the tracer given to tracing-opentelemetry: names,
//!   kinds, the operation and the types of the attributes a span starts with
//!   are fixed as it *starts* (kinds cannot change later; samplers see them).
//!   The span it builds, a [`ConformedSpan`], conforms each value recorded
//!   later as it is recorded, and as it *ends* rolls usage up onto agents and
//!   workflows and records the GenAI client metrics — for every span it
//!   built, sampled or not (an unsampled span is followed, not recorded).
//! - [`GenAiProcessor`] wraps the span processor: the rare span its wrapper
//!   could not settle value by value (a key recorded twice, a legacy name or
//!   a name-giving attribute recorded late, compatibility mode's legacy
//!   mirrors) gets the full pass here, as do GenAI spans started without
//!   `GenAiTracer` (measured here too, with
//!   [`with_metrics`](GenAiProcessor::with_metrics)).
//! - [`GenAiLayer`] wraps the tracing-opentelemetry layer: `error.type` from
//!   error events, and token counts recorded as `u64` handed to it as
//!   integers (it would turn them into text).
//!
//! The `selvedge` setup crate wires them. Wiring them by hand:
//!
//! ```
//! use opentelemetry::metrics::MeterProvider as _;
//! use opentelemetry::trace::TracerProvider as _;
//! use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracerProvider};
//! use selvedge_genai::{GenAiLayer, GenAiProcessor, GenAiTracer, Options};
//! use tracing_subscriber::layer::SubscriberExt;
//! # #[derive(Debug)]
//! # struct MyExporter;
//! # impl opentelemetry_sdk::trace::SpanExporter for MyExporter {
//! #     async fn export(&self, _: Vec<opentelemetry_sdk::trace::SpanData>) -> opentelemetry_sdk::error::OTelSdkResult { Ok(()) }
//! # }
//!
//! let options = Options::from_env(|name| std::env::var(name).ok());
//! let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
//! let meter = meters.meter("selvedge-genai");
//! let tracers = SdkTracerProvider::builder()
//!     .with_span_processor(
//!         GenAiProcessor::new(BatchSpanProcessor::builder(MyExporter).build(), options)
//!             .with_metrics(&meter),
//!     )
//!     .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.1))))
//!     .build();
//! let tracer = GenAiTracer::new(tracers.tracer("app"), options).with_metrics(&meter);
//! let subscriber = tracing_subscriber::registry()
//!     .with(GenAiLayer::new(tracing_opentelemetry::layer().with_tracer(tracer), options));
//! tracing::subscriber::with_default(subscriber, || {
//!     // instrumented code: every GenAI call measured, one trace in ten kept
//! });
//! # let _ = tracers.shutdown();
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod config;
mod conform;
mod fnv;
mod handoff;
mod layer;
mod metrics;
mod names;
mod processor;
mod recent;
mod record;
mod rollup;
pub mod semconv;
mod span;
mod tracer;
mod tracked;

pub use config::{
    Options, Profile, LATEST_OPT_IN, OTEL_SEMCONV_STABILITY_OPT_IN, SELVEDGE_GENAI_COMPAT,
};
pub use layer::GenAiLayer;
pub use processor::GenAiProcessor;
pub use record::{
    mark_error, record_response, record_usage, GenAiSpan, Response, Streaming, Usage,
    MAX_CHUNK_INTERVALS,
};
pub use rollup::{ROLLUP_INPUT_TOKENS, ROLLUP_MODEL_CALLS, ROLLUP_OUTPUT_TOKENS};
pub use span::ConformedSpan;
pub use tracer::GenAiTracer;
