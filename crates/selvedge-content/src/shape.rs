//! Limits and redaction, applied to every string before it is recorded.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use regex::Regex;

/// The default maximum per part, in bytes.
pub const DEFAULT_MAX_PART_BYTES: usize = 8 * 1024;
/// Overrides the maximum per part (bytes).
pub const SELVEDGE_CONTENT_MAX_BYTES: &str = "SELVEDGE_CONTENT_MAX_BYTES";
/// What replaces a redacted secret.
pub const REDACTED: &str = "[REDACTED]";

/// A user redaction hook: gets each string, returns it (possibly changed).
pub type Redactor = Arc<dyn Fn(&str) -> Cow<'_, str> + Send + Sync>;

/// How content is cut and cleaned before it leaves the process.
#[derive(Clone)]
pub struct Shaping {
    /// Maximum bytes per part; longer text is cut at a character boundary and
    /// marked `…[truncated N chars]`.
    pub max_part_bytes: usize,
    /// Replace API keys and bearer tokens with `[REDACTED]` (default on).
    pub redact_secrets: bool,
    /// Replace e-mail addresses too (default off).
    pub redact_emails: bool,
    /// A hook run after the built-in patterns.
    pub redactor: Option<Redactor>,
}

impl std::fmt::Debug for Shaping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shaping")
            .field("max_part_bytes", &self.max_part_bytes)
            .field("redact_secrets", &self.redact_secrets)
            .field("redact_emails", &self.redact_emails)
            .field("redactor", &self.redactor.is_some())
            .finish()
    }
}

impl Default for Shaping {
    fn default() -> Self {
        Shaping {
            max_part_bytes: DEFAULT_MAX_PART_BYTES,
            redact_secrets: true,
            redact_emails: false,
            redactor: None,
        }
    }
}

fn secrets() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?i:bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*", // Authorization: Bearer …
            r"|\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}", // OpenAI / Anthropic keys
            r"|\bAKIA[0-9A-Z]{16}\b",                  // AWS access key ids
            r"|\bAIza[0-9A-Za-z_\-]{35}\b",            // Google API keys
            r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b",        // GitHub tokens
            r"|\bxox[abposr]-[A-Za-z0-9-]{10,}",       // Slack tokens
        ))
        .expect("valid secret patterns")
    })
}

fn emails() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
            .expect("valid e-mail pattern")
    })
}

impl Shaping {
    /// Redacts, then truncates, `text`.
    pub fn apply(&self, text: &str) -> String {
        let mut s: Cow<'_, str> = Cow::Borrowed(text);
        if self.redact_secrets {
            rewrite(&mut s, |t| secrets().replace_all(t, REDACTED));
        }
        if self.redact_emails {
            rewrite(&mut s, |t| emails().replace_all(t, REDACTED));
        }
        if let Some(hook) = &self.redactor {
            rewrite(&mut s, |t| hook(t));
        }
        truncate(s, self.max_part_bytes)
    }
}

/// Applies one redaction step; it allocates only when it changes something.
fn rewrite(s: &mut Cow<'_, str>, step: impl FnOnce(&str) -> Cow<'_, str>) {
    if let Cow::Owned(changed) = step(s) {
        *s = Cow::Owned(changed);
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut.
pub(crate) fn truncate(s: Cow<'_, str>, max: usize) -> String {
    if s.len() <= max {
        return s.into_owned();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let dropped = s[cut..].chars().count();
    format!("{}…[truncated {dropped} chars]", &s[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_never_splits_a_character_and_says_how_much() {
        let s = "ab€€€"; // € is 3 bytes
        assert_eq!(truncate(s.into(), 4), "ab…[truncated 3 chars]");
        assert_eq!(truncate(s.into(), 5), "ab€…[truncated 2 chars]");
        assert_eq!(truncate(s.into(), 100), s);
        let huge = "x".repeat(10 * 1024 * 1024);
        let cut = truncate(huge.as_str().into(), DEFAULT_MAX_PART_BYTES);
        assert!(cut.len() < DEFAULT_MAX_PART_BYTES + 40);
        assert!(cut.ends_with(&format!(
            "[truncated {} chars]",
            huge.len() - DEFAULT_MAX_PART_BYTES
        )));
        let emoji = "😀".repeat(5000);
        assert!(truncate(emoji.as_str().into(), 8191).starts_with('😀'));
    }

    #[test]
    fn secrets_are_redacted_emails_only_on_request() {
        let shaping = Shaping::default();
        let text = "key sk-proj-abcdefghijklmnopqrstuvwx and Authorization: Bearer eyJhbGciOi.abc.def mail a.b@example.com AKIAABCDEFGHIJKLMNOP";
        let out = shaping.apply(text);
        assert!(
            !out.contains("sk-proj-abc")
                && !out.contains("eyJhbGciOi")
                && !out.contains("AKIAABCD"),
            "{out}"
        );
        assert!(out.contains("a.b@example.com"));
        let out = Shaping {
            redact_emails: true,
            ..Shaping::default()
        }
        .apply(text);
        assert!(!out.contains("a.b@example.com"), "{out}");
        let hook: Redactor = Arc::new(|s: &str| Cow::Owned(s.replace("acme", "[CUSTOMER]")));
        let out = Shaping {
            redactor: Some(hook),
            ..Shaping::default()
        }
        .apply("for acme");
        assert_eq!(out, "for [CUSTOMER]");
        let ctrl = Shaping::default().apply("a\u{0}b\u{1b}[31m");
        assert_eq!(
            serde_json::to_string(&ctrl).unwrap(),
            "\"a\\u0000b\\u001b[31m\"",
            "control characters stay escaped in JSON"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any text, any limit: no panic; what is kept is the text's longest
        /// prefix within the limit that ends on a character, and the marker
        /// counts exactly the characters cut.
        #[test]
        fn truncation_keeps_a_whole_prefix_and_counts_the_rest(text in "\\PC{0,64}|.{0,64}", max in 0usize..80) {
            let out = truncate(text.as_str().into(), max);
            if text.len() <= max {
                proptest::prop_assert_eq!(&out, &text);
            } else {
                let (kept, marker) = out.rsplit_once("…[truncated ").expect("marked");
                proptest::prop_assert!(kept.len() <= max && text.starts_with(kept));
                let next = text[kept.len()..].chars().next().expect("something was cut");
                proptest::prop_assert!(kept.len() + next.len_utf8() > max, "cut short: {:?}", kept);
                let dropped = text[kept.len()..].chars().count();
                proptest::prop_assert_eq!(marker, format!("{dropped} chars]"));
            }
        }

        /// Redaction never panics and never lets a known key pattern through,
        /// whatever surrounds it.
        #[test]
        fn a_key_anywhere_is_redacted(before in ".{0,40}", after in ".{0,40}") {
            let key = "sk-proj-abcdefghijklmnopqrstuvwx";
            let text = format!("{before} {key} {after}");
            let out = Shaping { max_part_bytes: usize::MAX, ..Shaping::default() }.apply(&text);
            proptest::prop_assert!(!out.contains(key), "{:?}", out);
            proptest::prop_assert!(out.contains(REDACTED));
        }
    }
}
