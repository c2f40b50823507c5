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

/// Distinct names kept — by hash, and names that share a 64-bit hash are
/// next to none — a few hundred KiB at most.
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
    if let Some(known) = used(|name| shape.names(name)) {
        return Cow::Borrowed(known);
    }
    match intern(&NAMES, shape) {
        Some(known) => {
            keep_used(known);
            Cow::Borrowed(known)
        }
        None => Cow::Owned(shape.name()),
    }
}

/// `shape`'s name from `table`, kept there if new; `None` once the table
/// holds [`MAX_NAMES`] (told under the read lock: past the cap, a new name
/// never waits for the write lock).
#[cold]
#[inline(never)]
fn intern(table: &RwLock<Table>, shape: &Shape<'_>) -> Option<&'static str> {
    let mut h = Fnv1a::default();
    h.write(shape.operation.as_bytes());
    if let Some(subject) = shape.subject {
        h.write(b" ");
        h.write(subject.as_bytes());
    }
    let hash = h.finish();
    let find = |t: &Table| t.get(&hash)?.iter().copied().find(|e| shape.names(e));
    {
        let t = table.read().ok()?;
        if let Some(known) = find(&t) {
            return Some(known);
        }
        if t.len() >= MAX_NAMES {
            return None;
        }
    }
    let mut t = table.write().ok()?;
    if let Some(known) = find(&t) {
        return Some(known);
    }
    if t.len() >= MAX_NAMES {
        return None;
    }
    // Kept for the life of the process, by design (bounded above).
    let kept: &'static str = Box::leak(shape.name().into_boxed_str());
    t.entry(hash).or_default().push(kept);
    Some(kept)
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
    fn past_the_cap_new_names_are_not_kept_and_known_ones_still_are() {
        let table = RwLock::new(Table::default());
        let intern_model = |model: String| {
            let mut attrs = vec![
                KeyValue::new(sc::OPERATION_NAME, "chat"),
                KeyValue::new(sc::REQUEST_MODEL, model),
            ];
            let shape = conform(&mut attrs, &Options::default()).expect("a GenAI span");
            intern(&table, &shape)
        };
        let first = intern_model("cap-0".into()).expect("kept");
        for i in 1..MAX_NAMES {
            assert!(intern_model(format!("cap-{i}")).is_some());
        }
        assert_eq!(intern_model("cap-new".into()), None, "past the cap");
        assert_eq!(table.read().unwrap().len(), MAX_NAMES);
        assert!(std::ptr::eq(intern_model("cap-0".into()).unwrap(), first));
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
