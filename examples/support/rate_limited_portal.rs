//! A test SSO portal speaking the real wire format (ListAccounts, ListAccountRoles, paged) with
//! a rate limit: past `per_second` requests in any one-second window it answers 429
//! TooManyRequestsException. Shared by tests/regen_scale.rs and examples/portal_server.rs (the
//! benchmark's portal).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::{Request, ResponseTemplate};

/// The portal's accounts and roles, paged like the real one, holding `per_second` requests in
/// any one-second window and answering 429 past it.
#[derive(Clone)]
pub struct Portal {
    pub accounts: Arc<Vec<(String, String)>>,
    pub per_second: usize,
    pub window: Arc<Mutex<VecDeque<Instant>>>,
    pub throttled: Arc<Mutex<usize>>,
    pub roles_asked: Arc<Mutex<HashMap<String, usize>>>,
}

impl Portal {
    pub fn new(accounts: Vec<(String, String)>, per_second: usize) -> Portal {
        Portal {
            accounts: Arc::new(accounts),
            per_second,
            window: Arc::default(),
            throttled: Arc::default(),
            roles_asked: Arc::default(),
        }
    }
}

fn query(request: &Request, key: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl wiremock::Respond for Portal {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        {
            let mut window = self.window.lock().unwrap();
            let now = Instant::now();
            while window
                .front()
                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
            {
                window.pop_front();
            }
            if window.len() >= self.per_second {
                *self.throttled.lock().unwrap() += 1;
                return ResponseTemplate::new(429)
                    .insert_header("x-amzn-errortype", "TooManyRequestsException")
                    .set_body_json(serde_json::json!({"message": "Too many requests"}));
            }
            window.push_back(now);
        }
        if request.url.path() == "/assignment/accounts" {
            let start: usize = query(request, "next_token")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let page: Vec<_> = self
                .accounts
                .iter()
                .skip(start)
                .take(50)
                .map(|(id, name)| serde_json::json!({"accountId": id, "accountName": name, "emailAddress": "x@example.com"}))
                .collect();
            let next = (start + 50 < self.accounts.len()).then(|| (start + 50).to_string());
            return ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"accountList": page, "nextToken": next}));
        }
        let account = query(request, "account_id").unwrap_or_default();
        *self
            .roles_asked
            .lock()
            .unwrap()
            .entry(account.clone())
            .or_default() += 1;
        // Every fourth of the extra accounts has only ReadOnly.
        let only_read =
            account.starts_with('4') && account.parse::<u64>().is_ok_and(|n| n % 4 == 3);
        let roles: Vec<_> = if only_read {
            vec!["ReadOnly"]
        } else {
            vec!["DevOps", "ReadOnly"]
        }
        .into_iter()
        .map(|r| serde_json::json!({"roleName": r, "accountId": account}))
        .collect();
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"roleList": roles, "nextToken": null}))
    }
}

/// The fixture's three declared accounts, then `extra` more with real-world names.
pub fn accounts(extra: usize) -> Vec<(String, String)> {
    let mut out = vec![
        ("111111111111".to_string(), "binbash-management".to_string()),
        ("222222222222".to_string(), "binbash-shared".to_string()),
        (
            "333333333333".to_string(),
            "binbash-apps-devstg".to_string(),
        ),
    ];
    let names = [
        "Data Lake",
        "ops[eu]",
        "Sandbox",
        "prod – payments",
        "QA/Staging",
    ];
    for i in 0..extra {
        out.push((
            format!("{:012}", 400_000_000_000u64 + i as u64),
            format!("{} {i}", names[i % names.len()]),
        ));
    }
    out
}

pub async fn serve(portal: &Portal) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/assignment/accounts"))
        .respond_with(portal.clone())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/assignment/roles"))
        .respond_with(portal.clone())
        .mount(&server)
        .await;
    server
}
