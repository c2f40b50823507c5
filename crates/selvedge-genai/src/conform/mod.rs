//! Shapes a GenAI span's attributes, name and kind to the conventions.
//!
//! [`conform_start`] runs when the span starts (on the SpanBuilder, so samplers
//! and the span kind see conformant data), reusing per-thread `plan`s; the
//! values recorded since — tokens, finish reasons, that tracing-opentelemetry
//! exports as strings — are conformed one by one as they are recorded
//! ([`Tracked`](crate::tracked::Tracked)); [`conform`], the full pass, runs on
//! everything when something needs restructuring.
//!
//! The parts: `classify` (what a key means), `types` (the types values get),
//! `pass` (one pass over a span's keys), `restructure` (renames, keys recorded
//! twice, compatibility mirrors), `shape` (the name and kind that follow), and
//! `plan` (passes remembered per callsite).

use opentelemetry::KeyValue;

use crate::config::{Options, Profile};
use crate::semconv::{latest, legacy, v1_41};

mod classify;
#[cfg(test)]
mod equivalence;
mod pass;
mod plan;
mod restructure;
mod shape;
mod types;

pub(crate) use classify::{classify, marks_genai, sig_bit, Slot};
pub(crate) use shape::Shape;
pub(crate) use types::{retype, Ty};

use classify::any_genai_key;
use pass::{pass, Found};
use restructure::{dedupe, emit_legacy, rename};
use shape::shape;

/// Conforms `attrs` in place; returns the span's shape, or `None` when the
/// span is not a GenAI span.
pub(crate) fn conform<'a>(attrs: &'a mut Vec<KeyValue>, opts: &Options) -> Option<Shape<'a>> {
    if !any_genai_key(attrs) {
        return None;
    }
    let found = pass(attrs, opts.profile);
    finish(attrs, found, opts, opts.compat)
}

/// [`conform`] for a starting span: its keys, when this thread has seen the
/// same keys start a span before, are not classified again (see `plan`).
pub(crate) fn conform_start<'a>(attrs: &'a mut Vec<KeyValue>, opts: &Options) -> Option<Shape<'a>> {
    if !any_genai_key(attrs) {
        return None;
    }
    match plan::reuse(attrs, opts.profile) {
        Some(found) => shape(attrs, found),
        None => start_without_plan(attrs, opts),
    }
}

/// [`conform_start`] for keys this thread has no plan for: the full pass,
/// and a plan kept for the next span. Out of line: the spans of a callsite
/// seen before never run it (code that is not run still takes
/// instruction-cache lines).
#[inline(never)]
fn start_without_plan<'a>(attrs: &'a mut Vec<KeyValue>, opts: &Options) -> Option<Shape<'a>> {
    let found = pass(attrs, opts.profile);
    // GenAI spans only: a service has a handful of GenAI callsites but many
    // others, which would push their plans out (and allocate one each).
    if found.genai && !found.restructures(opts.profile) {
        plan::keep(attrs, &found, opts.profile);
    }
    // Compatibility mode's legacy mirrors are added as the span ends, from
    // the final values: added now, they would read as legacy inputs then.
    finish(attrs, found, opts, false)
}

/// The rest of [`conform`], after the first pass `found` what `attrs` hold;
/// in compatibility mode, legacy mirrors are added if `mirror_legacy`.
fn finish<'a>(
    attrs: &'a mut Vec<KeyValue>,
    mut found: Found,
    opts: &Options,
    mirror_legacy: bool,
) -> Option<Shape<'a>> {
    if !found.genai {
        return None;
    }
    if found.restructures(opts.profile) {
        if found.maybe_duplicate {
            dedupe(attrs);
        }
        // Legacy inputs to current names.
        if found.legacy {
            for (old, new) in legacy::RENAMES {
                let values = match *old {
                    legacy::SYSTEM => legacy::SYSTEM_VALUES,
                    legacy::LLM_REQUEST_TYPE => legacy::REQUEST_TYPE_VALUES,
                    _ => &[],
                };
                rename(attrs, old, new, values, opts.compat);
            }
        }
        if opts.profile == Profile::Latest && found.cache_creation {
            let (old, new) = (
                v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS,
                latest::USAGE_CACHE_WRITE_INPUT_TOKENS,
            );
            rename(attrs, old, new, &[], false);
        }
        // Positions moved, and renamed values need their types.
        found = pass(attrs, opts.profile);
    }

    if mirror_legacy {
        emit_legacy(attrs);
    }
    shape(attrs, found)
}

#[cfg(test)]
mod tests {
    use opentelemetry::Value;

    use super::restructure::position;
    use super::*;
    use crate::semconv as sc;
    #[test]
    fn spans_with_more_attributes_than_the_fast_paths_hold_are_conformed_too() {
        // 40 typed GenAI values (more than the retype list) and 40 other GenAI keys
        // (more than the signature list), one of them recorded twice.
        let mut attrs = vec![KeyValue::new(sc::OPERATION_NAME, "chat")];
        attrs.push(KeyValue::new(sc::REQUEST_MODEL, "m"));
        for i in 0..40 {
            attrs.push(KeyValue::new(format!("gen_ai.custom.{i}"), "x"));
        }
        for _ in 0..40 {
            attrs.push(KeyValue::new(sc::REQUEST_MAX_TOKENS, "256"));
        }
        attrs.push(KeyValue::new(sc::USAGE_INPUT_TOKENS, "42"));
        let shape = conform(&mut attrs, &Options::default()).expect("a GenAI span");
        assert_eq!(shape.name(), "chat m");
        let max_tokens: Vec<_> = attrs
            .iter()
            .filter(|kv| kv.key.as_str() == sc::REQUEST_MAX_TOKENS)
            .collect();
        assert_eq!(max_tokens.len(), 1, "duplicates removed");
        assert_eq!(max_tokens[0].value, Value::I64(256));
        let input = position(&attrs, sc::USAGE_INPUT_TOKENS).map(|i| &attrs[i].value);
        assert_eq!(input, Some(&Value::I64(42)));
        assert_eq!(attrs.len(), 2 + 40 + 1 + 1);
    }
}
