//! [`Recent`]: a few values a thread keeps at hand, the oldest replaced first.
//!
//! A service calls a handful of models and tools over and over; keeping the
//! last few of something per thread (conformance plans, interned names,
//! metric series) finds them again without a hash or a lock.

/// Up to `N` values; once full, each new one replaces the oldest.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recent<T, const N: usize> {
    items: [Option<T>; N],
    /// The slot the next value goes to.
    next: usize,
}

impl<T, const N: usize> Recent<T, N> {
    /// None yet (usable in a `const` thread-local).
    pub(crate) const fn new() -> Self {
        Recent {
            items: [const { None }; N],
            next: 0,
        }
    }

    /// The first value kept that `f` accepts.
    #[inline]
    pub(crate) fn find(&self, f: impl FnMut(&&T) -> bool) -> Option<&T> {
        self.items.iter().flatten().find(f)
    }

    /// Keeps `item`, in place of the oldest when full.
    pub(crate) fn keep(&mut self, item: T) {
        self.items[self.next] = Some(item);
        self.next = (self.next + 1) % N;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_goes_first() {
        let mut r: Recent<u32, 2> = Recent::new();
        assert_eq!(r.find(|_| true), None);
        r.keep(1);
        r.keep(2);
        assert_eq!(r.find(|v| **v == 1), Some(&1));
        r.keep(3);
        assert_eq!(r.find(|v| **v == 1), None, "replaced");
        assert_eq!(r.find(|v| **v == 2), Some(&2));
        assert_eq!(r.find(|v| **v == 3), Some(&3));
    }
}
