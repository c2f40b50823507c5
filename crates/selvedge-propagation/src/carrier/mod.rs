//! Where trace context travels: the [`Carrier`] trait and its implementations.

mod map;
mod message;
#[cfg(feature = "nats")]
mod nats;

pub use message::TRACE_CONTEXT_KEY;

use opentelemetry::propagation::{Extractor, Injector};

/// The W3C keys, and the largest value selvedge reads for each. Longer values
/// are ignored (treated as absent), so a hostile carrier cannot make the
/// propagators allocate without bound. `traceparent` is 55 characters in
/// version 00 (later versions may append fields); tracestate allows 32 members
/// of up to 256 + 256 characters; baggage allows 8192 bytes.
const LIMITS: &[(&str, usize)] = &[
    ("traceparent", 512),
    ("tracestate", 8192),
    ("baggage", 8192),
];

/// Any other key (another propagator's) is capped at this many bytes.
const DEFAULT_LIMIT: usize = 8192;

/// A place trace context can be written to and read from: message headers, a
/// string map, a JSON message. Implement it for your own transport (Kafka
/// headers, AMQP properties, …) in a few lines:
///
/// ```
/// use selvedge_propagation::Carrier;
///
/// /// Kafka-style headers: a list of (key, bytes) pairs.
/// struct KafkaHeaders(Vec<(String, Vec<u8>)>);
///
/// impl Carrier for KafkaHeaders {
///     fn get(&self, key: &str) -> Option<&str> {
///         let (_, value) = self.0.iter().find(|(k, _)| k == key)?;
///         std::str::from_utf8(value).ok()
///     }
///     fn set(&mut self, key: &str, value: String) {
///         self.0.retain(|(k, _)| k != key);
///         self.0.push((key.to_string(), value.into_bytes()));
///     }
/// }
/// ```
pub trait Carrier {
    /// The value for `key` (propagators ask for lower-case W3C names), if it is
    /// present and text.
    fn get(&self, key: &str) -> Option<&str>;

    /// Sets `key` to `value`, replacing any earlier value.
    fn set(&mut self, key: &str, value: String);

    /// The keys present (used by propagators that look for prefixes, such as
    /// Jaeger's baggage); the W3C propagators do not need it.
    fn keys(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// Reads a carrier for a propagator, enforcing the size limits.
pub(crate) struct Reading<'a, C: ?Sized>(pub &'a C);

impl<C: Carrier + ?Sized> Extractor for Reading<'_, C> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = self.0.get(key)?;
        let limit = LIMITS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(DEFAULT_LIMIT, |(_, l)| *l);
        if value.len() > limit || (key == "traceparent" && !traceparent_layout(value)) {
            return None;
        }
        Some(value)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys()
    }
}

/// The W3C traceparent layout: `vv-<32>-<16>-ff`, exactly 55 characters for
/// version 00, and for a later version 55 or more with a `-` after the flags;
/// the four fields hex digits only.
///
/// This is not a parser — the propagator parses — but opentelemetry 0.33's
/// parser accepts short fields and zero-pads them, which would invent a trace
/// id the sender never had (`…e473` becomes `04bf…e473`), and it reads each
/// field as an integer, which takes a leading `+` (`+bf9…` becomes `0bf9…`).
/// Checking the fixed widths and the digits first makes such a header a fresh
/// root, as the specification says.
fn traceparent_layout(value: &str) -> bool {
    let b = value.as_bytes();
    let dashes = b.len() >= 55 && b[2] == b'-' && b[35] == b'-' && b[52] == b'-';
    let rest_ok = b.len() == 55 || (b.get(..2) != Some(b"00") && b.get(55) == Some(&b'-'));
    // Case is the propagator's to judge (it rejects upper case).
    let hex = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_hexdigit);
    dashes && rest_ok && hex(0..2) && hex(3..35) && hex(36..52) && hex(53..55)
}

/// Writes to a carrier for a propagator.
pub(crate) struct Writing<'a, C: ?Sized>(pub &'a mut C);

impl<C: Carrier + ?Sized> Injector for Writing<'_, C> {
    fn set(&mut self, key: &str, value: String) {
        self.0.set(key, value);
    }
}

/// HTTP headers; writing goes through opentelemetry-http's `HeaderInjector`
/// (a value that is not a valid header value is skipped). Names are case-insensitive.
impl Carrier for http::HeaderMap {
    fn get(&self, key: &str) -> Option<&str> {
        http::HeaderMap::get(self, key).and_then(|v| v.to_str().ok())
    }

    fn set(&mut self, key: &str, value: String) {
        opentelemetry_http::HeaderInjector(self).set(key, value);
    }

    fn keys(&self) -> Vec<&str> {
        http::HeaderMap::keys(self).map(|k| k.as_str()).collect()
    }
}
