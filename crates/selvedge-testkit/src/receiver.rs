//! The servers: OTLP/gRPC (tonic) and OTLP/HTTP (axum) on 127.0.0.1, on a runtime of their own.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::sync::{oneshot, watch};

use crate::spans::{ReceivedLog, ReceivedMetric, ReceivedSpan, Spans};

/// The largest request either server accepts (the OTLP default limits are far lower).
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;
/// The longest a stalled request is held, so no test can hang on it forever.
const MAX_STALL: Duration = Duration::from_secs(60);

/// How the receiver answers export requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// Keep the data and answer success.
    Accept,
    /// Drop the data and answer with a non-retryable error
    /// (gRPC `INVALID_ARGUMENT`, HTTP 400), so exporters fail at once.
    Reject,
    /// Hold the request unanswered until the behavior changes, the receiver is
    /// dropped, or 60 s pass.
    Stall,
    /// Answer the next request with "slow down" — HTTP 429 with a `Retry-After`
    /// of this many seconds, gRPC `UNAVAILABLE` — then accept again.
    ThrottleOnce(u64),
    /// Answer the next request with "temporarily unavailable" — HTTP 503 with a
    /// `Retry-After` of this many seconds, gRPC `UNAVAILABLE` — then accept again.
    UnavailableOnce(u64),
    /// Keep the data and answer success after this many milliseconds, so
    /// requests overlap and [`Receiver::max_concurrent_trace_requests`] shows
    /// how many an exporter keeps in flight.
    Delay(u64),
}

/// What to do with one request.
enum Admission {
    Keep,
    Reject,
    /// Retry later: the HTTP status (429 or 503) and `Retry-After` seconds.
    Throttle(StatusCode, u64),
}

/// The transport a request arrived over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with a protobuf body.
    Http,
}

#[derive(Default)]
struct Data {
    spans: Vec<ReceivedSpan>,
    metrics: Vec<ReceivedMetric>,
    logs: Vec<ReceivedLog>,
    trace_requests: usize,
    rejected_requests: usize,
    /// The headers (gRPC metadata) of every accepted trace request.
    trace_headers: Vec<HeaderMap>,
}

struct Shared {
    data: Mutex<Data>,
    changed: Condvar,
    behavior: watch::Sender<Behavior>,
    /// Trace requests being handled now, and the most there ever were at once.
    trace_in_flight: AtomicUsize,
    max_trace_in_flight: AtomicUsize,
}

/// Counts one trace request as in flight for its lifetime.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn new(shared: &'a Shared) -> Self {
        let now = shared.trace_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_trace_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.trace_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies the current behavior.
    async fn admit(&self) -> Admission {
        let mut rx = self.behavior.subscribe();
        let deadline = tokio::time::Instant::now() + MAX_STALL;
        loop {
            let current = *rx.borrow_and_update();
            match current {
                Behavior::Accept => return Admission::Keep,
                Behavior::Reject => {
                    self.lock().rejected_requests += 1;
                    self.changed.notify_all();
                    return Admission::Reject;
                }
                Behavior::ThrottleOnce(secs) | Behavior::UnavailableOnce(secs) => {
                    // Only one request is answered so, even if several race here.
                    let mut once = false;
                    self.behavior.send_if_modified(|b| {
                        once = *b == current;
                        if once {
                            *b = Behavior::Accept;
                        }
                        once
                    });
                    if once {
                        self.lock().rejected_requests += 1;
                        self.changed.notify_all();
                        let status = match current {
                            Behavior::ThrottleOnce(_) => StatusCode::TOO_MANY_REQUESTS,
                            _ => StatusCode::SERVICE_UNAVAILABLE,
                        };
                        return Admission::Throttle(status, secs);
                    }
                }
                Behavior::Delay(millis) => {
                    tokio::time::sleep(Duration::from_millis(millis).min(MAX_STALL)).await;
                    return Admission::Keep;
                }
                Behavior::Stall => {
                    if tokio::time::timeout_at(deadline, rx.changed())
                        .await
                        .is_err()
                    {
                        return Admission::Reject;
                    }
                }
            }
        }
    }

    fn add_traces(&self, req: ExportTraceServiceRequest, transport: Transport, headers: HeaderMap) {
        let mut data = self.lock();
        data.trace_requests += 1;
        data.trace_headers.push(headers);
        for rs in req.resource_spans {
            let resource = rs.resource.map(|r| r.attributes).unwrap_or_default();
            for ss in rs.scope_spans {
                let scope = ss.scope.map(|s| s.name).unwrap_or_default();
                for span in ss.spans {
                    data.spans.push(ReceivedSpan::new(
                        span,
                        resource.clone(),
                        scope.clone(),
                        transport,
                    ));
                }
            }
        }
        drop(data);
        self.changed.notify_all();
    }

    fn add_metrics(&self, req: ExportMetricsServiceRequest) {
        let mut data = self.lock();
        for rm in req.resource_metrics {
            let resource = rm.resource.map(|r| r.attributes).unwrap_or_default();
            for sm in rm.scope_metrics {
                let scope = sm.scope.map(|s| s.name).unwrap_or_default();
                for metric in sm.metrics {
                    data.metrics.push(ReceivedMetric {
                        metric,
                        resource: resource.clone(),
                        scope: scope.clone(),
                    });
                }
            }
        }
        drop(data);
        self.changed.notify_all();
    }

    fn add_logs(&self, req: ExportLogsServiceRequest) {
        let mut data = self.lock();
        for rl in req.resource_logs {
            let resource = rl.resource.map(|r| r.attributes).unwrap_or_default();
            for sl in rl.scope_logs {
                let scope = sl.scope.map(|s| s.name).unwrap_or_default();
                for record in sl.log_records {
                    data.logs
                        .push(ReceivedLog::new(record, resource.clone(), scope.clone()));
                }
            }
        }
        drop(data);
        self.changed.notify_all();
    }
}

/// An OTLP receiver on 127.0.0.1; stops when dropped.
pub struct Receiver {
    shared: Arc<Shared>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("grpc", &self.grpc_addr)
            .field("http", &self.http_addr)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Starts both servers on free loopback ports and returns once they listen.
    ///
    /// # Panics
    /// If the ports cannot be bound or the runtime cannot start.
    pub fn start() -> Receiver {
        Self::start_on(0, 0)
    }

    /// Starts both servers on the given loopback ports (0 lets the OS pick),
    /// e.g. to bring a collector up where an exporter is already pointed. Take such
    /// ports from [`free_port`](crate::free_port), which no parallel test can take meanwhile.
    ///
    /// # Panics
    /// If the ports cannot be bound or the runtime cannot start.
    pub fn start_on(grpc_port: u16, http_port: u16) -> Receiver {
        let (behavior, _) = watch::channel(Behavior::Accept);
        let shared = Arc::new(Shared {
            data: Mutex::default(),
            changed: Condvar::new(),
            behavior,
            trace_in_flight: AtomicUsize::new(0),
            max_trace_in_flight: AtomicUsize::new(0),
        });
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let server_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("otlp-receiver".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("receiver runtime");
                rt.block_on(serve(
                    server_shared,
                    (grpc_port, http_port),
                    ready_tx,
                    stop_rx,
                ));
            })
            .expect("receiver thread");
        let (grpc_addr, http_addr) = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("receiver did not start listening");
        Receiver {
            shared,
            grpc_addr,
            http_addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The gRPC endpoint, `http://127.0.0.1:<port>`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The HTTP base endpoint, `http://127.0.0.1:<port>` (append `/v1/traces` etc. for a full URL).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Changes how requests are answered from now on (also releases stalled requests).
    pub fn set_behavior(&self, behavior: Behavior) {
        self.shared.behavior.send_replace(behavior);
    }

    /// Every span received so far.
    pub fn spans(&self) -> Spans {
        Spans(self.shared.lock().spans.clone())
    }

    /// Every metric received so far (one entry per metric per export).
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        self.shared.lock().metrics.clone()
    }

    /// Every log record received so far.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        self.shared.lock().logs.clone()
    }

    /// How many trace export requests were accepted.
    pub fn trace_requests(&self) -> usize {
        self.shared.lock().trace_requests
    }

    /// The most trace export requests (accepted or not) that were ever being
    /// handled at the same moment.
    pub fn max_concurrent_trace_requests(&self) -> usize {
        self.shared.max_trace_in_flight.load(Ordering::SeqCst)
    }

    /// The values of header `name` (gRPC metadata key) on every accepted trace request.
    pub fn trace_request_header(&self, name: &str) -> Vec<String> {
        self.shared
            .lock()
            .trace_headers
            .iter()
            .flat_map(|h| {
                h.get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// How many requests (of any signal) were rejected.
    pub fn rejected_requests(&self) -> usize {
        self.shared.lock().rejected_requests
    }

    /// Waits until at least `n` spans arrived and returns them all.
    ///
    /// # Panics
    /// After `timeout`, naming how many (and which) spans did arrive.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Spans {
        self.wait(timeout, |d| d.spans.len() >= n)
            .unwrap_or_else(|d| {
                let names: Vec<&str> = d.spans.iter().map(|s| s.name()).collect();
                panic!(
                    "waited {timeout:?} for {n} spans; {} arrived: {names:?}",
                    names.len()
                )
            });
        self.spans()
    }

    /// Waits until a metric with this name arrived and returns its latest export.
    ///
    /// # Panics
    /// After `timeout`, naming the metrics that did arrive.
    pub fn wait_for_metric(&self, name: &str, timeout: Duration) -> ReceivedMetric {
        self.wait(timeout, |d| d.metrics.iter().any(|m| m.name() == name))
            .unwrap_or_else(|d| {
                let names: Vec<&str> = d.metrics.iter().map(|m| m.name()).collect();
                panic!("waited {timeout:?} for metric {name:?}; received: {names:?}")
            });
        self.metrics()
            .into_iter()
            .rev()
            .find(|m| m.name() == name)
            .expect("checked above")
    }

    /// Waits until at least `n` log records arrived and returns them all.
    ///
    /// # Panics
    /// After `timeout`, naming how many did arrive.
    pub fn wait_for_logs(&self, n: usize, timeout: Duration) -> Vec<ReceivedLog> {
        self.wait(timeout, |d| d.logs.len() >= n)
            .unwrap_or_else(|d| {
                panic!(
                    "waited {timeout:?} for {n} log records; {} arrived",
                    d.logs.len()
                )
            });
        self.logs()
    }

    /// Waits until `done` holds, or returns the data as it stands after `timeout`.
    fn wait(
        &self,
        timeout: Duration,
        done: impl Fn(&Data) -> bool,
    ) -> Result<(), MutexGuard<'_, Data>> {
        let deadline = Instant::now() + timeout;
        let mut data = self.shared.lock();
        while !done(&data) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(data);
            }
            data = self
                .shared
                .changed
                .wait_timeout(data, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        Ok(())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Release stalled requests so the servers can stop.
        self.shared.behavior.send_replace(Behavior::Reject);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    shared: Arc<Shared>,
    (grpc_port, http_port): (u16, u16),
    ready: std::sync::mpsc::Sender<(SocketAddr, SocketAddr)>,
    stop: oneshot::Receiver<()>,
) {
    let loopback = SocketAddr::from(([127, 0, 0, 1], grpc_port));
    // TCP_NODELAY on accepted sockets, as production collectors set it; without
    // it small gRPC responses wait on delayed ACKs (see reference/collector.md).
    let incoming = tonic::transport::server::TcpIncoming::bind(loopback)
        .expect("bind gRPC port")
        .with_nodelay(Some(true));
    let grpc_addr = incoming.local_addr().expect("gRPC address");
    let http_listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], http_port)))
            .await
            .expect("bind HTTP port");
    let http_addr = http_listener.local_addr().expect("HTTP address");

    let grpc = Grpc(shared.clone());
    let grpc_server = tonic::transport::Server::builder()
        .add_service(
            TraceServiceServer::new(grpc.clone()).max_decoding_message_size(MAX_REQUEST_BYTES),
        )
        .add_service(
            MetricsServiceServer::new(grpc.clone()).max_decoding_message_size(MAX_REQUEST_BYTES),
        )
        .add_service(LogsServiceServer::new(grpc).max_decoding_message_size(MAX_REQUEST_BYTES));

    let app = axum::Router::new()
        .route("/v1/traces", post(http_traces))
        .route("/v1/metrics", post(http_metrics))
        .route("/v1/logs", post(http_logs))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(shared);

    let (stop_all, _) = watch::channel(false);
    let mut stop_grpc = stop_all.subscribe();
    let mut stop_http = stop_all.subscribe();
    let grpc_task = tokio::spawn(
        grpc_server.serve_with_incoming_shutdown(incoming, async move {
            let _ = stop_grpc.changed().await;
        }),
    );
    let http_task = tokio::spawn(async move {
        axum::serve(http_listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_http.changed().await;
            })
            .await
    });
    let _ = ready.send((grpc_addr, http_addr));
    let _ = stop.await;
    let _ = stop_all.send(true);
    // Bounded: a connection kept open by a client must not keep the test alive.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = grpc_task.await;
        let _ = http_task.await;
    })
    .await;
}

#[derive(Clone)]
struct Grpc(Arc<Shared>);

impl Shared {
    /// The behavior as a gRPC answer: `Ok` to keep the request's data.
    async fn grpc_admit(&self) -> Result<(), tonic::Status> {
        match self.admit().await {
            Admission::Keep => Ok(()),
            Admission::Reject => Err(tonic::Status::invalid_argument(
                "selvedge-testkit: rejecting requests as told",
            )),
            Admission::Throttle(..) => {
                Err(tonic::Status::unavailable("selvedge-testkit: slow down"))
            }
        }
    }
}

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let _in_flight = InFlight::new(&self.0);
        self.0.grpc_admit().await?;
        let headers = request.metadata().clone().into_headers();
        self.0
            .add_traces(request.into_inner(), Transport::Grpc, headers);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.grpc_admit().await?;
        self.0.add_metrics(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.0.grpc_admit().await?;
        self.0.add_logs(request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// Decodes an OTLP/HTTP protobuf body, or says why it cannot.
fn decode<M: Message + Default>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<M, (StatusCode, String)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/x-protobuf") {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "only application/x-protobuf is supported".into(),
        ));
    }
    M::decode(body.as_ref())
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("undecodable body: {e}")))
}

fn protobuf_ok<M: Message>(response: M) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        response.encode_to_vec(),
    )
        .into_response()
}

/// Decodes, applies the behavior, stores via `add`, answers like a collector.
async fn http_export<M, R>(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
    add: impl FnOnce(&Shared, M),
) -> Response
where
    M: Message + Default,
    R: Message + Default,
{
    let request: M = match decode(headers, body) {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    match shared.admit().await {
        Admission::Keep => {
            add(shared, request);
            protobuf_ok(R::default())
        }
        Admission::Reject => (
            StatusCode::BAD_REQUEST,
            "selvedge-testkit: rejecting requests as told",
        )
            .into_response(),
        Admission::Throttle(status, secs) => (
            status,
            [(header::RETRY_AFTER, secs.to_string())],
            "slow down",
        )
            .into_response(),
    }
}

async fn http_traces(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _in_flight = InFlight::new(&shared);
    http_export::<ExportTraceServiceRequest, ExportTraceServiceResponse>(
        &shared,
        &headers,
        &body,
        |s, r| s.add_traces(r, Transport::Http, headers.clone()),
    )
    .await
}

async fn http_metrics(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    http_export::<ExportMetricsServiceRequest, ExportMetricsServiceResponse>(
        &shared,
        &headers,
        &body,
        |s, r| s.add_metrics(r),
    )
    .await
}

async fn http_logs(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    http_export::<ExportLogsServiceRequest, ExportLogsServiceResponse>(
        &shared,
        &headers,
        &body,
        |s, r| s.add_logs(r),
    )
    .await
}
