//! An LLM client instrumented with selvedge's GenAI conventions, against a
//! local mock of an OpenAI-style chat-completions server (axum on 127.0.0.1).
//!
//! ```text
//! cargo run --example genai_chat
//! ```
//! An agent looks up its notes (a retrieval), asks the model, which calls a
//! tool; the tool runs; the model answers; then a streaming call reads its
//! answer chunk by chunk. The console shows `invoke_agent travel-agent` above
//! `retrieval travel-notes`, `chat gpt-4o`, `execute_tool get_weather` and
//! the streaming call, with typed token counts and the agent's token roll-up.
//!
//! Prompts, completions, tool payloads and retrieved documents are recorded
//! only when the operator allows it:
//! ```text
//! OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY cargo run --example genai_chat
//! ```

use axum::response::IntoResponse;
use axum::routing::post;
use axum::Json;
use selvedge::content::{self, Document, Message, Part};
use selvedge::genai::{record_response, GenAiSpan, Response, Streaming, Usage};
use serde_json::{json, Value};
use tracing::Instrument;

const MODEL: &str = "gpt-4o";
const MAX_TOKENS: u64 = 512;
const TEMPERATURE: f64 = 0.2;

/// The mock model: a tool call first, then an answer; SSE chunks when streaming.
async fn chat_completions(Json(request): Json<Value>) -> axum::response::Response {
    let has_tool_result = request["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"));
    if request["stream"] == true {
        let mut body = String::new();
        for word in ["Sunny", " and", " 24", "°C."] {
            body.push_str(&format!(
                "data: {}\n\n",
                json!({"choices": [{"delta": {"content": word}}]})
            ));
        }
        body.push_str(&format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-3", "model": "gpt-4o-2024-08-06",
                   "choices": [{"delta": {}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 30, "completion_tokens": 6}})
        ));
        body.push_str("data: [DONE]\n\n");
        return ([("content-type", "text/event-stream")], body).into_response();
    }
    let reply = if has_tool_result {
        json!({"id": "chatcmpl-2", "model": "gpt-4o-2024-08-06",
               "choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "It is sunny in Lisbon."}}],
               "usage": {"prompt_tokens": 52, "completion_tokens": 9}})
    } else {
        json!({"id": "chatcmpl-1", "model": "gpt-4o-2024-08-06",
               "choices": [{"finish_reason": "tool_calls", "message": {"role": "assistant",
                   "tool_calls": [{"id": "call_1", "type": "function",
                                   "function": {"name": "get_weather", "arguments": "{\"city\":\"Lisbon\"}"}}]}}],
               "usage": {"prompt_tokens": 40, "completion_tokens": 12}})
    };
    Json(reply).into_response()
}

/// What an OpenAI-style reply (or a stream's last chunk) says about the call;
/// `finish` holds its finish reason (`finish_reason(reply)`).
fn call_response<'a>(reply: &'a Value, finish: &'a [&'a str]) -> Response<'a> {
    let usage = &reply["usage"];
    Response {
        id: reply["id"].as_str(),
        model: reply["model"].as_str(),
        finish_reasons: finish,
        usage: Usage::new(
            usage["prompt_tokens"].as_u64().unwrap_or(0),
            usage["completion_tokens"].as_u64().unwrap_or(0),
        ),
    }
}

fn finish_reason(reply: &Value) -> [&str; 1] {
    [reply["choices"][0]["finish_reason"].as_str().unwrap_or("")]
}

/// OpenAI-style messages as the conventions' typed messages (for content
/// capture: only called when it is on).
fn to_messages(messages: &Value) -> Vec<Message> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let messages = messages.as_array().map(Vec::as_slice).unwrap_or_default();
    messages
        .iter()
        .map(|m| {
            let mut parts = Vec::new();
            if m["role"] == "tool" {
                parts.push(Part::tool_call_response(
                    m["tool_call_id"].as_str(),
                    m["content"].as_str().unwrap_or_default(),
                ));
            } else if m["content"].is_string() {
                parts.push(Part::text(text(&m["content"])));
            }
            for call in m["tool_calls"].as_array().into_iter().flatten() {
                parts.push(Part::tool_call(
                    call["id"].as_str(),
                    text(&call["function"]["name"]),
                    call["function"]["arguments"].as_str().unwrap_or("{}"),
                ));
            }
            Message::with_parts(text(&m["role"]), parts)
        })
        .collect()
}

/// The agent's notes on `query`: a retrieval from an in-process store, as a
/// conformant span.
fn look_up_notes(query: &str) -> Vec<&'static str> {
    const NOTES: [(&str, &str); 2] = [
        ("note-lisbon", "Lisbon: pack sunscreen in summer."),
        ("note-porto", "Porto: bring a rain jacket."),
    ];
    let span = GenAiSpan::retrieval("travel-notes").start();
    let _entered = span.enter();
    content::retrieval_query(|| query);
    let hits: Vec<_> = NOTES
        .iter()
        .map(|(id, text)| {
            let city = id.trim_start_matches("note-");
            let score = if query.to_lowercase().contains(city) {
                0.9
            } else {
                0.1
            };
            (*id, score, *text)
        })
        .filter(|(_, score, _)| *score > 0.5)
        .collect();
    content::retrieval_documents(|| {
        hits.iter()
            .map(|(id, score, text)| Document::new(*id).score(*score).content(*text))
    });
    hits.into_iter().map(|(_, _, text)| text).collect()
}

/// One non-streaming chat call, as a conformant span.
async fn chat(
    client: &reqwest::Client,
    url: &str,
    port: u16,
    messages: &Value,
) -> Result<Value, reqwest::Error> {
    let span = GenAiSpan::chat("openai", MODEL)
        .server("127.0.0.1", port)
        .max_tokens(MAX_TOKENS)
        .temperature(TEMPERATURE)
        .start();
    async {
        content::prompt(|| to_messages(messages));
        let body = json!({"model": MODEL, "messages": messages,
                          "max_tokens": MAX_TOKENS, "temperature": TEMPERATURE});
        let reply: Value = serde_json::from_slice(
            &client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await?
                .bytes()
                .await?,
        )
        .unwrap_or_default();
        let finish = finish_reason(&reply);
        content::completion(|| {
            to_messages(&json!([reply["choices"][0]["message"]]))
                .into_iter()
                .map(|m| m.finished(finish[0]))
        });
        record_response(&tracing::Span::current(), &call_response(&reply, &finish));
        Ok(reply)
    }
    .instrument(span)
    .await
}

/// The tool the model asked for.
fn get_weather(call_id: &str, arguments: &str) -> String {
    let span = GenAiSpan::execute_tool("get_weather")
        .tool_call_id(call_id)
        .start();
    let _entered = span.enter();
    content::tool_call_arguments(|| arguments);
    tracing::info!(arguments, "looking up the weather");
    let result = json!({"city": "Lisbon", "forecast": "sunny", "celsius": 24}).to_string();
    content::tool_call_result(|| result.as_str());
    result
}

/// A streaming call: the span ends when the stream is read to the end (or dropped).
async fn chat_stream(
    client: &reqwest::Client,
    url: &str,
    port: u16,
) -> Result<String, reqwest::Error> {
    let mut stream = Streaming::new(
        GenAiSpan::chat("openai", MODEL)
            .server("127.0.0.1", port)
            .start(),
    );
    let span = stream.span().clone();
    async {
        let messages = json!([{"role": "user", "content": "Weather?"}]);
        content::prompt(|| to_messages(&messages));
        let body = json!({"model": MODEL, "stream": true, "messages": messages});
        let mut response = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        let (mut text, mut last) = (String::new(), Value::Null);
        let mut buffer = String::new();
        while let Some(bytes) = response.chunk().await? {
            buffer.push_str(&String::from_utf8_lossy(&bytes));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                let data = event.trim().trim_start_matches("data: ");
                if data == "[DONE]" {
                    continue;
                }
                let chunk: Value = serde_json::from_str(data).unwrap_or_default();
                stream.chunk();
                text.push_str(
                    chunk["choices"][0]["delta"]["content"]
                        .as_str()
                        .unwrap_or(""),
                );
                last = chunk;
            }
        }
        let finish = finish_reason(&last);
        content::completion(|| [Message::assistant(text.as_str()).finished(finish[0])]);
        stream.finish(&call_response(&last, &finish));
        Ok(text)
    }
    .instrument(span)
    .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = selvedge::init("genai-chat")?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let app = axum::Router::new().route("/v1/chat/completions", post(chat_completions));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let client = reqwest::Client::new();

    let agent = GenAiSpan::invoke_agent("travel-agent").start();
    let answer = async {
        let question = "What's the weather in Lisbon?";
        let notes = look_up_notes(question).join("\n");
        let mut messages = json!([{"role": "system", "content": notes},
                                  {"role": "user", "content": question}]);
        let first = chat(&client, &url, port, &messages).await?;
        let call = &first["choices"][0]["message"]["tool_calls"][0];
        let result = get_weather(
            call["id"].as_str().unwrap_or_default(),
            call["function"]["arguments"].as_str().unwrap_or("{}"),
        );
        if let Some(list) = messages.as_array_mut() {
            list.push(first["choices"][0]["message"].clone());
            list.push(json!({"role": "tool", "tool_call_id": call["id"], "content": result}));
        }
        let second = chat(&client, &url, port, &messages).await?;
        let streamed = chat_stream(&client, &url, port).await?;
        Ok::<_, reqwest::Error>(format!(
            "{} / streamed: {streamed}",
            second["choices"][0]["message"]["content"]
        ))
    }
    .instrument(agent)
    .await?;
    println!("answer: {answer}");

    server.abort();
    Ok(())
}
