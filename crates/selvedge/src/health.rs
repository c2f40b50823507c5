//! The pipeline's own health, exported as the OpenTelemetry SDK metrics
//! (`otel.sdk.processor.*`, `otel.sdk.exporter.*`): what [`status()`](crate::status)
//! tells the process, told to the metrics backend, so dropped spans can be
//! graphed and alerted on where the rest of the service's metrics are.
//!
//! Observable instruments over the accounting counters: nothing is recorded
//! on the hot path; the callbacks read a few atomics once per metrics export.
//! Per span (and log record), the conventions' states:
//!
//! - `…processor.span.processed`: handed to the exporter; with `error.type`
//!   `queue_full` (dropped at a full queue) or `already_shutdown` (produced
//!   after shutdown). Error series appear once they are non-zero.
//! - `…processor.span.queue.size` / `.queue.capacity`: waiting for an export;
//!   the queue bound.
//! - `…exporter.span.exported`: exports finished; with `error.type`
//!   `timeout`, `already_shutdown` or `_OTHER` when they failed.
//! - `…exporter.span.inflight`: in an export call now.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry::metrics::{AsyncInstrument, Meter};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, OTEL_COMPONENT_NAME, OTEL_COMPONENT_TYPE,
};
use opentelemetry_semantic_conventions::metric as m;

use crate::accounting::{Counters, Flow};
use crate::config::{Config, SignalConfig};
use crate::{ExporterKind, Protocol};

/// The instrument names and component types of one signal.
struct Signal {
    flow: fn(&Counters) -> &Flow,
    unit: &'static str,
    processed: &'static str,
    queue_size: &'static str,
    queue_capacity: &'static str,
    exported: &'static str,
    inflight: &'static str,
    processor: &'static str,
    exporter: &'static str,
    /// `server.address` and `server.port` of the collector, on the exporter's points.
    server: Vec<KeyValue>,
}

/// Registers the health instruments of the signals `config` exports through
/// selvedge's queues (traces; logs when they go to OTLP) on `meter`.
pub(crate) fn register(meter: &Meter, counters: &Arc<Counters>, config: &Config) {
    if config.traces.exporter != ExporterKind::None {
        let (exporter, server) = match config.traces.exporter {
            ExporterKind::Otlp => (
                otlp(
                    &config.traces,
                    "otlp_grpc_span_exporter",
                    "otlp_http_span_exporter",
                ),
                server(&config.traces),
            ),
            ExporterKind::Console => ("console_span_exporter", Vec::new()),
            _ => ("custom_span_exporter", Vec::new()),
        };
        let spans = Signal {
            flow: |c| &c.spans,
            unit: "{span}",
            processed: m::OTEL_SDK_PROCESSOR_SPAN_PROCESSED,
            queue_size: m::OTEL_SDK_PROCESSOR_SPAN_QUEUE_SIZE,
            queue_capacity: m::OTEL_SDK_PROCESSOR_SPAN_QUEUE_CAPACITY,
            exported: m::OTEL_SDK_EXPORTER_SPAN_EXPORTED,
            inflight: m::OTEL_SDK_EXPORTER_SPAN_INFLIGHT,
            processor: "batching_span_processor",
            exporter,
            server,
        };
        instruments(meter, counters, config.max_queue_size, spans);
    }
    if config.logs.exporter == ExporterKind::Otlp || config.content_events_only_logs {
        let logs = Signal {
            flow: |c| &c.logs,
            unit: "{log_record}",
            processed: m::OTEL_SDK_PROCESSOR_LOG_PROCESSED,
            queue_size: m::OTEL_SDK_PROCESSOR_LOG_QUEUE_SIZE,
            queue_capacity: m::OTEL_SDK_PROCESSOR_LOG_QUEUE_CAPACITY,
            exported: m::OTEL_SDK_EXPORTER_LOG_EXPORTED,
            inflight: m::OTEL_SDK_EXPORTER_LOG_INFLIGHT,
            processor: "batching_log_processor",
            exporter: otlp(
                &config.logs,
                "otlp_grpc_log_exporter",
                "otlp_http_log_exporter",
            ),
            server: server(&config.logs),
        };
        instruments(meter, counters, config.max_queue_size, logs);
    }
}

fn otlp(signal: &SignalConfig, grpc: &'static str, http: &'static str) -> &'static str {
    match signal.protocol {
        Protocol::Grpc => grpc,
        _ => http,
    }
}

/// The collector's `server.address` and `server.port`, from the endpoint
/// (already validated; the scheme's port when the URL names none).
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
fn server(signal: &SignalConfig) -> Vec<KeyValue> {
    use opentelemetry_semantic_conventions::attribute::{SERVER_ADDRESS, SERVER_PORT};
    let Ok(uri) = signal.endpoint.parse::<http::Uri>() else {
        return Vec::new();
    };
    let Some(host) = uri.host() else {
        return Vec::new();
    };
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    });
    vec![
        KeyValue::new(SERVER_ADDRESS, host.trim_matches(['[', ']']).to_string()),
        KeyValue::new(SERVER_PORT, i64::from(port)),
    ]
}

/// Without a transport there is no collector to name.
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
fn server(_: &SignalConfig) -> Vec<KeyValue> {
    Vec::new()
}

/// `otel.component.type` and `.name` (the first, and only, instance).
fn component(kind: &'static str) -> Vec<KeyValue> {
    vec![
        KeyValue::new(OTEL_COMPONENT_TYPE, kind),
        KeyValue::new(OTEL_COMPONENT_NAME, format!("{kind}/0")),
    ]
}

fn with_error(attrs: &[KeyValue], error: &'static str) -> Vec<KeyValue> {
    let mut attrs = attrs.to_vec();
    attrs.push(KeyValue::new(ERROR_TYPE, error));
    attrs
}

/// Items in an export call now.
fn exporting(flow: &Flow) -> u64 {
    let done = flow.exported.load(Ordering::Relaxed) + flow.failed.load(Ordering::Relaxed);
    flow.submitted.load(Ordering::Relaxed).saturating_sub(done)
}

fn instruments(meter: &Meter, counters: &Arc<Counters>, capacity: usize, s: Signal) {
    let flow = s.flow;
    let processor = component(s.processor);
    let mut exporter = component(s.exporter);
    exporter.extend(s.server);
    let capacity = capacity as u64;

    let items = Items {
        meter,
        counters,
        flow,
        unit: s.unit,
    };
    items.counter(
        s.processed,
        "Items handed to the exporter, or dropped (error.type)",
        &processor,
        |f| &f.submitted,
        &[
            ("queue_full", |f| &f.dropped_queue_full),
            ("already_shutdown", |f| &f.dropped_after_shutdown),
        ],
    );
    items.up_down(
        s.queue_size,
        "Items waiting in the queue for an export",
        &processor,
        |f| f.pending().saturating_sub(exporting(f)),
    );
    items.up_down(
        s.queue_capacity,
        "The most items the queue holds",
        &processor,
        move |_| capacity,
    );
    items.counter(
        s.exported,
        "Items whose export finished, failed ones by error.type",
        &exporter,
        |f| &f.exported,
        &[
            ("timeout", |f| &f.failed_timeout),
            ("already_shutdown", |f| &f.failed_after_shutdown),
            ("_OTHER", |f| &f.failed_other),
        ],
    );
    items.up_down(
        s.inflight,
        "Items in an export call now",
        &exporter,
        exporting,
    );
}

/// A counter of one signal's flow.
type Count = fn(&Flow) -> &AtomicU64;

/// Builds one signal's instruments over its flow.
struct Items<'a> {
    meter: &'a Meter,
    counters: &'a Arc<Counters>,
    flow: fn(&Counters) -> &Flow,
    unit: &'static str,
}

impl Items<'_> {
    /// A counter: `ok` on `attrs`, and each cause in `errors` with its `error.type`.
    fn counter(
        &self,
        name: &'static str,
        description: &'static str,
        attrs: &[KeyValue],
        ok: Count,
        errors: &[(&'static str, Count)],
    ) {
        let (c, flow, attrs) = (self.counters.clone(), self.flow, attrs.to_vec());
        let errors: Vec<(Vec<KeyValue>, Count)> = errors
            .iter()
            .map(|&(error, count)| (with_error(&attrs, error), count))
            .collect();
        self.meter
            .u64_observable_counter(name)
            .with_unit(self.unit)
            .with_description(description)
            .with_callback(move |o: &dyn AsyncInstrument<u64>| {
                let f = flow(&c);
                o.observe(ok(f).load(Ordering::Relaxed), &attrs);
                for (attrs, count) in &errors {
                    observe_nonzero(o, count(f), attrs);
                }
            })
            .build();
    }

    /// An up-down counter reading `value` of the flow.
    fn up_down(
        &self,
        name: &'static str,
        description: &'static str,
        attrs: &[KeyValue],
        value: impl Fn(&Flow) -> u64 + Send + Sync + 'static,
    ) {
        let (c, flow, attrs) = (self.counters.clone(), self.flow, attrs.to_vec());
        self.meter
            .i64_observable_up_down_counter(name)
            .with_unit(self.unit)
            .with_description(description)
            .with_callback(move |o: &dyn AsyncInstrument<i64>| {
                let n = i64::try_from(value(flow(&c))).unwrap_or(i64::MAX);
                o.observe(n, &attrs);
            })
            .build();
    }
}

/// An error series appears once something went wrong. Each cause has a
/// counter of its own: a count derived from two counters read a moment apart
/// could go down, which a counter must never do.
fn observe_nonzero(o: &dyn AsyncInstrument<u64>, count: &AtomicU64, attrs: &[KeyValue]) {
    let n = count.load(Ordering::Relaxed);
    if n > 0 {
        o.observe(n, attrs);
    }
}
