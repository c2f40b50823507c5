//! Configuration values and how they are resolved: builder, then environment, then default.

use std::fmt;
use std::time::Duration;

use crate::env::{self, Env, Signal};
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
    fn parse(var: &str, value: &str) -> Result<Self, Error> {
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

    fn default_endpoint(self) -> &'static str {
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
    fn parse(var: &str, value: &str) -> Result<Self, Error> {
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
    fn from_env(e: &dyn Env) -> Result<Option<Self>, Error> {
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

    fn validate(&self, origin: &str) -> Result<(), Error> {
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
    fn parse(var: &str, value: &str) -> Result<Self, Error> {
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
    fn parse_list(value: &str) -> Result<Vec<Self>, Error> {
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

        let disabled = match s.disabled {
            Some(d) => d,
            None => match e.var(env::OTEL_SDK_DISABLED) {
                None => false,
                Some(v) if v.trim().eq_ignore_ascii_case("true") => true,
                Some(v) if v.trim().eq_ignore_ascii_case("false") => false,
                Some(v) => {
                    // The spec: only "true" is true; anything else is false, with a warning.
                    warnings.push(format!(
                        "ignored {}={v:?}: expected `true` or `false`; telemetry stays enabled",
                        env::OTEL_SDK_DISABLED
                    ));
                    false
                }
            },
        };

        let traces = resolve_signal(s, e, Signal::Traces, disabled)?;
        let metrics = resolve_signal(s, e, Signal::Metrics, disabled)?;
        let logs = resolve_signal(s, e, Signal::Logs, disabled)?;

        let sampler = match &s.sampler {
            Some(sampler) => {
                sampler.validate("TelemetryBuilder::with_sampler")?;
                sampler.clone()
            }
            None => match Sampler::from_env(e)? {
                Some(sampler) => sampler,
                None => {
                    if let Some(arg) = e.var(env::OTEL_TRACES_SAMPLER_ARG) {
                        warnings.push(format!(
                            "ignored {}={arg:?}: {} is not set",
                            env::OTEL_TRACES_SAMPLER_ARG,
                            env::OTEL_TRACES_SAMPLER
                        ));
                    }
                    Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
                }
            },
        };

        let propagators = match &s.propagators {
            Some(p) => p.clone(),
            None => match e.var(env::OTEL_PROPAGATORS) {
                Some(v) => Propagator::parse_list(&v)?,
                None => vec![Propagator::TraceContext, Propagator::Baggage],
            },
        };

        let (log_filter, filter_origin) = match &s.log_filter {
            Some(f) => (f.clone(), "TelemetryBuilder::with_log_filter"),
            None => match e.var(env::RUST_LOG) {
                Some(f) => (f, env::RUST_LOG),
                None => (DEFAULT_LOG_FILTER.to_string(), "default"),
            },
        };
        if let Err(err) = tracing_subscriber::EnvFilter::builder().parse(&log_filter) {
            return Err(invalid(filter_origin, &log_filter, &err.to_string()));
        }
        let log_filter = quiet_transport(log_filter);

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

        let attribute_value_length_limit =
            match s.attribute_value_length_limit {
                Some(n) => Some(n),
                None => {
                    let var = [
                        env::OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
                        env::OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
                    ]
                    .into_iter()
                    .find_map(|name| e.var(name).map(|v| (name, v)));
                    match var {
                        Some((name, v)) => Some(v.trim().parse::<usize>().map_err(|_| {
                            invalid(name, &v, "expected a whole number of characters")
                        })?),
                        None => None,
                    }
                }
            };
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
            metrics_interval: match s.metrics_interval {
                Some(i) => i,
                None => match e.var(env::OTEL_METRIC_EXPORT_INTERVAL) {
                    Some(v) => match parse_millis(env::OTEL_METRIC_EXPORT_INTERVAL, &v)? {
                        d if d.is_zero() => {
                            return Err(invalid(
                                env::OTEL_METRIC_EXPORT_INTERVAL,
                                &v,
                                "must be positive",
                            ))
                        }
                        d => d,
                    },
                    None => DEFAULT_METRICS_INTERVAL,
                },
            },
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

/// A positive count: the builder's, else `var`'s, else `default`; zero or
/// anything unparsable is an error naming where it came from.
fn positive(
    builder: Option<usize>,
    method: &str,
    e: &dyn Env,
    var: &str,
    default: usize,
) -> Result<usize, Error> {
    match builder {
        Some(0) => Err(invalid(method, "0", "must be at least 1")),
        Some(n) => Ok(n),
        None => match e.var(var) {
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(invalid(var, &v, "expected a positive integer")),
            },
            None => Ok(default),
        },
    }
}

fn resolve_signal(
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

fn default_protocol() -> Protocol {
    if cfg!(feature = "otlp-http") || !cfg!(feature = "otlp-grpc") {
        Protocol::HttpProtobuf
    } else {
        Protocol::Grpc
    }
}

pub(crate) fn invalid(name: &str, value: &str, reason: &str) -> Error {
    Error::InvalidValue {
        name: name.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_ratio(var: &str, value: &str) -> Result<f64, Error> {
    match value.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(invalid(var, value, "expected a number between 0.0 and 1.0")),
    }
}

fn parse_millis(var: &str, value: &str) -> Result<Duration, Error> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| invalid(var, value, "expected a whole number of milliseconds"))
}

fn validate_endpoint(origin: &str, url: &str) -> Result<(), Error> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace) => Ok(()),
        Some(_) => Err(invalid(origin, &redact_url(url), "the URL has no host")),
        None => Err(invalid(
            origin,
            &redact_url(url),
            "expected a URL starting with http:// or https:// (a URL without a scheme would silently mean https)",
        )),
    }
}

/// The keys of an OTLP headers value (`k=v,k2=v2`); values are never returned.
fn header_keys(var: &str, value: &str) -> Result<Vec<String>, Error> {
    let mut keys = Vec::new();
    for entry in value.split(',').filter(|e| !e.trim().is_empty()) {
        match entry.split_once('=') {
            Some((k, _)) if !k.trim().is_empty() => {
                validate_header_key(var, k.trim())?;
                keys.push(k.trim().to_ascii_lowercase());
            }
            // Never echo the entry: it is probably a credential.
            _ => {
                return Err(invalid(
                    var,
                    "<redacted>",
                    "every comma-separated entry must be key=value",
                ))
            }
        }
    }
    Ok(keys)
}

fn validate_header_key(origin: &str, key: &str) -> Result<(), Error> {
    let ok = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(origin, key, "not a valid HTTP header name"))
    }
}

/// The URL with any `user:password@` removed, for status and messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://<redacted>@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&'static str, &'static str)]) -> HashMap<&'static str, &'static str> {
        vars.iter().copied().collect()
    }

    fn resolve(s: &Settings, vars: &[(&'static str, &'static str)]) -> Config {
        Config::resolve(s, &env(vars)).expect("valid configuration")
    }

    fn error(s: &Settings, vars: &[(&'static str, &'static str)]) -> String {
        Config::resolve(s, &env(vars))
            .expect_err("invalid configuration")
            .to_string()
    }

    #[test]
    fn defaults_print_traces_and_keep_metrics_quiet() {
        let c = resolve(&Settings::default(), &[]);
        assert!(!c.disabled);
        assert_eq!(
            (c.traces.exporter, c.traces.exporter_source),
            (ExporterKind::Console, Source::Default)
        );
        assert_eq!(c.metrics.exporter, ExporterKind::None);
        assert_eq!(c.logs.exporter, ExporterKind::None);
        assert_eq!(c.traces.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.traces.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(c.traces.endpoint_source, Source::Default);
        assert_eq!(c.traces.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.sampler.to_string(), "parentbased_always_on");
        assert_eq!(
            c.propagators,
            vec![Propagator::TraceContext, Propagator::Baggage]
        );
        assert!(c.log_filter.starts_with("info,"), "{}", c.log_filter);
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.max_queue_size, DEFAULT_MAX_QUEUE_SIZE);
        assert_eq!(c.max_export_batch_size, DEFAULT_MAX_EXPORT_BATCH_SIZE);
        assert_eq!(c.max_concurrent_exports, DEFAULT_MAX_CONCURRENT_EXPORTS);
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn a_generic_endpoint_turns_on_otlp_and_gets_signal_paths_over_http() {
        let c = resolve(
            &Settings::default(),
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")],
        );
        assert_eq!(c.traces.exporter, ExporterKind::Otlp);
        assert_eq!(c.metrics.exporter, ExporterKind::Otlp);
        assert_eq!(c.traces.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(c.metrics.endpoint, "http://collector:4318/v1/metrics");
        assert_eq!(
            c.traces.endpoint_source,
            Source::Env("OTEL_EXPORTER_OTLP_ENDPOINT")
        );
    }

    #[test]
    fn grpc_endpoints_are_used_as_given() {
        let c = resolve(
            &Settings::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC"),
            ],
        );
        assert_eq!(c.traces.protocol, Protocol::Grpc);
        assert_eq!(
            c.traces.protocol_source,
            Source::Env("OTEL_EXPORTER_OTLP_PROTOCOL")
        );
        assert_eq!(c.traces.endpoint, "http://collector:4317");
    }

    #[test]
    fn per_signal_variables_win_over_generic_ones_and_are_verbatim() {
        let c = resolve(
            &Settings::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://traces:9999/custom/path",
                ),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
                ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "1500"),
            ],
        );
        assert_eq!(c.traces.endpoint, "http://traces:9999/custom/path");
        assert_eq!(
            c.traces.endpoint_source,
            Source::Env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        );
        assert_eq!(c.traces.protocol, Protocol::Grpc);
        assert_eq!(c.metrics.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.metrics.endpoint, "http://generic:4318/v1/metrics");
        assert_eq!(c.traces.timeout, Duration::from_millis(3000));
        assert_eq!(c.metrics.timeout, Duration::from_millis(1500));
    }

    #[test]
    fn only_a_traces_endpoint_leaves_metrics_off() {
        let c = resolve(
            &Settings::default(),
            &[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://t:4318/v1/traces",
            )],
        );
        assert_eq!(c.traces.exporter, ExporterKind::Otlp);
        assert_eq!(c.metrics.exporter, ExporterKind::None);
    }

    #[test]
    fn the_builder_wins_over_the_environment() {
        let s = Settings {
            endpoint: Some("http://builder:4317".into()),
            protocol: Some(Protocol::Grpc),
            timeout: Some(Duration::from_secs(2)),
            sampler: Some(Sampler::AlwaysOff),
            traces_exporter: Some(ExporterKind::Otlp),
            propagators: Some(vec![Propagator::TraceContext]),
            log_filter: Some("warn".into()),
            log_format: Some(LogFormat::Json),
            max_queue_size: Some(64),
            max_export_batch_size: Some(100),
            max_concurrent_exports: Some(3),
            ..Settings::default()
        };
        let c = resolve(
            &s,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://env-traces:4318/v1/traces",
                ),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "9000"),
                ("OTEL_TRACES_SAMPLER", "always_on"),
                ("OTEL_TRACES_EXPORTER", "console"),
                ("OTEL_PROPAGATORS", "baggage"),
                ("RUST_LOG", "trace"),
                ("SELVEDGE_LOG_FORMAT", "text"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "4096"),
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1024"),
                ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "4"),
            ],
        );
        assert_eq!(c.traces.endpoint, "http://builder:4317");
        assert_eq!(c.traces.endpoint_source, Source::Builder);
        assert_eq!(
            (c.traces.protocol, c.traces.protocol_source),
            (Protocol::Grpc, Source::Builder)
        );
        assert_eq!(c.traces.timeout, Duration::from_secs(2));
        assert_eq!(c.sampler, Sampler::AlwaysOff);
        assert_eq!(
            (c.traces.exporter, c.traces.exporter_source),
            (ExporterKind::Otlp, Source::Builder)
        );
        assert_eq!(c.propagators, vec![Propagator::TraceContext]);
        assert!(c.log_filter.starts_with("warn,"));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.max_queue_size, 64);
        assert_eq!(c.max_export_batch_size, 64, "clamped to the queue");
        assert_eq!(c.max_concurrent_exports, 3);
    }

    #[test]
    fn the_environment_wins_over_defaults() {
        let c = resolve(
            &Settings::default(),
            &[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
                ("OTEL_TRACES_EXPORTER", "otlp"),
                ("OTEL_METRICS_EXPORTER", "console"),
                ("OTEL_PROPAGATORS", "tracecontext"),
                ("RUST_LOG", "my_app=debug"),
                ("SELVEDGE_LOG_FORMAT", "JSON"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "4096"),
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1024"),
                ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "4"),
            ],
        );
        assert_eq!(
            c.sampler,
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(0.25)))
        );
        assert_eq!(c.sampler.to_string(), "parentbased_traceidratio(0.25)");
        assert_eq!(
            c.traces.exporter,
            ExporterKind::Otlp,
            "otlp without an endpoint uses the default one"
        );
        assert_eq!(c.traces.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(c.metrics.exporter, ExporterKind::Console);
        assert_eq!(c.propagators, vec![Propagator::TraceContext]);
        assert!(c.log_filter.starts_with("my_app=debug,"));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.max_queue_size, 4096);
        assert_eq!(c.max_export_batch_size, 1024);
        assert_eq!(c.max_concurrent_exports, 4);
    }

    #[test]
    fn exporter_none_and_propagators_none() {
        let c = resolve(
            &Settings::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_PROPAGATORS", "none"),
            ],
        );
        assert_eq!(c.traces.exporter, ExporterKind::None);
        assert_eq!(c.metrics.exporter, ExporterKind::Otlp);
        assert!(c.propagators.is_empty());
    }

    #[test]
    fn sdk_disabled_turns_every_exporter_off() {
        let c = resolve(
            &Settings::default(),
            &[
                ("OTEL_SDK_DISABLED", "TRUE"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ],
        );
        assert!(c.disabled);
        assert_eq!(c.traces.exporter, ExporterKind::None);
        assert_eq!(c.metrics.exporter, ExporterKind::None);
        assert_eq!(c.traces.exporter_source, Source::Env("OTEL_SDK_DISABLED"));
        let c = resolve(
            &Settings {
                disabled: Some(false),
                ..Settings::default()
            },
            &[("OTEL_SDK_DISABLED", "true")],
        );
        assert!(!c.disabled, "the builder wins");
    }

    #[test]
    fn values_the_spec_says_to_ignore_give_warnings() {
        let c = resolve(
            &Settings::default(),
            &[
                ("OTEL_SDK_DISABLED", "yes"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
            ],
        );
        assert!(!c.disabled);
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("OTEL_SDK_DISABLED") && c.warnings[0].contains("yes"));
        assert!(c.warnings[1].contains("OTEL_TRACES_SAMPLER_ARG") && c.warnings[1].contains("0.5"));
    }

    #[test]
    fn invalid_values_name_the_variable_and_the_value() {
        let cases: &[(&str, &str)] = &[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
            ("OTEL_METRICS_EXPORTER", "prometheus"),
            ("OTEL_LOGS_EXPORTER", "syslog"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "-1"),
            ("OTEL_PROPAGATORS", "tracecontext,b3"),
            ("RUST_LOG", "my_app=loud"),
            ("SELVEDGE_LOG_FORMAT", "xml"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "-5"),
            ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "two"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "1m"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "big"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1"),
            ("SELVEDGE_CONTENT_MAX_BYTES", "0"),
        ];
        for &(var, value) in cases {
            let vars: Vec<(&'static str, &'static str)> = vec![(leak(var), leak(value))];
            let msg = error(&Settings::default(), &vars);
            assert!(
                msg.contains(var) && msg.contains(value),
                "{var}={value}: {msg}"
            );
        }
        let msg = error(
            &Settings::default(),
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ],
        );
        assert!(
            msg.contains("OTEL_TRACES_SAMPLER_ARG") && msg.contains("1.5"),
            "{msg}"
        );
        let msg = error(
            &Settings {
                sampler: Some(Sampler::TraceIdRatio(-0.1)),
                ..Settings::default()
            },
            &[],
        );
        assert!(
            msg.contains("with_sampler") && msg.contains("-0.1"),
            "{msg}"
        );
        let msg = error(
            &Settings {
                max_queue_size: Some(0),
                ..Settings::default()
            },
            &[],
        );
        assert!(msg.contains("with_max_queue_size"), "{msg}");
    }

    fn leak(s: &str) -> &'static str {
        Box::leak(s.to_string().into_boxed_str())
    }

    #[test]
    fn header_errors_and_listings_never_contain_values() {
        let msg = error(
            &Settings::default(),
            &[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer abc,garbage-token",
            )],
        );
        assert!(msg.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{msg}");
        assert!(
            !msg.contains("garbage-token") && !msg.contains("abc"),
            "{msg}"
        );

        let s = Settings {
            headers: vec![("X-Tenant".into(), "t1".into())],
            ..Settings::default()
        };
        let c = resolve(
            &s,
            &[(
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "Authorization=Bearer%20abc",
            )],
        );
        assert_eq!(c.traces.header_names, vec!["authorization", "x-tenant"]);
        assert_eq!(
            c.metrics.header_names,
            vec!["x-tenant"],
            "the traces variable is traces-only"
        );
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("https://user:pw@host:4318/v1/traces"),
            "https://<redacted>@host:4318/v1/traces"
        );
        assert_eq!(redact_url("http://host:4317"), "http://host:4317");
        assert_eq!(redact_url("http://host/path@x"), "http://host/path@x");
    }

    #[test]
    fn differences_name_what_changed() {
        let a = resolve(&Settings::default(), &[]);
        let b = resolve(
            &Settings {
                protocol: Some(Protocol::Grpc),
                ..Settings::default()
            },
            &[],
        );
        assert!(a.differences(&a).is_empty());
        let d = a.differences(&b);
        assert!(
            d.iter()
                .any(|l| l.contains("traces protocol: running http/protobuf, requested grpc")),
            "{d:?}"
        );
    }
}
