//! Typed messages that serialise to the GenAI conventions' JSON.

use serde::Serialize;

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part {
    /// Text.
    Text {
        /// The text.
        content: String,
    },
    /// A tool call the model asked for.
    ToolCall {
        /// The call id.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The tool name.
        name: String,
        /// The arguments: JSON when they parse as JSON, else the raw text.
        #[serde(skip_serializing_if = "Option::is_none")]
        arguments: Option<serde_json::Value>,
    },
    /// A tool's answer.
    ToolCallResponse {
        /// The call id.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The response: JSON when it parses as JSON, else the raw text.
        response: serde_json::Value,
    },
    /// Model reasoning.
    Reasoning {
        /// The reasoning text.
        content: String,
    },
    /// Inline binary data, by reference to its type (the bytes are never captured).
    Blob {
        /// The MIME type.
        mime_type: String,
        /// `image`, `audio`, `video`, …
        modality: String,
    },
    /// A reference to content by URI.
    Uri {
        /// The URI.
        uri: String,
        /// The MIME type, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
    },
}

impl Part {
    /// A text part.
    pub fn text(content: impl Into<String>) -> Self {
        Part::Text {
            content: content.into(),
        }
    }

    /// A tool call; `arguments` are kept as JSON if they parse, else as a string.
    pub fn tool_call(id: Option<&str>, name: impl Into<String>, arguments: &str) -> Self {
        Part::ToolCall {
            id: id.map(str::to_string),
            name: name.into(),
            arguments: Some(json_or_text(arguments)),
        }
    }

    /// A tool response; kept as JSON if it parses, else as a string.
    pub fn tool_call_response(id: Option<&str>, response: &str) -> Self {
        Part::ToolCallResponse {
            id: id.map(str::to_string),
            response: json_or_text(response),
        }
    }
}

pub(crate) fn json_or_text(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_string()))
}

/// One chat message: `{"role": …, "parts": [...], "name"?, "finish_reason"?}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// `system`, `user`, `assistant`, `tool`.
    pub role: String,
    /// The parts.
    pub parts: Vec<Part>,
    /// The participant's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Output messages only: why the model stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

impl Message {
    /// A message with `role` and one text part.
    pub fn new(role: impl Into<String>, text: impl Into<String>) -> Self {
        Self::with_parts(role, vec![Part::text(text)])
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new("user", text)
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new("assistant", text)
    }

    /// A message with the given parts.
    pub fn with_parts(role: impl Into<String>, parts: Vec<Part>) -> Self {
        Message {
            role: role.into(),
            parts,
            name: None,
            finish_reason: None,
        }
    }

    /// Sets the finish reason (output messages).
    pub fn finished(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }
}
