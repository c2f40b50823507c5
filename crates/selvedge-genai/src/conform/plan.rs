//! Plans: what classifying a span's keys found, kept per thread and reused
//! for the next span with the same keys — in practice, from the same
//! callsite: tracing-opentelemetry builds a span's first attributes from its
//! fields in declaration order, and a callsite records the same fields after.
//!
//! Keys are compared by address, not text: a plan holds clones of its keys,
//! which keeps their text alive (a `&'static str`, or the shared `Arc<str>`),
//! so another key at the same address and length is the same text. Keys
//! owned by a span (a `String` key) never match and take the full pass.

use std::cell::RefCell;

use opentelemetry::{Key, KeyValue};

use super::{classify, retype, Found, Ty};
use crate::config::Profile;
use crate::recent::Recent;

/// Plans kept per thread (one per callsite): a service has a handful of
/// GenAI callsites.
const PLANS: usize = 16;

struct Plan {
    profile: Profile,
    /// The keys: held so their text stays where
    /// [`addresses`](Self::addresses) says.
    _keys: Box<[Key]>,
    /// Where each key's text is, and its length.
    addresses: Box<[(usize, usize)]>,
    /// The values to retype, by index.
    typed: Box<[(u16, Ty)]>,
    found: Found,
}

impl Plan {
    fn fits(&self, keys: &[KeyValue], profile: Profile) -> bool {
        self.addresses.len() == keys.len()
            && self.profile == profile
            && self
                .addresses
                .iter()
                .zip(keys)
                .all(|(at, kv)| *at == address(&kv.key))
    }
}

fn address(key: &Key) -> (usize, usize) {
    let text = key.as_str();
    (text.as_ptr() as usize, text.len())
}

thread_local! {
    static KEPT: RefCell<Recent<Plan, PLANS>> = const { RefCell::new(Recent::new()) };
}

/// Conforms `attrs` by the plan for their keys, if this thread has one: their
/// values retyped; what the full pass would have found.
pub(super) fn reuse(keys: &mut [KeyValue], profile: Profile) -> Option<Found> {
    KEPT.with(|plans| {
        let plans = plans.try_borrow().ok()?;
        let plan = plans.find(|p| p.fits(keys, profile))?;
        for &(i, ty) in plan.typed.iter() {
            retype(&mut keys[usize::from(i)], ty);
        }
        Some(plan.found)
    })
}

/// Keeps the plan for `keys`, for which the pass found `found` (a GenAI
/// span that needs no restructuring).
pub(super) fn keep(keys: &[KeyValue], found: &Found, profile: Profile) {
    let typed: Option<Box<[(u16, Ty)]>> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, kv)| Some((i, classify(kv.key.as_str(), profile)?.ty?)))
        .map(|(i, ty)| Some((u16::try_from(i).ok()?, ty)))
        .collect();
    let Some(typed) = typed else { return };
    let held: Box<[Key]> = keys.iter().map(|kv| kv.key.clone()).collect();
    // An owned key's clone is elsewhere: no later span could match the plan,
    // which would only push out one that can.
    if held
        .iter()
        .zip(keys)
        .any(|(h, kv)| address(h) != address(&kv.key))
    {
        return;
    }
    let plan = Plan {
        profile,
        // Addresses of the clones: an owned key's clone is text of its own,
        // which no later key can share an address with.
        addresses: held.iter().map(address).collect(),
        _keys: held,
        typed,
        found: *found,
    };
    KEPT.with(|plans| {
        if let Ok(mut plans) = plans.try_borrow_mut() {
            plans.keep(plan);
        }
    });
}

#[cfg(test)]
mod tests {
    use opentelemetry::Value;

    use super::*;
    use crate::conform::pass;
    use crate::semconv as sc;

    /// A chat span's first attributes, keys static (as from tracing's fields).
    fn chat(max_tokens: &str) -> Vec<KeyValue> {
        vec![
            KeyValue::new(sc::OPERATION_NAME, "chat"),
            KeyValue::new(sc::REQUEST_MODEL, "m"),
            KeyValue::new("plan.test.other", 1_i64),
            KeyValue::new(sc::REQUEST_MAX_TOKENS, max_tokens.to_string()),
        ]
    }

    fn kept(attrs: &mut [KeyValue]) -> Found {
        let found = pass(attrs, Profile::V1_41);
        keep(attrs, &found, Profile::V1_41);
        found
    }

    #[test]
    fn the_same_keys_reuse_the_plan_and_their_values_are_typed() {
        let found = kept(&mut chat("256"));
        let mut next = chat("7");
        assert_eq!(reuse(&mut next, Profile::V1_41), Some(found));
        assert_eq!(next[3].value, Value::I64(7), "retyped by the plan");
        assert_eq!(
            reuse(&mut chat("7"), Profile::Latest),
            None,
            "another profile classifies differently"
        );
    }

    #[test]
    fn other_keys_or_equal_text_at_another_address_take_the_full_pass() {
        kept(&mut chat("256"));
        let mut other = chat("256");
        other[2] = KeyValue::new("plan.test.different", 1_i64);
        assert_eq!(reuse(&mut other, Profile::V1_41), None);
        let mut owned = chat("256");
        owned[0] = KeyValue::new(Key::new(sc::OPERATION_NAME.to_string()), "chat");
        assert_eq!(
            reuse(&mut owned, Profile::V1_41),
            None,
            "same text, not the same key"
        );
        assert_eq!(
            reuse(&mut chat("1")[..3], Profile::V1_41),
            None,
            "fewer keys"
        );
    }

    #[test]
    fn a_plan_never_matches_by_the_address_of_text_it_does_not_hold() {
        // An owned key's text is freed with its span, and its address can be
        // reused by other text: the plan must compare against its own copy.
        let mut owned = chat("256");
        owned[2] = KeyValue::new(Key::new("plan.test.owned".to_string()), 1_i64);
        kept(&mut owned);
        assert_eq!(reuse(&mut owned, Profile::V1_41), None);
    }

    #[test]
    fn spans_with_owned_keys_push_out_no_plan() {
        let found = kept(&mut chat("256"));
        for i in 0..2 * PLANS {
            let mut owned = chat("1");
            owned[2] = KeyValue::new(Key::new(format!("plan.test.owned.{i}")), 1_i64);
            kept(&mut owned);
        }
        assert_eq!(reuse(&mut chat("3"), Profile::V1_41), Some(found));
    }
}
