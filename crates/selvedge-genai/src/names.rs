//! Interned span names: starting a GenAI span allocates no name.
//!
//! The conventions keep span names low-cardinality (`{operation} {model}`), so
//! a process uses few distinct ones; each is kept once, for the life of the
//! process, up to [`MAX_NAMES`] — past that, names are allocated per span. An
//! allocation on the application thread is not free where the batch thread
//! frees finished spans concurrently: it measured ~10 % of a span's cost in the
//! default pipeline (malloc arena contention).

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{LazyLock, RwLock};

use crate::conform::Shape;
use crate::fnv::Fnv1a;
use crate::recent::Recent;

/// Distinct names kept (a few hundred KiB at most).
pub(crate) const MAX_NAMES: usize = 4096;

type Fnv = BuildHasherDefault<Fnv1a>;

/// The names kept, by hash of their text (found as a span starts without
/// building the text).
type Table = HashMap<u64, Vec<&'static str>, Fnv>;

static NAMES: LazyLock<RwLock<Table>> = LazyLock::new(Default::default);

thread_local! {
    /// The names this thread used last: a service calling a few models and
    /// tools over and over finds them here, without a hash or a lock.
    static USED: Cell<Recent<&'static str, 4>> = const { Cell::new(Recent::new()) };
}

/// A name this thread used lately that `f` accepts.
fn used(f: impl Fn(&str) -> bool) -> Option<&'static str> {
    USED.get().find(|e| f(e)).copied()
}

fn keep_used(name: &'static str) {
    let mut used = USED.get();
    used.keep(name);
    USED.set(used);
}

/// The conventional name of `shape`, shared when it was seen before
/// (borrowed), allocated past [`MAX_NAMES`] (owned).
pub(crate) fn name(shape: &Shape<'_>) -> Cow<'static, str> {
    let found = |name: &str| shape.names(name);
    if let Some(known) = used(found) {
        return Cow::Borrowed(known);
    }
    let mut h = Fnv1a::default();
    h.write(shape.operation.as_bytes());
    if let Some(subject) = shape.subject {
        h.write(b" ");
        h.write(subject.as_bytes());
    }
    let hash = h.finish();
    let find = |t: &Table| t.get(&hash)?.iter().copied().find(|e| found(e));
    let known = match NAMES.read().ok().and_then(|t| find(&t)) {
        Some(known) => known,
        None => {
            let Ok(mut table) = NAMES.write() else {
                return Cow::Owned(shape.name());
            };
            match find(&table) {
                Some(known) => known,
                None if table.values().map(Vec::len).sum::<usize>() >= MAX_NAMES => {
                    return Cow::Owned(shape.name())
                }
                None => {
                    // Kept for the life of the process, by design (bounded above).
                    let kept: &'static str = Box::leak(shape.name().into_boxed_str());
                    table.entry(hash).or_default().push(kept);
                    kept
                }
            }
        }
    };
    keep_used(known);
    Cow::Borrowed(known)
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
