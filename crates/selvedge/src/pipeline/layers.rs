//! The subscriber: the Registry and its layers in their order
//! (docs/architecture.md) — filter, content capture, GenAI around
//! tracing-opentelemetry, metrics, the OTLP log bridge, the log lines.

use opentelemetry::metrics::Meter;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use selvedge_content::{ContentLayer, Redactor, Shaping};
use selvedge_correlation::WithEventContext;
use selvedge_genai::{GenAiLayer, GenAiTracer};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer};

use super::release::Release;
use crate::config::{Config, Settings};
use crate::logs::{self, LogWriter};
use crate::{filter, ExporterKind};

/// The instrumentation scope name on every span the OTel layer creates.
const TRACER_NAME: &str = "selvedge";

/// The providers the layers hand their data to.
pub(super) struct Providers<'a> {
    pub traces: Option<&'a SdkTracerProvider>,
    pub metrics: Option<&'a SdkMeterProvider>,
    pub logs: Option<&'a SdkLoggerProvider>,
    /// The meter the GenAI metrics are recorded with.
    pub genai_meter: &'a Meter,
}

/// The subscriber, as a [`Dispatch`].
pub(super) fn dispatch(
    config: &Config,
    settings: &Settings,
    providers: Providers<'_>,
    log: LogWriter,
    content_redactor: Option<Redactor>,
) -> Dispatch {
    // Validated in Config::resolve, so this cannot fail; fall back to "info" regardless.
    let env_filter = EnvFilter::builder()
        .parse(&config.log_filter)
        .unwrap_or_else(|_| EnvFilter::new(crate::config::DEFAULT_LOG_FILTER));

    let otel_layer = providers.traces.map(|tp| {
        tracing_opentelemetry::layer()
            .with_tracer(
                GenAiTracer::new(tp.tracer(TRACER_NAME), config.genai)
                    .with_metrics(providers.genai_meter),
            )
            // busy_ns / idle_ns are no OTel convention, and tracking them reads the
            // clock on every enter and exit: two attributes and ~10 % of export
            // throughput for every span (docs/performance.md).
            .with_tracked_inactivity(false)
            .with_filter(filter::exclude_transport())
    });
    // The GenAI layer wraps the OTel layer: it sees events and records first,
    // while the OTel span is surely open (docs/architecture.md). Not itself in
    // an Option, which would not forward `on_register_dispatch`.
    let otel_layer = GenAiLayer::new(otel_layer, config.genai);
    let metrics_layer = providers.metrics.map(|mp| {
        tracing_opentelemetry::MetricsLayer::new(mp.clone())
            .with_filter(filter::exclude_transport())
    });

    // Events become OTel log records with the ids of the span they belong to,
    // also for an explicit `parent:` (WithEventContext).
    // The wrapper is always present (it needs the dispatch); the bridge only with OTLP logs.
    let log_bridge = WithEventContext::new(
        providers
            .logs
            .filter(|_| config.logs.exporter == ExporterKind::Otlp)
            .map(OpenTelemetryTracingBridge::new),
    )
    .with_filter(filter::exclude_transport());

    // Content capture: found by the content API through the dispatcher.
    let mut content_layer = ContentLayer::new(config.content).with_shaping(Shaping {
        max_part_bytes: config.content_max_part_bytes,
        redact_emails: settings.content_redact_emails.unwrap_or(false),
        redactor: content_redactor,
        ..Shaping::default()
    });
    if let Some(lp) = providers.logs {
        use opentelemetry::logs::LoggerProvider as _;
        content_layer = content_layer.with_logger(lp.logger("selvedge-content"));
    }

    // Innermost, so dropped after every other layer: it holds the providers'
    // last references and drops them off this thread (release.rs).
    let release = Release::new(providers.traces, providers.metrics, providers.logs);
    let subscriber = tracing_subscriber::registry()
        .with(release)
        .with(env_filter)
        .with(content_layer)
        .with(otel_layer)
        .with(metrics_layer)
        .with(log_bridge)
        .with(logs::layer(config.log_format, log));
    Dispatch::new(subscriber)
}
