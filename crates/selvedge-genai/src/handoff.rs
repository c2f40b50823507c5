//! What a [`ConformedSpan`](crate::ConformedSpan) tells
//! [`GenAiProcessor`](crate::GenAiProcessor) about the span it is ending.
//!
//! The SDK hands an ending span to its processors synchronously, on the
//! thread that ends it: the wrapper leaves a note in a thread-local just
//! before it ends the inner span, and the processor takes it — nothing is
//! added to the span to be removed again. A span ended any other way (not
//! built by `GenAiTracer`) finds no note of its own, and gets the full pass.

use std::cell::Cell;

use opentelemetry::trace::SpanId;

/// What the processor does with a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Conformed already, or no GenAI span: handed on as it is.
    Done,
    /// Needs the full pass (a key recorded twice, a legacy name, ...); with
    /// `measure`, the processor records its metrics too (its wrapper could
    /// not follow what the operation, provider or model became).
    FullPass { measure: bool },
    /// A GenAI span only by values recorded after it started: conformed,
    /// measured and rolled up by the processor.
    Late,
}

thread_local! {
    static NOTE: Cell<Option<(SpanId, Verdict)>> = const { Cell::new(None) };
}

/// Leaves `verdict` for the span `id`, about to end on this thread.
pub(crate) fn leave(id: SpanId, verdict: Verdict) {
    NOTE.set(Some((id, verdict)));
}

/// The verdict left for the span `id`, if any.
pub(crate) fn take(id: SpanId) -> Option<Verdict> {
    match NOTE.take() {
        Some((noted, verdict)) if noted == id => Some(verdict),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_for_its_own_span_and_taken_once() {
        let (a, b) = (SpanId::from(1), SpanId::from(2));
        leave(a, Verdict::Late);
        assert_eq!(take(b), None, "another span's note");
        leave(a, Verdict::Done);
        assert_eq!(take(a), Some(Verdict::Done));
        assert_eq!(take(a), None, "taken");
    }
}
