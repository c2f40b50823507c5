//! One trace across an HTTP hop: a reqwest client and an axum server on
//! 127.0.0.1, with the propagator `install()` sets. One test: it owns the globals.

use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::KeyValue;
use selvedge::Protocol;
use selvedge_propagation::http::server_span;
use selvedge_testkit::Receiver;
use selvedge_tests::CapturedWriter;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

async fn continue_trace(request: Request, next: Next) -> Response {
    let span = server_span(&request);
    next.run(request).instrument(span).await
}

/// Echoes the `tenant` baggage entry the caller sent.
async fn work() -> String {
    let cx = tracing::Span::current().context();
    tracing::info!("handling");
    cx.baggage()
        .get("tenant")
        .map(|v| v.to_string())
        .unwrap_or_default()
}

#[test]
fn one_trace_across_an_http_hop_with_baggage() {
    let receiver = Receiver::start();
    let telemetry = selvedge::Telemetry::builder()
        .with_service_name("http-propagation")
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_log_writer(CapturedWriter::default())
        .install()
        .expect("install");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let body = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/work", get(work))
            .layer(axum::middleware::from_fn(continue_trace));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let client_span = tracing::info_span!("call work", otel.kind = "client");
        let cx = client_span
            .context()
            .with_baggage(vec![KeyValue::new("tenant", "acme")]);
        let mut headers = reqwest::header::HeaderMap::new();
        selvedge_propagation::inject_context(&cx, &mut headers);
        let body = async {
            reqwest::Client::new()
                .get(format!("http://{addr}/work"))
                .headers(headers)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .expect("request")
                .text()
                .await
                .expect("body")
        }
        .instrument(client_span)
        .await;
        server.abort();
        body
    });
    assert_eq!(body, "acme", "baggage crossed the hop");

    telemetry.shutdown().expect("shutdown");
    let spans = receiver.wait_for_spans(2, Duration::from_secs(15));
    let client = spans.named("call work");
    let server = spans.named("GET");
    assert!(server.is_child_of(client), "one trace, correct parent");
    assert_eq!(server.kind(), 2, "SERVER");
    assert_eq!(client.kind(), 3, "CLIENT");
    assert_eq!(server.attr_str("url.path"), Some("/work"));
    assert_eq!(server.attr_str("http.request.method"), Some("GET"));
}
