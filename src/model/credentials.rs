//! Credentials other than AWS profiles that a layer needs: what its `provider` blocks and
//! module sources ask for, and what the environment and the home folder hold for them.
//! Values that are tokens are registered with the secret scrubber when read; rules may look
//! at their shape, never print them.

use crate::source::Span;

/// A Terraform provider that authenticates with a credential of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Provider {
    Github,
    Gitlab,
    Vault,
    /// HCP Terraform / Terraform Enterprise (`hashicorp/tfe`).
    Tfe,
    /// HashiCorp Cloud Platform (`hashicorp/hcp`).
    Hcp,
    Kubernetes,
    Helm,
}

impl Provider {
    /// From a `provider "<name>"` label or a `required_providers` local name.
    pub fn from_name(name: &str) -> Option<Provider> {
        Some(match name {
            "github" => Provider::Github,
            "gitlab" => Provider::Gitlab,
            "vault" => Provider::Vault,
            "tfe" => Provider::Tfe,
            "hcp" => Provider::Hcp,
            "kubernetes" => Provider::Kubernetes,
            "helm" => Provider::Helm,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Vault => "vault",
            Provider::Tfe => "tfe",
            Provider::Hcp => "hcp",
            Provider::Kubernetes => "kubernetes",
            Provider::Helm => "helm",
        }
    }
}

/// What a credential attribute of a provider block is written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A literal string (registered as a secret when it is a token).
    Literal(String),
    /// `var.<name>`, with what the layer's run gives it.
    Var(VarValue),
    /// Anything else (a data source, a function call, a local): known when Terraform runs.
    Computed,
}

/// A variable a credential attribute names, and what sets it for the layer's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarValue {
    pub name: String,
    /// The value a `config/*.tfvars` the run passes, or the layer's `terraform.tfvars` /
    /// `*.auto.tfvars`, gives it (a string; registered as a secret).
    pub tfvars: Option<String>,
    /// One of those files sets it (to any value).
    pub in_tfvars: bool,
    /// A `variable "<name>"` block of the layer declares it.
    pub declared: bool,
    /// That declaration has a non-null `default`.
    pub has_default: bool,
}

/// One credential attribute of a provider block, as written.
#[derive(Debug, Clone)]
pub struct CredAttr {
    pub name: String,
    pub value: AttrValue,
    /// The attribute's value.
    pub span: Span,
    /// A literal path (`config_path`, `credential_file`) and what is there.
    pub file: Option<PathCheck>,
}

/// A file a provider attribute names, as Terraform's run would find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathCheck {
    /// There, on this machine.
    Found,
    /// Not there (relative paths are taken from the layer, `~/` from the home folder).
    Missing,
    /// Under the home folder (`~/…`), which the Leverage toolbox container (before 3.x) does
    /// not mount: found here or not, Terraform there does not see it.
    InHome { found: bool },
}

/// Attributes that name a file the provider reads.
pub const PATH_ATTRS: &[&str] = &["config_path", "credential_file"];

/// Where in the home folder each path attribute's file lives by convention (kubeconfigs in
/// `~/.kube/`, Terraform's own credentials in `~/.terraform.d/`): the only home files a
/// checkout's `~/…` path makes the doctor look at, so that a pull request cannot have it open
/// `~/.ssh/id_rsa` or learn which home files exist.
pub fn home_folder_of(attr: &str) -> Option<&'static str> {
    match attr {
        "config_path" => Some(".kube/"),
        "credential_file" => Some(".terraform.d/"),
        _ => None,
    }
}

/// One credential a provider block needs, and every place its provider documents reading it.
#[derive(Debug, Clone)]
pub struct CredentialNeed {
    /// The layer, relative to the project root.
    pub layer: String,
    pub provider: Provider,
    pub alias: Option<String>,
    /// What the provider reads and from where (its documentation).
    pub spec: &'static NeedSpec,
    /// The `provider` block's name (or the `required_providers` entry when the layer has no
    /// block: Terraform configures the provider empty).
    pub block: Span,
    /// The attribute that gives it in the block (the first of `spec.attrs` written).
    pub attr: Option<CredAttr>,
    /// Another way to authenticate is configured in the block (`app_auth`, `auth_login*`…):
    /// this credential is not needed.
    pub other_way: bool,
    /// What of the layer uses the provider: Terraform configures no provider nothing uses.
    pub used: Usage,
    /// The attribute naming the provider's API (github/gitlab `base_url`, tfe `hostname`),
    /// when the block writes it.
    pub base: Option<CredAttr>,
    /// kubernetes/helm: `config_context`, when the block writes it.
    pub context: Option<CredAttr>,
    /// kubernetes/helm: the kubeconfig the provider reads (`config_path`, else
    /// `KUBE_CONFIG_PATH`), when it could be read (inside the project or the home folder).
    pub kubeconfig: Option<KubeconfigUse>,
}

/// A kubeconfig a kubernetes/helm provider reads, and what it holds of the context it uses.
#[derive(Debug, Clone)]
pub struct KubeconfigUse {
    /// The file (registered; whole-file span).
    pub file: Span,
    /// As shown (`~/.kube/config`, `k8s/kubeconfig`).
    pub shown: String,
    /// Named by `KUBE_CONFIG_PATH` (the provider reads it when no `config_path` is written).
    pub from_env: bool,
    /// Under the home folder.
    pub in_home: bool,
    /// Its `current-context`, where written.
    pub current: Option<(String, Span)>,
    /// The names of its `contexts`.
    pub contexts: Vec<String>,
    /// The file does not parse as a kubeconfig: why.
    pub invalid: Option<String>,
}

/// What of a layer uses a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A `resource`, `data` or `ephemeral` block of its type.
    Direct,
    /// Nothing of its type, but module calls, which inherit the provider and may use it.
    MaybeModules,
    /// Nothing: Terraform never configures it.
    Unused,
}

/// How a layer's module `source` is fetched by `terraform init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitTransport {
    /// `git@host:org/repo` or `git::ssh://…`: an SSH key (agent or file) is needed.
    Ssh,
    /// `git::https://…`: public, or a credential helper / netrc for a private repository.
    Https,
}

#[derive(Debug, Clone)]
pub struct ModuleSource {
    pub layer: String,
    pub transport: GitTransport,
    /// The host (`github.com`).
    pub host: String,
    /// The `source` value.
    pub span: Span,
}

/// A KMS key in the sops metadata of a file a `data "sops_file"` decrypts.
#[derive(Debug, Clone)]
pub struct SopsKey {
    /// Its `arn`, where written.
    pub arn: String,
    pub span: Span,
    /// Its `aws_profile`, when set (else the default chain).
    pub profile: Option<String>,
}

/// An environment variable that supplies a non-AWS credential.
#[derive(Debug, Clone)]
pub struct CredEnvVar {
    pub name: String,
    pub value: String,
}

/// A file under the home folder a provider reads a credential from.
#[derive(Debug, Clone)]
pub struct HomeFile {
    /// As documented: `~/.vault-token`.
    pub shown: &'static str,
    /// Its text when it is a single token (`~/.vault-token`), registered as a secret.
    pub token: Option<String>,
}

/// What the environment and the home folder hold for non-AWS credentials.
#[derive(Debug, Clone, Default)]
pub struct CredentialEnv {
    /// Set and not empty.
    pub vars: Vec<CredEnvVar>,
    /// `TF_VAR_<name>` set: names without the prefix, and values (registered as secrets).
    pub tf_vars: std::collections::BTreeMap<String, String>,
    /// The documented credential files that exist.
    pub home_files: Vec<HomeFile>,
    /// `SSH_AUTH_SOCK` names a socket that exists.
    pub ssh_agent: bool,
    /// `~/.ssh/id_*` private keys found (as shown, `~/.ssh/id_ed25519`).
    pub ssh_keys: Vec<String>,
    /// `~/.ssh/config` names an `IdentityFile`.
    pub ssh_config_identity: bool,
    /// Host keys known to ssh: `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts` (read
    /// bounded), when either was read.
    pub known_hosts: Option<Vec<KnownHost>>,
    /// ssh does not stop on an unknown host key: `StrictHostKeyChecking no`/`accept-new` in
    /// `~/.ssh/config`, or in `GIT_SSH_COMMAND`.
    pub host_key_checking_off: bool,
    /// `~/.gitconfig` (and `~/.config/git/config`) `credential.helper`: the URL prefixes a
    /// helper is set for (`""` for every URL).
    pub git_credential_helpers: Vec<String>,
    /// `~/.netrc` `machine` names (`default` for its default entry).
    pub netrc_machines: Vec<String>,
}

/// One line of a known_hosts file: its host patterns, plain or hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KnownHost {
    /// `host1,[host2]:2222,*.example.com` (a `@cert-authority` line included).
    Plain(Vec<String>),
    /// `|1|<base64 salt>|<base64 HMAC-SHA1(salt, host)>` (`HashKnownHosts yes`).
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

impl KnownHost {
    /// Whether the line is for `host` (port 22): a plain pattern (`*` and `?` wildcards, `!`
    /// negation, as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), or a hashed name equal to it.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        match self {
            KnownHost::Plain(patterns) => {
                let mut hit = false;
                for p in patterns {
                    let p = p.to_ascii_lowercase();
                    if let Some(negated) = p.strip_prefix('!') {
                        if glob(negated, &host) {
                            return false;
                        }
                    } else if glob(&p, &host) {
                        hit = true;
                    }
                }
                hit
            }
            KnownHost::Hashed { salt, hash } => hmac_sha1(salt, host.as_bytes()) == hash[..],
        }
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    // Host names are short; a pattern of many stars is cut to keep this cheap.
    pattern.len() <= 255 && text.len() <= 255 && go(pattern.as_bytes(), text.as_bytes())
}

/// HMAC-SHA1 (RFC 2104), as OpenSSH hashes known host names.
pub fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..20].copy_from_slice(&sha1_smol::Sha1::from(key).digest().bytes());
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = sha1_smol::Sha1::new();
    inner.update(&k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = sha1_smol::Sha1::new();
    outer.update(&k.map(|b| b ^ 0x5c));
    outer.update(&inner.digest().bytes());
    outer.digest().bytes()
}

impl CredentialEnv {
    /// Whether ssh knows the host key of `host`: `None` when no known_hosts file was read.
    pub fn knows_host(&self, host: &str) -> Option<bool> {
        let lines = self.known_hosts.as_ref()?;
        Some(lines.iter().any(|l| l.matches(host)))
    }

    /// Whether git has a credential for `https://<host>/`: a credential helper for every URL
    /// or one for that host, or a `~/.netrc` entry for it (or its `default`).
    pub fn git_https_credential(&self, host: &str) -> Option<&'static str> {
        let host = host.to_ascii_lowercase();
        let for_host = |prefix: &str| {
            let p = prefix.to_ascii_lowercase();
            let p = p.trim_end_matches('/');
            p.is_empty()
                || p == format!("https://{host}")
                || p.starts_with(&format!("https://{host}/"))
        };
        if self.git_credential_helpers.iter().any(|p| for_host(p)) {
            return Some("a git credential helper");
        }
        if self
            .netrc_machines
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&host) || m == "default")
        {
            return Some("~/.netrc");
        }
        None
    }
}

impl CredentialEnv {
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.as_str())
    }

    pub fn home_file(&self, shown: &str) -> Option<&HomeFile> {
        self.home_files.iter().find(|f| f.shown == shown)
    }
}

/// Environment variables read for non-AWS credentials.
pub const CREDENTIAL_ENV_VARS: &[&str] = &[
    "GITHUB_TOKEN",
    "GITHUB_APP_ID",
    "GITHUB_APP_INSTALLATION_ID",
    "GITHUB_APP_PEM_FILE",
    "GITLAB_TOKEN",
    "VAULT_TOKEN",
    "VAULT_ADDR",
    "TFE_TOKEN",
    "HCP_CLIENT_ID",
    "HCP_CLIENT_SECRET",
    "HCP_CRED_FILE",
    "KUBE_CONFIG_PATH",
    "KUBE_CONFIG_PATHS",
    "KUBE_HOST",
    "TF_TOKEN_app_terraform_io",
    "TF_CLI_CONFIG_FILE",
    "SSH_AUTH_SOCK",
    "GITHUB_BASE_URL",
    "GITLAB_BASE_URL",
    "TFE_HOSTNAME",
];

/// Of those, the ones whose values are secrets.
pub const SECRET_ENV_VARS: &[&str] = &[
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "VAULT_TOKEN",
    "TFE_TOKEN",
    "HCP_CLIENT_SECRET",
];

/// Home files a provider reads a credential from (documented paths).
pub const VAULT_TOKEN_FILE: &str = "~/.vault-token";
pub const TFE_CREDENTIALS_FILE: &str = "~/.terraform.d/credentials.tfrc.json";
pub const GH_CLI_HOSTS_FILE: &str = "~/.config/gh/hosts.yml";
pub const HCP_CREDS_CACHE: &str = "~/.config/hcp/creds-cache.json";
/// Every home file of the table below (read by `read`, decided on by rules).
pub const HOME_FILES: &[&str] = &[
    VAULT_TOKEN_FILE,
    TFE_CREDENTIALS_FILE,
    GH_CLI_HOSTS_FILE,
    HCP_CREDS_CACHE,
];

/// One credential a provider reads, and where its documentation says it reads it from.
#[derive(Debug)]
pub struct NeedSpec {
    pub what: &'static str,
    /// Attributes of the provider block that give it (any one).
    pub attrs: &'static [&'static str],
    pub env: &'static [&'static str],
    pub home_files: &'static [&'static str],
    /// Blocks or attributes of the provider block that authenticate another way.
    pub other_ways: &'static [&'static str],
    /// Terraform fails without it.
    pub required: bool,
    /// Where the provider documents it.
    pub doc: &'static str,
}

const VAULT_AUTH_LOGINS: &[&str] = &[
    "auth_login",
    "auth_login_userpass",
    "auth_login_aws",
    "auth_login_cert",
    "auth_login_gcp",
    "auth_login_kerberos",
    "auth_login_radius",
    "auth_login_oci",
    "auth_login_oidc",
    "auth_login_jwt",
    "auth_login_azure",
    "auth_login_token_file",
];

/// What each provider needs (from each provider's registry documentation, "Argument Reference"
/// or "Authentication").
pub fn needs(provider: Provider) -> &'static [NeedSpec] {
    match provider {
        // registry.terraform.io/providers/integrations/github/latest/docs#authentication:
        // `token` or GITHUB_TOKEN, else the GitHub CLI's login (`gh auth token`), else
        // anonymous requests; `app_auth` authenticates as a GitHub App.
        Provider::Github => &[NeedSpec {
            what: "token",
            attrs: &["token"],
            env: &["GITHUB_TOKEN"],
            home_files: &[GH_CLI_HOSTS_FILE],
            other_ways: &["app_auth"],
            required: false,
            doc: "https://registry.terraform.io/providers/integrations/github/latest/docs#authentication",
        }],
        // registry.terraform.io/providers/gitlabhq/gitlab/latest/docs: `token` or GITLAB_TOKEN.
        Provider::Gitlab => &[NeedSpec {
            what: "token",
            attrs: &["token"],
            env: &["GITLAB_TOKEN"],
            home_files: &[],
            other_ways: &[],
            required: false,
            doc: "https://registry.terraform.io/providers/gitlabhq/gitlab/latest/docs",
        }],
        // registry.terraform.io/providers/hashicorp/vault/latest/docs: `address` (required, or
        // VAULT_ADDR); `token`, else VAULT_TOKEN, else ~/.vault-token, unless an `auth_login*`
        // block logs in.
        Provider::Vault => &[
            NeedSpec {
                what: "address",
                attrs: &["address"],
                env: &["VAULT_ADDR"],
                home_files: &[],
                other_ways: &[],
                required: true,
                doc: "https://registry.terraform.io/providers/hashicorp/vault/latest/docs#address",
            },
            NeedSpec {
                what: "token",
                attrs: &["token"],
                env: &["VAULT_TOKEN"],
                home_files: &[VAULT_TOKEN_FILE],
                other_ways: VAULT_AUTH_LOGINS,
                required: true,
                doc: "https://registry.terraform.io/providers/hashicorp/vault/latest/docs#token",
            },
        ],
        // registry.terraform.io/providers/hashicorp/tfe/latest/docs#authentication: `token`,
        // TFE_TOKEN, or the CLI config's credentials (`terraform login` writes
        // ~/.terraform.d/credentials.tfrc.json; TF_TOKEN_<host>; TF_CLI_CONFIG_FILE).
        Provider::Tfe => &[NeedSpec {
            what: "token",
            attrs: &["token"],
            env: &[
                "TFE_TOKEN",
                "TF_TOKEN_app_terraform_io",
                "TF_CLI_CONFIG_FILE",
            ],
            home_files: &[TFE_CREDENTIALS_FILE],
            other_ways: &[],
            required: true,
            doc: "https://registry.terraform.io/providers/hashicorp/tfe/latest/docs#authentication",
        }],
        // registry.terraform.io/providers/hashicorp/hcp/latest/docs/guides/auth: client_id and
        // client_secret (HCP_CLIENT_ID / HCP_CLIENT_SECRET), a credential file
        // (`credential_file`, HCP_CRED_FILE), workload identity, or `hcp auth login`'s cache.
        Provider::Hcp => &[NeedSpec {
            what: "client credentials",
            attrs: &["client_id", "credential_file"],
            env: &["HCP_CLIENT_ID", "HCP_CRED_FILE"],
            home_files: &[HCP_CREDS_CACHE],
            other_ways: &["workload_identity"],
            required: false,
            doc: "https://registry.terraform.io/providers/hashicorp/hcp/latest/docs/guides/auth",
        }],
        // registry.terraform.io/providers/hashicorp/kubernetes/latest/docs#authentication:
        // `host` (with a token, certificates or `exec`), or `config_path(s)` /
        // KUBE_CONFIG_PATH(S); no kubeconfig is read by default since 2.0.
        Provider::Kubernetes | Provider::Helm => &[NeedSpec {
            what: "cluster configuration",
            attrs: &["host", "config_path", "config_paths"],
            env: &["KUBE_HOST", "KUBE_CONFIG_PATH", "KUBE_CONFIG_PATHS"],
            home_files: &[],
            other_ways: &[],
            required: false,
            doc: "https://registry.terraform.io/providers/hashicorp/kubernetes/latest/docs#authentication",
        }],
    }
}

/// The provider block attribute naming the API a token is sent to, the environment variable
/// the provider reads it from, and the default (each provider's "Argument Reference"). Vault
/// has no default: its `address` is a need of its own.
pub fn api_base(provider: Provider) -> Option<(&'static str, &'static str, Option<&'static str>)> {
    match provider {
        Provider::Github => Some((
            "base_url",
            "GITHUB_BASE_URL",
            Some("https://api.github.com/"),
        )),
        Provider::Gitlab => Some((
            "base_url",
            "GITLAB_BASE_URL",
            Some("https://gitlab.com/api/v4/"),
        )),
        Provider::Vault => Some(("address", "VAULT_ADDR", None)),
        Provider::Tfe => Some(("hostname", "TFE_HOSTNAME", Some("app.terraform.io"))),
        Provider::Hcp | Provider::Kubernetes | Provider::Helm => None,
    }
}

/// What a token's documented shape says about it, when it is wrong.
pub fn token_shape_problem(provider: Provider, token: &str) -> Option<String> {
    if token.is_empty() {
        return Some("it is empty".into());
    }
    if token != token.trim() {
        return Some("it begins or ends with white space (a line break pasted with it?)".into());
    }
    if token.chars().any(char::is_whitespace) {
        return Some("it holds white space".into());
    }
    if token.starts_with('"') || token.starts_with('\'') {
        return Some("it begins with a quote".into());
    }
    match provider {
        Provider::Github => {
            // docs.github.com "About authentication to GitHub" (token prefixes): ghp_ classic,
            // github_pat_ fine-grained, gho_ OAuth, ghu_ user-to-server, ghs_ server-to-server;
            // tokens made before April 2021 are 40 hexadecimal characters.
            let prefixed = ["ghp_", "github_pat_", "gho_", "ghu_", "ghs_"]
                .iter()
                .any(|p| token.starts_with(p));
            let legacy = token.len() == 40 && token.chars().all(|c| c.is_ascii_hexdigit());
            (!prefixed && !legacy).then(|| {
                "it does not start with ghp_, github_pat_, gho_, ghu_ or ghs_ (nor is it a 40-character legacy token)".into()
            })
        }
        Provider::Gitlab => {
            // docs.gitlab.com "Token overview" (token prefixes): glpat- for personal, project
            // and group access tokens; gloas- OAuth application secrets; tokens made before
            // GitLab 14.5 are 20 characters without a prefix.
            let prefixed = [
                "glpat-", "gloas-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-",
            ]
            .iter()
            .any(|p| token.starts_with(p));
            let legacy = token.len() == 20 && token.chars().all(|c| c.is_ascii_alphanumeric());
            (!prefixed && !legacy).then(|| {
                "it does not start with glpat- (nor is it a 20-character legacy token)".into()
            })
        }
        Provider::Vault => {
            // developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes: hvs. service,
            // hvb. batch, hvr. recovery; s., b., r. before Vault 1.10.
            let prefixed = ["hvs.", "hvb.", "hvr.", "s.", "b.", "r."]
                .iter()
                .any(|p| token.starts_with(p));
            (!prefixed).then(|| {
                "it does not start with hvs. (nor hvb., hvr., or s. before Vault 1.10)".into()
            })
        }
        Provider::Tfe => {
            // HCP Terraform API tokens are `<id>.atlasv1.<secret>`.
            (!token.contains(".atlasv1."))
                .then(|| "it is not of the form <id>.atlasv1.<secret>".into())
        }
        Provider::Hcp | Provider::Kubernetes | Provider::Helm => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_and_known_hosts() {
        // RFC 2202 test case 2.
        let mac = hmac_sha1(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        let hashed = KnownHost::Hashed {
            salt: b"salt".to_vec(),
            hash: hmac_sha1(b"salt", b"github.com").to_vec(),
        };
        assert!(hashed.matches("GitHub.com"));
        assert!(!hashed.matches("gitlab.com"));
        let plain = KnownHost::Plain(vec!["*.example.com".into(), "!bad.example.com".into()]);
        assert!(plain.matches("git.example.com"));
        assert!(!plain.matches("bad.example.com"));
        assert!(!plain.matches("example.com"));
        assert!(!KnownHost::Plain(vec!["[github.com]:2222".into()]).matches("github.com"));
    }

    #[test]
    fn token_shapes() {
        let ok = [
            (Provider::Github, "ghp_0123456789abcdefghijABCDEFGHIJ012345"),
            (Provider::Github, "github_pat_11ABCDEFG0123456789_abcdef"),
            (Provider::Github, "0123456789abcdef0123456789abcdef01234567"),
            (Provider::Gitlab, "glpat-0123456789abcdefghij"),
            (Provider::Vault, "hvs.CAESIabcdef"),
            (Provider::Vault, "s.abcdefghijklmnop"),
            (Provider::Tfe, "abcdef.atlasv1.0123456789"),
        ];
        for (p, t) in ok {
            assert_eq!(token_shape_problem(p, t), None, "{t}");
        }
        let bad = [
            (Provider::Github, "glpat-0123456789abcdefghij"),
            (Provider::Github, "ghp_abc\n"),
            (Provider::Gitlab, "ghp_0123456789abcdefghij"),
            (Provider::Vault, "\"hvs.abc\""),
            (Provider::Vault, "unseal-key-0000"),
            (Provider::Vault, ""),
            (Provider::Tfe, "just-a-token"),
        ];
        for (p, t) in bad {
            assert!(token_shape_problem(p, t).is_some(), "{t}");
        }
    }
}
