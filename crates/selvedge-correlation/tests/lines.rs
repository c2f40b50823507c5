//! Line shapes, independent of any exporter.

use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use selvedge_correlation::CorrelationLayer;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
    fn json(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

fn with_otel(layer: CorrelationLayer<Buf>, f: impl FnOnce()) {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(layer);
    tracing::subscriber::with_default(subscriber, f);
}

#[test]
fn reserved_names_odd_values_and_recorded_fields() {
    let buf = Buf::default();
    with_otel(CorrelationLayer::json().with_writer(buf.clone()), || {
        let span = tracing::info_span!("work", stage = tracing::field::Empty, quote = "a\"b");
        span.record("stage", "parse");
        span.in_scope(|| {
            tracing::info!(
                level = "custom",
                trace_id = "mine",
                nan = f64::NAN,
                big = u64::MAX,
                neg = i64::MIN,
                flag = false,
                dbg = ?vec!["x\ny"],
                "odd \"values\"\n"
            );
        });
    });
    let lines = buf.json();
    let l = &lines[0];
    assert_eq!(l["level"], "INFO");
    assert_eq!(l["fields.level"], "custom");
    assert_eq!(l["fields.trace_id"], "mine");
    assert_eq!(l["trace_id"].as_str().unwrap().len(), 32);
    assert_eq!(l["nan"], "NaN");
    assert_eq!(l["big"], u64::MAX);
    assert_eq!(l["neg"], i64::MIN);
    assert_eq!(l["flag"], false);
    assert_eq!(l["dbg"], "[\"x\\ny\"]");
    assert_eq!(l["message"], "odd \"values\"\n");
    assert_eq!(
        l["span"]["stage"], "parse",
        "fields recorded later are included"
    );
    assert_eq!(l["span"]["quote"], "a\"b");
}

#[test]
fn list_and_current_span_can_be_turned_off() {
    let buf = Buf::default();
    with_otel(
        CorrelationLayer::json()
            .with_span_list(false)
            .with_current_span(false)
            .with_writer(buf.clone()),
        || tracing::info_span!("a").in_scope(|| tracing::info!("x")),
    );
    let l = &buf.json()[0];
    assert!(l.get("span").is_none() && l.get("spans").is_none(), "{l}");
    assert!(l.get("trace_id").is_some());
}

#[test]
fn short_ids_in_text() {
    let buf = Buf::default();
    with_otel(
        CorrelationLayer::text()
            .with_short_ids(true)
            .with_writer(buf.clone()),
        || tracing::info_span!("a").in_scope(|| tracing::info!("x")),
    );
    let text = buf.text();
    let tail: Vec<&str> = text.trim_end().rsplit(' ').take(2).collect();
    assert!(
        tail[0].starts_with("span_id=") && tail[0].len() == "span_id=".len() + 8,
        "{text}"
    );
    assert!(
        tail[1].starts_with("trace_id=") && tail[1].len() == "trace_id=".len() + 8,
        "{text}"
    );
}

#[test]
fn without_an_otel_layer_lines_have_no_ids() {
    let buf = Buf::default();
    let subscriber =
        tracing_subscriber::registry().with(CorrelationLayer::json().with_writer(buf.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("a").in_scope(|| tracing::info!("x"))
    });
    let l = &buf.json()[0];
    assert!(l.get("trace_id").is_none(), "{l}");
    assert_eq!(l["span"]["name"], "a");
}

#[test]
fn a_writer_that_logs_does_not_panic() {
    #[derive(Clone)]
    struct Chatty;
    impl Write for Chatty {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            tracing::info!("the writer itself logs");
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Chatty {
        type Writer = Chatty;
        fn make_writer(&'a self) -> Chatty {
            Chatty
        }
    }
    let buf = Buf::default();
    let subscriber = tracing_subscriber::registry()
        .with(CorrelationLayer::json().with_writer(Chatty))
        .with(CorrelationLayer::json().with_writer(buf.clone()));
    tracing::subscriber::with_default(subscriber, || tracing::info!("outer"));
    assert!(buf.text().contains("outer"));
}

/// Two events with `text` in every place a string can reach a line: the
/// message (formatted, and given as a `&str`), a string field, a `Debug`
/// field, and a span field recorded late.
fn emit(text: &str) {
    let span = tracing::info_span!("work", late = tracing::field::Empty);
    span.record("late", text);
    span.in_scope(|| {
        tracing::info!(s = text, d = ?text, "{text}");
        tracing::info!(message = text, s = text, d = ?text);
    });
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    /// Whatever the text (quotes, backslashes, control characters, any
    /// Unicode), a JSON line parses and gives the text back unchanged.
    #[test]
    fn any_text_makes_one_json_line_that_gives_it_back(text in "\\PC*|.*|[\\x00-\\x20\"\\\\\u{7f}\u{2028}\u{2029}]{0,16}") {
        let buf = Buf::default();
        with_otel(CorrelationLayer::json().with_writer(buf.clone()), || emit(&text));
        let all = buf.text();
        proptest::prop_assert_eq!(all.matches('\n').count(), 2, "a line each: {:?}", all);
        let debug = format!("{text:?}");
        for l in buf.json() {
            proptest::prop_assert_eq!(l["message"].as_str(), Some(text.as_str()));
            proptest::prop_assert_eq!(l["s"].as_str(), Some(text.as_str()));
            proptest::prop_assert_eq!(l["d"].as_str(), Some(debug.as_str()));
            proptest::prop_assert_eq!(l["span"]["late"].as_str(), Some(text.as_str()));
        }
    }

    /// A text line stays one line, whatever the text: no value can forge a
    /// second log line (a newline or carriage return written raw).
    #[test]
    fn any_text_makes_one_text_line(text in "\\PC*|.*|[\\x00-\\x20\"\\\\\u{7f}]{0,16}") {
        let buf = Buf::default();
        with_otel(CorrelationLayer::text().with_writer(buf.clone()), || emit(&text));
        let all = buf.text();
        proptest::prop_assert!(all.ends_with('\n'), "{:?}", all);
        proptest::prop_assert_eq!(all.matches(['\n', '\r']).count(), 2, "a line each: {:?}", all);
    }
}
