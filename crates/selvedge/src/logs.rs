//! The log-line layer: text for people, JSON for machines.

use std::io::IsTerminal;

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::LogFormat;

/// Where log lines go unless the builder says otherwise.
#[derive(Default)]
pub(crate) enum LogWriter {
    /// Standard output (colours only when it is a terminal).
    #[default]
    Stdout,
    /// A writer the builder supplied (never coloured).
    Custom(BoxMakeWriter),
}

/// The fmt layer for `format`, writing to `writer`.
pub(crate) fn layer<S>(format: LogFormat, writer: LogWriter) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let (writer, ansi) = match writer {
        LogWriter::Stdout => (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal(),
        ),
        LogWriter::Custom(w) => (w, false),
    };
    match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(ansi)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    }
}
