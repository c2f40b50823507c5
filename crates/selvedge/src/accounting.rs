//! Exact accounting of every span (exported, failed, or dropped because the queue was
//! full) and of metric export failures.
//!
//! The SDK's `BatchSpanProcessor` counts its drops privately. Rather than
//! reimplement it, [`AccountedProcessor`] admits spans into it through a counter
//! of spans *in flight* (handed over but not yet through the exporter), and
//! [`AccountedExporter`] releases them once their batch is exported or failed.
//! The batch processor's channel is built with the same capacity as the
//! admission limit, so it never has to drop anything itself: every span that is
//! not exported is counted here, and nothing is lost silently.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

/// Shared counters, read by [`Status`](crate::Status).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub in_flight: AtomicUsize,
    pub exported: AtomicU64,
    pub dropped: AtomicU64,
    pub failed_spans: AtomicU64,
    pub export_failures: AtomicU64,
    pub metric_export_failures: AtomicU64,
    pub last_error: Mutex<Option<String>>,
    shut_down: AtomicBool,
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

impl<P: SpanProcessor> AccountedProcessor<P> {
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
        if !span.span_context.is_sampled() {
            return; // not for export; the batch processor would ignore it too
        }
        if self.counters.shut_down.load(Ordering::Relaxed) {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.counters.in_flight.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.counters.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.counters.shut_down.store(true, Ordering::Relaxed);
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts what the inner exporter did with each batch and releases the in-flight slots.
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
        match &result {
            Ok(()) => {
                self.counters
                    .exported
                    .fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(err) => {
                self.counters
                    .export_failures
                    .fetch_add(1, Ordering::Relaxed);
                self.counters
                    .failed_spans
                    .fetch_add(n as u64, Ordering::Relaxed);
                self.counters.record_error(err);
            }
        }
        self.counters.in_flight.fetch_sub(n, Ordering::AcqRel);
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
