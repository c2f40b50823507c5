//! What a key means to the conventions: whether it makes its span a GenAI
//! span, which naming or metric attribute it is ([`Slot`]), and the type its
//! value must have ([`Ty`]).

use opentelemetry::KeyValue;

use super::types::Ty;
use crate::config::Profile;
use crate::semconv::{self as sc, latest, legacy, v1_41};

/// The attributes a span's name, kind and metrics are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Operation,
    RequestModel,
    Provider,
    ServerAddress,
    DataSource,
    Agent,
    Tool,
    Workflow,
    ResponseModel,
    ServerPort,
    ErrorType,
    Input,
    Output,
    CacheRead,
    CacheWrite,
    Reasoning,
    TimeToFirstChunk,
    ChunkIntervals,
}

pub(super) const SLOTS: usize = Slot::ChunkIntervals as usize + 1;

/// What a key means to the conventions.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(crate) struct Class {
    /// A `gen_ai.*` or `llm.*` key: the span is a GenAI span.
    pub(crate) genai: bool,
    /// A legacy name, mapped to its current one.
    pub(crate) legacy: bool,
    /// The v1.41 cache-creation name, renamed in the latest profile.
    pub(crate) cache_creation: bool,
    pub(crate) slot: Option<Slot>,
    pub(crate) ty: Option<Ty>,
}

/// Whether `key` makes its span a GenAI span: a `gen_ai.*` or `llm.*` key,
/// the keys [`classify`] marks `genai`.
pub(crate) fn marks_genai(key: &str) -> bool {
    match key.as_bytes().first() {
        Some(b'g') => key.starts_with("gen_ai."),
        Some(b'l') => key.starts_with("llm."),
        _ => false,
    }
}

/// Whether any of `attrs` is a GenAI key: most spans are not GenAI spans, and
/// are told so by a byte or two per key, without classifying a key or looking
/// for a plan. From the end: a span's own fields come after
/// tracing-opentelemetry's `code.*` and `thread.*`, so a GenAI span is
/// usually told by its last key.
pub(super) fn any_genai_key(attrs: &[KeyValue]) -> bool {
    attrs.iter().rev().any(|kv| marks_genai(kv.key.as_str()))
}

/// Classifies a key with one byte test for most non-GenAI keys and one string
/// `match` (compiled to a length switch) for GenAI keys: this runs for every
/// attribute of every span that reaches the tracer and the processor.
#[inline]
pub(crate) fn classify(key: &str, profile: Profile) -> Option<Class> {
    let slot = |slot: Slot| Class {
        slot: Some(slot),
        ..Class::default()
    };
    match key.as_bytes().first()? {
        b'g' if key.starts_with("gen_ai.") => Some(classify_genai(key, profile)),
        b'l' if key.starts_with("llm.") => Some(Class {
            genai: true,
            legacy: true,
            ty: legacy_type_of(key),
            ..Class::default()
        }),
        b's' => match key {
            crate::record::CHUNK_INTERVALS => Some(slot(Slot::ChunkIntervals)),
            sc::SERVER_ADDRESS => Some(slot(Slot::ServerAddress)),
            sc::SERVER_PORT => Some(Class {
                ty: Some(Ty::Int),
                ..slot(Slot::ServerPort)
            }),
            _ => None,
        },
        b'e' if key == sc::ERROR_TYPE => Some(slot(Slot::ErrorType)),
        _ => None,
    }
}

/// A `gen_ai.*` key: dispatched on the first byte of its namespace, so each
/// key is compared with a handful of names rather than all of them. The
/// single place that knows which GenAI attribute has which type and role.
fn classify_genai(key: &str, profile: Profile) -> Class {
    let c = Class {
        genai: true,
        ..Class::default()
    };
    let slot = |slot: Slot, ty: Option<Ty>| Class {
        slot: Some(slot),
        ty,
        ..c
    };
    let typed = |ty: Ty| Class { ty: Some(ty), ..c };
    let int = Some(Ty::Int);
    match key.as_bytes().get(7) {
        Some(b'o') => match key {
            sc::OPERATION_NAME => slot(Slot::Operation, None),
            legacy::OPENAI_REQUEST_SEED | legacy::OPENAI_RESPONSE_FORMAT => {
                Class { legacy: true, ..c }
            }
            _ => c,
        },
        Some(b'p') if key == sc::PROVIDER_NAME => slot(Slot::Provider, None),
        Some(b'r') => match key {
            sc::REQUEST_MODEL => slot(Slot::RequestModel, None),
            sc::RESPONSE_MODEL => slot(Slot::ResponseModel, None),
            sc::RESPONSE_TIME_TO_FIRST_CHUNK => slot(Slot::TimeToFirstChunk, Some(Ty::Double)),
            sc::REQUEST_MAX_TOKENS | sc::REQUEST_CHOICE_COUNT | sc::REQUEST_SEED => typed(Ty::Int),
            sc::REQUEST_TOP_K if profile == Profile::Latest => typed(Ty::Int),
            sc::REQUEST_TEMPERATURE
            | sc::REQUEST_TOP_P
            | sc::REQUEST_TOP_K
            | sc::REQUEST_FREQUENCY_PENALTY
            | sc::REQUEST_PRESENCE_PENALTY => typed(Ty::Double),
            sc::REQUEST_STREAM => typed(Ty::Bool),
            sc::RESPONSE_FINISH_REASONS
            | sc::REQUEST_STOP_SEQUENCES
            | sc::REQUEST_ENCODING_FORMATS => typed(Ty::Strings),
            _ => c,
        },
        Some(b'u') => match key {
            sc::USAGE_INPUT_TOKENS => slot(Slot::Input, int),
            sc::USAGE_OUTPUT_TOKENS => slot(Slot::Output, int),
            sc::USAGE_CACHE_READ_INPUT_TOKENS => slot(Slot::CacheRead, int),
            v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS => Class {
                cache_creation: true,
                ..slot(Slot::CacheWrite, int)
            },
            latest::USAGE_CACHE_WRITE_INPUT_TOKENS => slot(Slot::CacheWrite, int),
            sc::USAGE_REASONING_OUTPUT_TOKENS => slot(Slot::Reasoning, int),
            legacy::USAGE_PROMPT_TOKENS | legacy::USAGE_COMPLETION_TOKENS => Class {
                legacy: true,
                ..typed(Ty::Int)
            },
            _ => c,
        },
        Some(b'a') if key == sc::AGENT_NAME => slot(Slot::Agent, None),
        Some(b'd') if key == sc::DATA_SOURCE_ID => slot(Slot::DataSource, None),
        Some(b't') if key == sc::TOOL_NAME => slot(Slot::Tool, None),
        Some(b'w') if key == sc::WORKFLOW_NAME => slot(Slot::Workflow, None),
        Some(b'e') if key == sc::EMBEDDINGS_DIMENSION_COUNT => typed(Ty::Int),
        Some(b's') if key == legacy::SYSTEM => Class { legacy: true, ..c },
        _ => c,
    }
}

/// The types of the app-level `llm.*` names that carry numbers.
fn legacy_type_of(key: &str) -> Option<Ty> {
    match key {
        legacy::LLM_PROMPT_TOKENS | legacy::LLM_COMPLETION_TOKENS | legacy::LLM_MAX_TOKENS => {
            Some(Ty::Int)
        }
        _ => None,
    }
}

/// A bit for `key` in [`Found::sig_bits`] (from its length and two bytes):
/// equal keys share it, so a clear bit proves a key new without comparing.
pub(crate) fn sig_bit(key: &str) -> u64 {
    let b = key.as_bytes();
    let (n, last, mid) = (b.len(), b.last().copied(), b.get(b.len() / 2).copied());
    let h = (n as u32).wrapping_mul(31)
        ^ u32::from(last.unwrap_or(0))
        ^ u32::from(mid.unwrap_or(0)) << 3;
    1 << (h.wrapping_mul(0x9e37_79b1) >> 26)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn every_renamed_legacy_key_is_classified_legacy() {
        for (old, _) in legacy::RENAMES {
            let class = classify(old, Profile::V1_41).expect(old);
            assert!(class.genai && class.legacy, "{old}: {class:?}");
        }
        for current in [sc::PROVIDER_NAME, sc::USAGE_INPUT_TOKENS, sc::REQUEST_MODEL] {
            assert!(!classify(current, Profile::V1_41).expect(current).legacy);
        }
    }

    #[test]
    fn the_quick_test_for_a_genai_key_agrees_with_the_classification() {
        let keys = [
            sc::OPERATION_NAME,
            sc::USAGE_INPUT_TOKENS,
            "gen_ai.custom.thing",
            "gen_ai.",
            "gen_ai",
            "gen_aix.model",
            "llm.model",
            "llm.",
            "llm",
            "llmx.model",
            sc::SERVER_PORT,
            sc::ERROR_TYPE,
            "code.file.path",
            "g",
            "l",
            "",
        ];
        for key in keys {
            for profile in [Profile::V1_41, Profile::Latest] {
                let classified = classify(key, profile).is_some_and(|c| c.genai);
                assert_eq!(marks_genai(key), classified, "{key:?}");
            }
        }
    }

    #[test]
    fn keys_get_the_types_the_conventions_give_them() {
        let cases = [
            (sc::REQUEST_MAX_TOKENS, Some(Ty::Int)),
            (sc::USAGE_INPUT_TOKENS, Some(Ty::Int)),
            (sc::USAGE_OUTPUT_TOKENS, Some(Ty::Int)),
            (sc::USAGE_CACHE_READ_INPUT_TOKENS, Some(Ty::Int)),
            (v1_41::USAGE_CACHE_CREATION_INPUT_TOKENS, Some(Ty::Int)),
            (latest::USAGE_CACHE_WRITE_INPUT_TOKENS, Some(Ty::Int)),
            (sc::USAGE_REASONING_OUTPUT_TOKENS, Some(Ty::Int)),
            (sc::EMBEDDINGS_DIMENSION_COUNT, Some(Ty::Int)),
            (sc::REQUEST_CHOICE_COUNT, Some(Ty::Int)),
            (sc::REQUEST_SEED, Some(Ty::Int)),
            (sc::SERVER_PORT, Some(Ty::Int)),
            (legacy::USAGE_PROMPT_TOKENS, Some(Ty::Int)),
            (legacy::LLM_PROMPT_TOKENS, Some(Ty::Int)),
            (legacy::LLM_MAX_TOKENS, Some(Ty::Int)),
            (sc::REQUEST_TEMPERATURE, Some(Ty::Double)),
            (sc::REQUEST_TOP_P, Some(Ty::Double)),
            (sc::REQUEST_TOP_K, Some(Ty::Double)),
            (sc::REQUEST_FREQUENCY_PENALTY, Some(Ty::Double)),
            (sc::REQUEST_PRESENCE_PENALTY, Some(Ty::Double)),
            (sc::RESPONSE_TIME_TO_FIRST_CHUNK, Some(Ty::Double)),
            (sc::REQUEST_STREAM, Some(Ty::Bool)),
            (sc::RESPONSE_FINISH_REASONS, Some(Ty::Strings)),
            (sc::REQUEST_STOP_SEQUENCES, Some(Ty::Strings)),
            (sc::REQUEST_ENCODING_FORMATS, Some(Ty::Strings)),
            (sc::REQUEST_MODEL, None),
            (sc::OPERATION_NAME, None),
        ];
        for (key, ty) in cases {
            assert_eq!(classify(key, Profile::V1_41).expect(key).ty, ty, "{key}");
        }
        assert_eq!(
            classify(sc::REQUEST_TOP_K, Profile::Latest).unwrap().ty,
            Some(Ty::Int)
        );
        for other in [
            "code.file.path",
            "thread.id",
            "gen",
            "",
            "llm",
            "server.x",
            "e",
        ] {
            assert!(
                classify(other, Profile::V1_41).is_none_or(|c| !c.genai && c.slot.is_none()),
                "{other}"
            );
        }
    }
}
