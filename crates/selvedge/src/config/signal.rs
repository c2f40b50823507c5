//! One signal's export settings — exporter, endpoint, protocol, timeout,
//! header names — from the builder, the per-signal variable, the generic
//! `OTEL_EXPORTER_OTLP_*` variable, then the default.

use super::parse::{header_keys, parse_millis, validate_endpoint, validate_header_key};
use super::{ExporterKind, Protocol, Settings, SignalConfig, Source, DEFAULT_TIMEOUT};
use crate::env::{self, Env, Signal};
use crate::Error;

pub(super) fn resolve_signal(
    s: &Settings,
    e: &dyn Env,
    signal: Signal,
    disabled: bool,
) -> Result<SignalConfig, Error> {
    let (protocol, protocol_source) = match s.protocol {
        Some(p) => (p, Source::Builder),
        None => match e.var(signal.protocol_var()) {
            Some(v) => (
                Protocol::parse(signal.protocol_var(), &v)?,
                Source::Env(signal.protocol_var()),
            ),
            None => match e.var(env::OTEL_EXPORTER_OTLP_PROTOCOL) {
                Some(v) => (
                    Protocol::parse(env::OTEL_EXPORTER_OTLP_PROTOCOL, &v)?,
                    Source::Env(env::OTEL_EXPORTER_OTLP_PROTOCOL),
                ),
                None => (default_protocol(), Source::Default),
            },
        },
    };

    // A base endpoint (builder or the generic variable) gets the signal's path over
    // HTTP; the per-signal variable is a full URL and is used verbatim (OTel spec).
    let base = |url: &str| match protocol {
        Protocol::Grpc => url.to_string(),
        Protocol::HttpProtobuf => format!("{}{}", url.trim_end_matches('/'), signal.http_path()),
    };
    let (endpoint, endpoint_source, origin) = match &s.endpoint {
        Some(url) => (
            base(url),
            Source::Builder,
            "TelemetryBuilder::with_endpoint",
        ),
        None => match e.var(signal.endpoint_var()) {
            Some(url) => (
                url.trim().to_string(),
                Source::Env(signal.endpoint_var()),
                signal.endpoint_var(),
            ),
            None => match e.var(env::OTEL_EXPORTER_OTLP_ENDPOINT) {
                Some(url) => (
                    base(url.trim()),
                    Source::Env(env::OTEL_EXPORTER_OTLP_ENDPOINT),
                    env::OTEL_EXPORTER_OTLP_ENDPOINT,
                ),
                None => (
                    base(protocol.default_endpoint()),
                    Source::Default,
                    "default",
                ),
            },
        },
    };
    validate_endpoint(origin, &endpoint)?;

    let (exporter, exporter_source) = if disabled {
        (ExporterKind::None, Source::Env(env::OTEL_SDK_DISABLED))
    } else {
        let builder = match signal {
            Signal::Traces => s.traces_exporter,
            Signal::Metrics => s.metrics_exporter,
            Signal::Logs => s.logs_exporter,
        };
        match builder {
            Some(k) => (k, Source::Builder),
            None => match e.var(signal.exporter_var()) {
                Some(v) => (
                    ExporterKind::parse(signal.exporter_var(), &v)?,
                    Source::Env(signal.exporter_var()),
                ),
                // Nothing says where to send data: print traces for people, keep
                // metrics quiet (a periodic metric dump on stderr helps nobody).
                // Log lines are always written; OTLP log records only on request.
                None if signal == Signal::Logs => (ExporterKind::None, Source::Default),
                None if endpoint_source == Source::Default => match signal {
                    Signal::Traces => (ExporterKind::Console, Source::Default),
                    _ => (ExporterKind::None, Source::Default),
                },
                None => (ExporterKind::Otlp, Source::Default),
            },
        }
    };

    let timeout = match s.timeout {
        Some(t) => t,
        None => match e.var(signal.timeout_var()) {
            Some(v) => parse_millis(signal.timeout_var(), &v)?,
            None => match e.var(env::OTEL_EXPORTER_OTLP_TIMEOUT) {
                Some(v) => parse_millis(env::OTEL_EXPORTER_OTLP_TIMEOUT, &v)?,
                None => DEFAULT_TIMEOUT,
            },
        },
    };

    let mut header_names: Vec<String> = Vec::new();
    let env_headers = e
        .var(signal.headers_var())
        .map(|v| (signal.headers_var(), v))
        .or_else(|| {
            e.var(env::OTEL_EXPORTER_OTLP_HEADERS)
                .map(|v| (env::OTEL_EXPORTER_OTLP_HEADERS, v))
        });
    if let Some((var, value)) = env_headers {
        header_names.extend(header_keys(var, &value)?);
    }
    for (k, _) in &s.headers {
        validate_header_key("TelemetryBuilder::with_header", k)?;
        header_names.push(k.to_ascii_lowercase());
    }
    header_names.sort();
    header_names.dedup();

    Ok(SignalConfig {
        exporter,
        exporter_source,
        endpoint,
        endpoint_source,
        protocol,
        protocol_source,
        timeout,
        grpc_low_latency: s.grpc_low_latency.unwrap_or(true),
        header_names,
    })
}

fn default_protocol() -> Protocol {
    if cfg!(feature = "otlp-http") || !cfg!(feature = "otlp-grpc") {
        Protocol::HttpProtobuf
    } else {
        Protocol::Grpc
    }
}
