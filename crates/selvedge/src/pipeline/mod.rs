//! Assembles providers, exporters and layers from a resolved configuration,
//! and flushes and shuts them down within their deadline.
//!
//! The parts: `providers` (the SDK providers and their exporters and
//! processors), `layers` (the subscriber and its layer order), `flush` (flush
//! and shutdown on a thread of their own, bounded by the timeout).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{BatchConfig, BatchSpanProcessor, SdkTracerProvider};
use tracing::Dispatch;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::accounting::Counters;
use crate::config::{Config, Settings};
use crate::env::Env;
use crate::logs::LogWriter;
use crate::runtime::ExportRuntime;
use crate::status::Status;
use crate::{Error, ExporterKind, Protocol, Source};

mod flush;
mod layers;
mod providers;
mod release;

// For the OTLP exporters, which build their meter provider the same way.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) use providers::meter_provider;

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

        let sources = providers::Sources {
            config: &config,
            settings,
            runtime: runtime.as_ref(),
            counters: &counters,
            resource: &resource,
            console: outputs.console.map(Arc::new),
        };
        let meter_provider = sources.meter_provider()?;
        // GenAI metrics go to our meter provider (also the global one after install).
        let genai_meter = match &meter_provider {
            Some(mp) => mp.meter("selvedge-genai"),
            None => opentelemetry::global::meter("selvedge-genai"),
        };
        let tracer_provider = sources.tracer_provider(
            outputs.span_exporter,
            &genai_meter,
            meter_provider.is_some(),
        )?;
        let logger_provider = sources.logger_provider()?;
        // The pipeline's own counts, as the conventions' SDK metrics.
        if let Some(mp) = meter_provider.as_ref().filter(|_| config.pipeline_metrics) {
            crate::health::register(&mp.meter("selvedge"), &counters, &config);
        }

        let dispatch = layers::dispatch(
            &config,
            settings,
            layers::Providers {
                traces: tracer_provider.as_ref(),
                metrics: meter_provider.as_ref(),
                logs: logger_provider.as_ref(),
                genai_meter: &genai_meter,
            },
            outputs.log,
            outputs.content_redactor,
        );

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
        Ok((pipeline, dispatch))
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
}
