//! String maps.

use std::collections::HashMap;

use super::Carrier;

/// Keys are looked up exactly first, then case-insensitively (as HTTP header
/// names are), so `Traceparent` written by another library is still found.
impl<S: std::hash::BuildHasher> Carrier for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        if let Some(v) = HashMap::get(self, key) {
            return Some(v);
        }
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_string(), value);
    }

    fn keys(&self) -> Vec<&str> {
        HashMap::keys(self).map(String::as_str).collect()
    }
}

impl Carrier for std::collections::BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        if let Some(v) = std::collections::BTreeMap::get(self, key) {
            return Some(v);
        }
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_string(), value);
    }

    fn keys(&self) -> Vec<&str> {
        std::collections::BTreeMap::keys(self)
            .map(String::as_str)
            .collect()
    }
}
