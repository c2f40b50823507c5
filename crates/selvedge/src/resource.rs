//! The OTel resource: who is sending the telemetry.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::attribute::{
    DEPLOYMENT_ENVIRONMENT_NAME, SERVICE_NAME, SERVICE_VERSION,
};

use crate::config::Settings;
use crate::env::{self, Env};
use crate::Source;

/// Builds the resource: the SDK's detectors (`OTEL_SERVICE_NAME`,
/// `OTEL_RESOURCE_ATTRIBUTES`, `telemetry.sdk.*`), then the builder's
/// attributes on top, so the builder wins.
pub(crate) fn build(s: &Settings, e: &dyn Env) -> (Resource, String, Source) {
    let mut attrs: Vec<KeyValue> = s
        .resource_attributes
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    if let Some(v) = &s.service_version {
        attrs.push(KeyValue::new(SERVICE_VERSION, v.clone()));
    }
    if let Some(v) = &s.deployment_environment {
        attrs.push(KeyValue::new(DEPLOYMENT_ENVIRONMENT_NAME, v.clone()));
    }
    let mut builder = Resource::builder().with_attributes(attrs);
    if let Some(name) = &s.service_name {
        builder = builder.with_service_name(name.clone());
    }
    let resource = builder.build();

    let name = resource
        .get(&opentelemetry::Key::from_static_str(SERVICE_NAME))
        .map(|v| v.to_string())
        .unwrap_or_default();
    let source = if s.service_name.is_some() {
        Source::Builder
    } else if e.var(env::OTEL_SERVICE_NAME).is_some() {
        Source::Env(env::OTEL_SERVICE_NAME)
    } else if s.resource_attributes.iter().any(|(k, _)| k == SERVICE_NAME) {
        Source::Builder
    } else if e.var(env::OTEL_RESOURCE_ATTRIBUTES).is_some_and(|v| {
        v.split(',')
            .any(|kv| kv.split('=').next().map(str::trim) == Some(SERVICE_NAME))
    }) {
        Source::Env(env::OTEL_RESOURCE_ATTRIBUTES)
    } else {
        Source::Default
    };
    (resource, name, source)
}
