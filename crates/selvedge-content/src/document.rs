//! Retrieved documents that serialise to the conventions' JSON
//! (`gen_ai.retrieval.documents`: an array of objects with an `id` string and
//! a `score` number, other properties allowed).

use serde::Serialize;
use serde_json::{Map, Value};

/// One document a retrieval returned: `{"id"?, "score"?, "content"?, …}`.
///
/// ```
/// use selvedge_content::Document;
///
/// let doc = Document::new("doc-1")
///     .score(0.91)
///     .content("Lisbon is sunny in July.")
///     .with("title", "Climate of Lisbon");
/// assert_eq!(
///     serde_json::to_value(&doc).unwrap(),
///     serde_json::json!({
///         "id": "doc-1",
///         "score": 0.91,
///         "content": "Lisbon is sunny in July.",
///         "title": "Climate of Lisbon",
///     })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Document(Map<String, Value>);

impl Document {
    /// A document with its id.
    pub fn new(id: impl Into<String>) -> Self {
        Self::default().with("id", id.into())
    }

    /// Its relevance score. JSON has no NaN or infinity: a score that is not
    /// a finite number is left out rather than written as `null`, which the
    /// conventions' schema rejects.
    pub fn score(self, score: f64) -> Self {
        match serde_json::Number::from_f64(score) {
            Some(n) => self.with("score", n),
            None => self,
        }
    }

    /// Its text, as the model will see it (redacted and cut like any part).
    pub fn content(self, content: impl Into<String>) -> Self {
        self.with("content", content.into())
    }

    /// Any other property (`title`, `source`, `chunk`, …); an existing one of
    /// the same name is replaced, so the object never holds a name twice.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_json_cannot_hold_is_left_out() {
        for score in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let doc = Document::new("d").score(score);
            assert_eq!(serde_json::to_string(&doc).unwrap(), r#"{"id":"d"}"#);
        }
    }

    #[test]
    fn a_property_set_twice_is_written_once() {
        let doc = Document::new("a").with("id", "b").score(0.5).score(0.25);
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"id":"b","score":0.25}"#
        );
    }

    #[test]
    fn a_document_without_properties_is_an_empty_object() {
        // The schema allows it ("{}" is a valid document).
        assert_eq!(serde_json::to_string(&Document::default()).unwrap(), "{}");
    }
}
