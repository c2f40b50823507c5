//! Flush and shutdown work run on every part at once.
//!
//! Waiting on one exporter (a stalled collector) must not eat the others'
//! share of a shutdown timeout, so each part gets a thread of its own.

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

/// Runs `op` on every item at once, each on a scoped thread named `name`, and
/// returns the results in the items' order. Where the OS refuses a thread the
/// item runs on the caller's, in turn; a panic is an error, not a panic.
pub(crate) fn fan_out<T: Copy + Send>(
    name: &str,
    items: impl IntoIterator<Item = T>,
    op: impl Fn(T) -> OTelSdkResult + Sync,
) -> Vec<OTelSdkResult> {
    std::thread::scope(|scope| {
        let op = &op;
        let runs: Vec<_> = items
            .into_iter()
            .map(|item| {
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn_scoped(scope, move || op(item))
                    .map_err(|_| op(item))
            })
            .collect();
        runs.into_iter()
            .map(|run| match run {
                Ok(thread) => thread.join().unwrap_or_else(|_| {
                    Err(OTelSdkError::InternalFailure(format!("{name} panicked")))
                }),
                Err(inline) => inline,
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_and_results_keep_their_order() {
        let results = fan_out("test", [1, 2, 3], |n| match n {
            2 => Err(OTelSdkError::InternalFailure("two".into())),
            _ => Ok(()),
        });
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok() && results[2].is_ok());
        assert!(matches!(&results[1], Err(OTelSdkError::InternalFailure(m)) if m == "two"));
    }

    #[test]
    fn a_panic_is_an_error() {
        let results = fan_out("test", [()], |()| panic!("boom"));
        assert!(
            matches!(&results[0], Err(OTelSdkError::InternalFailure(m)) if m.contains("panicked"))
        );
    }
}
