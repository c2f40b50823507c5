//! A metric exporter that prints one line per data point.

use std::fmt::{Display, Write as _};
use std::io::Write as _;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;

/// Prints `metric name{attrs} value` lines (cumulative values) at each collection.
pub(crate) struct ConsoleMetricExporter {
    writer: BoxMakeWriter,
}

impl std::fmt::Debug for ConsoleMetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleMetricExporter")
            .finish_non_exhaustive()
    }
}

impl ConsoleMetricExporter {
    pub(crate) fn new(writer: BoxMakeWriter) -> Self {
        Self { writer }
    }
}

impl PushMetricExporter for ConsoleMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut out = String::new();
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                match metric.data() {
                    AggregatedMetrics::F64(d) => render(&mut out, metric.name(), metric.unit(), d),
                    AggregatedMetrics::U64(d) => render(&mut out, metric.name(), metric.unit(), d),
                    AggregatedMetrics::I64(d) => render(&mut out, metric.name(), metric.unit(), d),
                }
            }
        }
        if !out.is_empty() {
            let _ = self.writer.make_writer().write_all(out.as_bytes());
        }
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

fn render<T: Display + Copy>(out: &mut String, name: &str, unit: &str, data: &MetricData<T>) {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    match data {
        MetricData::Gauge(g) => {
            for p in g.data_points() {
                let _ = writeln!(
                    out,
                    "metric {name}{} = {}{unit}",
                    attrs(p.attributes()),
                    p.value()
                );
            }
        }
        MetricData::Sum(s) => {
            for p in s.data_points() {
                let _ = writeln!(
                    out,
                    "metric {name}{} = {}{unit}",
                    attrs(p.attributes()),
                    p.value()
                );
            }
        }
        MetricData::Histogram(h) => {
            for p in h.data_points() {
                let _ = writeln!(
                    out,
                    "metric {name}{} count={} sum={}{unit}",
                    attrs(p.attributes()),
                    p.count(),
                    p.sum()
                );
            }
        }
        MetricData::ExponentialHistogram(h) => {
            for p in h.data_points() {
                let _ = writeln!(
                    out,
                    "metric {name}{} count={}",
                    attrs(p.attributes()),
                    p.count()
                );
            }
        }
    }
}

fn attrs<'a>(kvs: impl Iterator<Item = &'a KeyValue>) -> String {
    let parts: Vec<String> = kvs.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}
