//! Readable output for people when no collector is configured.
//!
//! [`ConsoleSpanExporter`] prints a tree per finished trace; [`ConsoleMetricExporter`]
//! prints one line per data point. Both write whole blocks with a single
//! `write_all`, so concurrent log lines never split a tree.

mod metrics;
mod trace;

pub(crate) use metrics::ConsoleMetricExporter;
pub(crate) use trace::ConsoleSpanExporter;
