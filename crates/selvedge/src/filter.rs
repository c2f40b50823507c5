//! Keeps the exporter's own transport out of the exported telemetry.
//!
//! Exporting a span makes hyper, h2, tonic and reqwest emit spans and events of
//! their own; exporting *those* would make more, without end (and a collector
//! outage would multiply them). The OTel layers therefore ignore these targets.

use tracing_core::Metadata;
use tracing_subscriber::filter::FilterFn;

/// Crate roots whose spans and events are never exported. Matched as a whole
/// crate name (`hyper`, `hyper::client`), so `tower_http` — usually the
/// application's own HTTP instrumentation — is still exported.
pub const TRANSPORT_TARGETS: &[&str] = &["h2", "hyper", "hyper_util", "tonic", "tower", "reqwest"];

/// Every `opentelemetry*` crate (their internal logs use targets such as
/// `opentelemetry_sdk` and `opentelemetry-otlp`).
const OTEL_PREFIX: &str = "opentelemetry";

/// True for a target that belongs to the export transport.
pub fn is_transport_target(target: &str) -> bool {
    target.starts_with(OTEL_PREFIX)
        || TRANSPORT_TARGETS.iter().any(|root| {
            target
                .strip_prefix(root)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

/// A per-layer filter that rejects transport targets. The decision depends on
/// metadata only, so tracing caches it per callsite: it costs nothing per event.
pub fn exclude_transport() -> FilterFn<fn(&Metadata<'_>) -> bool> {
    FilterFn::new(|meta| !is_transport_target(meta.target()))
}

#[cfg(test)]
mod tests {
    use super::is_transport_target;

    #[test]
    fn transport_crates_are_excluded_by_whole_name() {
        for t in [
            "h2",
            "h2::codec",
            "hyper",
            "hyper_util::client::legacy",
            "tonic::transport",
            "tower::buffer",
            "reqwest::blocking",
            "opentelemetry_sdk",
            "opentelemetry-otlp",
        ] {
            assert!(is_transport_target(t), "{t} should be excluded");
        }
        for t in [
            "h2o",
            "my_app",
            "tower_http::trace",
            "hyperion",
            "app::tonic",
        ] {
            assert!(!is_transport_target(t), "{t} should be exported");
        }
    }
}
