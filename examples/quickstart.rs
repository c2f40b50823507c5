//! selvedge in one call: a small simulated research pipeline.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//! prints each finished trace as a tree on stderr. Point it at a collector and
//! the same spans are exported over OTLP instead:
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run --example quickstart
//! ```

use std::time::Duration;

use tracing::{info, instrument, warn};

#[derive(Debug)]
struct Document {
    title: &'static str,
    words: i64,
}

#[derive(Debug)]
struct PublishError(&'static str);

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Fetches the documents to summarise (async, like a real HTTP call).
#[instrument(fields(source = "arxiv", documents))]
async fn fetch_documents(query: &str) -> Vec<Document> {
    tokio::time::sleep(Duration::from_millis(15)).await;
    let docs = vec![
        Document {
            title: "Attention Is All You Need",
            words: 6100,
        },
        Document {
            title: "Scaling Laws",
            words: 9400,
        },
    ];
    tracing::Span::current().record("documents", docs.len() as i64);
    info!(count = docs.len() as i64, "fetched documents");
    docs
}

/// Summarises one document with a (simulated) model call.
#[instrument(skip(doc), fields(title = doc.title, temperature = 0.2_f64))]
fn summarize(doc: &Document) -> String {
    std::thread::sleep(Duration::from_millis(5));
    let summary = format!("{}: {} words", doc.title, doc.words);
    info!(summary_len = summary.len() as i64, "summarized");
    summary
}

/// Publishes the summaries; this one fails, as publishing sometimes does.
#[instrument(skip(summaries), err)]
fn publish(summaries: &[String]) -> Result<(), PublishError> {
    warn!(pending = summaries.len() as i64, "publish endpoint is slow");
    Err(PublishError("publish endpoint timed out"))
}

#[instrument]
async fn run_pipeline(query: &str) {
    let docs = fetch_documents(query).await;
    let summaries: Vec<String> = docs.iter().map(summarize).collect();
    let _ = publish(&summaries);
}

#[tokio::main]
async fn main() -> Result<(), selvedge::Error> {
    let telemetry = selvedge::init("research-pipeline")?;

    run_pipeline("transformer scaling").await;

    // Flush now so the trace prints before the status below.
    let _ = telemetry.force_flush();
    eprintln!("{}", selvedge::status());
    Ok(())
} // the handle drops here: everything still queued is flushed, bounded by a timeout
