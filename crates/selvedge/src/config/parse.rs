//! Values read from the environment, checked: every error names the variable
//! (or builder method) and the bad value — never a header value, which is
//! probably a credential.

use std::time::Duration;

use crate::env::Env;
use crate::Error;

/// A positive count: the builder's, else `var`'s, else `default`; zero or
/// anything unparsable is an error naming where it came from.
pub(super) fn positive(
    builder: Option<usize>,
    method: &str,
    e: &dyn Env,
    var: &str,
    default: usize,
) -> Result<usize, Error> {
    match builder {
        Some(0) => Err(invalid(method, "0", "must be at least 1")),
        Some(n) => Ok(n),
        None => match e.var(var) {
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(invalid(var, &v, "expected a positive integer")),
            },
            None => Ok(default),
        },
    }
}

pub(crate) fn invalid(name: &str, value: &str, reason: &str) -> Error {
    Error::InvalidValue {
        name: name.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

pub(super) fn parse_ratio(var: &str, value: &str) -> Result<f64, Error> {
    match value.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(invalid(var, value, "expected a number between 0.0 and 1.0")),
    }
}

pub(super) fn parse_bool(var: &str, value: &str) -> Result<bool, Error> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(var, value, "expected `true` or `false`")),
    }
}

pub(super) fn parse_millis(var: &str, value: &str) -> Result<Duration, Error> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| invalid(var, value, "expected a whole number of milliseconds"))
}

pub(super) fn validate_endpoint(origin: &str, url: &str) -> Result<(), Error> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            Err(invalid(origin, &redact_url(url), "the URL has no host"))
        }
        Some(rest) if rest.contains(char::is_whitespace) => Err(invalid(
            origin,
            &redact_url(url),
            "the URL contains whitespace",
        )),
        Some(_) => check_uri(origin, url),
        None => Err(invalid(
            origin,
            &redact_url(url),
            "expected a URL starting with http:// or https:// (a URL without a scheme would silently mean https)",
        )),
    }
}

/// The endpoint parsed as the exporters parse it (`http::Uri`), so a URL they
/// would refuse is an error that names its variable. A port that is not a
/// number is refused here too: `http::Uri` accepts any port text, and the
/// HTTP exporter would then fail every export with a bare "network error".
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
fn check_uri(origin: &str, url: &str) -> Result<(), Error> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| invalid(origin, &redact_url(url), &format!("not a valid URL: {e}")))?;
    // `Authority::port` reads the text after the last `:` and yields nothing
    // when it is not a number: the port text is found the same way here.
    let host_port = uri.authority().map_or("", |a| {
        let text = a.as_str();
        text.rsplit_once('@')
            .map_or(text, |(_, host_port)| host_port)
    });
    let port = match host_port.rsplit_once(':') {
        // An IPv6 literal without a port ends with its bracket.
        Some((_, port)) if !host_port.ends_with(']') => port,
        _ => "",
    };
    if !port.is_empty() && port.parse::<u16>().is_err() {
        return Err(invalid(
            origin,
            &redact_url(url),
            "the port must be a number up to 65535",
        ));
    }
    Ok(())
}

/// Without a transport nothing is exported: the endpoint is only shown.
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
fn check_uri(_origin: &str, _url: &str) -> Result<(), Error> {
    Ok(())
}

/// The keys of an OTLP headers value (`k=v,k2=v2`); values are never returned.
pub(super) fn header_keys(var: &str, value: &str) -> Result<Vec<String>, Error> {
    let mut keys = Vec::new();
    for entry in value.split(',').filter(|e| !e.trim().is_empty()) {
        match entry.split_once('=') {
            Some((k, _)) if !k.trim().is_empty() => {
                validate_header_key(var, k.trim())?;
                keys.push(k.trim().to_ascii_lowercase());
            }
            // Never echo the entry: it is probably a credential.
            _ => {
                return Err(invalid(
                    var,
                    "<redacted>",
                    "every comma-separated entry must be key=value",
                ))
            }
        }
    }
    Ok(keys)
}

pub(super) fn validate_header_key(origin: &str, key: &str) -> Result<(), Error> {
    let ok = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(origin, key, "not a valid HTTP header name"))
    }
}

/// The URL with any `user:password@` removed, for status and messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://<redacted>@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}
