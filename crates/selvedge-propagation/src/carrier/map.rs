//! String maps.

use std::collections::{BTreeMap, HashMap};

use super::Carrier;

/// Keys are looked up exactly first, then case-insensitively (as HTTP header
/// names are), so `Traceparent` written by another library is still found.
macro_rules! map_carrier {
    ($map:ident $(, $bound:path)?) => {
        impl$(<S: $bound>)? Carrier for $map<String, String $(, map_carrier!(@s $bound))?> {
            fn get(&self, key: &str) -> Option<&str> {
                if let Some(v) = $map::get(self, key) {
                    return Some(v);
                }
                self.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
            }

            fn set(&mut self, key: &str, value: String) {
                self.insert(key.to_string(), value);
            }

            fn keys(&self) -> Vec<&str> {
                $map::keys(self).map(String::as_str).collect()
            }
        }
    };
    (@s $bound:path) => { S };
}

map_carrier!(HashMap, std::hash::BuildHasher);
map_carrier!(BTreeMap);
