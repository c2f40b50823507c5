//! FNV-1a, for the maps on the span path (metric series, span names).
//!
//! Their keys are a few short strings; SipHash over them cost more than the
//! work the maps save. Colliding keys only share a bucket, and both maps are
//! bounded, so a flood of crafted names cannot make a bucket unbounded.

use std::hash::Hasher;

/// The FNV-1a 64-bit hasher.
pub(crate) struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
