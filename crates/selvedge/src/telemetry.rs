//! [`Telemetry`]: the handle to a running pipeline, which flushes it on drop.

use std::sync::Arc;

use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::pipeline::Pipeline;
use crate::{ShutdownError, Status, TelemetryBuilder};

/// The handle to an installed telemetry pipeline.
///
/// Keep it alive for as long as the program should export: when the handle
/// that installed the pipeline is dropped (or [`shutdown`](Self::shutdown) is
/// called), queued spans and metrics are flushed and the exporters shut down.
/// That work runs on its own thread and is bounded by the shutdown timeout
/// (default 2 s), so dropping the handle never hangs, not even inside a
/// current-thread tokio runtime. If something could not be flushed, `drop`
/// says so on stderr; call `shutdown()` to get it as an error instead.
///
/// Handles returned by a second `install()` refer to the same pipeline but do
/// not shut it down when dropped.
///
/// ```no_run
/// fn main() -> Result<(), selvedge::Error> {
///     let telemetry = selvedge::init("checkout")?;
///     tracing::info_span!("work").in_scope(|| tracing::info!("hello"));
///     if let Err(err) = telemetry.shutdown() {
///         eprintln!("some telemetry was lost: {err}");
///     }
///     Ok(())
/// }
/// ```
#[must_use = "dropping the handle shuts telemetry down at once; bind it: `let _telemetry = …`"]
#[derive(Debug)]
pub struct Telemetry {
    pipeline: Arc<Pipeline>,
    owner: bool,
}

impl Telemetry {
    /// Starts configuring telemetry; see [`TelemetryBuilder`].
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }

    pub(crate) fn new(pipeline: Arc<Pipeline>, owner: bool) -> Self {
        Self { pipeline, owner }
    }

    /// A snapshot of the configuration in effect and the export counters.
    pub fn status(&self) -> Status {
        self.pipeline.status()
    }

    /// Whether this handle shuts the pipeline down when dropped.
    pub fn is_owner(&self) -> bool {
        self.owner
    }

    /// Exports everything recorded so far, waiting at most the shutdown timeout.
    pub fn force_flush(&self) -> Result<(), ShutdownError> {
        self.pipeline.force_flush()
    }

    /// Flushes and shuts down the pipeline, reporting what could not be flushed.
    ///
    /// Spans that end afterwards are counted as dropped. Calling it again, or
    /// on a non-owning handle after the owner shut down, returns `Ok(())`.
    pub fn shutdown(mut self) -> Result<(), ShutdownError> {
        self.owner = false; // Drop must not do it again
        self.pipeline.shutdown()
    }

    /// The tracer provider, for code that uses the OpenTelemetry API directly.
    /// `None` when traces are off.
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.pipeline.traces()
    }

    /// The meter provider, for recording metrics with the OpenTelemetry API.
    /// `None` when metrics are off.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.pipeline.meter_provider.as_ref()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if self.owner {
            if let Err(err) = self.pipeline.shutdown() {
                // The subscriber may already be gone; stderr is the one place left to say it.
                eprintln!("selvedge: {err}");
            }
        }
    }
}
