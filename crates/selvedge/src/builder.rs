//! [`TelemetryBuilder`]: every setting, each with an environment variable behind it.

use std::time::Duration;

use tracing::Dispatch;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;

use crate::accounting::AccountedExporter;
use crate::config::Settings;
use crate::env::ProcessEnv;
use crate::logs::LogWriter;
use crate::pipeline::{CustomSpanExporter, Outputs, Pipeline};
use crate::{Error, ExporterKind, LogFormat, Propagator, Protocol, Sampler, Telemetry};

/// Configures and installs the telemetry pipeline.
///
/// Every setting has an environment variable (see docs/configuration.md);
/// precedence is always **builder > environment > default**. Nothing is read
/// or validated until [`install`](Self::install) or [`build`](Self::build).
///
/// ```no_run
/// use std::time::Duration;
/// use selvedge::{Protocol, Sampler, Telemetry};
///
/// let _telemetry = Telemetry::builder()
///     .with_service_name("research-pipeline")
///     .with_service_version(env!("CARGO_PKG_VERSION"))
///     .with_deployment_environment("staging")
///     .with_endpoint("http://localhost:4317")
///     .with_protocol(Protocol::Grpc)
///     .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(0.25))))
///     .with_timeout(Duration::from_secs(3))
///     .install()?;
/// # Ok::<(), selvedge::Error>(())
/// ```
#[derive(Default)]
#[must_use = "a builder does nothing until `install()` or `build()`"]
pub struct TelemetryBuilder {
    pub(crate) settings: Settings,
    pub(crate) log_writer: LogWriter,
    pub(crate) console_writer: Option<BoxMakeWriter>,
    pub(crate) span_exporter: Option<CustomSpanExporter>,
    pub(crate) content_redactor: Option<selvedge_content::Redactor>,
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values stay out of Debug output as well.
        f.debug_struct("TelemetryBuilder")
            .field("service_name", &self.settings.service_name)
            .field(
                "endpoint",
                &self
                    .settings
                    .endpoint
                    .as_deref()
                    .map(crate::config::redact_url),
            )
            .field("protocol", &self.settings.protocol)
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// The `service.name` resource attribute (else `OTEL_SERVICE_NAME`, else
    /// `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, else `unknown_service`).
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.settings.service_name = Some(name.into());
        self
    }

    /// The `service.version` resource attribute.
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.settings.service_version = Some(version.into());
        self
    }

    /// The `deployment.environment.name` resource attribute (`production`, `staging`, …).
    pub fn with_deployment_environment(mut self, environment: impl Into<String>) -> Self {
        self.settings.deployment_environment = Some(environment.into());
        self
    }

    /// An extra resource attribute; wins over the same key in `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.settings
            .resource_attributes
            .push((key.into(), value.into()));
        self
    }

    /// The collector's base URL, e.g. `http://localhost:4317` (gRPC) or
    /// `http://localhost:4318` (HTTP; `/v1/traces` and `/v1/metrics` are appended).
    ///
    /// Setting an endpoint (here or by variable) switches traces from the console to OTLP.
    pub fn with_endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.endpoint = Some(url.into());
        self
    }

    /// The OTLP transport (else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`).
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.settings.protocol = Some(protocol);
        self
    }

    /// A header sent with every export (e.g. an API key). On gRPC it replaces a
    /// header of the same name from `OTEL_EXPORTER_OTLP_HEADERS`; values never
    /// appear in [`Status`](crate::Status), `Debug` output or errors.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.headers.push((name.into(), value.into()));
        self
    }

    /// The timeout of one export request (else `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = Some(timeout);
        self
    }

    /// The sampler (else `OTEL_TRACES_SAMPLER`/`_ARG`, else parent-based always-on).
    pub fn with_sampler(mut self, sampler: Sampler) -> Self {
        self.settings.sampler = Some(sampler);
        self
    }

    /// Where traces go (else `OTEL_TRACES_EXPORTER`; else OTLP when an endpoint
    /// is configured and the console when none is).
    pub fn with_traces_exporter(mut self, kind: ExporterKind) -> Self {
        self.settings.traces_exporter = Some(kind);
        self
    }

    /// Where metrics go (else `OTEL_METRICS_EXPORTER`; else OTLP when an
    /// endpoint is configured and nowhere when none is).
    pub fn with_metrics_exporter(mut self, kind: ExporterKind) -> Self {
        self.settings.metrics_exporter = Some(kind);
        self
    }

    /// Whether tracing events are also exported as OTel log records (else
    /// `OTEL_LOGS_EXPORTER`, else `none`: log *lines* are always written).
    /// `Otlp` sends them, with the trace and span ids of the line, to the endpoint.
    pub fn with_logs_exporter(mut self, kind: ExporterKind) -> Self {
        self.settings.logs_exporter = Some(kind);
        self
    }

    /// The GenAI conventions profile (else `OTEL_SEMCONV_STABILITY_OPT_IN`
    /// listing `gen_ai_latest_experimental`, else v1.41.0).
    pub fn with_genai_profile(mut self, profile: selvedge_genai::Profile) -> Self {
        self.settings.genai_profile = Some(profile);
        self
    }

    /// Also emit the legacy GenAI names (`gen_ai.system`, `llm.*`, …) beside the
    /// current ones (else `SELVEDGE_GENAI_COMPAT=1|true`, else off).
    pub fn with_genai_compat(mut self, compat: bool) -> Self {
        self.settings.genai_compat = Some(compat);
        self
    }

    /// The content-capture gate (else `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`,
    /// else `SELVEDGE_TRACE_CONTENT`, else off); see docs/content-capture.md.
    pub fn with_content_capture(mut self, capture: selvedge_content::Capture) -> Self {
        self.settings.content_capture = Some(capture);
        self
    }

    /// The maximum bytes recorded per content part (else `SELVEDGE_CONTENT_MAX_BYTES`, else 8 KiB).
    pub fn with_content_max_part_bytes(mut self, bytes: usize) -> Self {
        self.settings.content_max_part_bytes = Some(bytes);
        self
    }

    /// Also redact e-mail addresses in captured content (API keys and bearer
    /// tokens are always redacted).
    pub fn with_content_redact_emails(mut self, yes: bool) -> Self {
        self.settings.content_redact_emails = Some(yes);
        self
    }

    /// A redaction hook run on every captured string, after the built-in patterns.
    pub fn with_content_redactor<F>(mut self, hook: F) -> Self
    where
        F: Fn(&str) -> std::borrow::Cow<'_, str> + Send + Sync + 'static,
    {
        self.content_redactor = Some(std::sync::Arc::new(hook));
        self
    }

    /// The global propagators (else `OTEL_PROPAGATORS`, else tracecontext + baggage).
    /// An empty list installs a propagator that injects nothing.
    pub fn with_propagators(mut self, propagators: impl IntoIterator<Item = Propagator>) -> Self {
        self.settings.propagators = Some(propagators.into_iter().collect());
        self
    }

    /// Which spans and events are recorded, in `EnvFilter` syntax
    /// (else `RUST_LOG`, else `info`). Applies to logs and exported spans alike.
    pub fn with_log_filter(mut self, directives: impl Into<String>) -> Self {
        self.settings.log_filter = Some(directives.into());
        self
    }

    /// The log line format (else `SELVEDGE_LOG_FORMAT`, else text).
    pub fn with_log_format(mut self, format: LogFormat) -> Self {
        self.settings.log_format = Some(format);
        self
    }

    /// Where log lines are written (default: standard output).
    pub fn with_log_writer<W>(mut self, writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        self.log_writer = LogWriter::Custom(BoxMakeWriter::new(writer));
        self
    }

    /// Where the console exporters print trace trees and metrics (default: standard error).
    pub fn with_console_writer<W>(mut self, writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        self.console_writer = Some(BoxMakeWriter::new(writer));
        self
    }

    /// Sends traces to `exporter` instead of OTLP or the console (an in-memory
    /// exporter in tests, a vendor exporter, …). It still runs behind the batch
    /// processor with selvedge's accounting, so [`Status`](crate::Status) counts
    /// what it exported, failed or dropped. Implies `ExporterKind::Custom`.
    pub fn with_span_exporter<E>(mut self, exporter: E) -> Self
    where
        E: opentelemetry_sdk::trace::SpanExporter + 'static,
    {
        self.settings.traces_exporter = Some(ExporterKind::Custom);
        self.span_exporter = Some(Box::new(move |counters, batch| {
            opentelemetry_sdk::trace::BatchSpanProcessor::builder(AccountedExporter::new(
                exporter, counters,
            ))
            .with_batch_config(batch)
            .build()
        }));
        self
    }

    /// gRPC only: connect to `http://` collectors with TCP_NODELAY and (Linux)
    /// TCP_QUICKACK re-armed after every read (default on). Without it, a
    /// collector that leaves Nagle on stalls each export by ~40 ms and spans
    /// are dropped under load (docs/performance.md). `https://` endpoints
    /// always use opentelemetry-otlp's own channel.
    pub fn with_grpc_low_latency(mut self, on: bool) -> Self {
        self.settings.grpc_low_latency = Some(on);
        self
    }

    /// The longest string attribute value on spans and span events, in characters
    /// (else `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else no limit). Longer values are cut.
    pub fn with_attribute_value_length_limit(mut self, chars: usize) -> Self {
        self.settings.attribute_value_length_limit = Some(chars);
        self
    }

    /// How many finished spans may wait for export (else `OTEL_BSP_MAX_QUEUE_SIZE`,
    /// else 8192). Spans beyond it are dropped and counted in
    /// [`Status::spans_dropped`](crate::Status::spans_dropped); memory stays bounded.
    pub fn with_max_queue_size(mut self, spans: usize) -> Self {
        self.settings.max_queue_size = Some(spans);
        self
    }

    /// Spans per export request (else `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, else 512;
    /// at most the queue size).
    pub fn with_max_export_batch_size(mut self, spans: usize) -> Self {
        self.settings.max_export_batch_size = Some(spans);
        self
    }

    /// How many span export requests may be in flight at once (else
    /// `OTEL_BSP_MAX_CONCURRENT_EXPORTS`, else 2; at most 16). Each is a batch
    /// processor with its own thread and exporter; the queue bound is shared.
    /// The SDK's own thread-based processor exports one batch at a time, which
    /// caps throughput at one batch per collector round trip.
    pub fn with_max_concurrent_exports(mut self, exports: usize) -> Self {
        self.settings.max_concurrent_exports = Some(exports);
        self
    }

    /// Export the pipeline's own health as the OpenTelemetry SDK metrics —
    /// `otel.sdk.processor.span.processed` (dropped spans with `error.type =
    /// queue_full`), `….queue.size`, `….queue.capacity`,
    /// `otel.sdk.exporter.span.exported` (failures by `error.type`),
    /// `….inflight`, and the same for OTLP log records — so what
    /// [`status()`](crate::status) reports can be graphed and alerted on (else
    /// `SELVEDGE_PIPELINE_METRICS`, else on when metrics go to OTLP). Read
    /// from counters selvedge keeps anyway, once per metrics export.
    pub fn with_pipeline_metrics(mut self, on: bool) -> Self {
        self.settings.pipeline_metrics = Some(on);
        self
    }

    /// How often metrics are exported (default 60 s).
    pub fn with_metrics_interval(mut self, interval: Duration) -> Self {
        self.settings.metrics_interval = Some(interval);
        self
    }

    /// The most flush and shutdown may take before giving up (default 2 s).
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.settings.shutdown_timeout = Some(timeout);
        self
    }

    /// Turns all export off (else `OTEL_SDK_DISABLED`); log lines still print.
    pub fn with_sdk_disabled(mut self, disabled: bool) -> Self {
        self.settings.disabled = Some(disabled);
        self
    }

    /// Installs the pipeline for the whole process: the global `tracing`
    /// subscriber, the global tracer and meter providers, and the global propagator.
    ///
    /// Safe to call more than once and from many threads: only the first call
    /// installs; later ones replace nothing and return a non-owning handle to
    /// the running pipeline (logging a warning that names any setting that differs).
    ///
    /// # Errors
    /// An invalid setting (named, with its value), an exporter that cannot be
    /// built, another subscriber already installed, or a pipeline that was
    /// already shut down. On error no global has been changed.
    pub fn install(self) -> Result<Telemetry, Error> {
        crate::install::install(self)
    }

    /// Builds the pipeline without touching any global, returning the handle
    /// and a [`Dispatch`] to use with `tracing::dispatcher::with_default` (tests,
    /// or programs that compose their own subscriber). The global propagator is
    /// not set either.
    ///
    /// # Errors
    /// As for [`install`](Self::install), except the ones about globals.
    pub fn build(self) -> Result<(Telemetry, Dispatch), Error> {
        let (pipeline, dispatch) = self.into_pipeline()?;
        Ok((
            Telemetry::new(std::sync::Arc::new(pipeline), true),
            dispatch,
        ))
    }

    /// Resolves the configuration against the process environment and builds
    /// the pipeline, touching no global.
    pub(crate) fn into_pipeline(self) -> Result<(Pipeline, Dispatch), Error> {
        let outputs = Outputs {
            log: self.log_writer,
            console: self.console_writer,
            span_exporter: self.span_exporter,
            content_redactor: self.content_redactor,
        };
        Pipeline::build(&self.settings, outputs, &ProcessEnv)
    }
}
