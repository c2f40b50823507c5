//! Process-wide installation: exactly once, from any thread.

use std::sync::{Arc, Mutex};

use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

use crate::config::Config;
use crate::env::ProcessEnv;
use crate::pipeline::Pipeline;
use crate::{Error, Propagator, Status, Telemetry, TelemetryBuilder};

/// The installed pipeline, if any. The mutex serialises racing installs: the
/// first builds and installs, the rest compare their configuration and get a
/// handle to the same pipeline.
static INSTALLED: Mutex<Option<Arc<Pipeline>>> = Mutex::new(None);

pub(crate) fn install(builder: TelemetryBuilder) -> Result<Telemetry, Error> {
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());

    if let Some(running) = installed.as_ref() {
        if running.is_shut_down() {
            return Err(Error::AlreadyShutDown);
        }
        let requested = Config::resolve(&builder.settings, &ProcessEnv)?;
        let differences = running.config.differences(&requested);
        let requested_name = builder.settings.service_name.as_deref();
        let mut differences = differences;
        if let Some(name) = requested_name.filter(|n| *n != running.service_name) {
            differences.insert(
                0,
                format!(
                    "service name: running {}, requested {name}",
                    running.service_name
                ),
            );
        }
        if differences.is_empty() {
            tracing::debug!(
                "selvedge is already installed; returning a handle to the running pipeline"
            );
        } else {
            tracing::warn!(
                differences = %differences.join("; "),
                "selvedge is already installed with a different configuration; keeping the running one"
            );
        }
        return Ok(Telemetry::new(running.clone(), false));
    }

    let (pipeline, dispatch) = builder.into_pipeline()?;

    // The subscriber first: if someone else's is already set, fail before
    // touching any OpenTelemetry global.
    if tracing::dispatcher::set_global_default(dispatch).is_err() {
        let _ = pipeline.shutdown();
        return Err(Error::SubscriberAlreadySet);
    }
    // Let `log` records (from dependencies) reach the subscriber too.
    let _ = tracing_log::LogTracer::init();

    if let Some(tp) = pipeline.traces() {
        opentelemetry::global::set_tracer_provider(tp.clone());
    }
    if let Some(mp) = &pipeline.meter_provider {
        opentelemetry::global::set_meter_provider(mp.clone());
    }
    set_propagators(&pipeline.config.propagators);

    for warning in &pipeline.config.warnings {
        tracing::warn!("{warning}");
    }
    tracing::debug!(status = %pipeline.status(), "selvedge installed");

    let pipeline = Arc::new(pipeline);
    *installed = Some(pipeline.clone());
    Ok(Telemetry::new(pipeline, true))
}

pub(crate) fn status() -> Status {
    let installed = INSTALLED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    installed
        .as_ref()
        .map_or_else(Status::not_installed, |p| p.status())
}

fn set_propagators(list: &[Propagator]) {
    let propagators: Vec<Box<dyn opentelemetry::propagation::TextMapPropagator + Send + Sync>> =
        list.iter()
            .map(
                |p| -> Box<dyn opentelemetry::propagation::TextMapPropagator + Send + Sync> {
                    match p {
                        Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                        Propagator::Baggage => Box::new(BaggagePropagator::new()),
                    }
                },
            )
            .collect();
    opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(propagators));
}
