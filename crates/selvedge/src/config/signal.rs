//! One signal's export settings — exporter, endpoint, protocol, timeout,
//! header names — from the builder, the per-signal variable, the generic
//! `OTEL_EXPORTER_OTLP_*` variable, then the default.

use std::time::Duration;

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
    let (protocol, protocol_source) = protocol(s, e, signal)?;
    let (endpoint, endpoint_source) = endpoint(s, e, signal, protocol)?;
    let (exporter, exporter_source) = if disabled {
        (ExporterKind::None, Source::Env(env::OTEL_SDK_DISABLED))
    } else {
        exporter(s, e, signal, endpoint_source)?
    };
    Ok(SignalConfig {
        exporter,
        exporter_source,
        endpoint,
        endpoint_source,
        protocol,
        protocol_source,
        timeout: timeout(s, e, signal)?,
        grpc_low_latency: s.grpc_low_latency.unwrap_or(true),
        header_names: header_names(s, e, signal)?,
    })
}

/// The builder's protocol, else the signal's variable, else the generic one,
/// else the build's default.
fn protocol(s: &Settings, e: &dyn Env, signal: Signal) -> Result<(Protocol, Source), Error> {
    if let Some(p) = s.protocol {
        return Ok((p, Source::Builder));
    }
    for var in [signal.protocol_var(), env::OTEL_EXPORTER_OTLP_PROTOCOL] {
        if let Some(v) = e.var(var) {
            return Ok((Protocol::parse(var, &v)?, Source::Env(var)));
        }
    }
    Ok((default_protocol(), Source::Default))
}

/// The URL the exporter is given. A base endpoint (builder or the generic
/// variable) gets the signal's path over HTTP; the per-signal variable is a
/// full URL and is used verbatim (OTel specification).
fn endpoint(
    s: &Settings,
    e: &dyn Env,
    signal: Signal,
    protocol: Protocol,
) -> Result<(String, Source), Error> {
    // A generic endpoint (builder, OTEL_EXPORTER_OTLP_ENDPOINT, default) gets
    // the signal's path over HTTP; a signal's own variable is used as given.
    let (url, source, origin, generic) = match &s.endpoint {
        Some(url) => (
            url.clone(),
            Source::Builder,
            "TelemetryBuilder::with_endpoint",
            true,
        ),
        None => match e.var(signal.endpoint_var()) {
            Some(url) => (
                url.trim().to_string(),
                Source::Env(signal.endpoint_var()),
                signal.endpoint_var(),
                false,
            ),
            None => match e.var(env::OTEL_EXPORTER_OTLP_ENDPOINT) {
                Some(url) => (
                    url.trim().to_string(),
                    Source::Env(env::OTEL_EXPORTER_OTLP_ENDPOINT),
                    env::OTEL_EXPORTER_OTLP_ENDPOINT,
                    true,
                ),
                None => (
                    protocol.default_endpoint().to_string(),
                    Source::Default,
                    "default",
                    true,
                ),
            },
        },
    };
    // Checked as the user wrote it, so the error names that value.
    validate_endpoint(origin, &url)?;
    let endpoint = match (generic, protocol) {
        (true, Protocol::HttpProtobuf) => {
            format!("{}{}", url.trim_end_matches('/'), signal.http_path())
        }
        _ => url,
    };
    Ok((endpoint, source))
}

/// The builder's exporter, else the signal's variable, else: OTLP when an
/// endpoint is configured; with none, traces print for people and metrics
/// stay quiet (a periodic metric dump on stderr helps nobody). Log lines are
/// always written; OTLP log records only on request.
fn exporter(
    s: &Settings,
    e: &dyn Env,
    signal: Signal,
    endpoint_source: Source,
) -> Result<(ExporterKind, Source), Error> {
    let builder = match signal {
        Signal::Traces => s.traces_exporter,
        Signal::Metrics => s.metrics_exporter,
        Signal::Logs => s.logs_exporter,
    };
    if let Some(k) = builder {
        return Ok((k, Source::Builder));
    }
    if let Some(v) = e.var(signal.exporter_var()) {
        let kind = ExporterKind::parse(signal.exporter_var(), &v)?;
        return Ok((kind, Source::Env(signal.exporter_var())));
    }
    let kind = match signal {
        Signal::Logs => ExporterKind::None,
        _ if endpoint_source != Source::Default => ExporterKind::Otlp,
        Signal::Traces => ExporterKind::Console,
        Signal::Metrics => ExporterKind::None,
    };
    Ok((kind, Source::Default))
}

/// The builder's timeout, else the signal's variable, else the generic one
/// (milliseconds), else [`DEFAULT_TIMEOUT`].
fn timeout(s: &Settings, e: &dyn Env, signal: Signal) -> Result<Duration, Error> {
    if let Some(t) = s.timeout {
        return Ok(t);
    }
    for var in [signal.timeout_var(), env::OTEL_EXPORTER_OTLP_TIMEOUT] {
        if let Some(v) = e.var(var) {
            return parse_millis(var, &v);
        }
    }
    Ok(DEFAULT_TIMEOUT)
}

/// The names of the headers sent (the signal's variable, else the generic
/// one, and the builder's), checked, lowercased and deduplicated; values are
/// never kept here.
fn header_names(s: &Settings, e: &dyn Env, signal: Signal) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    let env_headers = e
        .var(signal.headers_var())
        .map(|v| (signal.headers_var(), v))
        .or_else(|| {
            e.var(env::OTEL_EXPORTER_OTLP_HEADERS)
                .map(|v| (env::OTEL_EXPORTER_OTLP_HEADERS, v))
        });
    if let Some((var, value)) = env_headers {
        names.extend(header_keys(var, &value)?);
    }
    for (k, _) in &s.headers {
        validate_header_key("TelemetryBuilder::with_header", k)?;
        names.push(k.to_ascii_lowercase());
    }
    names.sort();
    names.dedup();
    Ok(names)
}

fn default_protocol() -> Protocol {
    if cfg!(feature = "otlp-http") || !cfg!(feature = "otlp-grpc") {
        Protocol::HttpProtobuf
    } else {
        Protocol::Grpc
    }
}
