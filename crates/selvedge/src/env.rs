//! The names of the environment variables selvedge reads.
//!
//! Precedence is always builder > environment > default; an empty value counts
//! as unset, as the OTel specification requires. The per-signal forms
//! (`OTEL_EXPORTER_OTLP_TRACES_*`, `OTEL_EXPORTER_OTLP_METRICS_*`) win over the
//! generic ones. docs/configuration.md has the full table.

/// `true` disables the SDK: no providers, no exporters; logs still print.
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// Sets `service.name` (read by the SDK's resource detector).
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Extra resource attributes, `key=value,key2=value2` (read by the SDK's resource detector).
pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// Base endpoint for every signal.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// Transport for every signal: `grpc` or `http/protobuf`.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// Headers for every signal, `key=value,…` (values are never logged).
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// Export timeout in milliseconds for every signal.
pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// Sampler name (`always_on`, `parentbased_traceidratio`, …).
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// Sampler argument (the ratio for the ratio samplers).
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// Trace exporter: `otlp`, `console` or `none`.
pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// Metric exporter: `otlp`, `console` or `none`.
pub const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// Log record exporter: `otlp`, `console` (log lines only) or `none`.
pub const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
/// Global propagators: `tracecontext`, `baggage`, `none`.
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// Span queue capacity of the batch processor.
pub const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Spans per export request.
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Span export requests in flight at once (selvedge honours it with parallel
/// batch processors; the SDK's thread-based processor ignores it).
pub const OTEL_BSP_MAX_CONCURRENT_EXPORTS: &str = "OTEL_BSP_MAX_CONCURRENT_EXPORTS";
/// Longest string attribute value on spans, in characters (wins over the next).
pub const OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Longest string attribute value, in characters, for every signal.
pub const OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Metric export interval in milliseconds.
pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
/// Log filter directives, as for `tracing_subscriber::EnvFilter`.
pub const RUST_LOG: &str = "RUST_LOG";
/// Log line format: `text` or `json`.
pub const SELVEDGE_LOG_FORMAT: &str = "SELVEDGE_LOG_FORMAT";
/// The pipeline's own health as OTel SDK metrics (`otel.sdk.*`): `true` or
/// `false`; on by default when metrics go to OTLP.
pub const SELVEDGE_PIPELINE_METRICS: &str = "SELVEDGE_PIPELINE_METRICS";

/// A source of environment variables. Resolution reads through this rather
/// than `std::env`, so precedence can be tested with a plain map without
/// mutating the (process-global) environment.
pub(crate) trait Env {
    /// The variable's value; unset and empty (or all-whitespace) are the same,
    /// as the OTel specification requires.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub(crate) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        // Lossy, so a non-UTF-8 value still reaches validation and is reported
        // by name instead of silently counting as unset.
        let value = std::env::var_os(name)?.to_string_lossy().into_owned();
        (!value.trim().is_empty()).then_some(value)
    }
}

#[cfg(test)]
impl Env for std::collections::HashMap<&'static str, &'static str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.to_string())
    }
}

/// The per-signal variables: `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    /// The URL path appended to a base endpoint for OTLP/HTTP.
    pub(crate) fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    pub(crate) fn endpoint_var(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        }
    }

    pub(crate) fn protocol_var(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        }
    }

    pub(crate) fn headers_var(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        }
    }

    pub(crate) fn timeout_var(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
        }
    }

    pub(crate) fn exporter_var(self) -> &'static str {
        match self {
            Signal::Traces => OTEL_TRACES_EXPORTER,
            Signal::Metrics => OTEL_METRICS_EXPORTER,
            Signal::Logs => OTEL_LOGS_EXPORTER,
        }
    }
}
