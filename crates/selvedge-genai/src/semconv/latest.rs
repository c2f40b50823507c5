//! Names of the `latest` profile (the GenAI conventions' own repository,
//! opted into with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`).

/// `gen_ai.usage.cache_write.input_tokens` (int), replacing `cache_creation`.
pub const USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";
/// `gen_ai.client.inference.duration`: histogram, seconds.
pub const METRIC_INFERENCE_DURATION: &str = "gen_ai.client.inference.duration";
/// Token counters: `gen_ai.client.inference.usage.<kind>_tokens`.
pub const METRIC_USAGE_INPUT_TOKENS: &str = "gen_ai.client.inference.usage.input_tokens";
/// See [`METRIC_USAGE_INPUT_TOKENS`].
pub const METRIC_USAGE_OUTPUT_TOKENS: &str = "gen_ai.client.inference.usage.output_tokens";
/// See [`METRIC_USAGE_INPUT_TOKENS`].
pub const METRIC_USAGE_CACHE_READ_INPUT_TOKENS: &str =
    "gen_ai.client.inference.usage.cache_read.input_tokens";
/// See [`METRIC_USAGE_INPUT_TOKENS`].
pub const METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS: &str =
    "gen_ai.client.inference.usage.cache_write.input_tokens";
/// See [`METRIC_USAGE_INPUT_TOKENS`].
pub const METRIC_USAGE_REASONING_OUTPUT_TOKENS: &str =
    "gen_ai.client.inference.usage.reasoning.output_tokens";
/// `gen_ai.token.modality` on the token counters (`text`, …).
pub const TOKEN_MODALITY: &str = "gen_ai.token.modality";
