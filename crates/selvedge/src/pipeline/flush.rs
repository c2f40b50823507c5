//! Flush and shutdown: every provider at once, on a thread of their own,
//! bounded by the shutdown timeout — and what was lost when it runs out.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::Pipeline;
use crate::fan_out::fan_out;
use crate::ShutdownError;

/// Extra time the caller waits for the shutdown thread beyond the shutdown timeout.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

impl Pipeline {
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
