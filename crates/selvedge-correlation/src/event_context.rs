//! [`WithEventContext`]: gives another layer the event's own OTel context.

use std::sync::OnceLock;

use opentelemetry::trace::TraceContextExt;
use tracing::dispatcher::WeakDispatch;
use tracing::{Dispatch, Metadata, Subscriber};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Interest, LevelFilter};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::ids;

/// Wraps a layer that reads `opentelemetry::Context::current()` while handling
/// an event — such as opentelemetry-appender-tracing's log bridge — so that it
/// sees the OTel span the event belongs to.
///
/// tracing-opentelemetry makes the *entered* span's context current. An event
/// with an explicit `parent:` that is not the entered span (or `parent: None`)
/// would otherwise get the entered span's ids. For such events this wrapper
/// makes the parent's context current just for the inner layer's `on_event`;
/// all other calls pass straight through.
///
/// ```
/// # use opentelemetry::trace::TracerProvider as _;
/// use tracing_subscriber::layer::SubscriberExt;
/// use selvedge_correlation::WithEventContext;
///
/// let tracer_provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// # struct LogBridge;
/// # impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogBridge {}
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("app")))
///     // e.g. opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(&logger_provider)
///     .with(WithEventContext::new(LogBridge));
/// # let _ = subscriber;
/// ```
#[derive(Debug)]
pub struct WithEventContext<L> {
    inner: L,
    dispatch: OnceLock<WeakDispatch>,
}

impl<L> WithEventContext<L> {
    /// Wraps `inner`.
    pub fn new(inner: L) -> Self {
        Self {
            inner,
            dispatch: OnceLock::new(),
        }
    }
}

impl<S, L> Layer<S> for WithEventContext<L>
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
        self.inner.on_record(id, values, ctx);
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.is_contextual() {
            // The entered span's context is already current.
            return self.inner.on_event(event, ctx);
        }
        let cx = match ctx.event_span(event) {
            Some(span) => {
                let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade);
                match ids::span_ids(&span, dispatch.as_ref()) {
                    Some(ids) => {
                        opentelemetry::Context::new().with_remote_span_context(ids.span_context())
                    }
                    None => opentelemetry::Context::new(),
                }
            }
            // `parent: None`: an explicit root has no trace.
            None => opentelemetry::Context::new(),
        };
        let _guard = cx.attach();
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
}
