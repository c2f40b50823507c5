//! A plain snapshot of what selvedge is doing: where data goes and what became of it.

use std::fmt;
use std::sync::atomic::Ordering;

use crate::accounting::Counters;
use crate::config::{redact_url, Config, SignalConfig};
use crate::{ExporterKind, Propagator, Protocol, Source};

/// What [`selvedge::status()`](crate::status) and [`Telemetry::status`](crate::Telemetry::status) report.
///
/// Header *values* never appear (only their names), nor credentials in endpoint URLs.
/// `Display` prints it as a short block for logs and terminals.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Status {
    /// Whether selvedge is installed in this process (for `selvedge::status()`), or
    /// this handle's pipeline is still running.
    pub installed: bool,
    /// False when `OTEL_SDK_DISABLED=true` (or the builder) turned telemetry off.
    pub enabled: bool,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// Where the service name came from.
    pub service_name_source: Source,
    /// Trace export settings.
    pub traces: SignalStatus,
    /// Metric export settings.
    pub metrics: SignalStatus,
    /// Log record export settings (log *lines* are always written).
    pub logs: SignalStatus,
    /// Whether (and where) prompt/completion content is captured.
    pub content_capture: selvedge_content::Capture,
    /// The sampler, in `OTEL_TRACES_SAMPLER` syntax.
    pub sampler: String,
    /// Global propagators installed.
    pub propagators: Vec<Propagator>,
    /// Sampled spans that ended and were handed to the export pipeline. At
    /// every moment `spans_produced == spans_exported + spans_dropped +
    /// spans_failed + spans_queued` (up to counters read a moment apart).
    pub spans_produced: u64,
    /// Spans the exporter accepted.
    pub spans_exported: u64,
    /// Spans dropped because the queue was full (or ended after shutdown).
    pub spans_dropped: u64,
    /// Spans in batches the exporter failed to send.
    pub spans_failed: u64,
    /// Spans handed to the exporter pipeline and not yet exported or failed.
    pub spans_queued: u64,
    /// Failed span export calls.
    pub export_failures: u64,
    /// Metric export calls that succeeded (each carries every metric once).
    pub metric_exports: u64,
    /// Failed metric export calls: batches of metrics not delivered.
    pub metric_export_failures: u64,
    /// Metric export calls running now.
    pub metric_exports_in_flight: u64,
    /// Whether these counts are also exported as the OTel SDK metrics
    /// (`otel.sdk.processor.span.processed`, … — see
    /// [`TelemetryBuilder::with_pipeline_metrics`](crate::TelemetryBuilder::with_pipeline_metrics)).
    pub pipeline_metrics: bool,
    /// Span export call durations: median, 99th percentile (bucket upper
    /// bounds, powers of two in µs) and maximum; `None` before the first export.
    pub span_export_latency: Option<ExportLatency>,
    /// Log records the exporter accepted.
    pub logs_exported: u64,
    /// Log records dropped because the queue was full (or emitted after shutdown).
    pub logs_dropped: u64,
    /// Log records in batches the exporter failed to send.
    pub logs_failed: u64,
    /// Log records handed to the exporter pipeline and not yet exported or failed.
    pub logs_queued: u64,
    /// Failed log export calls.
    pub log_export_failures: u64,
    /// The most recent export error, if any.
    pub last_export_error: Option<String>,
    /// Configuration that was ignored (as the OTel specification asks), and why.
    pub warnings: Vec<String>,
}

/// How long span export calls took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportLatency {
    /// Median (upper bound of its bucket).
    pub p50: std::time::Duration,
    /// 90th percentile (upper bound of its bucket).
    pub p90: std::time::Duration,
    /// 99th percentile (upper bound of its bucket).
    pub p99: std::time::Duration,
    /// The slowest export.
    pub max: std::time::Duration,
}

/// One signal's export settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SignalStatus {
    /// Where this signal goes.
    pub exporter: ExporterKind,
    /// Where that choice came from.
    pub exporter_source: Source,
    /// The URL the OTLP exporter sends to (credentials removed); `None` unless OTLP.
    pub endpoint: Option<String>,
    /// Where the endpoint came from.
    pub endpoint_source: Source,
    /// The OTLP transport.
    pub protocol: Protocol,
    /// Header names sent with every export; values are never shown.
    pub headers: Vec<String>,
}

impl SignalStatus {
    fn from_config(c: &SignalConfig) -> Self {
        Self {
            exporter: c.exporter,
            exporter_source: c.exporter_source,
            endpoint: (c.exporter == ExporterKind::Otlp).then(|| redact_url(&c.endpoint)),
            endpoint_source: c.endpoint_source,
            protocol: c.protocol,
            headers: c.header_names.clone(),
        }
    }
}

impl Status {
    pub(crate) fn new(
        config: &Config,
        service_name: &str,
        service_name_source: Source,
        counters: &Counters,
        running: bool,
    ) -> Self {
        Status {
            installed: running,
            enabled: !config.disabled,
            service_name: service_name.to_string(),
            service_name_source,
            traces: SignalStatus::from_config(&config.traces),
            metrics: SignalStatus::from_config(&config.metrics),
            logs: SignalStatus::from_config(&config.logs),
            content_capture: config.content,
            sampler: config.sampler.to_string(),
            propagators: config.propagators.clone(),
            spans_produced: counters.spans.produced.load(Ordering::Relaxed),
            spans_exported: counters.spans.exported.load(Ordering::Relaxed),
            spans_dropped: counters.spans.dropped.load(Ordering::Relaxed),
            spans_failed: counters.spans.failed.load(Ordering::Relaxed),
            spans_queued: counters.spans.pending(),
            export_failures: counters.spans.export_failures.load(Ordering::Relaxed),
            metric_exports: counters.metric_exports.load(Ordering::Relaxed),
            metric_export_failures: counters.metric_export_failures.load(Ordering::Relaxed),
            metric_exports_in_flight: counters.metric_exports_in_flight.load(Ordering::Relaxed),
            pipeline_metrics: config.pipeline_metrics,
            span_export_latency: counters
                .spans
                .latency
                .quantile(0.5)
                .map(|p50| ExportLatency {
                    p50,
                    p90: counters.spans.latency.quantile(0.9).unwrap_or(p50),
                    p99: counters.spans.latency.quantile(0.99).unwrap_or(p50),
                    max: counters.spans.latency.max(),
                }),
            logs_exported: counters.logs.exported.load(Ordering::Relaxed),
            logs_dropped: counters.logs.dropped.load(Ordering::Relaxed),
            logs_failed: counters.logs.failed.load(Ordering::Relaxed),
            logs_queued: counters.logs.pending(),
            log_export_failures: counters.logs.export_failures.load(Ordering::Relaxed),
            last_export_error: counters.last_error(),
            warnings: config.warnings.clone(),
        }
    }

    /// The status when nothing is installed.
    pub(crate) fn not_installed() -> Self {
        let none = SignalStatus {
            exporter: ExporterKind::None,
            exporter_source: Source::Default,
            endpoint: None,
            endpoint_source: Source::Default,
            protocol: Protocol::HttpProtobuf,
            headers: Vec::new(),
        };
        Status {
            installed: false,
            enabled: false,
            service_name: String::new(),
            service_name_source: Source::Default,
            traces: none.clone(),
            metrics: none.clone(),
            logs: none,
            content_capture: selvedge_content::Capture::NoContent,
            sampler: String::new(),
            propagators: Vec::new(),
            spans_produced: 0,
            spans_exported: 0,
            spans_dropped: 0,
            spans_failed: 0,
            spans_queued: 0,
            export_failures: 0,
            metric_exports: 0,
            metric_export_failures: 0,
            metric_exports_in_flight: 0,
            pipeline_metrics: false,
            span_export_latency: None,
            logs_exported: 0,
            logs_dropped: 0,
            logs_failed: 0,
            logs_queued: 0,
            log_export_failures: 0,
            last_export_error: None,
            warnings: Vec::new(),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.installed && self.service_name.is_empty() {
            return writeln!(f, "selvedge: not installed");
        }
        writeln!(
            f,
            "selvedge: {} service={} ({})",
            if !self.installed {
                "shut down"
            } else if self.enabled {
                "enabled"
            } else {
                "disabled"
            },
            self.service_name,
            self.service_name_source
        )?;
        for (name, s) in [
            ("traces", &self.traces),
            ("metrics", &self.metrics),
            ("logs", &self.logs),
        ] {
            write!(f, "  {name:<8} {} ({})", s.exporter, s.exporter_source)?;
            if let Some(endpoint) = &s.endpoint {
                write!(
                    f,
                    " -> {endpoint} ({}) via {}",
                    s.endpoint_source, s.protocol
                )?;
            }
            if s.endpoint.is_some() && !s.headers.is_empty() {
                let names: Vec<String> = s
                    .headers
                    .iter()
                    .map(|h| format!("{h}=<redacted>"))
                    .collect();
                write!(f, " headers [{}]", names.join(", "))?;
            }
            writeln!(f)?;
        }
        let props: Vec<String> = self.propagators.iter().map(|p| p.to_string()).collect();
        writeln!(
            f,
            "  sampler  {}; propagators [{}]; content capture {:?}",
            self.sampler,
            props.join(", "),
            self.content_capture
        )?;
        writeln!(
            f,
            "  spans    exported={} dropped={} failed={} queued={}; export failures={}",
            self.spans_exported,
            self.spans_dropped,
            self.spans_failed,
            self.spans_queued,
            self.export_failures,
        )?;
        if let Some(l) = &self.span_export_latency {
            writeln!(
                f,
                "  export   p50≤{:?} p90≤{:?} p99≤{:?} max={:?}",
                l.p50, l.p90, l.p99, l.max
            )?;
        }
        if self.metrics.exporter != ExporterKind::None {
            writeln!(
                f,
                "  metrics  batches exported={} failed={} in flight={}{}",
                self.metric_exports,
                self.metric_export_failures,
                self.metric_exports_in_flight,
                if self.pipeline_metrics {
                    "; pipeline health exported (otel.sdk.*)"
                } else {
                    ""
                }
            )?;
        }
        if self.logs.exporter == ExporterKind::Otlp {
            writeln!(
                f,
                "  logs     exported={} dropped={} failed={} queued={}; export failures={}",
                self.logs_exported,
                self.logs_dropped,
                self.logs_failed,
                self.logs_queued,
                self.log_export_failures
            )?;
        }
        if let Some(err) = &self.last_export_error {
            writeln!(f, "  last export error: {err}")?;
        }
        for w in &self.warnings {
            writeln!(f, "  warning: {w}")?;
        }
        Ok(())
    }
}
