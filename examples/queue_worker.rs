//! A producer and a worker over a real NATS server, one trace from send to done.
//!
//! ```text
//! nats-server -a 127.0.0.1 -p 4222 &
//! NATS_URL=nats://127.0.0.1:4222 cargo run --example queue_worker
//! ```
//! Two jobs are sent: one carries its trace context in the JSON body
//! (`_trace_context`, the shape other OTel SDKs use), the other in NATS
//! headers. The worker continues each job's trace, and each job fails twice
//! before it succeeds: the receive span is linked to three process spans, each
//! with its attempt number and outcome.

use std::time::Duration;

use futures_util::StreamExt;
use selvedge_propagation::attempt::{record_attempt, Outcome};
use tracing::Instrument;

const ATTEMPTS: u32 = 3;

/// Fails the first two attempts of every job, as a flaky dependency would.
fn run_job(job: &str, attempt: u32) -> Result<(), String> {
    if attempt < ATTEMPTS {
        Err(format!("{job}: upstream unavailable"))
    } else {
        Ok(())
    }
}

/// Handles one delivery: continue the producer's trace, then retry the job,
/// recording every attempt on the receive span.
async fn handle(message: async_nats::Message) {
    let receive = tracing::info_span!(
        "receive jobs",
        messaging.system = "nats",
        otel.kind = "consumer"
    );
    let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap_or_default();
    // Context in the headers wins; otherwise look in the body's `_trace_context`.
    let continued = match message.headers.as_ref() {
        Some(headers) if headers.get("traceparent").is_some() => {
            selvedge_propagation::continue_from(&receive, headers)
        }
        _ => selvedge_propagation::continue_from(&receive, &body),
    };
    if !matches!(continued, Ok(true)) {
        tracing::warn!("job without trace context; starting a new trace");
    }
    let job = body["job"].as_str().unwrap_or("unknown").to_string();
    async {
        for attempt in 1..=ATTEMPTS {
            let process = tracing::info_span!("process jobs", job = %job);
            let result = process.in_scope(|| run_job(&job, attempt));
            let outcome = match &result {
                Ok(()) => Outcome::Success,
                Err(error) => {
                    process.in_scope(
                        || tracing::warn!(%error, attempt = attempt as i64, "attempt failed"),
                    );
                    Outcome::Failure
                }
            };
            record_attempt(&tracing::Span::current(), &process, attempt, outcome);
            if result.is_ok() {
                tracing::info!(attempts = attempt as i64, "job done");
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    .instrument(receive)
    .await;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = selvedge::init("queue-worker")?;
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let client = async_nats::connect(&url).await?;

    let mut jobs = client.subscribe("jobs").await?;
    let worker = tokio::spawn(async move {
        for _ in 0..2 {
            match tokio::time::timeout(Duration::from_secs(10), jobs.next()).await {
                Ok(Some(message)) => handle(message).await,
                _ => break,
            }
        }
    });

    // Job 1: context in the JSON body.
    async {
        let mut body = serde_json::json!({"job": "summarize-body"});
        selvedge_propagation::inject(&mut body);
        client.publish("jobs", body.to_string().into()).await
    }
    .instrument(tracing::info_span!(
        "send jobs",
        carrier = "body",
        otel.kind = "producer"
    ))
    .await?;

    // Job 2: context in NATS headers.
    async {
        let mut headers = async_nats::HeaderMap::new();
        selvedge_propagation::inject(&mut headers);
        let body = serde_json::json!({"job": "summarize-headers"});
        client
            .publish_with_headers("jobs", headers, body.to_string().into())
            .await
    }
    .instrument(tracing::info_span!(
        "send jobs",
        carrier = "headers",
        otel.kind = "producer"
    ))
    .await?;
    client.flush().await?;

    worker.await?;
    println!("both jobs done");
    Ok(())
}
