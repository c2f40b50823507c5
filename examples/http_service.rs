//! One trace across an HTTP hop: an axum service and a reqwest client on 127.0.0.1.
//!
//! ```text
//! cargo run --example http_service
//! ```
//! The server continues the caller's trace from the W3C headers (and reads its
//! baggage); the client injects them. With OTEL_EXPORTER_OTLP_ENDPOINT set the
//! spans are exported; otherwise the trace prints on stderr — one tree, two services' spans.

use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::KeyValue;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Server middleware: every request gets a span continuing the caller's trace.
async fn continue_trace(request: Request, next: Next) -> Response {
    let span = selvedge_propagation::http::server_span(&request);
    next.run(request).instrument(span).await
}

/// A handler that reads the caller's baggage.
async fn summarize() -> String {
    let tenant = tracing::Span::current()
        .context()
        .baggage()
        .get("tenant")
        .map(|v| v.to_string())
        .unwrap_or_else(|| "unknown".into());
    tracing::info!(%tenant, "summarizing for tenant");
    format!("summary for {tenant}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = selvedge::init("http-service")?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/summarize", get(summarize))
        .layer(axum::middleware::from_fn(continue_trace));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // Client: a span for the call, baggage for the callee, W3C headers on the request.
    let call = tracing::info_span!("call summarize", otel.kind = "client");
    let cx = call
        .context()
        .with_baggage(vec![KeyValue::new("tenant", "acme")]);
    let mut headers = reqwest::header::HeaderMap::new();
    selvedge_propagation::inject_context(&cx, &mut headers);
    let body = async {
        let response = reqwest::Client::new()
            .get(format!("http://{addr}/summarize"))
            .headers(headers)
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        tracing::info!(status = response.status().as_u16() as i64, "called");
        response.text().await
    }
    .instrument(call)
    .await?;
    println!("response: {body}");

    server.abort();
    Ok(())
}
