//! The constant tables against ../shared/reference/genai-semconv.md (v1.41.0 and latest).

use selvedge_genai::semconv::{self as sc, latest, legacy, operation, provider, v1_41};
use selvedge_genai::{Options, Profile};

#[test]
fn attribute_names() {
    let expected: &[(&str, &str)] = &[
        (sc::OPERATION_NAME, "gen_ai.operation.name"),
        (sc::PROVIDER_NAME, "gen_ai.provider.name"),
        (sc::REQUEST_MODEL, "gen_ai.request.model"),
        (sc::REQUEST_MAX_TOKENS, "gen_ai.request.max_tokens"),
        (sc::REQUEST_TEMPERATURE, "gen_ai.request.temperature"),
        (sc::REQUEST_TOP_P, "gen_ai.request.top_p"),
        (sc::REQUEST_TOP_K, "gen_ai.request.top_k"),
        (
            sc::REQUEST_FREQUENCY_PENALTY,
            "gen_ai.request.frequency_penalty",
        ),
        (
            sc::REQUEST_PRESENCE_PENALTY,
            "gen_ai.request.presence_penalty",
        ),
        (sc::REQUEST_STOP_SEQUENCES, "gen_ai.request.stop_sequences"),
        (
            sc::REQUEST_ENCODING_FORMATS,
            "gen_ai.request.encoding_formats",
        ),
        (sc::REQUEST_STREAM, "gen_ai.request.stream"),
        (sc::REQUEST_CHOICE_COUNT, "gen_ai.request.choice.count"),
        (sc::REQUEST_SEED, "gen_ai.request.seed"),
        (sc::OUTPUT_TYPE, "gen_ai.output.type"),
        (sc::CONVERSATION_ID, "gen_ai.conversation.id"),
        (sc::RESPONSE_ID, "gen_ai.response.id"),
        (sc::RESPONSE_MODEL, "gen_ai.response.model"),
        (
            sc::RESPONSE_FINISH_REASONS,
            "gen_ai.response.finish_reasons",
        ),
        (
            sc::RESPONSE_TIME_TO_FIRST_CHUNK,
            "gen_ai.response.time_to_first_chunk",
        ),
        (sc::USAGE_INPUT_TOKENS, "gen_ai.usage.input_tokens"),
        (sc::USAGE_OUTPUT_TOKENS, "gen_ai.usage.output_tokens"),
        (
            sc::USAGE_CACHE_READ_INPUT_TOKENS,
            "gen_ai.usage.cache_read.input_tokens",
        ),
        (
            v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS,
            "gen_ai.usage.cache_creation.input_tokens",
        ),
        (
            latest::USAGE_CACHE_WRITE_INPUT_TOKENS,
            "gen_ai.usage.cache_write.input_tokens",
        ),
        (
            sc::USAGE_REASONING_OUTPUT_TOKENS,
            "gen_ai.usage.reasoning.output_tokens",
        ),
        (
            sc::EMBEDDINGS_DIMENSION_COUNT,
            "gen_ai.embeddings.dimension.count",
        ),
        (sc::AGENT_ID, "gen_ai.agent.id"),
        (sc::AGENT_NAME, "gen_ai.agent.name"),
        (sc::AGENT_DESCRIPTION, "gen_ai.agent.description"),
        (sc::AGENT_VERSION, "gen_ai.agent.version"),
        (sc::DATA_SOURCE_ID, "gen_ai.data_source.id"),
        (sc::TOOL_NAME, "gen_ai.tool.name"),
        (sc::TOOL_CALL_ID, "gen_ai.tool.call.id"),
        (sc::TOOL_DESCRIPTION, "gen_ai.tool.description"),
        (sc::TOOL_TYPE, "gen_ai.tool.type"),
        (sc::TOKEN_TYPE, "gen_ai.token.type"),
        (latest::TOKEN_MODALITY, "gen_ai.token.modality"),
        (sc::SERVER_ADDRESS, "server.address"),
        (sc::SERVER_PORT, "server.port"),
        (sc::ERROR_TYPE, "error.type"),
        (sc::ERROR_TYPE_OTHER, "_OTHER"),
    ];
    for (constant, name) in expected {
        assert_eq!(constant, name);
    }
}

#[test]
fn content_names() {
    use selvedge_genai::semconv::content;
    assert_eq!(
        content::ALL,
        &[
            "gen_ai.system_instructions",
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.tool.definitions",
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
            "gen_ai.retrieval.query.text",
            "gen_ai.retrieval.documents",
        ]
    );
    assert_eq!(
        content::EVENT_INFERENCE_DETAILS,
        "gen_ai.client.inference.operation.details"
    );
    let legacy_events = [
        (legacy::EVENT_CONTENT_PROMPT, "gen_ai.content.prompt"),
        (legacy::PROMPT, "gen_ai.prompt"),
        (
            legacy::EVENT_CONTENT_COMPLETION,
            "gen_ai.content.completion",
        ),
        (legacy::COMPLETION, "gen_ai.completion"),
    ];
    for (constant, name) in legacy_events {
        assert_eq!(constant, name);
    }
}

#[test]
fn operations_and_providers() {
    assert_eq!(
        operation::ALL,
        &[
            "chat",
            "text_completion",
            "generate_content",
            "embeddings",
            "retrieval",
            "create_agent",
            "invoke_agent",
            "execute_tool",
            "invoke_workflow"
        ]
    );
    for p in [
        "openai",
        "anthropic",
        "gcp.vertex_ai",
        "gcp.gemini",
        "azure.ai.openai",
        "aws.bedrock",
        "x_ai",
        "mistral_ai",
    ] {
        assert!(provider::ALL.contains(&p), "{p}");
    }
    assert_eq!(provider::ALL.len(), 15);
}

#[test]
fn metrics_and_buckets() {
    assert_eq!(
        v1_41::METRIC_OPERATION_DURATION,
        "gen_ai.client.operation.duration"
    );
    assert_eq!(v1_41::METRIC_TOKEN_USAGE, "gen_ai.client.token.usage");
    assert_eq!(
        v1_41::METRIC_TIME_TO_FIRST_CHUNK,
        "gen_ai.client.operation.time_to_first_chunk"
    );
    assert_eq!(
        v1_41::METRIC_TIME_PER_OUTPUT_CHUNK,
        "gen_ai.client.operation.time_per_output_chunk"
    );
    assert_eq!(
        latest::METRIC_INFERENCE_DURATION,
        "gen_ai.client.inference.duration"
    );
    assert_eq!(
        latest::METRIC_USAGE_INPUT_TOKENS,
        "gen_ai.client.inference.usage.input_tokens"
    );
    // 0.01 doubling up to 81.92; 1 ×4 up to 67108864.
    for pair in v1_41::DURATION_BUCKETS.windows(2) {
        assert!((pair[1] / pair[0] - 2.0).abs() < 1e-9);
    }
    assert_eq!(
        (v1_41::DURATION_BUCKETS[0], v1_41::DURATION_BUCKETS[13]),
        (0.01, 81.92)
    );
    for pair in v1_41::TOKEN_BUCKETS.windows(2) {
        assert_eq!(pair[1] / pair[0], 4.0);
    }
    assert_eq!(
        (v1_41::TOKEN_BUCKETS[0], v1_41::TOKEN_BUCKETS[13]),
        (1.0, 67108864.0)
    );
}

#[test]
fn legacy_renames() {
    let find = |old: &str| {
        legacy::RENAMES
            .iter()
            .find(|(o, _)| *o == old)
            .map(|(_, n)| *n)
    };
    assert_eq!(find("gen_ai.system"), Some("gen_ai.provider.name"));
    assert_eq!(
        find("gen_ai.usage.prompt_tokens"),
        Some("gen_ai.usage.input_tokens")
    );
    assert_eq!(
        find("gen_ai.usage.completion_tokens"),
        Some("gen_ai.usage.output_tokens")
    );
    assert_eq!(
        find("gen_ai.openai.request.seed"),
        Some("gen_ai.request.seed")
    );
    assert_eq!(
        find("gen_ai.openai.request.response_format"),
        Some("gen_ai.output.type")
    );
    assert_eq!(find("llm.model"), Some("gen_ai.request.model"));
    assert_eq!(find("llm.max_tokens"), Some("gen_ai.request.max_tokens"));
    let value = |old: &str| {
        legacy::SYSTEM_VALUES
            .iter()
            .find(|(o, _)| *o == old)
            .map(|(_, n)| *n)
    };
    assert_eq!(value("xai"), Some("x_ai"));
    assert_eq!(value("vertex_ai"), Some("gcp.vertex_ai"));
    assert_eq!(value("gemini"), Some("gcp.gemini"));
    assert_eq!(value("az.ai.inference"), Some("azure.ai.inference"));
    assert_eq!(value("az.ai.openai"), Some("azure.ai.openai"));
}

#[test]
fn options_from_the_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(Options::from_env(env(&[])), Options::default());
    assert_eq!(
        Options::from_env(env(&[(
            "OTEL_SEMCONV_STABILITY_OPT_IN",
            "http, gen_ai_latest_experimental"
        )]))
        .profile,
        Profile::Latest
    );
    assert_eq!(
        Options::from_env(env(&[("OTEL_SEMCONV_STABILITY_OPT_IN", "http")])).profile,
        Profile::V1_41
    );
    for on in ["1", "true", "TRUE"] {
        let pairs: &'static [(&'static str, &'static str)] =
            Box::leak(Box::new([("SELVEDGE_GENAI_COMPAT", on)]));
        assert!(Options::from_env(env(pairs)).compat, "{on}");
    }
    assert!(!Options::from_env(env(&[("SELVEDGE_GENAI_COMPAT", "0")])).compat);
}
