//! Resolution: precedence, defaults, and errors that name the variable and the value.

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
        ("SELVEDGE_PIPELINE_METRICS", "yes"),
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

/// Each `(value, reason)`: `OTEL_EXPORTER_OTLP_ENDPOINT=value` is refused,
/// and the error names the variable, the value and the reason.
fn refused_endpoints(cases: &[(&str, &str)]) {
    for &(value, why) in cases {
        let msg = error(
            &Settings::default(),
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", leak(value))],
        );
        assert!(
            msg.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && msg.contains(value) && msg.contains(why),
            "{value}: {msg}"
        );
    }
}

#[test]
fn a_bad_endpoint_is_told_what_is_wrong_with_it() {
    refused_endpoints(&[
        ("collector:4318", "expected a URL starting with http://"),
        ("http://", "the URL has no host"),
        ("https:///v1/traces", "the URL has no host"),
        ("http://col lector:4318", "the URL contains whitespace"),
    ]);
}

/// Parsed as the exporters parse it, and with its port checked (which
/// `http::Uri` does not do): only with a transport built in.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
#[test]
fn an_endpoint_the_exporters_would_refuse_or_a_bad_port_is_an_error() {
    let port = "the port must be a number up to 65535";
    refused_endpoints(&[
        ("http://collector:notaport", port),
        ("http://collector:99999", port),
        ("http://collector:4x", port),
        ("http://[::1]:70000", port),
        ("http://[::1", "not a valid URL"),
    ]);
    for value in [
        "http://[::1]:4318",
        "http://[::1]",
        "http://collector",
        "http://u:p@c:4318",
    ] {
        resolve(
            &Settings::default(),
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", leak(value))],
        );
    }
    let msg = error(
        &Settings::default(),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:secret@c:4x")],
    );
    assert!(
        msg.contains("the port must be") && !msg.contains("secret"),
        "{msg}"
    );
}

#[test]
fn pipeline_metrics_follow_otlp_metrics_unless_told() {
    let otlp = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")];
    assert!(
        !resolve(&Settings::default(), &[]).pipeline_metrics,
        "console"
    );
    assert!(
        resolve(&Settings::default(), &otlp).pipeline_metrics,
        "OTLP"
    );
    let off = [otlp[0], ("SELVEDGE_PIPELINE_METRICS", "FALSE")];
    assert!(!resolve(&Settings::default(), &off).pipeline_metrics);
    let on = Settings {
        pipeline_metrics: Some(true),
        ..Settings::default()
    };
    assert!(resolve(&on, &off).pipeline_metrics, "the builder wins");
    assert!(
        !resolve(&on, &[]).pipeline_metrics,
        "metrics off: nothing to export them with"
    );
    assert!(
        resolve(
            &Settings::default(),
            &[
                ("SELVEDGE_PIPELINE_METRICS", " true "),
                ("OTEL_METRICS_EXPORTER", "console")
            ]
        )
        .pipeline_metrics
    );
}
