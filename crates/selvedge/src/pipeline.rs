//! Assembles providers, exporters and layers from a resolved configuration.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider,
};
use opentelemetry_sdk::Resource;
use selvedge_content::{ContentLayer, Shaping};
use selvedge_correlation::WithEventContext;
use selvedge_genai::{GenAiLayer, GenAiProcessor, GenAiTracer};
use tracing::Dispatch;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::accounting::{AccountedExporter, AccountedMetricExporter, AccountedProcessor, Counters};
use crate::config::{Config, Settings};
use crate::console::{ConsoleMetricExporter, ConsoleSpanExporter};
use crate::env::Env;
use crate::fan_out::fan_out;
use crate::lanes::Lanes;
use crate::limits::LimitProcessor;
use crate::logs::{self, LogWriter};
use crate::runtime::ExportRuntime;
use crate::status::Status;
use crate::{exporter, filter, Error, ExporterKind, Protocol, ShutdownError, Source};

/// The instrumentation scope name on every span the OTel layer creates.
const TRACER_NAME: &str = "selvedge";
/// How long the console exporter waits before printing a finished trace.
const CONSOLE_BATCH_DELAY: Duration = Duration::from_millis(200);
/// Extra time the caller waits for the shutdown thread beyond the shutdown timeout.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Builds the batch processor around a user-supplied span exporter, given the
/// counters to account with and the batch configuration.
pub(crate) type CustomSpanExporter =
    Box<dyn FnOnce(Arc<Counters>, BatchConfig) -> BatchSpanProcessor + Send>;

/// Where output goes, beside the resolved configuration.
pub(crate) struct Outputs {
    /// Log lines.
    pub log: LogWriter,
    /// Console trace trees and metrics.
    pub console: Option<BoxMakeWriter>,
    /// A user-supplied span exporter.
    pub span_exporter: Option<CustomSpanExporter>,
    /// A redaction hook for captured content.
    pub content_redactor: Option<selvedge_content::Redactor>,
}

/// The end of the span pipeline when traces are off: GenAI spans are recorded
/// only for their metrics, and nothing is exported.
#[derive(Debug)]
struct Discard;

impl opentelemetry_sdk::trace::SpanProcessor for Discard {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    fn on_end(&self, _: opentelemetry_sdk::trace::SpanData) {}
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Lets the console exporters for traces and metrics share one builder-supplied writer.
struct SharedWriter(Arc<BoxMakeWriter>);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for SharedWriter {
    type Writer = Box<dyn std::io::Write + 'a>;
    fn make_writer(&'a self) -> Self::Writer {
        self.0.make_writer()
    }
}

/// A running (or shut down) telemetry pipeline.
#[derive(Debug)]
pub(crate) struct Pipeline {
    pub config: Config,
    pub service_name: String,
    pub service_name_source: Source,
    pub tracer_provider: Option<SdkTracerProvider>,
    pub meter_provider: Option<SdkMeterProvider>,
    pub logger_provider: Option<SdkLoggerProvider>,
    pub counters: Arc<Counters>,
    shut_down: AtomicBool,
    // Declared last: dropped after the providers that use it.
    _runtime: Option<ExportRuntime>,
}

impl Pipeline {
    pub(crate) fn build(
        settings: &Settings,
        outputs: Outputs,
        env: &dyn Env,
    ) -> Result<(Pipeline, Dispatch), Error> {
        let config = Config::resolve(settings, env)?;
        let (resource, service_name, service_name_source) = crate::resource::build(settings, env);
        let counters = Arc::new(Counters::default());

        let needs_runtime = [&config.traces, &config.metrics, &config.logs]
            .iter()
            .any(|s| s.exporter == ExporterKind::Otlp && s.protocol == Protocol::Grpc)
            || (config.content_events_only_logs && config.logs.protocol == Protocol::Grpc);
        let runtime = if needs_runtime {
            Some(ExportRuntime::new().map_err(Error::Runtime)?)
        } else {
            None
        };

        let console = outputs.console.map(Arc::new);
        let mut custom = outputs.span_exporter;
        let console_writer = || match &console {
            Some(shared) => BoxMakeWriter::new(SharedWriter(shared.clone())),
            None => BoxMakeWriter::new(std::io::stderr),
        };

        let meter_provider = match config.metrics.exporter {
            ExporterKind::None => None,
            ExporterKind::Console => Some(meter_provider(
                AccountedMetricExporter::new(
                    ConsoleMetricExporter::new(console_writer()),
                    counters.clone(),
                ),
                config.metrics_interval,
                resource.clone(),
            )),
            _ => Some(exporter::meter_provider(
                &config.metrics,
                &settings.headers,
                runtime.as_ref(),
                &counters,
                config.metrics_interval,
                resource.clone(),
            )?),
        };
        // GenAI metrics go to our meter provider (also the global one after install).
        let genai_meter = match &meter_provider {
            Some(mp) => mp.meter("selvedge-genai"),
            None => opentelemetry::global::meter("selvedge-genai"),
        };

        let tracer_provider = match config.traces.exporter {
            // No traces, but metrics: GenAI spans are still built (never
            // recorded) so that `GenAiTracer` measures them.
            ExporterKind::None if meter_provider.is_some() => Some(
                SdkTracerProvider::builder()
                    .with_span_processor(
                        GenAiProcessor::new(Discard, config.genai).with_metrics(&genai_meter),
                    )
                    .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOff)
                    .with_resource(resource.clone())
                    .build(),
            ),
            ExporterKind::None => None,
            kind => {
                let batch = || {
                    BatchConfigBuilder::default()
                        .with_max_queue_size(config.max_queue_size)
                        .with_max_export_batch_size(config.max_export_batch_size)
                };
                let processor = match kind {
                    ExporterKind::Console => Lanes::single(
                        BatchSpanProcessor::builder(AccountedExporter::new(
                            ConsoleSpanExporter::new(console_writer()),
                            counters.clone(),
                        ))
                        .with_batch_config(
                            batch().with_scheduled_delay(CONSOLE_BATCH_DELAY).build(),
                        )
                        .build(),
                    ),
                    ExporterKind::Custom => match custom.take() {
                        Some(build) => Lanes::single(build(counters.clone(), batch().build())),
                        None => return Err(crate::config::invalid(
                            "TelemetryBuilder::with_traces_exporter",
                            "custom",
                            "a custom exporter is set with TelemetryBuilder::with_span_exporter",
                        )),
                    },
                    _ => Lanes::new(
                        (0..config.max_concurrent_exports)
                            .map(|_| {
                                exporter::span_processor(
                                    &config.traces,
                                    &settings.headers,
                                    runtime.as_ref(),
                                    &counters,
                                    batch().build(),
                                )
                            })
                            .collect::<Result<_, _>>()?,
                        config.max_export_batch_size,
                    ),
                };
                Some(
                    SdkTracerProvider::builder()
                        .with_span_processor(
                            GenAiProcessor::new(
                                LimitProcessor::new(
                                    AccountedProcessor::new(
                                        processor,
                                        counters.clone(),
                                        config.max_queue_size,
                                    ),
                                    config.attribute_value_length_limit,
                                ),
                                config.genai,
                            )
                            .with_metrics(&genai_meter),
                        )
                        // Unsampled GenAI spans still count in metrics: `GenAiTracer`
                        // measures the spans it builds, recorded or not.
                        .with_sampler(config.sampler.to_sdk())
                        .with_resource(resource.clone())
                        .build(),
                )
            }
        };

        let resource_for_logs = resource;

        let logs_pipeline =
            config.logs.exporter == ExporterKind::Otlp || config.content_events_only_logs;
        let logger_provider = match logs_pipeline {
            true => Some(exporter::logger_provider(
                &config.logs,
                &settings.headers,
                runtime.as_ref(),
                &counters,
                config.max_queue_size,
                resource_for_logs,
            )?),
            // Console / none: the log lines the correlation layer writes anyway.
            false => None,
        };

        // Validated in Config::resolve, so this cannot fail; fall back to "info" regardless.
        let env_filter = EnvFilter::builder()
            .parse(&config.log_filter)
            .unwrap_or_else(|_| EnvFilter::new(crate::config::DEFAULT_LOG_FILTER));

        let otel_layer = tracer_provider.as_ref().map(|tp| {
            tracing_opentelemetry::layer()
                .with_tracer(
                    GenAiTracer::new(tp.tracer(TRACER_NAME), config.genai)
                        .with_metrics(&genai_meter),
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
        let metrics_layer = meter_provider.as_ref().map(|mp| {
            tracing_opentelemetry::MetricsLayer::new(mp.clone())
                .with_filter(filter::exclude_transport())
        });

        // Events become OTel log records with the ids of the span they belong to,
        // also for an explicit `parent:` (WithEventContext).
        // The wrapper is always present (it needs the dispatch); the bridge only with OTLP logs.
        let log_bridge = WithEventContext::new(
            logger_provider
                .as_ref()
                .filter(|_| config.logs.exporter == ExporterKind::Otlp)
                .map(OpenTelemetryTracingBridge::new),
        )
        .with_filter(filter::exclude_transport());

        // Content capture: found by the content API through the dispatcher.
        let mut content_layer = ContentLayer::new(config.content).with_shaping(Shaping {
            max_part_bytes: config.content_max_part_bytes,
            redact_emails: settings.content_redact_emails.unwrap_or(false),
            redactor: outputs.content_redactor.clone(),
            ..Shaping::default()
        });
        if let Some(lp) = &logger_provider {
            use opentelemetry::logs::LoggerProvider as _;
            content_layer = content_layer.with_logger(lp.logger("selvedge-content"));
        }

        let subscriber = tracing_subscriber::registry()
            .with(env_filter)
            .with(content_layer)
            .with(otel_layer)
            .with(metrics_layer)
            .with(log_bridge)
            .with(logs::layer(config.log_format, outputs.log));

        let pipeline = Pipeline {
            config,
            service_name,
            service_name_source,
            tracer_provider,
            meter_provider,
            logger_provider,
            counters,
            shut_down: AtomicBool::new(false),
            _runtime: runtime,
        };
        Ok((pipeline, Dispatch::new(subscriber)))
    }

    pub(crate) fn status(&self) -> Status {
        Status::new(
            &self.config,
            &self.service_name,
            self.service_name_source,
            &self.counters,
            !self.is_shut_down(),
        )
    }

    /// The tracer provider when traces are on (with traces off but metrics on,
    /// a provider that samples nothing runs just for the GenAI metrics: not this one).
    pub(crate) fn traces(&self) -> Option<&SdkTracerProvider> {
        self.tracer_provider
            .as_ref()
            .filter(|_| self.config.traces.exporter != ExporterKind::None)
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Exports everything queued so far, waiting at most the shutdown timeout.
    pub(crate) fn force_flush(&self) -> Result<(), ShutdownError> {
        let providers = self.providers();
        self.run_bounded("selvedge-flush", move |_| {
            providers.each(|p| match p {
                Provider::Traces(tp) => tp.force_flush(),
                Provider::Metrics(mp) => mp.force_flush(),
                Provider::Logs(lp) => lp.force_flush(),
            })
        })
    }

    /// Flushes and shuts down every provider once; later calls return `Ok`.
    pub(crate) fn shutdown(&self) -> Result<(), ShutdownError> {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let providers = self.providers();
        self.run_bounded("selvedge-shutdown", move |deadline| {
            let left = || deadline.saturating_duration_since(Instant::now());
            providers.each(|p| match p {
                Provider::Traces(tp) => tp.shutdown_with_timeout(left()),
                Provider::Metrics(mp) => mp.shutdown_with_timeout(left()),
                Provider::Logs(lp) => lp.shutdown_with_timeout(left()),
            })
        })
    }

    fn providers(&self) -> Providers {
        Providers {
            traces: self.tracer_provider.clone(),
            metrics: self.meter_provider.clone(),
            logs: self.logger_provider.clone(),
        }
    }

    /// Runs `work` on its own thread and waits for it at most the shutdown timeout.
    ///
    /// Flushing from the caller's thread can deadlock (a current-thread tokio
    /// runtime cannot drive the exporter while it blocks on the flush), so the
    /// work always runs elsewhere; if it overruns, the caller gets an error and
    /// the thread is left to finish or time out on its own.
    fn run_bounded<F>(&self, name: &str, work: F) -> Result<(), ShutdownError>
    where
        F: FnOnce(Instant) -> Outcome + Send + 'static,
    {
        let timeout = self.config.shutdown_timeout;
        let deadline = Instant::now() + timeout;
        let c = &self.counters;
        let metric_exports_before = c.metric_exports.load(Ordering::Acquire)
            + c.metric_export_failures.load(Ordering::Acquire);
        let metric_failures_before = c.metric_export_failures.load(Ordering::Acquire);
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let _ = tx.send(work(deadline));
            });
        if let Err(e) = spawned {
            return Err(ShutdownError::Failed(vec![format!(
                "could not start the {name} thread: {e}"
            )]));
        }
        let finished = rx.recv_timeout(timeout + SHUTDOWN_GRACE).ok();
        // What was not flushed in time, whichever of our wait or the SDK's own
        // timeouts gave up first: report that, it is what the user lost.
        let pending_spans = c.spans.pending();
        let pending_logs = c.logs.pending();
        let pending_metric_batches = match &self.meter_provider {
            None => 0,
            Some(_) => {
                let failed =
                    c.metric_export_failures.load(Ordering::Acquire) - metric_failures_before;
                let in_flight = c.metric_exports_in_flight.load(Ordering::Acquire);
                let exports = c.metric_exports.load(Ordering::Acquire)
                    + c.metric_export_failures.load(Ordering::Acquire)
                    - metric_exports_before;
                // The meter provider gave up (or never got its turn) before its
                // final export call even started: that batch is lost too.
                let metrics_ok = finished.as_ref().is_some_and(|o| o.metrics_ok);
                let never_started = u64::from(!metrics_ok && exports == 0 && in_flight == 0);
                failed + in_flight + never_started
            }
        };
        let timed_out = ShutdownError::Timeout {
            timeout,
            pending_spans,
            pending_logs,
            pending_metric_batches,
        };
        match finished {
            _ if pending_spans + pending_logs > 0 => Err(timed_out),
            None => Err(timed_out),
            Some(o) if o.errors.is_empty() => Ok(()),
            Some(o) if o.timed_out => Err(timed_out),
            Some(o) => Err(ShutdownError::Failed(o.errors)),
        }
    }
}

/// The providers a flush or shutdown works on, handed to its thread.
struct Providers {
    traces: Option<SdkTracerProvider>,
    metrics: Option<SdkMeterProvider>,
    logs: Option<SdkLoggerProvider>,
}

#[derive(Clone, Copy)]
enum Provider<'a> {
    Traces(&'a SdkTracerProvider),
    Metrics(&'a SdkMeterProvider),
    Logs(&'a SdkLoggerProvider),
}

impl Provider<'_> {
    fn signal(&self) -> &'static str {
        match self {
            Provider::Traces(_) => "traces",
            Provider::Metrics(_) => "metrics",
            Provider::Logs(_) => "logs",
        }
    }
}

/// How a flush or shutdown of every provider went.
struct Outcome {
    errors: Vec<String>,
    /// Some provider gave up because its time ran out.
    timed_out: bool,
    /// The meter provider (if any) finished without error.
    metrics_ok: bool,
}

impl Providers {
    /// Runs `op` on every provider at once, so that a collector stalling one
    /// signal does not eat the others' share of the timeout.
    fn each(&self, op: impl Fn(Provider<'_>) -> OTelSdkResult + Sync) -> Outcome {
        let all: Vec<Provider<'_>> = [
            self.traces.as_ref().map(Provider::Traces),
            self.metrics.as_ref().map(Provider::Metrics),
            self.logs.as_ref().map(Provider::Logs),
        ]
        .into_iter()
        .flatten()
        .collect();
        let results = fan_out("selvedge-signal", all.iter().copied(), op);
        let mut outcome = Outcome {
            errors: Vec::new(),
            timed_out: false,
            metrics_ok: self.metrics.is_none(),
        };
        for (provider, result) in all.iter().zip(results) {
            match result {
                Ok(()) => outcome.metrics_ok |= matches!(provider, Provider::Metrics(_)),
                Err(e) => {
                    outcome.timed_out |= matches!(e, OTelSdkError::Timeout(_));
                    outcome.errors.push(format!("{}: {e}", provider.signal()));
                }
            }
        }
        outcome
    }
}

pub(crate) fn meter_provider<E>(
    exporter: E,
    interval: Duration,
    resource: Resource,
) -> SdkMeterProvider
where
    E: opentelemetry_sdk::metrics::exporter::PushMetricExporter,
{
    SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(exporter)
                .with_interval(interval)
                .build(),
        )
        .with_resource(resource)
        .build()
}
