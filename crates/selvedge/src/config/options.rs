//! The option types a user chooses from — protocol, exporter, sampler, log
//! format, propagator — how each is spelled in the environment, and
//! [`Source`], where a resolved setting came from.

use std::fmt;

use super::parse::{invalid, parse_ratio};
use crate::env::{self, Env};
use crate::Error;

/// The OTLP transport.
///
/// Chosen by [`TelemetryBuilder::with_protocol`](crate::TelemetryBuilder::with_protocol),
/// else `OTEL_EXPORTER_OTLP_{TRACES_,METRICS_}PROTOCOL`, else `http/protobuf` (the
/// specification's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP over gRPC (`grpc`), default port 4317.
    Grpc,
    /// OTLP over HTTP with protobuf bodies (`http/protobuf`), default port 4318.
    HttpProtobuf,
}

impl Protocol {
    pub(super) fn parse(var: &str, value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "grpc" => Ok(Protocol::Grpc),
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            _ => Err(invalid(
                var,
                value,
                "expected `grpc` or `http/protobuf` (`http/json` is not supported)",
            )),
        }
    }

    pub(super) fn default_endpoint(self) -> &'static str {
        match self {
            Protocol::Grpc => "http://localhost:4317",
            Protocol::HttpProtobuf => "http://localhost:4318",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        })
    }
}

/// Where a signal's data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExporterKind {
    /// An OTLP collector.
    Otlp,
    /// Human-readable output on stderr (a tree per trace).
    Console,
    /// Nowhere: the signal is off.
    None,
    /// An exporter given to [`TelemetryBuilder::with_span_exporter`](crate::TelemetryBuilder::with_span_exporter).
    Custom,
}

impl ExporterKind {
    pub(super) fn parse(var: &str, value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "otlp" => Ok(ExporterKind::Otlp),
            "console" => Ok(ExporterKind::Console),
            "none" => Ok(ExporterKind::None),
            _ => Err(invalid(var, value, "expected `otlp`, `console` or `none`")),
        }
    }
}

impl fmt::Display for ExporterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExporterKind::Otlp => "otlp",
            ExporterKind::Console => "console",
            ExporterKind::None => "none",
            ExporterKind::Custom => "custom",
        })
    }
}

/// Which traces are recorded and exported.
///
/// Set by [`TelemetryBuilder::with_sampler`](crate::TelemetryBuilder::with_sampler), else
/// `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, else `parentbased_always_on`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Sampler {
    /// Record every trace.
    AlwaysOn,
    /// Record no trace.
    AlwaysOff,
    /// Record this fraction (0.0 ..= 1.0) of traces, chosen by trace id.
    TraceIdRatio(f64),
    /// Follow the parent's decision; use the inner sampler for root spans.
    ParentBased(Box<Sampler>),
}

impl Sampler {
    pub(super) fn from_env(e: &dyn Env) -> Result<Option<Self>, Error> {
        let Some(name) = e.var(env::OTEL_TRACES_SAMPLER) else {
            return Ok(None);
        };
        let ratio = || -> Result<f64, Error> {
            match e.var(env::OTEL_TRACES_SAMPLER_ARG) {
                None => Ok(1.0),
                Some(arg) => parse_ratio(env::OTEL_TRACES_SAMPLER_ARG, &arg),
            }
        };
        let sampler = match name.trim().to_ascii_lowercase().as_str() {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatio(ratio()?),
            "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            "parentbased_traceidratio" => {
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(ratio()?)))
            }
            _ => {
                return Err(invalid(
                    env::OTEL_TRACES_SAMPLER,
                    &name,
                    "expected always_on, always_off, traceidratio, parentbased_always_on, \
                     parentbased_always_off or parentbased_traceidratio",
                ))
            }
        };
        Ok(Some(sampler))
    }

    pub(super) fn validate(&self, origin: &str) -> Result<(), Error> {
        match self {
            Sampler::TraceIdRatio(r) if !(0.0..=1.0).contains(r) => Err(invalid(
                origin,
                &r.to_string(),
                "the ratio must be between 0.0 and 1.0",
            )),
            Sampler::ParentBased(inner) => inner.validate(origin),
            _ => Ok(()),
        }
    }

    pub(crate) fn to_sdk(&self) -> opentelemetry_sdk::trace::Sampler {
        use opentelemetry_sdk::trace::Sampler as S;
        match self {
            Sampler::AlwaysOn => S::AlwaysOn,
            Sampler::AlwaysOff => S::AlwaysOff,
            Sampler::TraceIdRatio(r) => S::TraceIdRatioBased(*r),
            Sampler::ParentBased(inner) => S::ParentBased(Box::new(inner.to_sdk())),
        }
    }
}

impl fmt::Display for Sampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sampler::AlwaysOn => f.write_str("always_on"),
            Sampler::AlwaysOff => f.write_str("always_off"),
            Sampler::TraceIdRatio(r) => write!(f, "traceidratio({r})"),
            Sampler::ParentBased(inner) => write!(f, "parentbased_{inner}"),
        }
    }
}

/// The format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogFormat {
    /// Human-readable text lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    pub(super) fn parse(var: &str, value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(invalid(var, value, "expected `text` or `json`")),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// A context propagator installed as the global text-map propagator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Propagator {
    /// W3C `traceparent` / `tracestate`.
    TraceContext,
    /// W3C `baggage`.
    Baggage,
}

impl Propagator {
    pub(super) fn parse_list(value: &str) -> Result<Vec<Self>, Error> {
        let mut list = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let p = match item.to_ascii_lowercase().as_str() {
                "tracecontext" => Propagator::TraceContext,
                "baggage" => Propagator::Baggage,
                "none" => return Ok(Vec::new()),
                _ => {
                    return Err(invalid(
                        env::OTEL_PROPAGATORS,
                        value,
                        &format!(
                            "`{item}` is not supported; expected tracecontext, baggage or none"
                        ),
                    ))
                }
            };
            if !list.contains(&p) {
                list.push(p);
            }
        }
        Ok(list)
    }
}

impl fmt::Display for Propagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Propagator::TraceContext => "tracecontext",
            Propagator::Baggage => "baggage",
        })
    }
}

/// Where a resolved setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// A `TelemetryBuilder::with_*` call.
    Builder,
    /// The named environment variable.
    Env(&'static str),
    /// selvedge's (or the OTel specification's) default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Builder => f.write_str("builder"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Default => f.write_str("default"),
        }
    }
}
