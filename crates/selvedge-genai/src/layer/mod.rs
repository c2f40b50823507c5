//! [`GenAiLayer`]: what GenAI spans need from the `tracing` side, wrapped
//! around the tracing-opentelemetry layer.

use std::any::TypeId;
use std::sync::OnceLock;

use opentelemetry::trace::TraceContextExt;
use opentelemetry::KeyValue;
use tracing::dispatcher::WeakDispatch;
use tracing::{Dispatch, Metadata, Subscriber};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Interest, LevelFilter};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::config::{Options, Profile};
use crate::semconv as sc;

#[cfg(test)]
mod equivalence;
mod errors;
mod numbers;

/// Wraps the tracing-opentelemetry layer: sees each event and record before
/// it does, so GenAI spans get
///
/// - `error.type` from error events: an ERROR event, or an event with an
///   `error` / `error.type` field (what `#[instrument(err)]` emits), on a
///   span whose callsite declares GenAI fields — set on the OTel span before
///   the OTel layer handles the event, while the span is surely open;
/// - token counts and other GenAI numbers recorded as `u64` / `usize` handed
///   to the OTel layer as integers, which it would otherwise turn into text
///   for [`GenAiTracer`](crate::GenAiTracer)'s spans to parse back.
///
/// Everything else passes straight through. Events whose static metadata
/// shows no error are not visited. Names, kinds, types, roll-ups and metrics
/// are the work of [`GenAiTracer`](crate::GenAiTracer), its spans, and
/// [`GenAiProcessor`](crate::GenAiProcessor).
///
/// ```
/// use opentelemetry::trace::TracerProvider as _;
/// use selvedge_genai::{GenAiLayer, GenAiTracer, Options};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let options = Options::default();
/// let otel = tracing_opentelemetry::layer()
///     .with_tracer(GenAiTracer::new(provider.tracer("app"), options));
/// let subscriber = tracing_subscriber::registry().with(GenAiLayer::new(otel, options));
/// # let _ = subscriber;
/// ```
pub struct GenAiLayer<L> {
    inner: L,
    /// Which keys are numbers (the profile of the wrapped tracer).
    profile: Profile,
    dispatch: OnceLock<WeakDispatch>,
}

impl<L> std::fmt::Debug for GenAiLayer<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenAiLayer")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl<L> GenAiLayer<L> {
    /// Wraps `inner`, the tracing-opentelemetry layer (filtered or not), with
    /// the [`Options`] given to its [`GenAiTracer`](crate::GenAiTracer).
    pub fn new(inner: L, options: Options) -> Self {
        Self {
            inner,
            profile: options.profile,
            dispatch: OnceLock::new(),
        }
    }

    /// The error event's `error.type` on the OTel span `id`.
    fn set_error_type(&self, id: &Id, error_type: String) {
        let Some(dispatch) = self.dispatch.get().and_then(WeakDispatch::upgrade) else {
            return;
        };
        if let Some(cx) = tracing_opentelemetry::get_otel_context(id, &dispatch) {
            cx.span()
                .set_attribute(KeyValue::new(sc::ERROR_TYPE, error_type));
        }
    }
}

/// Whether a span's callsite declares GenAI fields (static metadata: free to ask).
fn is_genai_callsite(metadata: &Metadata<'_>) -> bool {
    metadata
        .fields()
        .iter()
        .any(|f| crate::conform::marks_genai(f.name()))
}

impl<S, L> Layer<S> for GenAiLayer<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
        self.inner.on_register_dispatch(dispatch);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some((field, number)) = numbers::find(values, self.profile) {
            return numbers::with_record(&field, number, |values| {
                self.inner.on_record(id, values, ctx)
            });
        }
        self.inner.on_record(id, values, ctx);
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if let Some(error_type) = errors::error_type(event) {
            if let Some(span) = ctx.event_span(event) {
                if is_genai_callsite(span.metadata()) {
                    // The span's own explicit error.type, if any, wins over
                    // the fallback whichever is recorded first (`tracked`).
                    self.set_error_type(&span.id(), error_type);
                }
            }
        }
        self.inner.on_event(event, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    // tracing-opentelemetry is found by downcasting through the layers
    // (`OpenTelemetrySpanExt`, `get_otel_context`), as are per-layer filters:
    // a wrapper that did not forward would hide them.
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: the inner layer's answer, for the inner layer's types,
        // passed on unchanged (as tracing-subscriber's own wrappers do).
        unsafe { self.inner.downcast_raw(id) }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
    use opentelemetry::Value;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;
    use crate::GenAiTracer;

    /// Where a per-layer filter sits, if any.
    #[derive(Debug, Clone, Copy)]
    enum Wiring {
        Unfiltered,
        /// `GenAiLayer::new(otel.with_filter(..))`, as the setup crate wires it.
        FilterInside,
        /// `GenAiLayer::new(otel).with_filter(..)`.
        FilterOutside,
    }

    /// Runs `f` under the GenAI stack and returns the exported spans'
    /// attributes by name.
    fn exported(f: impl FnOnce()) -> Vec<(String, Vec<KeyValue>)> {
        exported_with(Wiring::Unfiltered, f)
    }

    fn exported_with(wiring: Wiring, f: impl FnOnce()) -> Vec<(String, Vec<KeyValue>)> {
        use tracing_subscriber::filter::filter_fn;
        use tracing_subscriber::Layer as _;
        let options = Options::default();
        let (provider, exporter) = super::equivalence::provider(options);
        let otel = tracing_opentelemetry::layer()
            .with_tracer(GenAiTracer::new(provider.tracer("test"), options));
        // Keeps all but a target no test uses: a filter that is there, not one that drops.
        let keep = || filter_fn(|m| m.target() != "elsewhere");
        let registry = tracing_subscriber::registry();
        match wiring {
            Wiring::Unfiltered => {
                tracing::subscriber::with_default(registry.with(GenAiLayer::new(otel, options)), f)
            }
            Wiring::FilterInside => tracing::subscriber::with_default(
                registry.with(GenAiLayer::new(otel.with_filter(keep()), options)),
                f,
            ),
            Wiring::FilterOutside => tracing::subscriber::with_default(
                registry.with(GenAiLayer::new(otel, options).with_filter(keep())),
                f,
            ),
        }
        let spans = exporter.get_finished_spans().expect("spans");
        spans
            .into_iter()
            .map(|s| (s.name.to_string(), s.attributes))
            .collect()
    }

    fn value<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
        attrs
            .iter()
            .rev()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    fn chat() -> tracing::Span {
        tracing::info_span!(
            "llm.call",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = "m",
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            gen_ai.request.temperature = tracing::field::Empty,
            server.port = tracing::field::Empty,
            app.count = tracing::field::Empty,
        )
    }

    #[test]
    fn u64_numbers_reach_the_span_as_the_conventions_type_them() {
        let spans = exported(|| {
            let span = chat();
            let _entered = span.enter();
            // One field a record: handed on as numbers.
            span.record("gen_ai.usage.input_tokens", 42_u64);
            span.record("gen_ai.request.temperature", 1_u64);
            // Too large for an i64: left as tracing-opentelemetry makes it.
            span.record("gen_ai.usage.output_tokens", u64::MAX);
            // Not GenAI keys: as tracing-opentelemetry makes them.
            span.record("app.count", 3_u64);
        });
        let [(name, attrs)] = &spans[..] else {
            panic!("one span, got {spans:?}")
        };
        assert_eq!(name, "chat m");
        assert_eq!(value(attrs, sc::USAGE_INPUT_TOKENS), Some(&Value::I64(42)));
        assert_eq!(
            value(attrs, sc::REQUEST_TEMPERATURE),
            Some(&Value::F64(1.0))
        );
        assert_eq!(
            value(attrs, sc::USAGE_OUTPUT_TOKENS),
            Some(&Value::String(u64::MAX.to_string().into()))
        );
        assert_eq!(value(attrs, "app.count"), Some(&Value::String("3".into())));
    }

    #[test]
    fn records_the_layer_passes_on_unchanged_are_typed_all_the_same() {
        let spans = exported(|| {
            let span = chat();
            let _entered = span.enter();
            // Several fields a record; `server.port`, typed on GenAI spans only.
            span.record("gen_ai.usage.input_tokens", 42_u64);
            span.record_all(&tracing::valueset! {
                span.metadata().expect("enabled").fields(),
                gen_ai.usage.output_tokens = 7_u64,
                app.count = 3_u64,
            });
            span.record("server.port", 443_u64);
        });
        let attrs = &spans[0].1;
        assert_eq!(
            value(attrs, sc::USAGE_OUTPUT_TOKENS),
            Some(&Value::I64(7)),
            "retyped by the span"
        );
        assert_eq!(value(attrs, sc::SERVER_PORT), Some(&Value::I64(443)));
        assert_eq!(value(attrs, "app.count"), Some(&Value::String("3".into())));
    }

    #[test]
    fn the_otel_layer_is_still_found_through_the_wrapper_however_filtered() {
        for wiring in [
            Wiring::Unfiltered,
            Wiring::FilterInside,
            Wiring::FilterOutside,
        ] {
            let spans = exported_with(wiring, || {
                let span = chat();
                let cx = span.context();
                assert!(
                    cx.span().span_context().is_valid(),
                    "{wiring:?}: OpenTelemetrySpanExt reaches tracing-opentelemetry"
                );
                let _entered = span.enter();
                span.record("gen_ai.usage.input_tokens", 42_u64);
                tracing::error!("failed");
            });
            let [(_, attrs)] = &spans[..] else {
                panic!("{wiring:?}: one span, got {spans:?}")
            };
            assert_eq!(
                value(attrs, sc::USAGE_INPUT_TOKENS),
                Some(&Value::I64(42)),
                "{wiring:?}"
            );
            assert_eq!(
                value(attrs, sc::ERROR_TYPE),
                Some(&Value::String(sc::ERROR_TYPE_OTHER.into())),
                "{wiring:?}: the error event reached the OTel span"
            );
        }
    }

    #[test]
    fn error_events_on_genai_spans_set_error_type() {
        let spans = exported(|| {
            let span = chat();
            let _entered = span.enter();
            tracing::error!(error.type = "timeout", "the model timed out");
            let plain = tracing::info_span!("plain");
            let _entered = plain.enter();
            tracing::error!("not a GenAI span");
        });
        let by_name = |n: &str| &spans.iter().find(|(name, _)| name == n).expect(n).1;
        assert_eq!(
            value(by_name("chat m"), sc::ERROR_TYPE),
            Some(&Value::String("timeout".into()))
        );
        assert_eq!(value(by_name("plain"), sc::ERROR_TYPE), None);
    }

    /// What the wrapped layer was handed, as `name=type` per value recorded.
    #[derive(Clone, Default)]
    struct Probe(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl tracing::field::Visit for Probe {
        fn record_u64(&mut self, field: &tracing::field::Field, _: u64) {
            self.0.lock().unwrap().push(format!("{}=u64", field.name()));
        }
        fn record_i64(&mut self, field: &tracing::field::Field, _: i64) {
            self.0.lock().unwrap().push(format!("{}=i64", field.name()));
        }
        fn record_f64(&mut self, field: &tracing::field::Field, _: f64) {
            self.0.lock().unwrap().push(format!("{}=f64", field.name()));
        }
        fn record_debug(&mut self, field: &tracing::field::Field, _: &dyn std::fmt::Debug) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{}=other", field.name()));
        }
    }

    impl<S: Subscriber> Layer<S> for Probe {
        fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
            values.record(&mut self.clone());
        }
    }

    #[test]
    fn the_wrapped_layer_is_handed_numbers_for_one_field_records() {
        let probe = Probe::default();
        let subscriber =
            tracing_subscriber::registry().with(GenAiLayer::new(probe.clone(), Options::default()));
        tracing::subscriber::with_default(subscriber, || {
            let span = chat();
            span.record("gen_ai.usage.input_tokens", 42_u64);
            span.record("gen_ai.request.temperature", 1_u64);
            span.record("gen_ai.usage.output_tokens", u64::MAX);
            span.record("app.count", 3_u64);
            span.record("server.port", 443_u64);
            span.record_all(&tracing::valueset! {
                span.metadata().expect("enabled").fields(),
                gen_ai.usage.output_tokens = 7_u64,
                app.count = 3_u64,
            });
        });
        assert_eq!(
            *probe.0.lock().unwrap(),
            [
                "gen_ai.usage.input_tokens=i64",
                "gen_ai.request.temperature=f64",
                "gen_ai.usage.output_tokens=u64",
                "app.count=u64",
                "server.port=u64",
                "gen_ai.usage.output_tokens=u64",
                "app.count=u64",
            ]
        );
    }
}
