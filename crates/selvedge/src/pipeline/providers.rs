//! The SDK providers a resolved configuration asks for — metrics, traces,
//! logs — each with its exporters, processors and the counters that account
//! for what they deliver and drop.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::Meter;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use selvedge_genai::GenAiProcessor;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use super::CustomSpanExporter;
use crate::accounting::{AccountedExporter, AccountedMetricExporter, AccountedProcessor, Counters};
use crate::config::{Config, Settings};
use crate::console::{ConsoleMetricExporter, ConsoleSpanExporter};
use crate::lanes::Lanes;
use crate::limits::LimitProcessor;
use crate::runtime::ExportRuntime;
use crate::{exporter, Error, ExporterKind};

/// How long the console exporter waits before printing a finished trace.
const CONSOLE_BATCH_DELAY: Duration = Duration::from_millis(200);

/// What every provider is built from.
pub(super) struct Sources<'a> {
    pub config: &'a Config,
    pub settings: &'a Settings,
    /// The tokio runtime gRPC exports run on, when any signal uses gRPC.
    pub runtime: Option<&'a ExportRuntime>,
    pub counters: &'a Arc<Counters>,
    pub resource: &'a Resource,
    /// The builder's writer for console traces and metrics (stderr if none).
    pub console: Option<Arc<BoxMakeWriter>>,
}

impl Sources<'_> {
    fn console_writer(&self) -> BoxMakeWriter {
        match &self.console {
            Some(shared) => BoxMakeWriter::new(SharedWriter(shared.clone())),
            None => BoxMakeWriter::new(std::io::stderr),
        }
    }

    /// The meter provider, if metrics go anywhere.
    pub(super) fn meter_provider(&self) -> Result<Option<SdkMeterProvider>, Error> {
        let config = self.config;
        Ok(match config.metrics.exporter {
            ExporterKind::None => None,
            ExporterKind::Console => Some(meter_provider(
                AccountedMetricExporter::new(
                    ConsoleMetricExporter::new(self.console_writer()),
                    self.counters.clone(),
                ),
                config.metrics_interval,
                self.resource.clone(),
            )),
            _ => Some(exporter::meter_provider(
                &config.metrics,
                &self.settings.headers,
                self.runtime,
                self.counters,
                config.metrics_interval,
                self.resource.clone(),
            )?),
        })
    }

    /// The tracer provider: the span processors in front of the exporter —
    /// GenAI conventions, attribute limits, accounting — or, with traces off
    /// but metrics on, one that samples nothing and builds GenAI spans only
    /// for their metrics.
    pub(super) fn tracer_provider(
        &self,
        custom: Option<CustomSpanExporter>,
        genai_meter: &Meter,
        metrics_on: bool,
    ) -> Result<Option<SdkTracerProvider>, Error> {
        let config = self.config;
        let provider = match config.traces.exporter {
            // `GenAiTracer` measures the spans it builds, recorded or not.
            ExporterKind::None if metrics_on => SdkTracerProvider::builder()
                .with_span_processor(
                    GenAiProcessor::new(Discard, config.genai).with_metrics(genai_meter),
                )
                .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOff),
            ExporterKind::None => return Ok(None),
            kind => SdkTracerProvider::builder()
                .with_span_processor(
                    GenAiProcessor::new(
                        LimitProcessor::new(
                            AccountedProcessor::new(
                                self.span_processor(kind, custom)?,
                                self.counters.clone(),
                                config.max_queue_size,
                            ),
                            config.attribute_value_length_limit,
                        ),
                        config.genai,
                    )
                    .with_metrics(genai_meter),
                )
                // Unsampled GenAI spans still count in metrics: `GenAiTracer`
                // measures the spans it builds, recorded or not.
                .with_sampler(config.sampler.to_sdk()),
        };
        Ok(Some(provider.with_resource(self.resource.clone()).build()))
    }

    /// The batch processors that export spans of `kind`: one for the console
    /// or a custom exporter, `max_concurrent_exports` side by side for OTLP.
    fn span_processor(
        &self,
        kind: ExporterKind,
        custom: Option<CustomSpanExporter>,
    ) -> Result<Lanes<BatchSpanProcessor>, Error> {
        let config = self.config;
        let batch = || {
            BatchConfigBuilder::default()
                .with_max_queue_size(config.max_queue_size)
                .with_max_export_batch_size(config.max_export_batch_size)
        };
        Ok(match kind {
            ExporterKind::Console => Lanes::single(
                BatchSpanProcessor::builder(AccountedExporter::new(
                    ConsoleSpanExporter::new(self.console_writer()),
                    self.counters.clone(),
                ))
                .with_batch_config(batch().with_scheduled_delay(CONSOLE_BATCH_DELAY).build())
                .build(),
            ),
            ExporterKind::Custom => match custom {
                Some(build) => Lanes::single(build(self.counters.clone(), batch().build())),
                None => {
                    return Err(crate::config::invalid(
                        "TelemetryBuilder::with_traces_exporter",
                        "custom",
                        "a custom exporter is set with TelemetryBuilder::with_span_exporter",
                    ))
                }
            },
            _ => Lanes::new(
                (0..config.max_concurrent_exports)
                    .map(|_| {
                        exporter::span_processor(
                            &config.traces,
                            &self.settings.headers,
                            self.runtime,
                            self.counters,
                            batch().build(),
                        )
                    })
                    .collect::<Result<_, _>>()?,
                config.max_export_batch_size,
            ),
        })
    }

    /// The logger provider, when log records go to OTLP (or only the content
    /// events do); console and none need none: the correlation layer writes
    /// the log lines anyway.
    pub(super) fn logger_provider(&self) -> Result<Option<SdkLoggerProvider>, Error> {
        let config = self.config;
        if config.logs.exporter != ExporterKind::Otlp && !config.content_events_only_logs {
            return Ok(None);
        }
        Ok(Some(exporter::logger_provider(
            &config.logs,
            &self.settings.headers,
            self.runtime,
            self.counters,
            config.max_queue_size,
            self.resource.clone(),
        )?))
    }
}

/// A meter provider that pushes to `exporter` every `interval`.
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
