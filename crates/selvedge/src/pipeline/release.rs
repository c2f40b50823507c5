//! [`Release`]: the subscriber's innermost layer, which holds the SDK
//! providers so that the subscriber's last reference to them is dropped last,
//! and drops them on a thread of their own.
//!
//! tracing-core 0.1.36 can drop a subscriber while it holds its registry's
//! write lock: rebuilding callsite interest when a dispatcher is created, it
//! takes a strong reference to each live subscriber in turn, and if the
//! application drops its own last reference meanwhile, the rebuild's is the
//! last (tokio-rs/tracing#3269). The SDK providers log as their last
//! reference drops; an event whose callsite is new then waits for that same
//! lock, on the thread that holds it — a deadlock, seen in a test suite that
//! builds pipelines on parallel threads (`drop-while-registering` in the
//! probe reproduced it in 4 runs of 12). Dropped on a thread of their own,
//! the providers' events wait for the rebuild to finish instead.

use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;

/// Clones of the providers, for their last drop (see the module docs).
pub(super) struct Release {
    held: Option<Held>,
}

type Held = (
    Option<SdkTracerProvider>,
    Option<SdkMeterProvider>,
    Option<SdkLoggerProvider>,
);

impl Release {
    pub(super) fn new(
        traces: Option<&SdkTracerProvider>,
        metrics: Option<&SdkMeterProvider>,
        logs: Option<&SdkLoggerProvider>,
    ) -> Self {
        Release {
            held: Some((traces.cloned(), metrics.cloned(), logs.cloned())),
        }
    }
}

// No callbacks: it only holds.
impl<S: Subscriber> Layer<S> for Release {}

impl Drop for Release {
    fn drop(&mut self) {
        let held = self.held.take();
        // Only when the OS refuses a thread is it dropped here (`spawn` drops
        // the closure, and `held` with it), as it would be without this layer.
        let _ = std::thread::Builder::new()
            .name("selvedge-release".into())
            .spawn(move || drop(held));
    }
}
