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
use std::time::Duration;

use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

/// The fate of one signal's items (spans or log records).
#[derive(Debug, Default)]
pub(crate) struct Flow {
    pub in_flight: AtomicUsize,
    pub exported: AtomicU64,
    pub dropped: AtomicU64,
    pub failed: AtomicU64,
    pub export_failures: AtomicU64,
    shut_down: AtomicBool,
}

impl Flow {
    /// Takes an in-flight slot, or counts the item as dropped.
    fn admit(&self, limit: usize) -> bool {
        if self.shut_down.load(Ordering::Relaxed) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= limit {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Records the outcome of exporting `n` items and frees their slots.
    fn settle(&self, n: usize, result: &OTelSdkResult, counters: &Counters, what: &str) {
        match result {
            Ok(()) => {
                self.exported.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(err) => {
                self.export_failures.fetch_add(1, Ordering::Relaxed);
                self.failed.fetch_add(n as u64, Ordering::Relaxed);
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
    pub metric_export_failures: AtomicU64,
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
        let result = self.inner.export(batch).await;
        self.counters
            .spans
            .settle(n, &result, &self.counters, "traces");
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
        let result = self.inner.export(batch).await;
        self.counters
            .logs
            .settle(n, &result, &self.counters, "logs");
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts failed metric exports; metrics have no queue to overflow.
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
        let result = self.inner.export(metrics).await;
        if let Err(err) = &result {
            self.counters
                .metric_export_failures
                .fetch_add(1, Ordering::Relaxed);
            self.counters.record_error(format_args!("metrics: {err}"));
        }
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
