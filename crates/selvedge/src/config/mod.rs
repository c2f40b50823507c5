//! Configuration values and how they are resolved: builder, then environment, then default.
//!
//! The parts: `options` (the public option types and how their values are
//! spelled), `signal` (one signal's exporter, endpoint, protocol, timeout and
//! headers), `parse` (values read from the environment, and the errors that
//! name a bad one); this module holds what the builder was told
//! ([`Settings`]) and what it resolves to ([`Config`]).

use std::time::Duration;

use crate::env::{self, Env, Signal};
use crate::Error;

mod options;
mod parse;
mod signal;
#[cfg(test)]
mod tests;

pub use options::{ExporterKind, LogFormat, Propagator, Protocol, Sampler, Source};
pub(crate) use parse::{invalid, redact_url};

use parse::{parse_bool, parse_millis, positive};
use signal::resolve_signal;

/// What the builder was told; every field is optional so the environment and
/// the defaults can fill the gaps.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub service_name: Option<String>,
    pub service_version: Option<String>,
    pub deployment_environment: Option<String>,
    pub resource_attributes: Vec<(String, String)>,
    pub endpoint: Option<String>,
    pub protocol: Option<Protocol>,
    pub headers: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    pub sampler: Option<Sampler>,
    pub traces_exporter: Option<ExporterKind>,
    pub metrics_exporter: Option<ExporterKind>,
    pub logs_exporter: Option<ExporterKind>,
    pub propagators: Option<Vec<Propagator>>,
    pub log_filter: Option<String>,
    pub log_format: Option<LogFormat>,
    pub max_queue_size: Option<usize>,
    pub max_export_batch_size: Option<usize>,
    pub max_concurrent_exports: Option<usize>,
    pub metrics_interval: Option<Duration>,
    pub shutdown_timeout: Option<Duration>,
    pub disabled: Option<bool>,
    pub genai_profile: Option<selvedge_genai::Profile>,
    pub genai_compat: Option<bool>,
    pub content_capture: Option<selvedge_content::Capture>,
    pub content_max_part_bytes: Option<usize>,
    pub content_redact_emails: Option<bool>,
    pub grpc_low_latency: Option<bool>,
    pub attribute_value_length_limit: Option<usize>,
    pub pipeline_metrics: Option<bool>,
}

/// One signal's resolved export settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SignalConfig {
    pub exporter: ExporterKind,
    pub exporter_source: Source,
    /// The full URL the exporter is given (for HTTP, including `/v1/<signal>`).
    pub endpoint: String,
    pub endpoint_source: Source,
    pub protocol: Protocol,
    pub protocol_source: Source,
    pub timeout: Duration,
    /// gRPC only: connect with TCP_NODELAY + TCP_QUICKACK (see `grpc_connector`).
    pub grpc_low_latency: bool,
    /// Header names (builder and environment); values are kept out of here on purpose.
    pub header_names: Vec<String>,
}

/// Everything resolved, ready to build the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    pub disabled: bool,
    pub traces: SignalConfig,
    pub metrics: SignalConfig,
    pub logs: SignalConfig,
    pub sampler: Sampler,
    pub propagators: Vec<Propagator>,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub max_queue_size: usize,
    /// Spans per export request.
    pub max_export_batch_size: usize,
    /// Export requests in flight at once (one batch processor each).
    pub max_concurrent_exports: usize,
    pub metrics_interval: Duration,
    pub shutdown_timeout: Duration,
    /// GenAI conventions: profile and compatibility mode.
    pub genai: selvedge_genai::Options,
    /// Longest string attribute value on spans, in characters (`None`: no limit).
    pub attribute_value_length_limit: Option<usize>,
    /// The content-capture gate.
    pub content: selvedge_content::Capture,
    /// Maximum bytes per captured part.
    pub content_max_part_bytes: usize,
    /// Whether the OTLP logs pipeline runs only to carry content events
    /// (event capture is on, log records are not exported, traces go to OTLP).
    pub content_events_only_logs: bool,
    /// Whether the pipeline's health is exported as OTel SDK metrics (`health`):
    /// asked for (or the default), and metrics go somewhere.
    pub pipeline_metrics: bool,
    /// Settings that were ignored, as the OTel specification asks, with why.
    pub warnings: Vec<String>,
}

/// The export timeout when nothing sets one (the OTel specification's default).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Span queue capacity: four times the SDK's 2048, so a 100k spans/s producer
/// has ~80 ms of collector or scheduler hiccup in hand before anything is
/// dropped (with 4096, 3 of 15 runs at 100k/s on two cores dropped 0.18–1.9 %;
/// this costs ~3 MiB of preallocated channel; measured in docs/performance.md).
pub(crate) const DEFAULT_MAX_QUEUE_SIZE: usize = 8192;
/// Spans per export request, as the SDK's batch processor defaults to.
pub(crate) const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
/// Export requests in flight at once. The SDK's thread-based batch processor
/// has one; selvedge runs this many side by side (see `lanes`), which is what
/// lets one producer reach 100k spans/s on loopback without drops.
pub(crate) const DEFAULT_MAX_CONCURRENT_EXPORTS: usize = 2;
/// Each concurrent export is a thread and a connection: more than this buys nothing.
pub(crate) const MAX_CONCURRENT_EXPORTS: usize = 16;
/// How long a guard waits for flush and shutdown before giving up.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);
/// How often metrics are pushed (the OTel specification's default).
pub(crate) const DEFAULT_METRICS_INTERVAL: Duration = Duration::from_secs(60);
/// The log filter when neither the builder nor `RUST_LOG` sets one.
pub(crate) const DEFAULT_LOG_FILTER: &str = "info";

impl Config {
    pub(crate) fn resolve(s: &Settings, e: &dyn Env) -> Result<Config, Error> {
        let mut warnings = Vec::new();

        let disabled = disabled(s, e, &mut warnings);

        let traces = resolve_signal(s, e, Signal::Traces, disabled)?;
        let metrics = resolve_signal(s, e, Signal::Metrics, disabled)?;
        let logs = resolve_signal(s, e, Signal::Logs, disabled)?;

        let sampler = sampler(s, e, &mut warnings)?;

        let propagators = match &s.propagators {
            Some(p) => p.clone(),
            None => match e.var(env::OTEL_PROPAGATORS) {
                Some(v) => Propagator::parse_list(&v)?,
                None => vec![Propagator::TraceContext, Propagator::Baggage],
            },
        };

        let log_filter = log_filter(s, e)?;

        let log_format = match s.log_format {
            Some(f) => f,
            None => match e.var(env::SELVEDGE_LOG_FORMAT) {
                Some(v) => LogFormat::parse(env::SELVEDGE_LOG_FORMAT, &v)?,
                None => LogFormat::Text,
            },
        };

        let max_queue_size = positive(
            s.max_queue_size,
            "TelemetryBuilder::with_max_queue_size",
            e,
            env::OTEL_BSP_MAX_QUEUE_SIZE,
            DEFAULT_MAX_QUEUE_SIZE,
        )?;
        let max_export_batch_size = positive(
            s.max_export_batch_size,
            "TelemetryBuilder::with_max_export_batch_size",
            e,
            env::OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
            DEFAULT_MAX_EXPORT_BATCH_SIZE,
        )?
        // The SDK would clamp it too; clamping here keeps status() truthful.
        .min(max_queue_size);
        let max_concurrent_exports = positive(
            s.max_concurrent_exports,
            "TelemetryBuilder::with_max_concurrent_exports",
            e,
            env::OTEL_BSP_MAX_CONCURRENT_EXPORTS,
            DEFAULT_MAX_CONCURRENT_EXPORTS,
        )?
        .min(MAX_CONCURRENT_EXPORTS);

        let attribute_value_length_limit = attribute_value_length_limit(s, e)?;
        let gate = selvedge_content::resolve(s.content_capture, |k| e.var(k));
        warnings.extend(gate.warning);
        let content = if disabled {
            selvedge_content::Capture::NoContent
        } else {
            gate.capture
        };
        let content_max_part_bytes = positive(
            s.content_max_part_bytes,
            "TelemetryBuilder::with_content_max_part_bytes",
            e,
            selvedge_content::SELVEDGE_CONTENT_MAX_BYTES,
            selvedge_content::DEFAULT_MAX_PART_BYTES,
        )?;
        let wants_events = matches!(
            content,
            selvedge_content::Capture::EventOnly | selvedge_content::Capture::SpanAndEvent
        );
        let content_events_only_logs = wants_events
            && logs.exporter != ExporterKind::Otlp
            && traces.exporter == ExporterKind::Otlp;
        if wants_events
            && logs.exporter != ExporterKind::Otlp
            && traces.exporter != ExporterKind::Otlp
        {
            warnings.push(
                "content capture sends events through OTLP logs, but nothing is exported over OTLP: \
                 set an endpoint or OTEL_LOGS_EXPORTER=otlp"
                    .to_string(),
            );
        }

        let pipeline_metrics = match s.pipeline_metrics {
            Some(on) => on,
            None => match e.var(env::SELVEDGE_PIPELINE_METRICS) {
                Some(v) => parse_bool(env::SELVEDGE_PIPELINE_METRICS, &v)?,
                // Where metrics are looked at; console output stays short.
                None => metrics.exporter == ExporterKind::Otlp,
            },
        } && metrics.exporter != ExporterKind::None;

        Ok(Config {
            disabled,
            traces,
            metrics,
            logs,
            sampler,
            propagators,
            log_filter,
            log_format,
            max_queue_size,
            max_export_batch_size,
            max_concurrent_exports,
            metrics_interval: metrics_interval(s, e)?,
            shutdown_timeout: s.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
            genai: {
                let from_env = selvedge_genai::Options::from_env(|k| e.var(k));
                selvedge_genai::Options {
                    profile: s.genai_profile.unwrap_or(from_env.profile),
                    compat: s.genai_compat.unwrap_or(from_env.compat),
                }
            },
            attribute_value_length_limit,
            content,
            content_max_part_bytes,
            content_events_only_logs,
            pipeline_metrics,
            warnings,
        })
    }

    /// Human-readable differences, for the warning a second, different install gives.
    pub(crate) fn differences(&self, other: &Config) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |what: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{what}: running {a}, requested {b}"));
            }
        };
        cmp(
            "disabled",
            self.disabled.to_string(),
            other.disabled.to_string(),
        );
        for (name, a, b) in [
            ("traces", &self.traces, &other.traces),
            ("metrics", &self.metrics, &other.metrics),
            ("logs", &self.logs, &other.logs),
        ] {
            cmp(
                &format!("{name} exporter"),
                a.exporter.to_string(),
                b.exporter.to_string(),
            );
            cmp(
                &format!("{name} endpoint"),
                redact_url(&a.endpoint),
                redact_url(&b.endpoint),
            );
            cmp(
                &format!("{name} protocol"),
                a.protocol.to_string(),
                b.protocol.to_string(),
            );
            cmp(
                &format!("{name} timeout"),
                format!("{:?}", a.timeout),
                format!("{:?}", b.timeout),
            );
            cmp(
                &format!("{name} headers"),
                a.header_names.join(","),
                b.header_names.join(","),
            );
        }
        cmp(
            "sampler",
            self.sampler.to_string(),
            other.sampler.to_string(),
        );
        cmp(
            "log filter",
            self.log_filter.clone(),
            other.log_filter.clone(),
        );
        cmp(
            "log format",
            self.log_format.to_string(),
            other.log_format.to_string(),
        );
        cmp(
            "max queue size",
            self.max_queue_size.to_string(),
            other.max_queue_size.to_string(),
        );
        out
    }
}

/// `OTEL_SDK_DISABLED`, unless the builder says: only `true` is true, and
/// anything but `true` or `false` is false with a warning (the specification).
fn disabled(s: &Settings, e: &dyn Env, warnings: &mut Vec<String>) -> bool {
    match s.disabled {
        Some(d) => d,
        None => match e.var(env::OTEL_SDK_DISABLED) {
            None => false,
            Some(v) if v.trim().eq_ignore_ascii_case("true") => true,
            Some(v) if v.trim().eq_ignore_ascii_case("false") => false,
            Some(v) => {
                warnings.push(format!(
                    "ignored {}={v:?}: expected `true` or `false`; telemetry stays enabled",
                    env::OTEL_SDK_DISABLED
                ));
                false
            }
        },
    }
}

/// The builder's sampler, else `OTEL_TRACES_SAMPLER` (and its argument), else
/// parent-based always-on; an argument without a sampler is ignored with a
/// warning.
fn sampler(s: &Settings, e: &dyn Env, warnings: &mut Vec<String>) -> Result<Sampler, Error> {
    if let Some(sampler) = &s.sampler {
        sampler.validate("TelemetryBuilder::with_sampler")?;
        return Ok(sampler.clone());
    }
    if let Some(sampler) = Sampler::from_env(e)? {
        return Ok(sampler);
    }
    if let Some(arg) = e.var(env::OTEL_TRACES_SAMPLER_ARG) {
        warnings.push(format!(
            "ignored {}={arg:?}: {} is not set",
            env::OTEL_TRACES_SAMPLER_ARG,
            env::OTEL_TRACES_SAMPLER
        ));
    }
    Ok(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
}

/// The builder's filter, else `RUST_LOG`, else [`DEFAULT_LOG_FILTER`];
/// checked, and with the transport crates' chatter kept at `warn`.
fn log_filter(s: &Settings, e: &dyn Env) -> Result<String, Error> {
    let (filter, origin) = match &s.log_filter {
        Some(f) => (f.clone(), "TelemetryBuilder::with_log_filter"),
        None => match e.var(env::RUST_LOG) {
            Some(f) => (f, env::RUST_LOG),
            None => (DEFAULT_LOG_FILTER.to_string(), "default"),
        },
    };
    if let Err(err) = tracing_subscriber::EnvFilter::builder().parse(&filter) {
        return Err(invalid(origin, &filter, &err.to_string()));
    }
    Ok(quiet_transport(filter))
}

/// The longest string attribute value: the builder's, else
/// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
/// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else no limit.
fn attribute_value_length_limit(s: &Settings, e: &dyn Env) -> Result<Option<usize>, Error> {
    if let Some(n) = s.attribute_value_length_limit {
        return Ok(Some(n));
    }
    let var = [
        env::OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        env::OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    ]
    .into_iter()
    .find_map(|name| e.var(name).map(|v| (name, v)));
    match var {
        Some((name, v)) => v
            .trim()
            .parse::<usize>()
            .map(Some)
            .map_err(|_| invalid(name, &v, "expected a whole number of characters")),
        None => Ok(None),
    }
}

/// How often metrics are pushed: the builder's, else
/// `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds, positive), else
/// [`DEFAULT_METRICS_INTERVAL`].
fn metrics_interval(s: &Settings, e: &dyn Env) -> Result<Duration, Error> {
    if let Some(i) = s.metrics_interval {
        return Ok(i);
    }
    let Some(v) = e.var(env::OTEL_METRIC_EXPORT_INTERVAL) else {
        return Ok(DEFAULT_METRICS_INTERVAL);
    };
    match parse_millis(env::OTEL_METRIC_EXPORT_INTERVAL, &v)? {
        d if d.is_zero() => Err(invalid(
            env::OTEL_METRIC_EXPORT_INTERVAL,
            &v,
            "must be positive",
        )),
        d => Ok(d),
    }
}

/// Targets whose info-level chatter (e.g. "global tracer provider is set", one
/// line per connection) drowns application logs; kept at `warn` unless the
/// filter names them, so export errors still show.
// Module paths end in `::` so that e.g. `tower_http` (application instrumentation) is not matched.
const QUIET_TARGETS: &[&str] = &[
    "opentelemetry",
    "h2::",
    "hyper::",
    "hyper_util",
    "tonic::",
    "tower::",
    "reqwest::",
];

fn quiet_transport(filter: String) -> String {
    let mut out = filter;
    for target in QUIET_TARGETS {
        if !out.contains(target) {
            out.push_str(&format!(",{target}=warn"));
        }
    }
    out
}
