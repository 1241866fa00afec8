//! Live checks of the other providers' tokens: the plan of `rules::token_plan` executed, one
//! "who am I" call per distinct (URL, token), through the HTTP client of the AWS calls
//! (proxies, `AWS_CA_BUNDLE`), with the run's timeout. Gathering only: LD704–LD706 judge.
//! No redirect is followed: the token goes to the one URL its provider would use.

use crate::model::token_live::{
    Reply, TokenCheck, TokenFailure, TokenInfo, TokenOutcome, TokenProbe, auth_header, classify,
};
use crate::rules::TokenPlan;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Replies larger than this are cut (the APIs answer a few hundred bytes).
const MAX_BODY: usize = 256 * 1024;

fn failed(kind: TokenFailure, detail: &str) -> TokenOutcome {
    TokenOutcome::Failed {
        kind,
        detail: detail.to_string(),
        info: TokenInfo::default(),
    }
}

/// Every planned check, each with an outcome; calls shared by layers are made once.
pub fn check_all(
    plans: Vec<TokenPlan>,
    timeout: Duration,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<TokenCheck> {
    if plans.is_empty() {
        return Vec::new();
    }
    let mut calls: Vec<TokenProbe> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for plan in &plans {
        if let Ok(p) = &plan.action {
            index
                .entry((p.url.clone(), p.token.clone()))
                .or_insert_with(|| {
                    calls.push(p.clone());
                    calls.len() - 1
                });
        }
    }
    let results: Vec<(TokenOutcome, u64)> = if calls.is_empty() {
        Vec::new()
    } else {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(async {
                let connector = super::http::connector();
                let futures = calls.iter().map(|c| {
                    let connector = &connector;
                    async move {
                        let start = Instant::now();
                        let outcome = match tokio::time::timeout(timeout, call(connector, c)).await
                        {
                            Ok(Ok(reply)) => classify(c.provider, &reply, now),
                            Ok(Err(outcome)) => outcome,
                            Err(_) => failed(
                                TokenFailure::Timeout,
                                &format!("no answer within {} s (--timeout)", timeout.as_secs()),
                            ),
                        };
                        let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                        (outcome, ms)
                    }
                });
                futures::future::join_all(futures).await
            }),
            Err(_) => calls
                .iter()
                .map(|_| {
                    (
                        TokenOutcome::Skipped("cannot start the async runtime".into()),
                        0,
                    )
                })
                .collect(),
        }
    };
    plans
        .into_iter()
        .map(|plan| {
            let (outcome, millis) = match &plan.action {
                Ok(p) => index
                    .get(&(p.url.clone(), p.token.clone()))
                    .and_then(|i| results.get(*i))
                    .cloned()
                    .unwrap_or((TokenOutcome::Skipped("not run".into()), 0)),
                Err(why) => (TokenOutcome::Skipped(why.clone()), 0),
            };
            TokenCheck {
                layer: plan.layer,
                provider: plan.provider,
                alias: plan.alias,
                base: plan.base,
                outcome,
                millis,
            }
        })
        .collect()
}

/// The one GET, with the provider's auth header. Failures to connect are classified by the
/// connector's error kind, never by its text (which is not shown).
async fn call(
    connector: &aws_smithy_http_client::Connector,
    probe: &TokenProbe,
) -> Result<Reply, TokenOutcome> {
    let mut request = HttpRequest::get(&probe.url)
        .map_err(|_| failed(TokenFailure::Unexpected, "the address is not a valid URL"))?;
    let (name, value) = auth_header(probe.provider, &probe.token);
    let accept = match probe.provider {
        crate::model::credentials::Provider::Github => "application/vnd.github+json",
        crate::model::credentials::Provider::Tfe => "application/vnd.api+json",
        _ => "application/json",
    };
    let headers = request.headers_mut();
    for (n, v) in [
        (name, value),
        ("Accept", accept.to_string()),
        // GitHub refuses requests without one.
        (
            "User-Agent",
            format!("leverage-doctor/{}", env!("CARGO_PKG_VERSION")),
        ),
    ] {
        if headers.try_insert(n, v).is_err() {
            return Err(failed(
                TokenFailure::Unexpected,
                "the token cannot be sent in an HTTP header (malformed: LD702)",
            ));
        }
    }
    let response = connector.call(request).await.map_err(|e| {
        if e.is_timeout() {
            failed(TokenFailure::Timeout, "the connection timed out")
        } else {
            failed(
                TokenFailure::Unreachable,
                "could not connect (name resolution, connection refused, TLS or proxy)",
            )
        }
    })?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
        .collect()
        .await
        .map(|b| {
            let mut b = b.into_bytes().to_vec();
            b.truncate(MAX_BODY);
            b
        })
        .unwrap_or_default();
    Ok(Reply {
        status,
        headers,
        body,
    })
}
