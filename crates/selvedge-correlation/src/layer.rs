//! [`CorrelationLayer`]: the layer that writes correlated log lines.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::OnceLock;

use tracing::dispatcher::WeakDispatch;
use tracing::field::Visit;
use tracing::{Dispatch, Subscriber};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Event;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::format::json::{self, JsonFields, Line};
use crate::format::text::{self, TextFields};
use crate::format::Format;
use crate::ids;

/// What the layer keeps per span: its fields rendered once, at creation (and on `record`).
#[derive(Debug)]
pub(crate) struct SpanState {
    pub fields: String,
}

thread_local! {
    /// The line being built; reused so writing a line allocates nothing.
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
}

/// Writes one log line per event, with the `trace_id`, `span_id` and
/// `trace_flags` of the OTel span the event belongs to.
///
/// Place it *after* (outside) the tracing-opentelemetry layer. The ids are
/// those of the event's explicit `parent:` if it has one, else of the current
/// span, and always equal the exported span's. Outside any span (or when no
/// OTel layer knows the span) the line simply has no ids.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use selvedge_correlation::CorrelationLayer;
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// # use opentelemetry::trace::TracerProvider as _;
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("app")))
///     .with(CorrelationLayer::json().with_writer(std::io::stdout));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info_span!("request").in_scope(|| tracing::info!(user = 42, "hello"));
/// });
/// // {"timestamp":"…","level":"INFO","target":"…","message":"hello","user":42,
/// //  "trace_id":"4bf9…","span_id":"00f0…","trace_flags":"01","span":{"name":"request"},"spans":[…]}
/// ```
pub struct CorrelationLayer<W = fn() -> std::io::Stdout> {
    format: Format,
    writer: W,
    with_current_span: bool,
    with_span_list: bool,
    short_ids: bool,
    dispatch: OnceLock<WeakDispatch>,
}

impl<W> std::fmt::Debug for CorrelationLayer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorrelationLayer")
            .field("format", &self.format)
            .field("with_current_span", &self.with_current_span)
            .field("with_span_list", &self.with_span_list)
            .field("short_ids", &self.short_ids)
            .finish_non_exhaustive()
    }
}

impl CorrelationLayer {
    /// A layer writing `format` lines to standard output.
    pub fn new(format: Format) -> Self {
        Self {
            format,
            writer: std::io::stdout,
            with_current_span: true,
            with_span_list: true,
            short_ids: false,
            dispatch: OnceLock::new(),
        }
    }

    /// JSON lines (the current span and the span list included, like `fmt().json()`).
    pub fn json() -> Self {
        Self::new(Format::Json)
    }

    /// Text lines, like `fmt()`'s, ending in `trace_id=… span_id=…`.
    pub fn text() -> Self {
        Self::new(Format::Text)
    }
}

impl<W> CorrelationLayer<W> {
    /// Writes lines to `writer` (anything tracing-subscriber's fmt accepts).
    pub fn with_writer<W2>(self, writer: W2) -> CorrelationLayer<W2>
    where
        W2: for<'a> MakeWriter<'a> + 'static,
    {
        CorrelationLayer {
            format: self.format,
            writer,
            with_current_span: self.with_current_span,
            with_span_list: self.with_span_list,
            short_ids: self.short_ids,
            dispatch: self.dispatch,
        }
    }

    /// JSON: include `"span":{"name":…,fields}`; text: prefix the current span
    /// (when the span list is off). Default on.
    pub fn with_current_span(mut self, yes: bool) -> Self {
        self.with_current_span = yes;
        self
    }

    /// JSON: include `"spans":[…]` from the root; text: prefix every span from
    /// the root. Default on.
    pub fn with_span_list(mut self, yes: bool) -> Self {
        self.with_span_list = yes;
        self
    }

    /// Text only: print the first 8 hex digits of each id instead of all of them.
    pub fn with_short_ids(mut self, yes: bool) -> Self {
        self.short_ids = yes;
        self
    }

    /// The format this layer writes.
    pub fn format(&self) -> Format {
        self.format
    }

    fn render_fields(&self, values: &dyn RecordValues, out: &mut Vec<u8>) {
        match self.format {
            Format::Json => {
                let wrote = !out.is_empty();
                values.record_into(&mut JsonFields {
                    out,
                    wrote,
                    guard_reserved: false,
                })
            }
            Format::Text => {
                let wrote = !out.is_empty();
                values.record_into(&mut TextFields { out, wrote })
            }
        }
    }

    fn dispatch(&self) -> Option<Dispatch> {
        self.dispatch.get().and_then(WeakDispatch::upgrade)
    }
}

/// `Attributes` and `Record` both carry values to visit.
trait RecordValues {
    fn record_into(&self, visitor: &mut dyn Visit);
}

impl RecordValues for Attributes<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

impl RecordValues for Record<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

impl<S, W> Layer<S> for CorrelationLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut out = Vec::new();
        self.render_fields(attrs, &mut out);
        let fields = String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        span.extensions_mut().insert(SpanState { fields });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(state) = ext.get_mut::<SpanState>() {
            let mut out = std::mem::take(&mut state.fields).into_bytes();
            self.render_fields(values, &mut out);
            state.fields = String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let span = ctx.event_span(event);
        let dispatch = self.dispatch();
        let ids = span
            .as_ref()
            .and_then(|s| ids::span_ids(s, dispatch.as_ref()));
        let line = Line {
            span: span.as_ref(),
            ids,
            with_current: self.with_current_span,
            with_list: self.with_span_list,
        };
        let write = |buf: &mut Vec<u8>| {
            buf.clear();
            match self.format {
                Format::Json => json::write_line(buf, event, &line),
                Format::Text => text::write_line(buf, event, &line, self.short_ids),
            }
            buf.push(b'\n');
            // A failing writer must not take the application down; the line is lost.
            let _ = self.writer.make_writer_for(event.metadata()).write_all(buf);
        };
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => write(&mut buf),
            // Re-entered (the writer itself logged): use a fresh buffer rather than panic.
            Err(_) => write(&mut Vec::new()),
        });
    }
}
