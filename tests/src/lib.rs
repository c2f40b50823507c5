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

pub use selvedge_testkit::free_port;

/// A real third-party OTLP collector, rotel, run as a child process on loopback
/// (for the tests that need one; the binary comes from `SELVEDGE_ROTEL`).
pub mod rotel {
    use std::io::Read;
    use std::net::TcpStream;
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use crate::free_port;

    /// A running rotel, killed when dropped.
    pub struct Rotel {
        child: Child,
        log: std::path::PathBuf,
        /// Its OTLP/gRPC port on 127.0.0.1.
        pub grpc: u16,
        /// Its OTLP/HTTP port on 127.0.0.1.
        pub http: u16,
    }

    impl Rotel {
        /// Starts rotel on two free loopback ports with the blackhole exporter and
        /// `args` (its debug-log options), and returns once both ports accept.
        ///
        /// # Panics
        /// If `SELVEDGE_ROTEL` is unset or rotel does not come up within 10 s.
        pub fn start(args: &[&str]) -> Rotel {
            let bin = std::env::var("SELVEDGE_ROTEL")
                .expect("set SELVEDGE_ROTEL to the rotel-agent binary");
            let (grpc, http) = (free_port(), free_port());
            static STARTED: AtomicUsize = AtomicUsize::new(0);
            let log = std::env::temp_dir().join(format!(
                "selvedge-rotel-{}-{}.log",
                std::process::id(),
                STARTED.fetch_add(1, Ordering::Relaxed)
            ));
            let out = std::fs::File::create(&log).expect("rotel log file");
            let child = Command::new(bin)
                .args([
                    "start",
                    "--otlp-grpc-endpoint",
                    &format!("127.0.0.1:{grpc}"),
                ])
                .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http}")])
                .args(["--exporter", "blackhole"])
                .args(args)
                .stdout(out.try_clone().expect("log handle"))
                .stderr(out)
                .stdin(Stdio::null())
                .spawn()
                .expect("start rotel");
            let rotel = Rotel {
                child,
                log,
                grpc,
                http,
            };
            for port in [grpc, http] {
                let deadline = Instant::now() + Duration::from_secs(10);
                while TcpStream::connect(("127.0.0.1", port)).is_err() {
                    assert!(Instant::now() < deadline, "rotel did not listen on {port}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            rotel
        }

        /// rotel's output so far, without ANSI colours.
        pub fn output(&self) -> String {
            let mut raw = String::new();
            if let Ok(mut f) = std::fs::File::open(&self.log) {
                let _ = f.read_to_string(&mut raw);
            }
            let mut out = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '\u{1b}' {
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }

        /// Waits (at most 20 s) until `done` holds for rotel's output, and returns it.
        ///
        /// # Panics
        /// If it never does, showing the output and `what` was awaited.
        pub fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let out = self.output();
                if done(&out) {
                    return out;
                }
                assert!(
                    Instant::now() < deadline,
                    "rotel never showed {what}; its output:\n{out}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    impl Drop for Rotel {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
