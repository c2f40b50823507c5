//! Helpers shared by the integration tests and the `selvedge-probe` binary.
#![deny(missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

/// An in-memory writer usable as a `MakeWriter`; clones share the buffer.
#[derive(Clone, Default)]
pub struct CapturedWriter(Arc<Mutex<Vec<u8>>>);

impl CapturedWriter {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

impl Write for CapturedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedWriter {
    type Writer = CapturedWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A small instrumented workload: a root span with two children, one async-style
/// nested call, typed fields of every kind, and one failing call.
pub mod workload {
    /// The root of the workload; returns the error message of the failing child.
    #[tracing::instrument(fields(pipeline.kind = "research", doc.count = 3_i64))]
    pub fn run_pipeline() -> Option<String> {
        let total = fetch_documents(3);
        summarize(total);
        publish().err()
    }

    /// A child span with typed attributes.
    #[tracing::instrument(fields(ratio = 0.5_f64, cached = true, tokens = 42_u64, signed = -7_i64))]
    pub fn fetch_documents(n: i64) -> i64 {
        tracing::info!(documents = n, "fetched documents");
        n * 100
    }

    /// A child span with a grandchild.
    #[tracing::instrument]
    pub fn summarize(chars: i64) {
        embed(chars);
    }

    /// The grandchild.
    #[tracing::instrument]
    pub fn embed(chars: i64) {
        tracing::debug!(chars, "embedding");
    }

    /// A child that fails (`err` makes the span's status Error).
    #[tracing::instrument(err)]
    pub fn publish() -> Result<(), String> {
        Err("upstream timed out".to_string())
    }

    /// An async span with a child, for the runtime scenarios.
    #[tracing::instrument]
    pub async fn async_step(step: i64) -> i64 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        child_step(step)
    }

    /// The async span's child.
    #[tracing::instrument]
    pub fn child_step(step: i64) -> i64 {
        step + 1
    }
}
