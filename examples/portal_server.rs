//! The benchmark's SSO portal: `cargo run --example portal_server -- ACCOUNTS PER_SECOND` serves
//! ACCOUNTS extra accounts (plus the three of the generated project) on 127.0.0.1, holding
//! PER_SECOND requests a second, prints its URL, and runs until killed.

#[path = "support/rate_limited_portal.rs"]
mod rate_limited_portal;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let extra: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let per_second: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let portal = rate_limited_portal::Portal::new(rate_limited_portal::accounts(extra), per_second);
    let server = rate_limited_portal::serve(&portal).await;
    println!("{}", server.uri());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}
