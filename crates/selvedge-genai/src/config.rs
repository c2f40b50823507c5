//! Which conventions to emit: the profile and the compatibility mode.

/// The version of the GenAI conventions to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Profile {
    /// Semantic conventions v1.41.0 (the default).
    #[default]
    V1_41,
    /// The GenAI conventions' own repository (unreleased, still changing).
    Latest,
}

/// The variable that opts into the `latest` profile, when it lists
/// [`LATEST_OPT_IN`] (comma-separated, as the OTel spec defines it).
pub const OTEL_SEMCONV_STABILITY_OPT_IN: &str = "OTEL_SEMCONV_STABILITY_OPT_IN";
/// The `OTEL_SEMCONV_STABILITY_OPT_IN` value for the `latest` profile.
pub const LATEST_OPT_IN: &str = "gen_ai_latest_experimental";
/// selvedge's switch for compatibility mode: `1` or `true` also emits the legacy names.
pub const SELVEDGE_GENAI_COMPAT: &str = "SELVEDGE_GENAI_COMPAT";

/// How GenAI spans are shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options {
    /// The conventions version.
    pub profile: Profile,
    /// Also emit legacy names (`gen_ai.system`, `gen_ai.usage.prompt_tokens`, `llm.*`)
    /// beside the current ones, so old dashboards keep working.
    pub compat: bool,
}

impl Options {
    /// Reads [`OTEL_SEMCONV_STABILITY_OPT_IN`] and [`SELVEDGE_GENAI_COMPAT`] through `var`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        let latest = var(OTEL_SEMCONV_STABILITY_OPT_IN).is_some_and(|v| {
            v.split(',')
                .any(|s| s.trim().eq_ignore_ascii_case(LATEST_OPT_IN))
        });
        let compat = var(SELVEDGE_GENAI_COMPAT)
            .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true"));
        Options {
            profile: if latest {
                Profile::Latest
            } else {
                Profile::V1_41
            },
            compat,
        }
    }
}
