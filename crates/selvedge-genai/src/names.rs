//! Interned span names: starting a GenAI span allocates no name.
//!
//! The conventions keep span names low-cardinality (`{operation} {model}`), so
//! a process uses few distinct ones; each is kept once, for the life of the
//! process, up to [`MAX_NAMES`] — past that, names are allocated per span. An
//! allocation on the application thread is not free where the batch thread
//! frees finished spans concurrently: it measured ~10 % of a span's cost in the
//! default pipeline (malloc arena contention).
//!
//! Each name is kept with the [`Layout`] of the spans that started with it, so
//! `GenAiProcessor` can find, from the finished span's name alone, where the
//! start left its attributes ([`layout_of`]).

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{LazyLock, RwLock};

use crate::conform::{Layout, Shape};
use crate::fnv::Fnv1a;
use crate::recent::Recent;

/// Distinct names kept (a few hundred KiB at most).
pub(crate) const MAX_NAMES: usize = 4096;

/// A name, with the layout of the spans that started with it: the same text
/// from callsites with different fields is kept once per layout.
#[derive(Debug)]
struct Interned {
    name: Box<str>,
    layout: Layout,
}

impl Interned {
    fn is(&self, name: &str) -> bool {
        std::ptr::eq(self.name.as_ptr(), name.as_ptr()) && self.name.len() == name.len()
    }
}

type Fnv = BuildHasherDefault<Fnv1a>;

#[derive(Default)]
struct Table {
    /// By hash of text and layout, to find a name as a span starts.
    by_hash: HashMap<u64, Vec<&'static Interned>, Fnv>,
    /// By address of the text, to find a layout as the span ends.
    by_address: HashMap<usize, &'static Interned, Fnv>,
}

static NAMES: LazyLock<RwLock<Table>> = LazyLock::new(Default::default);

thread_local! {
    /// The names this thread used last: a service calling a few models and
    /// tools over and over finds them here, without a hash or a lock.
    static USED: Cell<Recent<&'static Interned, 4>> = const { Cell::new(Recent::new()) };
}

/// A name this thread used lately that `f` accepts.
fn used(f: impl Fn(&Interned) -> bool) -> Option<&'static Interned> {
    USED.get().find(|e| f(e)).copied()
}

fn keep_used(name: &'static Interned) {
    let mut used = USED.get();
    used.keep(name);
    USED.set(used);
}

/// The conventional name of `shape`, shared when it was seen before; its
/// layout can be read back with [`layout_of`] when the span ends.
pub(crate) fn name(shape: &Shape<'_>) -> Cow<'static, str> {
    let Some(layout) = shape.layout() else {
        return Cow::Owned(shape.name());
    };
    // The text first: a different length rejects at once.
    let found = |e: &Interned| shape.names(&e.name) && e.layout == layout;
    if let Some(known) = used(found) {
        return Cow::Borrowed(&known.name);
    }
    let mut h = Fnv1a::default();
    h.write(shape.operation.as_bytes());
    if let Some(subject) = shape.subject {
        h.write(b" ");
        h.write(subject.as_bytes());
    }
    layout.hash(&mut h);
    let hash = h.finish();
    let find = |t: &Table| t.by_hash.get(&hash)?.iter().copied().find(|e| found(e));
    let known = match NAMES.read().ok().and_then(|t| find(&t)) {
        Some(known) => known,
        None => {
            let Ok(mut table) = NAMES.write() else {
                return Cow::Owned(shape.name());
            };
            match find(&table) {
                Some(known) => known,
                None if table.by_address.len() >= MAX_NAMES => return Cow::Owned(shape.name()),
                None => {
                    // Kept for the life of the process, by design (bounded above).
                    let kept: &'static Interned = Box::leak(Box::new(Interned {
                        name: shape.name().into_boxed_str(),
                        layout,
                    }));
                    table.by_hash.entry(hash).or_default().push(kept);
                    table.by_address.insert(kept.name.as_ptr() as usize, kept);
                    kept
                }
            }
        }
    };
    keep_used(known);
    Cow::Borrowed(&known.name)
}

/// The layout a span named by [`name`] started with; `None` for any other
/// name (renamed since, or past [`MAX_NAMES`]).
pub(crate) fn layout_of(name: &str) -> Option<Layout> {
    // By address: no other string can be at one of ours (they live forever).
    if let Some(known) = used(|e| e.is(name)) {
        return Some(known.layout);
    }
    let table = NAMES.read().ok()?;
    let known = *table.by_address.get(&(name.as_ptr() as usize))?;
    known.is(name).then(|| {
        keep_used(known);
        known.layout
    })
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

    #[test]
    fn only_an_interned_name_gives_back_its_layout() {
        let name = named("names-test-layout");
        assert!(layout_of(&name).is_some());
        let same_text = String::from("chat names-test-layout");
        assert_eq!(layout_of(&same_text), None, "found by address, not by text");
        assert_eq!(layout_of(&name[..4]), None, "a prefix of an interned name");
    }
}
