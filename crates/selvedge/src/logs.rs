//! The log-line layer: selvedge-correlation's lines, text or JSON, with trace ids.

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use selvedge_correlation::{CorrelationLayer, Format};

use crate::LogFormat;

/// Where log lines go unless the builder says otherwise.
#[derive(Default)]
pub(crate) enum LogWriter {
    /// Standard output.
    #[default]
    Stdout,
    /// A writer the builder supplied.
    Custom(BoxMakeWriter),
}

/// The correlated log layer for `format`, writing to `writer`.
pub(crate) fn layer<S>(format: LogFormat, writer: LogWriter) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let writer = match writer {
        LogWriter::Stdout => BoxMakeWriter::new(std::io::stdout),
        LogWriter::Custom(w) => w,
    };
    let format = match format {
        LogFormat::Text => Format::Text,
        LogFormat::Json => Format::Json,
    };
    CorrelationLayer::new(format).with_writer(writer).boxed()
}
