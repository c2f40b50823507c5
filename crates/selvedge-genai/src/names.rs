//! Interned span names: starting a GenAI span allocates no name.
//!
//! The conventions keep span names low-cardinality (`{operation} {model}`), so
//! a process uses few distinct ones; each is kept once, for the life of the
//! process, up to [`MAX_NAMES`] — past that, names are allocated per span. An
//! allocation on the application thread is not free where the batch thread
//! frees finished spans concurrently: it measured ~10 % of a span's cost in the
//! default pipeline (malloc arena contention).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{LazyLock, RwLock};

use crate::conform::Shape;
use crate::fnv::Fnv1a;

/// Distinct names kept (a few hundred KiB at most).
pub(crate) const MAX_NAMES: usize = 4096;

type Names = HashMap<u64, Vec<&'static str>, BuildHasherDefault<Fnv1a>>;

static NAMES: LazyLock<RwLock<(Names, usize)>> = LazyLock::new(Default::default);

/// The conventional name of `shape`, shared when it was seen before.
pub(crate) fn name(shape: &Shape<'_>) -> Cow<'static, str> {
    let mut h = Fnv1a::default();
    h.write(shape.operation.as_bytes());
    if let Some(subject) = shape.subject {
        h.write(b" ");
        h.write(subject.as_bytes());
    }
    let hash = h.finish();
    let find = |names: &Names| names.get(&hash)?.iter().copied().find(|n| shape.names(n));
    if let Some(known) = NAMES.read().ok().and_then(|n| find(&n.0)) {
        return Cow::Borrowed(known);
    }
    let Ok(mut names) = NAMES.write() else {
        return Cow::Owned(shape.name());
    };
    if let Some(known) = find(&names.0) {
        return Cow::Borrowed(known);
    }
    if names.1 >= MAX_NAMES {
        return Cow::Owned(shape.name());
    }
    // Kept for the life of the process, by design (bounded above).
    let kept: &'static str = Box::leak(shape.name().into_boxed_str());
    names.0.entry(hash).or_default().push(kept);
    names.1 += 1;
    Cow::Borrowed(kept)
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;

    use super::*;
    use crate::conform::conform;
    use crate::semconv as sc;
    use crate::Options;

    fn named(model: &str) -> Cow<'static, str> {
        let mut attrs = vec![
            KeyValue::new(sc::OPERATION_NAME, "chat"),
            KeyValue::new(sc::REQUEST_MODEL, model.to_string()),
        ];
        let shape = conform(&mut attrs, &Options::default()).expect("a GenAI span");
        name(&shape)
    }

    #[test]
    fn a_name_seen_before_is_shared_not_allocated() {
        let (first, second) = (named("names-test-model"), named("names-test-model"));
        assert_eq!(first, "chat names-test-model");
        match (first, second) {
            (Cow::Borrowed(a), Cow::Borrowed(b)) => assert!(std::ptr::eq(a, b)),
            other => panic!("expected shared names, got {other:?}"),
        }
        assert_eq!(named("names-test-other"), "chat names-test-other");
    }
}
