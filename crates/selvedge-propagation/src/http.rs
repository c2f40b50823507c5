//! HTTP: a server span that continues the caller's trace, and headers for the client side.

use tracing::Span;

/// A server span for `request` that continues the trace in its headers (W3C
/// `traceparent`, `tracestate`, `baggage`), named after the method as the HTTP
/// conventions ask when no route template is known, with kind SERVER.
///
/// Its signature fits tower-http's `TraceLayer::make_span_with`, or use it in
/// an axum middleware:
///
/// ```
/// use axum::{extract::Request, middleware::Next, response::Response};
/// use tracing::Instrument;
///
/// async fn continue_trace(request: Request, next: Next) -> Response {
///     let span = selvedge_propagation::http::server_span(&request);
///     next.run(request).instrument(span).await
/// }
/// // Router::new().route(…).layer(axum::middleware::from_fn(continue_trace))
/// ```
pub fn server_span<B>(request: &http::Request<B>) -> Span {
    let span = tracing::info_span!(
        "HTTP request",
        otel.name = %request.method(),
        otel.kind = "server",
        http.request.method = %request.method(),
        url.path = %request.uri().path(),
    );
    // A fresh span has not started, so this cannot fail; a bad header is a fresh root.
    let _ = crate::continue_from(&span, request.headers());
    span
}

/// Headers carrying the current span's context, for an outgoing request
/// (e.g. `reqwest::Client::get(url).headers(current_headers())`).
pub fn current_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    crate::inject(&mut headers);
    headers
}
