//! An in-process OTLP receiver for tests that check what really crosses the wire.
//!
//! [`Receiver::start`] serves OTLP/gRPC (the official `opentelemetry-proto`
//! tonic services) and OTLP/HTTP with protobuf bodies (`/v1/traces`,
//! `/v1/metrics`, `/v1/logs`) on `127.0.0.1`, on ports the OS picks. It keeps
//! every request it decodes, and offers waits with timeouts and typed access
//! to what arrived. It can also be told to [reject](Behavior::Reject) or
//! [stall](Behavior::Stall) requests, to test how an exporter copes.
//!
//! ```no_run
//! use std::time::Duration;
//! use selvedge_testkit::Receiver;
//!
//! let receiver = Receiver::start();
//! // … point an exporter at receiver.grpc_endpoint() or receiver.http_endpoint() …
//! let spans = receiver.wait_for_spans(2, Duration::from_secs(10));
//! let child = spans.named("child");
//! let parent = spans.named("parent");
//! assert!(child.is_child_of(parent));
//! assert_eq!(child.attr_i64("gen_ai.usage.input_tokens"), Some(42));
//! ```
#![deny(missing_docs)]

mod port;
mod receiver;
mod spans;

pub use port::free_port;
pub use receiver::{Behavior, Receiver, Transport};
pub use spans::{attr_value, ReceivedLog, ReceivedMetric, ReceivedSpan, Spans};

/// The generated OTLP types, re-exported for tests that need to look deeper.
pub use opentelemetry_proto::tonic as proto;
