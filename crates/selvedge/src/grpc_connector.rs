//! A TCP connector for the gRPC exporter that keeps small responses from waiting.
//!
//! An OTLP export is one large request and a tiny response. When a collector
//! leaves Nagle's algorithm on for accepted sockets (rotel does), that tiny
//! response can wait for the client's ACK of an earlier segment, and an idle
//! client delays its ACK by ~40 ms: exports stall, the queue fills, spans are
//! dropped (reference/collector.md; measured in docs/performance.md). This
//! connector sets TCP_NODELAY and, on Linux, re-arms TCP_QUICKACK after every
//! read, so the client always ACKs at once and the collector never waits.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Connects plain-TCP (`http://`) gRPC endpoints with NODELAY and QUICKACK.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LowLatencyConnector;

impl tower_service::Service<http::Uri> for LowLatencyConnector {
    type Response = TokioIo<QuickAck>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "endpoint has no host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri.port_u16().unwrap_or(80);
            let stream = TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            quickack(&stream);
            Ok(TokioIo::new(QuickAck(stream)))
        })
    }
}

/// A TCP stream that asks the kernel for an immediate ACK after every read.
#[derive(Debug)]
pub(crate) struct QuickAck(TcpStream);

fn quickack(stream: &TcpStream) {
    // Linux clears TCP_QUICKACK by itself, so it is set again after each read.
    #[cfg(target_os = "linux")]
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

impl AsyncRead for QuickAck {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.0).poll_read(cx, buf);
        if result.is_ready() {
            quickack(&self.0);
        }
        result
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// A lazily connecting channel to a plain-TCP endpoint, or `None` for `https://`
/// (TLS endpoints keep opentelemetry-otlp's own channel).
pub(crate) fn channel(
    endpoint: &str,
    timeout: std::time::Duration,
) -> Option<tonic::transport::Channel> {
    if !endpoint.starts_with("http://") {
        return None;
    }
    let endpoint = tonic::transport::Endpoint::from_shared(endpoint.to_string()).ok()?;
    Some(
        endpoint
            .timeout(timeout)
            .connect_with_connector_lazy(LowLatencyConnector),
    )
}
