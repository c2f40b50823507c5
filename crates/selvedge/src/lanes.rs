//! Concurrent span exports from the SDK's own batch processors.
//!
//! The SDK's thread-based `BatchSpanProcessor` exports one batch at a time and
//! ignores `max_concurrent_exports` (only its experimental async-runtime twin
//! honours it). One export of a few hundred spans takes milliseconds on
//! loopback, most of it spent waiting on the collector, so a single processor
//! caps throughput well below what a service can produce. [`Lanes`] runs `n`
//! batch processors side by side, each with its own exporter and thread, and
//! deals finished spans to them in runs of one batch: consecutive spans (often
//! one trace) travel together, and one lane fills while another exports.
//!
//! Admission (and so the queue bound) stays with the `AccountedProcessor` in
//! front; each lane's channel is as large as that bound, so a lane never drops
//! a span on its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::fan_out::fan_out;

/// `n` span processors fed in turn, one batch-sized run of spans each.
#[derive(Debug)]
pub(crate) struct Lanes<P> {
    lanes: Vec<P>,
    run: usize,
    next: AtomicUsize,
}

impl<P: SpanProcessor> Lanes<P> {
    /// Deals spans to `lanes` (at least one) in runs of `run` spans.
    pub(crate) fn new(lanes: Vec<P>, run: usize) -> Self {
        assert!(!lanes.is_empty(), "Lanes needs at least one processor");
        Self {
            lanes,
            run: run.max(1),
            next: AtomicUsize::new(0),
        }
    }

    /// One processor, used as it is.
    pub(crate) fn single(lane: P) -> Self {
        Self::new(vec![lane], 1)
    }

    fn lane(&self) -> &P {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        &self.lanes[(n / self.run) % self.lanes.len()]
    }

    /// Runs `op` on every lane at once, so waiting on one does not delay the
    /// others; the first error is returned.
    fn all(&self, op: impl Fn(&P) -> OTelSdkResult + Sync) -> OTelSdkResult
    where
        P: Sync,
    {
        if let [only] = self.lanes.as_slice() {
            return op(only);
        }
        fan_out("selvedge-lane", &self.lanes, op)
            .into_iter()
            .collect()
    }
}

impl<P: SpanProcessor + Sync> SpanProcessor for Lanes<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        // Batch processors do nothing at start; the first stands for all.
        self.lanes[0].on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.lane().on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.all(|lane| lane.force_flush())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let deadline = Instant::now() + timeout;
        self.all(|lane| {
            lane.shutdown_with_timeout(deadline.saturating_duration_since(Instant::now()))
        })
    }

    fn set_resource(&mut self, resource: &Resource) {
        for lane in &mut self.lanes {
            lane.set_resource(resource);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::{
        SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::InstrumentationScope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    /// Records which lane got which span.
    #[derive(Debug, Clone)]
    struct Tap(usize, Arc<Mutex<Vec<(usize, u64)>>>);

    impl SpanProcessor for Tap {
        fn on_start(&self, _: &mut Span, _: &Context) {}
        fn on_end(&self, span: SpanData) {
            let id = u64::from_be_bytes(span.span_context.span_id().to_bytes());
            self.1.lock().unwrap().push((self.0, id));
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    fn span(id: u64) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(1u128),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "s".into(),
            start_time: std::time::SystemTime::UNIX_EPOCH,
            end_time: std::time::SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    #[test]
    fn deals_runs_of_spans_to_each_lane_in_turn() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let lanes = Lanes::new((0..3).map(|i| Tap(i, seen.clone())).collect(), 2);
        for id in 1..=8 {
            lanes.on_end(span(id));
        }
        let seen = seen.lock().unwrap().clone();
        let expected = [
            (0, 1),
            (0, 2),
            (1, 3),
            (1, 4),
            (2, 5),
            (2, 6),
            (0, 7),
            (0, 8),
        ];
        assert_eq!(seen, expected);
    }
}
