//! The small tokio runtime selvedge owns for the gRPC exporter.
//!
//! tonic spawns its connection task on the runtime current at build time. If
//! that were the application's runtime, exports would stall whenever it is busy
//! or blocked, and `shutdown()` from inside a current-thread runtime would wait
//! for a task that can never run. One dedicated worker thread avoids both (more
//! workers were measured: on two cores they only compete with the producer).

use std::sync::Mutex;

/// A one-worker runtime, shut down in the background when dropped.
#[derive(Debug)]
#[cfg_attr(not(feature = "otlp-grpc"), allow(dead_code))]
pub(crate) struct ExportRuntime {
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
}

impl ExportRuntime {
    pub(crate) fn new() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("selvedge-export")
            .enable_all()
            .build()?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Mutex::new(Some(runtime)),
        })
    }

    /// Makes this runtime current for the returned guard's lifetime.
    #[cfg_attr(not(feature = "otlp-grpc"), allow(dead_code))]
    pub(crate) fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.handle.enter()
    }
}

impl Drop for ExportRuntime {
    fn drop(&mut self) {
        // Dropping a runtime inside another runtime's context panics; this never blocks.
        if let Some(rt) = self.runtime.lock().ok().and_then(|mut r| r.take()) {
            rt.shutdown_background();
        }
    }
}
