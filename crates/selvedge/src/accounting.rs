//! Exact accounting of every span and log record — exported, failed, or dropped
//! because the queue was full — and of metric export failures.
//!
//! The SDK's batch processors count their drops privately. Rather than
//! reimplement them, the `Accounted*Processor` wrappers admit items into them
//! through a counter of items *in flight* (handed over but not yet through the
//! exporter), and the `Accounted*Exporter` wrappers release them once their
//! batch is exported or failed. Each batch processor's channel is built with the
//! same capacity as the admission limit, so it never has to drop anything
//! itself: every item that is not exported is counted here, and nothing is
//! lost silently.

// Without a transport, the log wrappers have no OTLP exporter to wrap.
#![cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

/// Export call durations in power-of-two microsecond buckets: lock-free, and
/// precise enough for percentiles (each is reported as its bucket's upper bound).
#[derive(Debug)]
pub(crate) struct Latency {
    buckets: [AtomicU64; 40],
    max_micros: AtomicU64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            max_micros: AtomicU64::new(0),
        }
    }
}

impl Latency {
    fn record(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let bucket = (63 - micros.leading_zeros() as usize).min(39);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.max_micros.fetch_max(micros, Ordering::Relaxed);
    }

    /// The `q` quantile (0..=1), as an upper bound; `None` before the first export.
    pub(crate) fn quantile(&self, q: f64) -> Option<Duration> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let upper = Duration::from_micros(1u64 << (i + 1));
                return Some(upper.min(self.max()));
            }
        }
        Some(self.max())
    }

    pub(crate) fn max(&self) -> Duration {
        Duration::from_micros(self.max_micros.load(Ordering::Relaxed))
    }
}

/// The fate of one signal's items (spans or log records).
#[derive(Debug, Default)]
pub(crate) struct Flow {
    /// Items handed to the pipeline (sampled spans; log records).
    pub produced: AtomicU64,
    /// How long export calls took.
    pub latency: Latency,
    pub in_flight: AtomicUsize,
    /// Items handed to the exporter (exported, failed, or in an export now).
    pub submitted: AtomicU64,
    pub exported: AtomicU64,
    pub dropped: AtomicU64,
    /// `dropped` by cause (each counted on its own, so that each only grows).
    pub dropped_queue_full: AtomicU64,
    pub dropped_after_shutdown: AtomicU64,
    pub failed: AtomicU64,
    /// `failed` by cause: the export timed out, found the exporter shut down, or other.
    pub failed_timeout: AtomicU64,
    pub failed_after_shutdown: AtomicU64,
    pub failed_other: AtomicU64,
    pub export_failures: AtomicU64,
    shut_down: AtomicBool,
}

impl Flow {
    /// Takes an in-flight slot, or counts the item as dropped.
    fn admit(&self, limit: usize) -> bool {
        self.produced.fetch_add(1, Ordering::Relaxed);
        if self.shut_down.load(Ordering::Relaxed) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.dropped_after_shutdown.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= limit {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Notes `n` items handed to the exporter; returns when, for [`settle`](Self::settle).
    fn submit(&self, n: usize) -> Instant {
        self.submitted.fetch_add(n as u64, Ordering::Relaxed);
        Instant::now()
    }

    /// Records the outcome of exporting `n` items and frees their slots.
    fn settle(
        &self,
        n: usize,
        started: Instant,
        result: &OTelSdkResult,
        counters: &Counters,
        what: &str,
    ) {
        self.latency.record(started.elapsed());
        match result {
            Ok(()) => {
                self.exported.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(err) => {
                self.export_failures.fetch_add(1, Ordering::Relaxed);
                self.failed.fetch_add(n as u64, Ordering::Relaxed);
                match err {
                    OTelSdkError::Timeout(_) => &self.failed_timeout,
                    OTelSdkError::AlreadyShutdown => &self.failed_after_shutdown,
                    _ => &self.failed_other,
                }
                .fetch_add(n as u64, Ordering::Relaxed);
                counters.record_error(format_args!("{what}: {err}"));
            }
        }
        self.in_flight.fetch_sub(n, Ordering::AcqRel);
    }

    pub(crate) fn pending(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed) as u64
    }
}

/// Shared counters, read by [`Status`](crate::Status).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub spans: Flow,
    pub logs: Flow,
    /// Metric export calls (one batch of all metrics each) that succeeded,
    /// failed, or are running now.
    pub metric_exports: AtomicU64,
    pub metric_export_failures: AtomicU64,
    pub metric_exports_in_flight: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Counters {
    pub(crate) fn record_error(&self, error: impl std::fmt::Display) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(error.to_string());
        }
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|l| l.clone())
    }
}

/// Admits finished spans into the inner (batch) processor, up to `limit` in flight.
#[derive(Debug)]
pub(crate) struct AccountedProcessor<P> {
    inner: P,
    counters: Arc<Counters>,
    limit: usize,
}

impl<P> AccountedProcessor<P> {
    pub(crate) fn new(inner: P, counters: Arc<Counters>, limit: usize) -> Self {
        Self {
            inner,
            counters,
            limit,
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for AccountedProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        // Unsampled spans are not for export; the batch processor would ignore them too.
        if span.span_context.is_sampled() && self.counters.spans.admit(self.limit) {
            self.inner.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.counters.spans.shut_down.store(true, Ordering::Relaxed);
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts what the inner span exporter did with each batch and frees the slots.
#[derive(Debug)]
pub(crate) struct AccountedExporter<E> {
    inner: E,
    counters: Arc<Counters>,
}

impl<E> AccountedExporter<E> {
    pub(crate) fn new(inner: E, counters: Arc<Counters>) -> Self {
        Self { inner, counters }
    }
}

impl<E: SpanExporter> SpanExporter for AccountedExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let started = self.counters.spans.submit(n);
        let result = self.inner.export(batch).await;
        self.counters
            .spans
            .settle(n, started, &result, &self.counters, "traces");
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Admits log records into the inner (batch) processor, up to `limit` in flight.
#[derive(Debug)]
pub(crate) struct AccountedLogProcessor<P> {
    inner: P,
    counters: Arc<Counters>,
    limit: usize,
}

impl<P> AccountedLogProcessor<P> {
    pub(crate) fn new(inner: P, counters: Arc<Counters>, limit: usize) -> Self {
        Self {
            inner,
            counters,
            limit,
        }
    }
}

impl<P: LogProcessor> LogProcessor for AccountedLogProcessor<P> {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        if self.counters.logs.admit(self.limit) {
            self.inner.emit(record, scope);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.counters.logs.shut_down.store(true, Ordering::Relaxed);
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts what the inner log exporter did with each batch and frees the slots.
#[derive(Debug)]
pub(crate) struct AccountedLogExporter<E> {
    inner: E,
    counters: Arc<Counters>,
}

impl<E> AccountedLogExporter<E> {
    pub(crate) fn new(inner: E, counters: Arc<Counters>) -> Self {
        Self { inner, counters }
    }
}

impl<E: LogExporter> LogExporter for AccountedLogExporter<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let n = batch.iter().count();
        let started = self.counters.logs.submit(n);
        let result = self.inner.export(batch).await;
        self.counters
            .logs
            .settle(n, started, &result, &self.counters, "logs");
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts metric export calls and their outcome; metrics have no queue to overflow.
#[derive(Debug)]
pub(crate) struct AccountedMetricExporter<E> {
    inner: E,
    counters: Arc<Counters>,
}

impl<E> AccountedMetricExporter<E> {
    pub(crate) fn new(inner: E, counters: Arc<Counters>) -> Self {
        Self { inner, counters }
    }
}

impl<E: PushMetricExporter> PushMetricExporter for AccountedMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let c = &self.counters;
        c.metric_exports_in_flight.fetch_add(1, Ordering::AcqRel);
        let result = self.inner.export(metrics).await;
        match &result {
            Ok(()) => c.metric_exports.fetch_add(1, Ordering::Relaxed),
            Err(err) => {
                c.record_error(format_args!("metrics: {err}"));
                c.metric_export_failures.fetch_add(1, Ordering::Relaxed)
            }
        };
        c.metric_exports_in_flight.fetch_sub(1, Ordering::AcqRel);
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
