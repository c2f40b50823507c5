//! One pass over a span's attributes: every key classified, every value
//! typed, and [`Found`], what the pass saw — where the naming and metric
//! attributes are, and whether anything must be restructured.

use opentelemetry::KeyValue;

use super::classify::{classify, sig_bit, Slot, SLOTS};
use super::types::retype;
use crate::config::Profile;

/// What one pass over the attributes found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Found {
    pub(super) genai: bool,
    pub(super) legacy: bool,
    pub(super) cache_creation: bool,
    /// A classified key may have been recorded twice (dedupe to be sure).
    pub(super) maybe_duplicate: bool,
    /// The [`sig_bit`]s of the classified keys without a slot.
    pub(super) sig_bits: u64,
    /// The slots filled, by bit: what `at` says, kept as it is filled
    /// (deriving it from `at` for every tracked span measured +130
    /// instructions).
    pub(super) slots: u32,
    /// Where each slot's attribute is ([`NOWHERE`] if absent). Small on
    /// purpose: it is copied into every plan.
    pub(super) at: [u16; SLOTS],
}

/// No attribute (spans hold at most a few hundred).
const NOWHERE: u16 = u16::MAX;

impl Default for Found {
    fn default() -> Self {
        Found {
            genai: false,
            legacy: false,
            cache_creation: false,
            maybe_duplicate: false,
            sig_bits: 0,
            slots: 0,
            at: [NOWHERE; SLOTS],
        }
    }
}

impl Found {
    pub(super) fn at(&self, slot: Slot) -> Option<usize> {
        Some(self.at[slot as usize])
            .filter(|i| *i != NOWHERE)
            .map(usize::from)
    }

    /// Whether keys must be removed or renamed (not only retyped).
    pub(super) fn restructures(&self, profile: Profile) -> bool {
        self.maybe_duplicate || self.legacy || (profile == Profile::Latest && self.cache_creation)
    }

    pub(super) fn set(&mut self, slot: Slot, index: usize) {
        self.at[slot as usize] = u16::try_from(index).unwrap_or(NOWHERE);
        self.slots |= 1 << slot as u32;
    }
}

/// One pass: classifies every key, gives values the type the conventions
/// require (u64 arrives from tracing as a string), and notes where the naming
/// and metric attributes are and whether anything needs restructuring.
pub(super) fn pass(attrs: &mut [KeyValue], profile: Profile) -> Found {
    let mut found = Found::default();
    // A typed key seen before the span was known to be a GenAI span (only
    // `server.port` can be): retyped once it is, left alone otherwise.
    let mut pending = None;
    for i in 0..attrs.len() {
        let key = attrs[i].key.as_str();
        // Most attributes (code.*, thread.*, the app's own) stop at this
        // byte, without a call: `classify` is too large to inline here.
        if !matches!(key.as_bytes().first(), Some(b'g' | b'l' | b's' | b'e')) {
            continue;
        }
        let Some(class) = classify(key, profile) else {
            continue;
        };
        found.genai |= class.genai;
        found.legacy |= class.legacy;
        found.cache_creation |= class.cache_creation;
        // Recorded twice? A slot's key is known by its slot; any other key by
        // its bit, confirmed by comparing keys only when the bit is taken.
        match class.slot {
            Some(slot) => {
                found.maybe_duplicate |= found.at(slot).is_some();
                found.set(slot, i);
            }
            None => {
                let bit = sig_bit(key);
                if found.sig_bits & bit != 0 && attrs[..i].iter().any(|kv| kv.key.as_str() == key) {
                    found.maybe_duplicate = true;
                }
                found.sig_bits |= bit;
            }
        }
        if let Some(ty) = class.ty {
            match found.genai {
                true => retype(&mut attrs[i], ty),
                false => pending = Some((i, ty)),
            }
        }
    }
    if let (true, Some((i, ty))) = (found.genai, pending) {
        retype(&mut attrs[i], ty);
    }
    found
}
