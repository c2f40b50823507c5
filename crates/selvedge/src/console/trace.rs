//! A span exporter that prints a tree per trace.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry::{Key, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;

/// Spans of unfinished traces kept while waiting for their root; past this,
/// the oldest trace is printed as it is, so memory stays bounded.
const MAX_PENDING_SPANS: usize = 8192;
/// Attributes shown per span; the rest are summarised as `+N`.
const MAX_ATTRIBUTES: usize = 6;
/// Longest attribute value shown, in characters.
const MAX_VALUE_CHARS: usize = 64;

/// Attributes tracing-opentelemetry adds to every span: noise in a tree meant for people.
fn is_bookkeeping(key: &str) -> bool {
    key.starts_with("code.")
        || key.starts_with("thread.")
        || matches!(key, "busy_ns" | "idle_ns" | "target" | "level")
}

/// Prints each trace as an indented tree once its root span ends.
pub(crate) struct ConsoleSpanExporter {
    writer: BoxMakeWriter,
    state: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    traces: HashMap<TraceId, Vec<SpanData>>,
    order: Vec<TraceId>,
    spans: usize,
    service: Option<String>,
}

impl std::fmt::Debug for ConsoleSpanExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSpanExporter")
            .finish_non_exhaustive()
    }
}

impl ConsoleSpanExporter {
    pub(crate) fn new(writer: BoxMakeWriter) -> Self {
        Self {
            writer,
            state: Mutex::new(Pending::default()),
        }
    }

    fn write(&self, text: &str) {
        // A console that cannot be written to must not fail the export.
        let _ = self.writer.make_writer().write_all(text.as_bytes());
    }

    fn drain_all(&self) {
        let mut out = String::new();
        if let Ok(mut state) = self.state.lock() {
            let service = state.service.clone();
            for id in std::mem::take(&mut state.order) {
                if let Some(spans) = state.traces.remove(&id) {
                    out.push_str(&render_trace(service.as_deref(), &spans));
                }
            }
            state.spans = 0;
        }
        if !out.is_empty() {
            self.write(&out);
        }
    }
}

impl SpanExporter for ConsoleSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut out = String::new();
        if let Ok(mut state) = self.state.lock() {
            for span in batch {
                let id = span.span_context.trace_id();
                let is_root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
                if !state.traces.contains_key(&id) {
                    state.order.push(id);
                }
                state.traces.entry(id).or_default().push(span);
                state.spans += 1;
                if is_root {
                    if let Some(spans) = state.traces.remove(&id) {
                        state.spans -= spans.len();
                        state.order.retain(|t| *t != id);
                        out.push_str(&render_trace(state.service.as_deref(), &spans));
                    }
                }
            }
            while state.spans > MAX_PENDING_SPANS && !state.order.is_empty() {
                let id = state.order.remove(0);
                if let Some(spans) = state.traces.remove(&id) {
                    state.spans -= spans.len();
                    out.push_str(&render_trace(state.service.as_deref(), &spans));
                }
            }
        }
        if !out.is_empty() {
            self.write(&out);
        }
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.drain_all();
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.drain_all();
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Ok(mut state) = self.state.lock() {
            state.service = resource
                .get(&Key::from_static_str("service.name"))
                .map(|v| v.to_string());
        }
    }
}

/// Renders one trace (possibly incomplete) as an indented tree.
pub(crate) fn render_trace(service: Option<&str>, spans: &[SpanData]) -> String {
    let ids: HashMap<SpanId, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_context.span_id(), i))
        .collect();
    let mut children: HashMap<Option<SpanId>, Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        // A span whose parent is not here (remote, or not finished yet) is a top-level node.
        let parent =
            Some(s.parent_span_id).filter(|p| ids.contains_key(p) && !s.parent_span_is_remote);
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by_key(|&i| spans[i].start_time);
    }

    let trace_id = spans
        .first()
        .map(|s| s.span_context.trace_id())
        .unwrap_or(TraceId::INVALID);
    let mut out = String::new();
    let _ = write!(out, "trace {trace_id}");
    if let Some(service) = service {
        let _ = write!(out, "  {service}");
    }
    let _ = writeln!(
        out,
        "  ({} span{})",
        spans.len(),
        if spans.len() == 1 { "" } else { "s" }
    );

    let mut lines = Vec::new();
    let roots = children.get(&None).cloned().unwrap_or_default();
    for (n, &i) in roots.iter().enumerate() {
        walk(
            spans,
            &children,
            i,
            "",
            n + 1 == roots.len(),
            true,
            &mut lines,
        );
    }
    let width = lines
        .iter()
        .map(|(head, _)| head.chars().count())
        .max()
        .unwrap_or(0);
    for (head, tail) in lines {
        let pad = width - head.chars().count();
        let _ = writeln!(out, "  {head}{:pad$}  {tail}", "");
    }
    out
}

fn walk(
    spans: &[SpanData],
    children: &HashMap<Option<SpanId>, Vec<usize>>,
    i: usize,
    prefix: &str,
    last: bool,
    top: bool,
    lines: &mut Vec<(String, String)>,
) {
    let span = &spans[i];
    let (branch, next_prefix) = if top {
        (String::new(), String::new())
    } else if last {
        (format!("{prefix}└─ "), format!("{prefix}   "))
    } else {
        (format!("{prefix}├─ "), format!("{prefix}│  "))
    };
    lines.push((
        format!("{branch}{}", span.name.escape_debug()),
        describe(span),
    ));
    if let Some(kids) = children.get(&Some(span.span_context.span_id())) {
        for (n, &k) in kids.iter().enumerate() {
            walk(
                spans,
                children,
                k,
                &next_prefix,
                n + 1 == kids.len(),
                false,
                lines,
            );
        }
    }
}

fn describe(span: &SpanData) -> String {
    let mut out = String::new();
    let duration = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let _ = write!(out, "{:>9}", format_duration(duration));
    match &span.status {
        Status::Error { description } if description.is_empty() => out.push_str("  ERROR"),
        Status::Error { description } => {
            let _ = write!(out, "  ERROR {:?}", truncate(description));
        }
        Status::Ok => out.push_str("  OK"),
        Status::Unset => {}
    }
    let shown: Vec<_> = span
        .attributes
        .iter()
        .filter(|kv| !is_bookkeeping(kv.key.as_str()))
        .collect();
    for kv in shown.iter().take(MAX_ATTRIBUTES) {
        let _ = write!(out, "  {}={}", kv.key, format_value(&kv.value));
    }
    if shown.len() > MAX_ATTRIBUTES {
        let _ = write!(out, "  +{} more", shown.len() - MAX_ATTRIBUTES);
    }
    if !span.events.is_empty() {
        let n = span.events.len();
        let _ = write!(out, "  ({n} event{})", if n == 1 { "" } else { "s" });
    }
    out
}

fn format_duration(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 {
        format!("{micros:.0}µs")
    } else if micros < 1e6 {
        format!("{:.1}ms", micros / 1e3)
    } else {
        format!("{:.2}s", micros / 1e6)
    }
}

fn format_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", truncate(s.as_str())),
        other => truncate(&other.to_string().escape_debug().to_string()),
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use opentelemetry::trace::{SpanContext, SpanKind, TraceFlags, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(
        id: u64,
        parent: u64,
        name: &'static str,
        start_ms: u64,
        attrs: Vec<KeyValue>,
    ) -> SpanData {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(7u128),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.into(),
            start_time: t0 + Duration::from_millis(start_ms),
            end_time: t0 + Duration::from_millis(start_ms + 2),
            attributes: attrs,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("test").build(),
        }
    }

    #[test]
    fn children_are_ordered_by_start_and_indented() {
        let spans = vec![
            span(3, 1, "second", 5, vec![]),
            span(
                2,
                1,
                "first",
                1,
                vec![KeyValue::new("thread.id", 1), KeyValue::new("n", 3)],
            ),
            span(4, 2, "grandchild", 2, vec![]),
            span(1, 0, "root", 0, vec![]),
        ];
        let text = render_trace(Some("svc"), &spans);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "trace 00000000000000000000000000000007  svc  (4 spans)"
        );
        assert!(lines[1].trim_start().starts_with("root"), "{text}");
        assert!(
            lines[2].contains("├─ first")
                && lines[2].contains("n=3")
                && !lines[2].contains("thread.id"),
            "{text}"
        );
        assert!(lines[3].contains("│  └─ grandchild"), "{text}");
        assert!(lines[4].contains("└─ second"), "{text}");
        assert!(lines[1].contains("2.0ms"), "{text}");
    }

    #[test]
    fn an_incomplete_trace_shows_orphans_at_the_top() {
        let spans = vec![
            span(5, 99, "orphan", 0, vec![]),
            span(6, 5, "its_child", 1, vec![]),
        ];
        let text = render_trace(None, &spans);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .trim_start()
                .starts_with("orphan"),
            "{text}"
        );
        assert!(text.contains("└─ its_child"), "{text}");
    }

    #[test]
    fn long_and_hostile_values_are_truncated_and_escaped() {
        let long = "é".repeat(500);
        let mut s = span(1, 0, "root", 0, vec![KeyValue::new("prompt", long)]);
        s.status = Status::error("line1\nline2\u{1b}[31m");
        let text = render_trace(None, &[s]);
        assert_eq!(
            text.lines().count(),
            2,
            "one line per span, no injected newlines:\n{text}"
        );
        assert!(text.contains('…'));
        assert!(!text.contains('\u{1b}'), "escape sequences are escaped");
        assert!(text.chars().filter(|c| *c == 'é').count() <= MAX_VALUE_CHARS);
    }
}
