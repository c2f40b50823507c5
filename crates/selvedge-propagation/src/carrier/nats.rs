//! NATS message headers (feature `nats`).

use super::Carrier;

impl Carrier for async_nats::HeaderMap {
    fn get(&self, key: &str) -> Option<&str> {
        async_nats::HeaderMap::get(self, key).map(|v| v.as_str())
    }

    fn set(&mut self, key: &str, value: String) {
        self.insert(key, value.as_str());
    }

    fn keys(&self) -> Vec<&str> {
        self.iter().map(|(k, _)| k.as_ref()).collect()
    }
}
