//! Builds the OTLP export pipeline for the resolved transport.
//!
//! `OTEL_EXPORTER_OTLP_PROTOCOL` does not choose the transport inside
//! opentelemetry-otlp: the application must. This module is where selvedge does.
//! Endpoint and timeout are always passed explicitly (already resolved with
//! builder > env > default); headers from the environment are read by the
//! exporter itself, and builder headers are applied on top of them.
//!
//! With neither `otlp-grpc` nor `otlp-http` compiled in, asking for OTLP is an
//! error naming the missing feature.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{BatchConfig, BatchSpanProcessor};
use opentelemetry_sdk::Resource;

use crate::accounting::Counters;
use crate::config::{Protocol, SignalConfig};
use crate::runtime::ExportRuntime;
use crate::Error;

/// The batch span processor feeding an (accounted) OTLP span exporter.
pub(crate) fn span_processor(
    cfg: &SignalConfig,
    headers: &[(String, String)],
    runtime: Option<&ExportRuntime>,
    counters: &Arc<Counters>,
    batch: BatchConfig,
) -> Result<BatchSpanProcessor, Error> {
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    {
        let exporter = otlp::span_exporter(cfg, headers, runtime)?;
        Ok(
            BatchSpanProcessor::builder(crate::accounting::AccountedExporter::new(
                exporter,
                counters.clone(),
            ))
            .with_batch_config(batch)
            .build(),
        )
    }
    #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
    {
        let _ = (headers, runtime, counters, batch);
        Err(not_compiled(cfg.protocol, cfg))
    }
}

/// A meter provider with a periodic reader feeding an (accounted) OTLP metric exporter.
pub(crate) fn meter_provider(
    cfg: &SignalConfig,
    headers: &[(String, String)],
    runtime: Option<&ExportRuntime>,
    counters: &Arc<Counters>,
    interval: Duration,
    resource: Resource,
) -> Result<SdkMeterProvider, Error> {
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    {
        let exporter = otlp::metric_exporter(cfg, headers, runtime)?;
        Ok(crate::pipeline::meter_provider(
            crate::accounting::AccountedMetricExporter::new(exporter, counters.clone()),
            interval,
            resource,
        ))
    }
    #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
    {
        let _ = (headers, runtime, counters, interval, resource);
        Err(not_compiled(cfg.protocol, cfg))
    }
}

/// A logger provider with a batch processor feeding an (accounted) OTLP log exporter.
pub(crate) fn logger_provider(
    cfg: &SignalConfig,
    headers: &[(String, String)],
    runtime: Option<&ExportRuntime>,
    counters: &Arc<Counters>,
    max_queue_size: usize,
    resource: Resource,
) -> Result<SdkLoggerProvider, Error> {
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    {
        use opentelemetry_sdk::logs::{BatchConfigBuilder, BatchLogProcessor};

        use crate::accounting::{AccountedLogExporter, AccountedLogProcessor};

        let exporter = otlp::log_exporter(cfg, headers, runtime)?;
        let processor =
            BatchLogProcessor::builder(AccountedLogExporter::new(exporter, counters.clone()))
                .with_batch_config(
                    BatchConfigBuilder::default()
                        .with_max_queue_size(max_queue_size)
                        .build(),
                )
                .build();
        Ok(SdkLoggerProvider::builder()
            .with_log_processor(AccountedLogProcessor::new(
                processor,
                counters.clone(),
                max_queue_size,
            ))
            .with_resource(resource)
            .build())
    }
    #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
    {
        let _ = (headers, runtime, counters, max_queue_size, resource);
        Err(not_compiled(cfg.protocol, cfg))
    }
}

fn not_compiled(protocol: Protocol, cfg: &SignalConfig) -> Error {
    Error::TransportNotCompiled {
        protocol,
        origin: cfg.protocol_source.to_string(),
        feature: match protocol {
            Protocol::Grpc => "otlp-grpc",
            Protocol::HttpProtobuf => "otlp-http",
        },
    }
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod otlp {
    use opentelemetry_otlp::{LogExporter, MetricExporter, SpanExporter, WithExportConfig};
    use opentelemetry_sdk::metrics::Temporality;

    use super::not_compiled;
    use crate::config::{Protocol, SignalConfig};
    use crate::runtime::ExportRuntime;
    use crate::Error;

    /// Builds one signal's OTLP exporter for `cfg.protocol`: the same settings
    /// for every signal, plus any signal-specific builder calls (`$extra`).
    macro_rules! otlp_exporter {
        ($builder:expr, $signal:literal, $cfg:expr, $headers:expr, $runtime:expr $(, $extra:ident($($arg:expr),*))*) => {{
            let (cfg, headers, runtime): (&SignalConfig, &[(String, String)], Option<&ExportRuntime>) =
                ($cfg, $headers, $runtime);
            let built = match cfg.protocol {
                #[cfg(feature = "otlp-grpc")]
                Protocol::Grpc => {
                    use opentelemetry_otlp::WithTonicConfig;
                    // tonic spawns its connection task on the current runtime: make it ours,
                    // so exports never depend on (or deadlock) the application's runtime.
                    let _enter = runtime.map(ExportRuntime::enter);
                    let builder = $builder
                        .with_tonic()
                        .with_endpoint(&cfg.endpoint)
                        .with_timeout(cfg.timeout)
                        .with_interceptor(grpc::HeaderInterceptor::new(headers)?);
                    let channel = cfg
                        .grpc_low_latency
                        .then(|| crate::grpc_connector::channel(&cfg.endpoint, cfg.timeout))
                        .flatten();
                    let builder = match channel {
                        Some(channel) => builder.with_channel(channel),
                        None => builder,
                    };
                    builder $(.$extra($($arg),*))*.build()
                }
                #[cfg(feature = "otlp-http")]
                Protocol::HttpProtobuf => {
                    use opentelemetry_otlp::WithHttpConfig;
                    let _ = runtime;
                    $builder
                        .with_http()
                        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                        .with_endpoint(&cfg.endpoint)
                        .with_timeout(cfg.timeout)
                        .with_headers(headers.iter().cloned().collect())
                        $(.$extra($($arg),*))*
                        .build()
                }
                #[allow(unreachable_patterns)]
                other => return Err(not_compiled(other, cfg)),
            };
            built.map_err(|source| Error::Exporter {
                signal: $signal,
                endpoint: crate::config::redact_url(&cfg.endpoint),
                source: Box::new(source),
            })
        }};
    }

    /// The OTLP span exporter for `cfg`.
    pub(super) fn span_exporter(
        cfg: &SignalConfig,
        headers: &[(String, String)],
        runtime: Option<&ExportRuntime>,
    ) -> Result<SpanExporter, Error> {
        otlp_exporter!(SpanExporter::builder(), "traces", cfg, headers, runtime)
    }

    /// The OTLP metric exporter for `cfg` (cumulative temporality, the OTLP default).
    pub(super) fn metric_exporter(
        cfg: &SignalConfig,
        headers: &[(String, String)],
        runtime: Option<&ExportRuntime>,
    ) -> Result<MetricExporter, Error> {
        otlp_exporter!(
            MetricExporter::builder(),
            "metrics",
            cfg,
            headers,
            runtime,
            with_temporality(Temporality::Cumulative)
        )
    }

    /// The OTLP log exporter for `cfg`.
    pub(super) fn log_exporter(
        cfg: &SignalConfig,
        headers: &[(String, String)],
        runtime: Option<&ExportRuntime>,
    ) -> Result<LogExporter, Error> {
        otlp_exporter!(LogExporter::builder(), "logs", cfg, headers, runtime)
    }

    #[cfg(feature = "otlp-grpc")]
    mod grpc {
        use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};

        use crate::config::invalid;
        use crate::Error;

        /// Sets the builder's headers on every request, after the exporter has added
        /// those from `OTEL_EXPORTER_OTLP_HEADERS`, so the builder wins on a clash.
        #[derive(Clone)]
        pub(in crate::exporter) struct HeaderInterceptor(MetadataMap);

        impl HeaderInterceptor {
            pub(in crate::exporter) fn new(headers: &[(String, String)]) -> Result<Self, Error> {
                let mut map = MetadataMap::new();
                for (k, v) in headers {
                    let key = MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes()).map_err(
                        |_| {
                            invalid(
                                "TelemetryBuilder::with_header",
                                k,
                                "not a valid gRPC metadata key",
                            )
                        },
                    )?;
                    let value = MetadataValue::try_from(v.as_str()).map_err(|_| {
                        invalid(
                            "TelemetryBuilder::with_header",
                            &format!("{k}=<redacted>"),
                            "the value is not valid ASCII header text",
                        )
                    })?;
                    map.insert(key, value);
                }
                Ok(Self(map))
            }
        }

        impl tonic::service::Interceptor for HeaderInterceptor {
            fn call(
                &mut self,
                mut req: tonic::Request<()>,
            ) -> Result<tonic::Request<()>, tonic::Status> {
                for kv in self.0.iter() {
                    if let tonic::metadata::KeyAndValueRef::Ascii(k, v) = kv {
                        req.metadata_mut().insert(k.clone(), v.clone());
                    }
                }
                Ok(req)
            }
        }
    }
}
