//! Every row of the decision table in docs/content-capture.md.

use selvedge_content::{resolve, Capture};

const STD: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";
const OWN: &str = "SELVEDGE_TRACE_CONTENT";

fn gate(
    builder: Option<Capture>,
    std: Option<&str>,
    own: Option<&str>,
) -> (Capture, Option<String>) {
    let r = resolve(builder, |k| match k {
        STD => std.map(str::to_string),
        OWN => own.map(str::to_string),
        _ => None,
    });
    (r.capture, r.warning)
}

/// builder, standard variable, SELVEDGE_TRACE_CONTENT → capture, warns
type Row = (
    Option<Capture>,
    Option<&'static str>,
    Option<&'static str>,
    Capture,
    bool,
);

#[test]
fn decision_table() {
    use Capture::*;
    let rows: &[Row] = &[
        // builder, standard variable, SELVEDGE_TRACE_CONTENT → capture, warns
        (None, None, None, NoContent, false),
        (None, Some(""), Some(" "), NoContent, false),
        (None, Some("NO_CONTENT"), None, NoContent, false),
        (None, Some("SPAN_ONLY"), None, SpanOnly, false),
        (None, Some("event_only"), None, EventOnly, false),
        (None, Some("Span_And_Event"), None, SpanAndEvent, false),
        (None, Some("true"), None, NoContent, true),
        (None, Some("false"), None, NoContent, true),
        (None, Some("1"), None, NoContent, true),
        (None, Some("everything"), None, NoContent, true),
        (None, None, Some("1"), LegacySpanEvents, false),
        (None, None, Some("TRUE"), LegacySpanEvents, false),
        (None, None, Some("0"), NoContent, false),
        (None, None, Some("false"), NoContent, false),
        (None, None, Some("yes"), NoContent, true),
        // Both set: the standard variable wins, also when it says NO_CONTENT or is invalid.
        (None, Some("SPAN_ONLY"), Some("1"), SpanOnly, false),
        (None, Some("NO_CONTENT"), Some("1"), NoContent, false),
        (None, Some("bogus"), Some("1"), NoContent, true),
        // The builder wins over both.
        (
            Some(EventOnly),
            Some("NO_CONTENT"),
            Some("0"),
            EventOnly,
            false,
        ),
        (
            Some(NoContent),
            Some("SPAN_AND_EVENT"),
            Some("1"),
            NoContent,
            false,
        ),
    ];
    for &(builder, std, own, want, warns) in rows {
        let (got, warning) = gate(builder, std, own);
        assert_eq!(got, want, "builder={builder:?} {STD}={std:?} {OWN}={own:?}");
        assert_eq!(
            warning.is_some(),
            warns,
            "builder={builder:?} {STD}={std:?} {OWN}={own:?}: {warning:?}"
        );
        if let Some(w) = warning {
            let (var, value) = if std.is_some_and(|s| !s.trim().is_empty()) {
                (STD, std)
            } else {
                (OWN, own)
            };
            assert!(
                w.contains(var) && w.contains(value.unwrap()),
                "the warning names the variable and value: {w}"
            );
        }
    }
}
