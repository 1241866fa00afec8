//! Endpoint overrides from the environment, validated before any call: a malformed URL makes
//! the SDK fail deep inside a request, with that request in its error.

pub use crate::model::endpoints::*;

/// Registers the user info of every URL variable as a secret (and its password alone), so
/// that no output shows it, whatever text carries it (an SDK error, a proxy reply).
pub fn register_url_secrets() {
    for name in URL_VARS {
        let Ok(value) = std::env::var(name) else {
            continue;
        };
        if let Some(range) = user_info(&value) {
            let info = &value[range];
            crate::secrets::register(info);
            if let Some((_, password)) = info.split_once(':') {
                crate::secrets::register(password);
            }
        }
    }
}

/// Every override set in the environment that is not a valid URL: `(variable, reason)`.
pub fn invalid_env() -> Vec<(String, String)> {
    VARS.iter()
        .filter_map(|name| {
            let value = std::env::var(name).ok().filter(|v| !v.is_empty())?;
            check_url(&value).err().map(|why| (name.to_string(), why))
        })
        .collect()
}

/// Stops a command that calls AWS when an override is malformed: a clear error up front.
pub fn require_valid_env() -> anyhow::Result<()> {
    match invalid_env().first() {
        Some((name, why)) => anyhow::bail!(
            "{name} {why}: set it to a URL such as https://sts.us-east-1.amazonaws.com or http://127.0.0.1:5000, or unset it"
        ),
        None => Ok(()),
    }
}
