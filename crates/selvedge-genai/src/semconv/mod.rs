//! The GenAI names selvedge emits, one module per profile.
//!
//! Our own table rather than opentelemetry-semantic-conventions: that crate
//! marks every `gen_ai` constant deprecated and experimental. Names shared by
//! both profiles live here; [`v1_41`] and [`latest`] hold what differs.

pub mod latest;
pub mod v1_41;

/// `gen_ai.operation.name` (required).
pub const OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.provider.name` (required on model calls).
pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
/// `gen_ai.request.model`.
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.request.max_tokens` (int).
pub const REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// `gen_ai.request.temperature` (double).
pub const REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// `gen_ai.request.top_p` (double).
pub const REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// `gen_ai.request.top_k` (double in v1.41, int in latest).
pub const REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// `gen_ai.request.frequency_penalty` (double).
pub const REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
/// `gen_ai.request.presence_penalty` (double).
pub const REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
/// `gen_ai.request.stop_sequences` (string[]).
pub const REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// `gen_ai.request.encoding_formats` (string[], embeddings).
pub const REQUEST_ENCODING_FORMATS: &str = "gen_ai.request.encoding_formats";
/// `gen_ai.request.stream` (bool, only when streaming).
pub const REQUEST_STREAM: &str = "gen_ai.request.stream";
/// `gen_ai.request.choice.count` (int, only when ≠ 1).
pub const REQUEST_CHOICE_COUNT: &str = "gen_ai.request.choice.count";
/// `gen_ai.request.seed` (int).
pub const REQUEST_SEED: &str = "gen_ai.request.seed";
/// `gen_ai.output.type` (`text`, `json`, `image`, `speech`).
pub const OUTPUT_TYPE: &str = "gen_ai.output.type";
/// `gen_ai.conversation.id` (never invented).
pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// `gen_ai.response.id`.
pub const RESPONSE_ID: &str = "gen_ai.response.id";
/// `gen_ai.response.model`.
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
/// `gen_ai.response.finish_reasons` (string[]).
pub const RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// `gen_ai.response.time_to_first_chunk` (double, seconds; streaming).
pub const RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// `gen_ai.usage.input_tokens` (int; includes cached tokens).
pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// `gen_ai.usage.output_tokens` (int).
pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// `gen_ai.usage.cache_read.input_tokens` (int).
pub const USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// `gen_ai.usage.reasoning.output_tokens` (int).
pub const USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// `gen_ai.embeddings.dimension.count` (int).
pub const EMBEDDINGS_DIMENSION_COUNT: &str = "gen_ai.embeddings.dimension.count";
/// `gen_ai.agent.id`.
pub const AGENT_ID: &str = "gen_ai.agent.id";
/// `gen_ai.agent.name`.
pub const AGENT_NAME: &str = "gen_ai.agent.name";
/// `gen_ai.agent.description`.
pub const AGENT_DESCRIPTION: &str = "gen_ai.agent.description";
/// `gen_ai.agent.version`.
pub const AGENT_VERSION: &str = "gen_ai.agent.version";
/// `gen_ai.data_source.id`.
pub const DATA_SOURCE_ID: &str = "gen_ai.data_source.id";
/// `gen_ai.tool.name` (required on `execute_tool`).
pub const TOOL_NAME: &str = "gen_ai.tool.name";
/// `gen_ai.tool.call.id`.
pub const TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// `gen_ai.tool.description`.
pub const TOOL_DESCRIPTION: &str = "gen_ai.tool.description";
/// `gen_ai.tool.type`.
pub const TOOL_TYPE: &str = "gen_ai.tool.type";
/// `gen_ai.workflow.name`.
pub const WORKFLOW_NAME: &str = "gen_ai.workflow.name";
/// `gen_ai.token.type` on token-usage metrics (`input`, `output`).
pub const TOKEN_TYPE: &str = "gen_ai.token.type";
/// `server.address` (stable).
pub const SERVER_ADDRESS: &str = "server.address";
/// `server.port` (stable, int).
pub const SERVER_PORT: &str = "server.port";
/// `error.type` (stable; low cardinality).
pub const ERROR_TYPE: &str = "error.type";
/// The `error.type` value when nothing more specific is known.
pub const ERROR_TYPE_OTHER: &str = "_OTHER";

/// The operations (`gen_ai.operation.name` values).
pub mod operation {
    /// A chat completion.
    pub const CHAT: &str = "chat";
    /// A legacy text completion.
    pub const TEXT_COMPLETION: &str = "text_completion";
    /// Gemini-style multimodal generation.
    pub const GENERATE_CONTENT: &str = "generate_content";
    /// An embeddings request.
    pub const EMBEDDINGS: &str = "embeddings";
    /// A retrieval from a data source.
    pub const RETRIEVAL: &str = "retrieval";
    /// Creating an agent.
    pub const CREATE_AGENT: &str = "create_agent";
    /// Invoking an agent.
    pub const INVOKE_AGENT: &str = "invoke_agent";
    /// Executing a tool.
    pub const EXECUTE_TOOL: &str = "execute_tool";
    /// Invoking a workflow.
    pub const INVOKE_WORKFLOW: &str = "invoke_workflow";

    /// An operation, told from its name once: what selvedge does with a span
    /// depends on it in several places.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Op {
        /// A model call: [`CHAT`], [`TEXT_COMPLETION`], [`GENERATE_CONTENT`], [`EMBEDDINGS`].
        ModelCall,
        /// [`RETRIEVAL`].
        Retrieval,
        /// [`CREATE_AGENT`].
        CreateAgent,
        /// [`INVOKE_AGENT`].
        InvokeAgent,
        /// [`EXECUTE_TOOL`].
        ExecuteTool,
        /// [`INVOKE_WORKFLOW`].
        InvokeWorkflow,
        /// Any other name: named by its model, as a model call; not measured.
        Other,
    }

    impl Op {
        /// The operation named `name`.
        pub(crate) fn of(name: &str) -> Op {
            match name {
                CHAT | TEXT_COMPLETION | GENERATE_CONTENT | EMBEDDINGS => Op::ModelCall,
                RETRIEVAL => Op::Retrieval,
                CREATE_AGENT => Op::CreateAgent,
                INVOKE_AGENT => Op::InvokeAgent,
                EXECUTE_TOOL => Op::ExecuteTool,
                INVOKE_WORKFLOW => Op::InvokeWorkflow,
                _ => Op::Other,
            }
        }

        /// Whether it runs other operations and gets their usage rolled up.
        pub(crate) fn is_container(self) -> bool {
            matches!(self, Op::InvokeAgent | Op::InvokeWorkflow)
        }
    }

    /// Every operation.
    pub const ALL: &[&str] = &[
        CHAT,
        TEXT_COMPLETION,
        GENERATE_CONTENT,
        EMBEDDINGS,
        RETRIEVAL,
        CREATE_AGENT,
        INVOKE_AGENT,
        EXECUTE_TOOL,
        INVOKE_WORKFLOW,
    ];
}

/// Well-known `gen_ai.provider.name` values (custom values are allowed).
pub mod provider {
    /// Every well-known provider name.
    pub const ALL: &[&str] = &[
        "openai",
        "anthropic",
        "gcp.gen_ai",
        "gcp.vertex_ai",
        "gcp.gemini",
        "cohere",
        "azure.ai.inference",
        "azure.ai.openai",
        "ibm.watsonx.ai",
        "aws.bedrock",
        "perplexity",
        "x_ai",
        "deepseek",
        "groq",
        "mistral_ai",
    ];
}

/// Opt-in content: what the content layer (`selvedge-content`) writes when
/// the operator allows capture — as span attributes holding JSON (the query
/// as plain text), or structured in the body of the log event
/// [`EVENT_INFERENCE_DETAILS`](content::EVENT_INFERENCE_DETAILS). Never by
/// the GenAI layer itself. The same in both profiles.
pub mod content {
    /// `gen_ai.system_instructions` (JSON: an array of parts).
    pub const SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
    /// `gen_ai.input.messages` (JSON: an array of messages).
    pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
    /// `gen_ai.output.messages` (JSON: messages with their finish reasons).
    pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
    /// `gen_ai.tool.definitions` (JSON).
    pub const TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";
    /// `gen_ai.tool.call.arguments` (JSON when it parses, else a JSON string).
    pub const TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
    /// `gen_ai.tool.call.result` (JSON when it parses, else a JSON string).
    pub const TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
    /// `gen_ai.retrieval.query.text` (string).
    pub const RETRIEVAL_QUERY_TEXT: &str = "gen_ai.retrieval.query.text";
    /// `gen_ai.retrieval.documents` (JSON: an array of `{"id", "score", …}`).
    pub const RETRIEVAL_DOCUMENTS: &str = "gen_ai.retrieval.documents";
    /// The log event carrying the content of an operation, structured.
    pub const EVENT_INFERENCE_DETAILS: &str = "gen_ai.client.inference.operation.details";

    /// Every content attribute.
    pub const ALL: &[&str] = &[
        SYSTEM_INSTRUCTIONS,
        INPUT_MESSAGES,
        OUTPUT_MESSAGES,
        TOOL_DEFINITIONS,
        TOOL_CALL_ARGUMENTS,
        TOOL_CALL_RESULT,
        RETRIEVAL_QUERY_TEXT,
        RETRIEVAL_DOCUMENTS,
    ];
}

/// Deprecated and legacy names: read as inputs, emitted only in compatibility mode.
pub mod legacy {
    /// `gen_ai.system`, replaced by `gen_ai.provider.name` in v1.37.
    pub const SYSTEM: &str = "gen_ai.system";
    /// `gen_ai.usage.prompt_tokens`, replaced by `gen_ai.usage.input_tokens` in v1.27.
    pub const USAGE_PROMPT_TOKENS: &str = "gen_ai.usage.prompt_tokens";
    /// `gen_ai.usage.completion_tokens`, replaced by `gen_ai.usage.output_tokens` in v1.27.
    pub const USAGE_COMPLETION_TOKENS: &str = "gen_ai.usage.completion_tokens";
    /// `gen_ai.openai.request.seed`, replaced by `gen_ai.request.seed`.
    pub const OPENAI_REQUEST_SEED: &str = "gen_ai.openai.request.seed";
    /// `gen_ai.openai.request.response_format`, replaced by `gen_ai.output.type`.
    pub const OPENAI_RESPONSE_FORMAT: &str = "gen_ai.openai.request.response_format";
    /// App-level `llm.model`.
    pub const LLM_MODEL: &str = "llm.model";
    /// App-level `llm.prompt_tokens`.
    pub const LLM_PROMPT_TOKENS: &str = "llm.prompt_tokens";
    /// App-level `llm.completion_tokens`.
    pub const LLM_COMPLETION_TOKENS: &str = "llm.completion_tokens";
    /// App-level `llm.max_tokens`.
    pub const LLM_MAX_TOKENS: &str = "llm.max_tokens";
    /// App-level `llm.has_tools` (no GenAI equivalent: kept as is).
    pub const LLM_HAS_TOOLS: &str = "llm.has_tools";
    /// App-level `llm.tool_round` (no GenAI equivalent: kept as is).
    pub const LLM_TOOL_ROUND: &str = "llm.tool_round";
    /// App-level `llm.is_streaming`.
    pub const LLM_IS_STREAMING: &str = "llm.is_streaming";
    /// App-level `llm.request.type` (`chat`, `completion`, `embedding`).
    pub const LLM_REQUEST_TYPE: &str = "llm.request.type";

    /// Old name → current name, for attributes that only moved.
    pub const RENAMES: &[(&str, &str)] = &[
        (SYSTEM, super::PROVIDER_NAME),
        (USAGE_PROMPT_TOKENS, super::USAGE_INPUT_TOKENS),
        (USAGE_COMPLETION_TOKENS, super::USAGE_OUTPUT_TOKENS),
        (OPENAI_REQUEST_SEED, super::REQUEST_SEED),
        (OPENAI_RESPONSE_FORMAT, super::OUTPUT_TYPE),
        (LLM_MODEL, super::REQUEST_MODEL),
        (LLM_PROMPT_TOKENS, super::USAGE_INPUT_TOKENS),
        (LLM_COMPLETION_TOKENS, super::USAGE_OUTPUT_TOKENS),
        (LLM_MAX_TOKENS, super::REQUEST_MAX_TOKENS),
        (LLM_IS_STREAMING, super::REQUEST_STREAM),
        (LLM_REQUEST_TYPE, super::OPERATION_NAME),
    ];

    /// `gen_ai.system` values that were renamed as provider names.
    pub const SYSTEM_VALUES: &[(&str, &str)] = &[
        ("xai", "x_ai"),
        ("vertex_ai", "gcp.vertex_ai"),
        ("gemini", "gcp.gemini"),
        ("az.ai.inference", "azure.ai.inference"),
        ("az.ai.openai", "azure.ai.openai"),
    ];

    /// `llm.request.type` values as operation names.
    pub const REQUEST_TYPE_VALUES: &[(&str, &str)] = &[
        ("completion", "text_completion"),
        ("embedding", "embeddings"),
    ];

    /// The span events of the legacy content format (`SELVEDGE_TRACE_CONTENT=1`;
    /// removed from the conventions in v1.28).
    pub const EVENT_CONTENT_PROMPT: &str = "gen_ai.content.prompt";
    /// See [`EVENT_CONTENT_PROMPT`].
    pub const EVENT_CONTENT_COMPLETION: &str = "gen_ai.content.completion";
    /// The attribute of [`EVENT_CONTENT_PROMPT`] holding the prompt.
    pub const PROMPT: &str = "gen_ai.prompt";
    /// The attribute of [`EVENT_CONTENT_COMPLETION`] holding the completion.
    pub const COMPLETION: &str = "gen_ai.completion";
}
