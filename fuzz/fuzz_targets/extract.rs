//! Extraction from arbitrary carriers must never panic, and whatever trace it
//! accepts must be the one the carrier spelled out.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use selvedge_propagation::extract_with;

fuzz_target!(|data: &[u8]| {
    let propagator = TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]);
    let text = String::from_utf8_lossy(data);
    // The input split into traceparent / tracestate / baggage, as a map and as a JSON message.
    let mut parts = text.splitn(3, '\n');
    let (tp, ts, bg) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let map: HashMap<String, String> = [("traceparent", tp), ("tracestate", ts), ("baggage", bg)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let cx = extract_with(&propagator, &map);
    let span = cx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        assert_eq!(tp.get(3..35), Some(sc.trace_id().to_string().as_str()));
    }
    // Arbitrary JSON, when the input parses as JSON.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = extract_with(&propagator, &value);
    }
});
