//! Endpoint URLs as the SDKs take them (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, proxies):
//! which variables hold them, whether a value is valid, and how to show one without its user info.
/// The overrides the doctor's SDK clients read.
pub const VARS: &[&str] = &[
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
];

/// `http(s)://host[:port][/path]`: a host of letters, digits, `.`, `-` (or `[ipv6]`), a port
/// of digits, no user info, no white space or control characters, `%` only as `%XX`.
pub fn check_url(value: &str) -> Result<(), String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or("does not start with http:// or https://")?;
    if let Some(c) = value.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "contains `{}` (white space or a control character)",
            c.escape_default()
        ));
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err("contains user info (`user:password@`): not supported".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6
            .split_once(']')
            .ok_or("has an unclosed `[` in its host")?;
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("has an invalid IPv6 host".into());
        }
        match after.strip_prefix(':') {
            Some(p) => (inner, Some(p)),
            None if after.is_empty() => (inner, None),
            None => return Err("has text after its IPv6 host".into()),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if !authority.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err("has an invalid host name".into());
    }
    if let Some(p) = port
        && (p.is_empty()
            || p.len() > 5
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n > 65535))
    {
        return Err("has an invalid port".into());
    }
    let bytes = path.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err("has a `%` that is not a %XX escape".into());
        }
        if matches!(
            b,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        ) {
            return Err(format!("contains `{}`", *b as char));
        }
    }
    Ok(())
}

/// Where the user info of a URL lies (`user:pass` in `http://user:pass@host`, and in
/// `user:pass@host:3128` without a scheme, as proxies are often given), if it has one. The
/// authority ends at the first `/`, `?` or `#`; its last `@` ends the user info (a password
/// may hold an unescaped `@`).
pub fn user_info(value: &str) -> Option<std::ops::Range<usize>> {
    let start = value.find("://").map_or(0, |s| s + 3);
    let rest = &value[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    Some(start..start + at)
}

/// The URL as it may be shown: user info masked (with or without a scheme), control
/// characters escaped, cut short.
pub fn display_url(value: &str) -> String {
    let masked = match user_info(value) {
        Some(range) => format!("{}****{}", &value[..range.start], &value[range.end..]),
        None => value.to_string(),
    };
    crate::secrets::one_line(&masked, 200)
}

/// The URL without its user info (to check what is left).
pub fn without_user_info(value: &str) -> String {
    match user_info(value) {
        Some(range) => format!("{}{}", &value[..range.start], &value[range.end + 1..]),
        None => value.to_string(),
    }
}

/// Variables holding URLs whose user info is a secret: proxies and endpoint overrides.
pub const URL_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
];

#[cfg(test)]
mod tests {
    use super::{check_url, display_url};

    #[test]
    fn user_info_is_masked_with_or_without_a_scheme() {
        for (given, shown) in [
            ("http://u:p@proxy:3128", "http://****@proxy:3128"),
            ("u:p@proxy:3128", "****@proxy:3128"),
            ("user:p@ss@proxy", "****@proxy"),
            ("https://h.example/a@b", "https://h.example/a@b"),
            ("socks5h://me:pw@[::1]:1080/", "socks5h://****@[::1]:1080/"),
            ("proxy:3128", "proxy:3128"),
        ] {
            assert_eq!(display_url(given), shown, "{given}");
        }
    }

    #[test]
    fn urls() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://sts.us-east-1.amazonaws.com",
            "http://[::1]:8080/",
            "https://x.example/path%20x",
            // Found by fuzzing (an oracle bug, not a code bug): `@` in the query is no user info.
            "http://ASI?.@",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "not a url",
            "http://[::1",
            "http://127.0.0.1:1/%zz",
            "https://user:pw@127.0.0.1/",
            "http://",
            "http://h:99999",
            "ftp://x",
            "http://x\r\nHost: y",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
