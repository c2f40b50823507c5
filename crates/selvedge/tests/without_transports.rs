//! With both transport features off (`cargo test -p selvedge --no-default-features`),
//! instrumented code still builds and runs, OTLP is a clear error, and the
//! console exporter still works.
#![cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]

use std::io::Write;
use std::sync::{Arc, Mutex};

use selvedge::{Error, ExporterKind, Protocol, Telemetry};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

#[test]
fn otlp_is_an_error_naming_the_missing_feature() {
    for (protocol, feature) in [
        (Protocol::Grpc, "otlp-grpc"),
        (Protocol::HttpProtobuf, "otlp-http"),
    ] {
        let err = Telemetry::builder()
            .with_endpoint("http://127.0.0.1:4318")
            .with_protocol(protocol)
            .with_log_writer(Buffer::default())
            .build()
            .expect_err("no transport compiled in");
        assert!(matches!(err, Error::TransportNotCompiled { .. }), "{err}");
        assert!(err.to_string().contains(feature), "{err}");
    }
}

#[test]
fn instrumented_code_runs_and_the_console_still_prints() {
    let console = Buffer::default();
    let (telemetry, dispatch) = Telemetry::builder()
        .with_traces_exporter(ExporterKind::Console)
        .with_console_writer(console.clone())
        .with_log_writer(Buffer::default())
        .build()
        .expect("console needs no transport");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("outer").in_scope(|| tracing::info_span!("inner").in_scope(|| {}));
    });
    telemetry.shutdown().expect("shutdown");
    let text = String::from_utf8(console.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("outer") && text.contains("└─ inner"),
        "{text}"
    );
}
