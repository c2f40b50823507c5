//! Builds the OTLP exporters for the resolved transport.
//!
//! `OTEL_EXPORTER_OTLP_PROTOCOL` does not choose the transport inside
//! opentelemetry-otlp: the application must. This module is where selvedge does.
//! Endpoint and timeout are always passed explicitly (already resolved with
//! builder > env > default); headers from the environment are read by the
//! exporter itself, and builder headers are applied on top of them.

use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::metrics::Temporality;

use crate::config::{Protocol, SignalConfig};
use crate::runtime::ExportRuntime;
use crate::Error;

/// Builds the OTLP span exporter for `cfg`.
pub(crate) fn span_exporter(
    cfg: &SignalConfig,
    headers: &[(String, String)],
    runtime: Option<&ExportRuntime>,
) -> Result<SpanExporter, Error> {
    let built = match cfg.protocol {
        #[cfg(feature = "otlp-grpc")]
        Protocol::Grpc => {
            use opentelemetry_otlp::WithTonicConfig;
            // tonic spawns its connection task on the current runtime: make it ours,
            // so exports never depend on (or deadlock) the application's runtime.
            let _enter = runtime.map(ExportRuntime::enter);
            SpanExporter::builder()
                .with_tonic()
                .with_endpoint(&cfg.endpoint)
                .with_timeout(cfg.timeout)
                .with_interceptor(grpc::HeaderInterceptor::new(headers)?)
                .build()
        }
        #[cfg(feature = "otlp-http")]
        Protocol::HttpProtobuf => {
            use opentelemetry_otlp::WithHttpConfig;
            let _ = runtime;
            SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(&cfg.endpoint)
                .with_timeout(cfg.timeout)
                .with_headers(headers.iter().cloned().collect())
                .build()
        }
        #[allow(unreachable_patterns)]
        other => return Err(not_compiled(other, cfg)),
    };
    built.map_err(|source| Error::Exporter {
        signal: "traces",
        endpoint: crate::config::redact_url(&cfg.endpoint),
        source,
    })
}

/// Builds the OTLP metric exporter for `cfg` (cumulative temporality, the OTLP default).
pub(crate) fn metric_exporter(
    cfg: &SignalConfig,
    headers: &[(String, String)],
    runtime: Option<&ExportRuntime>,
) -> Result<MetricExporter, Error> {
    let built = match cfg.protocol {
        #[cfg(feature = "otlp-grpc")]
        Protocol::Grpc => {
            use opentelemetry_otlp::WithTonicConfig;
            let _enter = runtime.map(ExportRuntime::enter);
            MetricExporter::builder()
                .with_tonic()
                .with_endpoint(&cfg.endpoint)
                .with_timeout(cfg.timeout)
                .with_interceptor(grpc::HeaderInterceptor::new(headers)?)
                .with_temporality(Temporality::Cumulative)
                .build()
        }
        #[cfg(feature = "otlp-http")]
        Protocol::HttpProtobuf => {
            use opentelemetry_otlp::WithHttpConfig;
            let _ = runtime;
            MetricExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(&cfg.endpoint)
                .with_timeout(cfg.timeout)
                .with_headers(headers.iter().cloned().collect())
                .with_temporality(Temporality::Cumulative)
                .build()
        }
        #[allow(unreachable_patterns)]
        other => return Err(not_compiled(other, cfg)),
    };
    built.map_err(|source| Error::Exporter {
        signal: "metrics",
        endpoint: crate::config::redact_url(&cfg.endpoint),
        source,
    })
}

#[allow(dead_code)]
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

#[cfg(feature = "otlp-grpc")]
mod grpc {
    use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};

    use crate::config::invalid;
    use crate::Error;

    /// Sets the builder's headers on every request, after the exporter has added
    /// those from `OTEL_EXPORTER_OTLP_HEADERS`, so the builder wins on a clash.
    #[derive(Clone)]
    pub(super) struct HeaderInterceptor(MetadataMap);

    impl HeaderInterceptor {
        pub(super) fn new(headers: &[(String, String)]) -> Result<Self, Error> {
            let mut map = MetadataMap::new();
            for (k, v) in headers {
                let key =
                    MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes()).map_err(|_| {
                        invalid(
                            "TelemetryBuilder::with_header",
                            k,
                            "not a valid gRPC metadata key",
                        )
                    })?;
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
