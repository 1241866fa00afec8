//! The HTTP client of every AWS call, set up the way Terraform's and the AWS CLI's are: proxies
//! from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, and the extra certificate authorities of
//! `AWS_CA_BUNDLE` (a corporate TLS proxy), which the Rust SDK does not read by itself.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// A client trusting the system's roots plus `AWS_CA_BUNDLE`, when that is set and readable;
/// `None` otherwise (the SDK's default client, which reads the proxy variables itself).
pub fn client() -> Option<SharedHttpClient> {
    let path = std::env::var_os("AWS_CA_BUNDLE").filter(|p| !p.is_empty())?;
    let pem = super::fs::read_bytes(std::path::Path::new(&path)).ok()?;
    let trust = TrustStore::empty()
        .with_native_roots(true)
        .with_pem_certificate(pem);
    let context = TlsContext::builder().with_trust_store(trust).build().ok()?;
    Some(
        aws_smithy_http_client::Builder::new().build_with_connector_fn(
            move |settings, components| {
                let mut builder = aws_smithy_http_client::ConnectorBuilder::default()
                    .tls_provider(tls::Provider::Rustls(
                        tls::rustls_provider::CryptoMode::AwsLc,
                    ))
                    .tls_context(context.clone());
                builder.set_connector_settings(settings.cloned());
                if let Some(components) = components {
                    builder.set_sleep_impl(components.sleep_impl());
                }
                builder.set_proxy_config(Some(ProxyConfig::from_env()));
                builder.build()
            },
        ),
    )
}

/// A plain HTTP connector for the other providers' "who am I" calls, set up as the AWS
/// client is: the system's roots plus `AWS_CA_BUNDLE`, proxies from `HTTPS_PROXY`/
/// `HTTP_PROXY`/`NO_PROXY`. It follows no redirect (hyper never does): a token goes to the
/// one URL it is given.
pub fn connector() -> aws_smithy_http_client::Connector {
    let mut trust = TrustStore::empty().with_native_roots(true);
    if let Some(pem) = std::env::var_os("AWS_CA_BUNDLE")
        .filter(|p| !p.is_empty())
        .and_then(|p| super::fs::read_bytes(std::path::Path::new(&p)).ok())
    {
        trust = trust.with_pem_certificate(pem);
    }
    let mut builder = aws_smithy_http_client::ConnectorBuilder::default().tls_provider(
        tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc),
    );
    if let Ok(context) = TlsContext::builder().with_trust_store(trust).build() {
        builder = builder.tls_context(context);
    }
    builder.set_proxy_config(Some(ProxyConfig::from_env()));
    builder.build()
}
