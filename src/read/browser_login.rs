//! The authorization-code sign-in with PKCE (the AWS CLI's default since 2.22): a verifier and
//! its S256 challenge, a random `state`, a one-shot listener on 127.0.0.1, the authorize URL on
//! the SSO-OIDC endpoint, and the browser that opens it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Digest;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Random bytes, base64url: the PKCE verifier (32 bytes → 43 characters) and the state.
pub fn random_token(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness for the sign-in: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(&buf))
}

/// The S256 challenge of a verifier: base64url(sha256(verifier)).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The SSO-OIDC endpoint: the SDK's overrides first, as the SDK reads them.
pub fn oidc_endpoint(region: &str) -> String {
    ["AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|v| v.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://oidc.{region}.amazonaws.com"))
}

pub struct Authorize<'a> {
    pub endpoint: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub challenge: &'a str,
    pub scope: &'a str,
}

/// `<endpoint>/authorize?response_type=code&client_id=…&redirect_uri=…&state=…&code_challenge=…&code_challenge_method=S256&scopes=…`
pub fn authorize_url(a: &Authorize) -> String {
    let enc = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
    format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge={}&code_challenge_method=S256&scopes={}",
        a.endpoint,
        enc(a.client_id),
        enc(a.redirect_uri),
        enc(a.state),
        enc(a.challenge),
        enc(a.scope)
    )
}

/// A one-shot listener on a free port of 127.0.0.1.
pub struct Callback {
    listener: TcpListener,
    pub port: u16,
}

/// What the browser brought back.
#[derive(Debug)]
pub enum Returned {
    Code {
        code: String,
        state: String,
    },
    /// The service answered `error=…` (the user denied, or the request was wrong).
    Error(String),
}

impl Callback {
    pub fn bind() -> Result<Callback, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        Ok(Callback { listener, port })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/oauth/callback", self.port)
    }

    /// Waits (at most until `deadline`) for the browser's redirect to `/oauth/callback`, answers
    /// it, and returns its `code`/`state` (or `error`). Other requests (a favicon) are answered
    /// 404 and ignored.
    pub fn wait(&self, deadline: Instant) -> Result<Returned, String> {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    let Some(line) = request_line(&stream, deadline) else {
                        if Instant::now() >= deadline {
                            return Err(TIMED_OUT.into());
                        }
                        continue;
                    };
                    let target = line.split_whitespace().nth(1).unwrap_or("");
                    let Some(query) = target.strip_prefix("/oauth/callback?") else {
                        let _ = (&stream).write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        continue;
                    };
                    let params: Vec<(String, String)> = query
                        .split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| {
                            (
                                k.to_string(),
                                percent_encoding::percent_decode_str(v)
                                    .decode_utf8_lossy()
                                    .into_owned(),
                            )
                        })
                        .collect();
                    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    let body = "<html><body>leverage-doctor: signed in. You can close this window.</body></html>";
                    let _ = (&stream).write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    );
                    return Ok(match (get("code"), get("state"), get("error")) {
                        (Some(code), Some(state), _) => Returned::Code { code, state },
                        (_, _, Some(error)) => Returned::Error(error),
                        _ => Returned::Error("the redirect had no code".into()),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(TIMED_OUT.into());
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(format!("the sign-in listener failed: {e}")),
            }
        }
    }
}

const TIMED_OUT: &str = "no sign-in came back from the browser in time";

/// A client gets at most this long to send its request line, so that an idle or slow one
/// cannot hold the listener while the browser's redirect waits.
const PER_CONNECTION: Duration = Duration::from_secs(2);

/// The first line of an HTTP request (at most 8 KiB), read within `PER_CONNECTION` and never
/// past `deadline` however the client trickles its bytes; None when it does not come in time.
/// Our answer is bounded the same way (a client that does not read cannot block us).
fn request_line(stream: &std::net::TcpStream, deadline: Instant) -> Option<String> {
    let until = deadline.min(Instant::now() + PER_CONNECTION);
    stream.set_nonblocking(false).ok()?;
    let mut line = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).ok()?;
        stream.set_write_timeout(Some(left)).ok()?;
        let n = (&*stream).read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        line.extend_from_slice(&buf[..n]);
        if let Some(end) = line.iter().position(|b| *b == b'\n') {
            line.truncate(end);
            return Some(String::from_utf8_lossy(&line).into_owned());
        }
        if line.len() > 8192 {
            return None;
        }
    }
}

/// Whether a browser can be opened here: `BROWSER`, or a desktop session that is not SSH.
pub fn browser_available() -> bool {
    if std::env::var_os("BROWSER").is_some_and(|b| !b.is_empty()) {
        return true;
    }
    if std::env::var_os("SSH_CONNECTION").is_some() || std::env::var_os("SSH_TTY").is_some() {
        return false;
    }
    cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty())
}

/// Opens `url` with `BROWSER` (its first entry; `%s` is replaced, else the URL is appended),
/// else the platform's opener. No shell is involved.
pub fn open(url: &str) -> Result<(), String> {
    let browser = std::env::var("BROWSER").ok().filter(|b| !b.is_empty());
    let (program, args): (String, Vec<String>) = match browser {
        Some(b) => {
            let first = b.split(':').next().unwrap_or("").trim().to_string();
            let mut words = first.split_whitespace().map(str::to_string);
            let program = words.next().unwrap_or_default();
            let mut args: Vec<String> = words.collect();
            if args.iter().any(|a| a.contains("%s")) {
                args = args.into_iter().map(|a| a.replace("%s", url)).collect();
            } else {
                args.push(url.to_string());
            }
            (program, args)
        }
        None if cfg!(target_os = "macos") => ("open".into(), vec![url.to_string()]),
        None => ("xdg-open".into(), vec![url.to_string()]),
    };
    std::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start the browser `{program}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B.
    #[test]
    fn s256_challenge() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(random_token(32).unwrap().len(), 43);
    }
}
