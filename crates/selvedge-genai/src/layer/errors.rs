//! `error.type` from error events: an ERROR event, or an event with an
//! `error` / `error.type` field (what `#[instrument(err)]` emits).

use tracing::field::{Field, Visit};
use tracing::{Event, Level};

use crate::semconv as sc;

/// The `error.type` an event gives its span: its own `error.type` field, else
/// the fallback `_OTHER` for an ERROR event or an `error` field; `None` for
/// any other event — told from its static metadata, without visiting its
/// values, for most.
pub(super) fn error_type(event: &Event<'_>) -> Option<String> {
    let metadata = event.metadata();
    let is_error = *metadata.level() == Level::ERROR;
    if !is_error
        && !metadata
            .fields()
            .iter()
            .any(|f| matches!(f.name(), "error" | sc::ERROR_TYPE))
    {
        return None;
    }
    let mut found = ErrorEvent::default();
    event.record(&mut found);
    if !is_error && !found.has_error && found.error_type.is_none() {
        return None;
    }
    Some(
        found
            .error_type
            .unwrap_or_else(|| sc::ERROR_TYPE_OTHER.to_string()),
    )
}

/// Finds the `error` and `error.type` fields of an event.
#[derive(Default)]
struct ErrorEvent {
    error_type: Option<String>,
    has_error: bool,
}

impl Visit for ErrorEvent {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "error" => self.has_error = true,
            sc::ERROR_TYPE => self.error_type = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_error(&mut self, field: &Field, _value: &(dyn std::error::Error + 'static)) {
        if field.name() == "error" {
            self.has_error = true;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "error" => self.has_error = true,
            sc::ERROR_TYPE => {
                self.error_type = Some(format!("{value:?}").trim_matches('"').to_string())
            }
            _ => {}
        }
    }
}
