//! GenAI numbers recorded as `u64` — token counts above all — handed to the
//! tracing-opentelemetry layer as the numbers the conventions make them.
//!
//! tracing-opentelemetry exports a `u64` as text: it formats it (`{:?}`)
//! into a new `String`, which the span's wrapper then parses back. For a
//! record of one field — what `Span::record` makes, and how token counts
//! arrive — the layer hands it an `i64` (or `f64`) instead: the same
//! attribute, without the text: ~790 instructions less a value, visiting the
//! record included (docs/performance.md).
//!
//! Only keys the conventions type (`gen_ai.*`, `llm.*`) are changed, the
//! same ones the wrapper or `GenAiProcessor` would retype: what is exported
//! does not change, only what it costs. Records of several fields, and
//! `server.port` (typed only on GenAI spans, which a record does not tell),
//! take the usual way.

use tracing::field::{Field, Value, Visit};
use tracing_core::field::FieldSet;
use tracing_core::span::Record;

use crate::config::Profile;
use crate::conform::{classify, Ty};

/// A `u64` as the number its key is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Number {
    Int(i64),
    Double(f64),
}

/// The one value of `values`, if it is a `u64` on a GenAI key the
/// conventions make a number (an `i64` only if it fits one).
pub(super) fn find(values: &Record<'_>, profile: Profile) -> Option<(Field, Number)> {
    let mut found = U64 {
        profile,
        fields: 0,
        found: None,
    };
    values.record(&mut found);
    found.found.filter(|_| found.fields == 1)
}

/// Hands `f` a record of `field` set to `number`.
pub(super) fn with_record<R>(field: &Field, number: Number, f: impl FnOnce(&Record<'_>) -> R) -> R {
    let (int, double);
    let value: &dyn Value = match number {
        Number::Int(n) => {
            int = n;
            &int
        }
        Number::Double(x) => {
            double = x;
            &double
        }
    };
    // `value_set` is how `Span::record` builds its record (the macros of
    // every tracing 0.1 release call it: hidden from the docs, not unstable).
    // A value set visits the fields of its own callsite, each by the name the
    // field carries: a field set of the field's callsite that lists no names
    // holds it as well as the callsite's own, without looking the span's
    // metadata up in the registry (≈ 120 instructions a record).
    let values = [(field, Some(value))];
    let callsite = FieldSet::new(&[], field.callsite());
    let set = callsite.value_set(&values);
    f(&Record::new(&set))
}

/// Counts the values (cheaper than asking the record first) and keeps the
/// last `u64` on a number's key.
struct U64 {
    profile: Profile,
    fields: usize,
    found: Option<(Field, Number)>,
}

impl Visit for U64 {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields += 1;
        let Some(class) = classify(field.name(), self.profile).filter(|c| c.genai) else {
            return;
        };
        let number = match class.ty {
            Some(Ty::Int) => i64::try_from(value).ok().map(Number::Int),
            Some(Ty::Double) => Some(Number::Double(value as f64)),
            _ => None,
        };
        self.found = number.map(|n| (field.clone(), n));
    }

    // Every other type ends here by default.
    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {
        self.fields += 1;
    }
}
