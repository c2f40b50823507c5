//! [`GenAiProcessor`]: conforms GenAI spans as they end.

use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::config::Options;
use crate::conform::conform;

/// Wraps the span processor: before a finished GenAI span is handed on, its
/// attributes are conformed once more — values recorded after the span started
/// (token counts recorded as `u64` arrive as strings from tracing-opentelemetry,
/// finish reasons as a rendered list, legacy names) get their names and types,
/// duplicates keep the last value, and the name picks up a model recorded late.
#[derive(Debug)]
pub struct GenAiProcessor<P> {
    inner: P,
    options: Options,
}

impl<P> GenAiProcessor<P> {
    /// Wraps `inner`.
    pub fn new(inner: P, options: Options) -> Self {
        Self { inner, options }
    }
}

impl<P: SpanProcessor> SpanProcessor for GenAiProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        if let Some(shape) = conform(&mut span.attributes, &self.options) {
            if !shape.names(&span.name) {
                span.name = shape.name().into();
            }
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
