//! String maps.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use super::Carrier;

/// Keys are looked up exactly first, then case-insensitively (as HTTP header
/// names are), so `Traceparent` written by another library is still found.
fn lookup<'a>(
    exact: Option<&'a String>,
    mut entries: impl Iterator<Item = (&'a String, &'a String)>,
    key: &str,
) -> Option<&'a str> {
    exact
        .or_else(|| {
            entries
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .map(String::as_str)
}

impl<S: BuildHasher> Carrier for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        lookup(HashMap::get(self, key), self.iter(), key)
    }

    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_string(), value);
    }

    fn keys(&self) -> Vec<&str> {
        HashMap::keys(self).map(String::as_str).collect()
    }
}

impl Carrier for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        lookup(BTreeMap::get(self, key), self.iter(), key)
    }

    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_string(), value);
    }

    fn keys(&self) -> Vec<&str> {
        BTreeMap::keys(self).map(String::as_str).collect()
    }
}
