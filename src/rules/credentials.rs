//! LD7xx: credentials other than AWS profiles — the tokens and settings a layer's github,
//! gitlab, vault, tfe, hcp, kubernetes and helm providers read, and the SSH key a git module
//! source needs at `terraform init`.

use super::{Context, rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::credentials::{
    AttrValue, CredentialNeed, GitTransport, Provider, Usage, VarValue, token_shape_problem,
};
use crate::model::project::Layer;
use crate::source::Span;
use std::collections::BTreeSet;

rule!(
    LD701,
    "LD701",
    "credential-missing",
    Error,
    credential_missing
);
rule!(LD702, "LD702", "token-malformed", Warning, token_malformed);
rule!(LD703, "LD703", "ssh-key-missing", Error, ssh_key_missing);
rule!(LD704, "LD704", "token-rejected", Error, token_rejected);
rule!(LD705, "LD705", "token-expiring", Warning, token_expiring);
rule!(
    LD706,
    "LD706",
    "token-check-failed",
    Warning,
    token_check_failed
);
rule!(
    LD707,
    "LD707",
    "kubeconfig-context-missing",
    Error,
    kubeconfig_context_missing
);
rule!(
    LD709,
    "LD709",
    "ssh-host-key-unknown",
    Warning,
    ssh_host_key_unknown
);
rule!(
    LD710,
    "LD710",
    "git-https-credential-missing",
    Info,
    git_https_credential_missing
);
rule!(
    LD708,
    "LD708",
    "sops-key-account-mismatch",
    Warning,
    sops_key_account_mismatch
);

fn layers<'a>(cx: &Context<'a>) -> Vec<&'a Layer> {
    cx.project
        .map(|p| p.layers_in_scope().collect())
        .unwrap_or_default()
}

/// `provider "vault"` / `provider "vault" (alias "x")`, as the findings name it.
fn provider_label(need: &CredentialNeed) -> String {
    match &need.alias {
        Some(alias) => format!("provider \"{}\" (alias \"{alias}\")", need.provider.name()),
        None => format!("provider \"{}\"", need.provider.name()),
    }
}

/// What happens without the credential, in the provider's own terms.
fn consequence(need: &CredentialNeed) -> &'static str {
    match (need.provider, need.spec.what) {
        (Provider::Vault, "address") => {
            "the vault provider requires an address and stops when Terraform configures it"
        }
        (Provider::Vault, _) => {
            "the vault provider stops when Terraform configures it (\"no vault token set on Client\")"
        }
        (Provider::Tfe, _) => {
            "the tfe provider stops when Terraform configures it (\"required token could not be found\")"
        }
        (Provider::Github, _) => {
            "the github provider goes on anonymously: only public data can be read, nothing written, and requests are rate-limited"
        }
        (Provider::Gitlab, _) => {
            "every request of the gitlab provider is refused (401 Unauthorized)"
        }
        (Provider::Hcp, _) => "the hcp provider fails to authenticate at its first request",
        (Provider::Kubernetes | Provider::Helm, _) => {
            "the provider reads no kubeconfig by default (since kubernetes 2.0 / helm 2.0): it talks to no cluster and fails at the first resource"
        }
    }
}

/// Where the provider reads it, in the words of its documentation.
fn sources_text(need: &CredentialNeed) -> String {
    let mut parts: Vec<String> = need.spec.attrs.iter().map(|a| format!("`{a}`")).collect();
    parts.extend(need.spec.env.iter().map(|e| e.to_string()));
    parts.extend(need.spec.home_files.iter().map(|f| f.to_string()));
    parts.join(", ")
}

/// The fix: what to set, where Terraform will see it.
fn missing_fix(need: &CredentialNeed, sees_host: bool) -> String {
    let attr = need.spec.attrs.first().copied().unwrap_or("token");
    if !sees_host {
        let var = format!("{}_{}", need.provider.name(), attr);
        return format!(
            "in {}: {attr} = var.{var}, with variable \"{var}\" {{ sensitive = true }} in the layer and {var} = \"…\" in a config/*.tfvars kept out of git (the Leverage toolbox container does not get the shell's environment nor the home folder)",
            provider_label(need)
        );
    }
    match (need.provider, need.spec.what) {
        (Provider::Vault, "address") => "export VAULT_ADDR=https://<vault host>:8200".into(),
        (Provider::Vault, _) => {
            "vault login   (writes ~/.vault-token), or: export VAULT_TOKEN=<token>".into()
        }
        (Provider::Github, _) => "gh auth login   (or: export GITHUB_TOKEN=<token>)".into(),
        (Provider::Gitlab, _) => "export GITLAB_TOKEN=<token>".into(),
        (Provider::Tfe, _) => {
            "terraform login   (writes ~/.terraform.d/credentials.tfrc.json), or: export TFE_TOKEN=<token>".into()
        }
        (Provider::Hcp, _) => {
            "hcp auth login, or: export HCP_CLIENT_ID=<id> HCP_CLIENT_SECRET=<secret>   (a service principal key)".into()
        }
        (Provider::Kubernetes | Provider::Helm, _) => format!(
            "in {}: host = data.aws_eks_cluster.<name>.endpoint with a token or an `exec` block, or config_path = \"~/.kube/config\"; or: export KUBE_CONFIG_PATH=~/.kube/config",
            provider_label(need)
        ),
    }
}

/// How to give the provider the file it names.
fn path_fix(
    need: &CredentialNeed,
    path: &str,
    file: Option<crate::model::credentials::PathCheck>,
    sees_host: bool,
) -> String {
    use crate::model::credentials::PathCheck;
    if !sees_host && matches!(file, Some(PathCheck::InHome { .. })) {
        return "name a file inside the project (the toolbox container mounts the project, not the home folder), or configure the cluster with host = data.aws_eks_cluster.<name>.endpoint and a token".into();
    }
    match need.provider {
        Provider::Kubernetes | Provider::Helm => format!(
            "write it: aws eks update-kubeconfig --name <cluster> --kubeconfig {path}   (kops: kops export kubecfg --kubeconfig {path}), or name the kubeconfig you have"
        ),
        _ => format!(
            "write the credential file at {path} (hcp: a service principal's credential file from the HCP portal), or name the one you have"
        ),
    }
}

/// Why Terraform will not find the file an attribute names, if it will not.
fn file_unseen(
    file: Option<crate::model::credentials::PathCheck>,
    sees_host: bool,
) -> Option<&'static str> {
    use crate::model::credentials::PathCheck;
    match file? {
        PathCheck::Found => None,
        PathCheck::Missing => Some("which does not exist"),
        PathCheck::InHome { found: false } => Some("which does not exist"),
        PathCheck::InHome { found: true } if sees_host => None,
        PathCheck::InHome { found: true } => Some(
            "in the home folder, which the Leverage toolbox container (before 3.x) does not mount",
        ),
    }
}

fn var_is_set(v: &VarValue, cx: &Context) -> bool {
    v.in_tfvars
        || v.has_default
        || (cx.cli.terraform_sees_host_credentials()
            && cx.model.credentials.tf_vars.contains_key(&v.name))
}

fn credential_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let env = &cx.model.credentials;
    let sees_host = cx.cli.terraform_sees_host_credentials();
    for layer in layers(cx) {
        for need in &layer.credentials {
            if need.other_way {
                continue;
            }
            let label = provider_label(need);
            match need.attr.as_ref().map(|a| (&a.value, a)) {
                Some((AttrValue::Literal(path), attr))
                    if need.used != Usage::Unused
                        && file_unseen(attr.file, sees_host).is_some() =>
                {
                    let why = file_unseen(attr.file, sees_host).unwrap_or_default();
                    let severity = if need.used == Usage::Direct {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    out.push(
                        LD701
                            .diag(format!(
                                "{label} reads its {} from `{}` = \"{path}\", {why}",
                                need.spec.what, attr.name
                            ))
                            .severity(severity)
                            .at(attr.span.clone(), "this file")
                            .help(format!(
                                "the provider opens the file when Terraform configures it and stops without it (kubernetes: \"'config_path' refers to an invalid path\"); a relative path is taken from the layer's folder, where Terraform runs; where the provider reads it: {}",
                                need.spec.doc
                            ))
                            .fix(path_fix(need, path, attr.file, sees_host)),
                    );
                }
                Some((AttrValue::Literal(_) | AttrValue::Computed, _)) => {}
                Some((AttrValue::Var(v), attr)) if !v.declared => {
                    out.push(
                        LD701
                            .diag(format!(
                                "{label} takes its {} from var.{}, which the layer does not declare",
                                need.spec.what, v.name
                            ))
                            .at(attr.span.clone(), "declared in no file of the layer")
                            .help(
                                "Terraform stops before anything else: \"Reference to undeclared input variable\" (a value in a config/*.tfvars does not declare it: Terraform only warns \"Value for undeclared variable\")",
                            )
                            .fix(format!(
                                "variable \"{}\" {{\n  type      = string\n  sensitive = true\n}}   (in the layer's variables.tf)",
                                v.name
                            )),
                    );
                }
                Some((AttrValue::Var(v), attr)) if !var_is_set(v, cx) => {
                    let tf_var = format!("TF_VAR_{}", v.name);
                    let env_note = if env.tf_vars.contains_key(&v.name) && !sees_host {
                        format!(
                            "; {tf_var} is set in this shell, but the Leverage toolbox container does not get it"
                        )
                    } else if sees_host {
                        format!(", and {tf_var} is not set")
                    } else {
                        String::new()
                    };
                    let fix = if sees_host {
                        format!(
                            "{} = \"…\"   (in a config/*.tfvars kept out of git), or: export {tf_var}=…",
                            v.name
                        )
                    } else {
                        format!(
                            "{} = \"…\"   (in a config/*.tfvars kept out of git: the toolbox container gets every config/*.tfvars)",
                            v.name
                        )
                    };
                    out.push(
                        LD701
                            .diag(format!(
                                "{label} takes its {} from var.{}, which has no value for this run",
                                need.spec.what, v.name
                            ))
                            .at(attr.span.clone(), "set nowhere")
                            .help(format!(
                                "no config/*.tfvars the Leverage CLI passes sets it and its declaration has no default{env_note}: Terraform asks for the value, and stops when nobody can answer (\"No value for required variable\")"
                            ))
                            .fix(fix),
                    );
                }
                Some((AttrValue::Var(_), _)) => {}
                // Terraform configures no provider that nothing uses.
                None if need.used == Usage::Unused => {}
                None => {
                    let from_env = sees_host && need.spec.env.iter().any(|e| env.var(e).is_some());
                    let from_file = sees_host
                        && need
                            .spec
                            .home_files
                            .iter()
                            .any(|f| env.home_file(f).is_some());
                    if from_env || from_file {
                        continue;
                    }
                    // Only through modules: whether Terraform configures it depends on them.
                    let severity = if need.spec.required && need.used == Usage::Direct {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    let maybe = if need.used == Usage::MaybeModules {
                        "no resource of the layer uses the provider, but its modules may (they inherit it): if one does, "
                    } else {
                        ""
                    };
                    let unseen = if sees_host {
                        String::new()
                    } else {
                        let mut host: Vec<&str> = need
                            .spec
                            .env
                            .iter()
                            .copied()
                            .filter(|e| env.var(e).is_some())
                            .collect();
                        host.extend(
                            need.spec
                                .home_files
                                .iter()
                                .copied()
                                .filter(|f| env.home_file(f).is_some()),
                        );
                        if host.is_empty() {
                            " (before Leverage 3.x the toolbox container sees neither the shell's variables nor the home folder)".to_string()
                        } else {
                            format!(
                                " ({} is there on this machine, but before Leverage 3.x the toolbox container sees neither the shell's variables nor the home folder)",
                                host.join(", ")
                            )
                        }
                    };
                    out.push(
                        LD701
                            .diag(format!(
                                "{label} has no {}: none of {} gives it{unseen}",
                                need.spec.what,
                                sources_text(need)
                            ))
                            .severity(severity)
                            .at(need.block.clone(), "configured here")
                            .help(format!(
                                "{maybe}{}; where the provider reads it: {}",
                                consequence(need),
                                need.spec.doc
                            ))
                            .fix(missing_fix(need, sees_host)),
                    );
                }
            }
        }
    }
}

/// Where the token a provider will use comes from, and its value (never shown).
enum TokenFrom<'a> {
    /// Written in the provider block.
    Literal(&'a str, Span),
    /// A config/*.tfvars value of `var.<name>`.
    Tfvars(&'a str, &'a str, Span),
    /// An environment variable: the provider's own, or `TF_VAR_<name>` for `var.<name>`.
    Env(String, &'a str),
    File(&'static str, &'a str),
}

fn token_of<'a>(cx: &Context<'a>, need: &'a CredentialNeed) -> Option<TokenFrom<'a>> {
    if need.spec.what != "token" || need.other_way {
        return None;
    }
    let env = &cx.model.credentials;
    match need.attr.as_ref() {
        Some(a) => match &a.value {
            AttrValue::Literal(v) => Some(TokenFrom::Literal(v, a.span.clone())),
            AttrValue::Var(VarValue {
                name,
                tfvars: Some(v),
                ..
            }) => Some(TokenFrom::Tfvars(name, v, a.span.clone())),
            // No file gives it and no default: TF_VAR_<name>, which Terraform reads last.
            AttrValue::Var(VarValue {
                name,
                in_tfvars: false,
                has_default: false,
                ..
            }) if cx.cli.terraform_sees_host_credentials() => env
                .tf_vars
                .get(name)
                .map(|v| TokenFrom::Env(format!("TF_VAR_{name}"), v)),
            _ => None,
        },
        None if cx.cli.terraform_sees_host_credentials() && need.used != Usage::Unused => {
            if let Some((name, value)) = need
                .spec
                .env
                .iter()
                .find_map(|e| env.var(e).map(|v| (*e, v)))
                .filter(|(e, _)| crate::model::credentials::SECRET_ENV_VARS.contains(e))
            {
                return Some(TokenFrom::Env(name.to_string(), value));
            }
            need.spec.home_files.iter().find_map(|f| {
                env.home_file(f)
                    .and_then(|h| h.token.as_deref())
                    // The Vault CLI's token helper trims the file's white space.
                    .map(|t| TokenFrom::File(f, t.trim()))
            })
        }
        None => None,
    }
}

fn token_malformed(cx: &Context, out: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    for layer in layers(cx) {
        for need in &layer.credentials {
            let Some(from) = token_of(cx, need) else {
                continue;
            };
            let value = match &from {
                TokenFrom::Literal(v, _)
                | TokenFrom::Tfvars(_, v, _)
                | TokenFrom::Env(_, v)
                | TokenFrom::File(_, v) => *v,
            };
            let Some(problem) = token_shape_problem(need.provider, value) else {
                continue;
            };
            let provider = need.provider.name();
            let d = match &from {
                TokenFrom::Literal(_, span) => LD702
                    .diag(format!(
                        "the {provider} token written in {} does not look like a {provider} token: {problem}",
                        provider_label(need)
                    ))
                    .at(span.clone(), "this token"),
                TokenFrom::Tfvars(name, _, span) => {
                    let d = LD702.diag(format!(
                        "the {provider} token in var.{name} (from config/*.tfvars) does not look like a {provider} token: {problem}"
                    ));
                    match tfvars_value(cx, layer, name) {
                        Some(at) => d
                            .at(at, "this token")
                            .related(span.clone(), format!("read by {}", provider_label(need))),
                        None => d.at(span.clone(), "given by config/*.tfvars"),
                    }
                }
                TokenFrom::Env(name, _) => {
                    if !seen.insert((need.provider, name.clone())) {
                        continue;
                    }
                    LD702
                        .diag(format!(
                            "{name} does not look like a {provider} token: {problem}"
                        ))
                        .at(Span::whole(cx.model.start_file), "environment")
                }
                TokenFrom::File(shown, _) => {
                    if !seen.insert((need.provider, shown.to_string())) {
                        continue;
                    }
                    LD702
                        .diag(format!(
                            "{shown} does not look like a {provider} token: {problem}"
                        ))
                        .at(Span::whole(cx.model.start_file), *shown)
                }
            };
            out.push(
                d.help(format!(
                    "{provider} rejects it at the first request (401/403); a token copied with its quotes or a line break, or one of another service, is the usual cause. Documented shapes: {}",
                    shape_doc(need.provider)
                ))
                .fix(format!(
                    "replace it with a {provider} token as the provider's page says: {}",
                    need.spec.doc
                )),
            );
        }
    }
}

/// Where the value Terraform gets for `var.<name>` is written: the last `config/*.tfvars` that
/// sets it (the account's files come after the project's).
fn tfvars_value(cx: &Context, layer: &Layer, name: &str) -> Option<Span> {
    let project = cx.project?;
    let account = project
        .account_dirs
        .iter()
        .filter(|a| a.name == layer.account)
        .flat_map(|a| a.var_files.iter());
    project
        .root_var_files
        .iter()
        .chain(account)
        .rev()
        .find_map(|f| f.get(name))
        .map(|v| v.value_span.clone())
}

fn shape_doc(provider: Provider) -> &'static str {
    match provider {
        Provider::Github => {
            "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats"
        }
        Provider::Gitlab => "https://docs.gitlab.com/security/tokens/#token-prefixes",
        Provider::Vault => {
            "https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes"
        }
        Provider::Tfe => {
            "https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens"
        }
        Provider::Hcp | Provider::Kubernetes | Provider::Helm => "",
    }
}

fn ssh_key_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let env = &cx.model.credentials;
    if env.ssh_agent {
        return;
    }
    let sees_host = cx.cli.terraform_sees_host_credentials();
    let keys_work = sees_host && (!env.ssh_keys.is_empty() || env.ssh_config_identity);
    if keys_work {
        return;
    }
    for layer in layers(cx) {
        let ssh: Vec<_> = layer
            .module_sources
            .iter()
            .filter(|m| m.transport == GitTransport::Ssh)
            .collect();
        let Some(first) = ssh.first() else { continue };
        let hosts: BTreeSet<&str> = ssh.iter().map(|m| m.host.as_str()).collect();
        let hosts: Vec<&str> = hosts.into_iter().collect();
        let why = if sees_host {
            "SSH_AUTH_SOCK names no running agent and there is no ~/.ssh/id_* key nor an IdentityFile in ~/.ssh/config".to_string()
        } else if env.ssh_keys.is_empty() {
            "SSH_AUTH_SOCK names no running agent, the one SSH credential the Leverage toolbox container gets".to_string()
        } else {
            format!(
                "SSH_AUTH_SOCK names no running agent, the one SSH credential the Leverage toolbox container gets ({} stays on this machine: ~/.ssh is not mounted)",
                env.ssh_keys.join(", ")
            )
        };
        let mut d = LD703
            .diag(format!(
                "`terraform init` fetches modules over SSH from {} with no SSH key to offer",
                hosts.join(", ")
            ))
            .at(first.span.clone(), "fetched with git over SSH")
            .help(format!(
                "{why}: git fails with \"Permission denied (publickey)\" and init stops"
            ))
            .fix(match env.ssh_keys.first() {
                Some(key) => format!("eval \"$(ssh-agent -s)\" && ssh-add {key}"),
                None => "ssh-keygen -t ed25519, add the public key to your account on the git host, then: eval \"$(ssh-agent -s)\" && ssh-add ~/.ssh/id_ed25519".into(),
            });
        for m in ssh.iter().skip(1) {
            d = d.related(m.span.clone(), "also over SSH");
        }
        out.push(d);
    }
}

/// The context a kubernetes/helm provider uses (its `config_context`, else the kubeconfig's
/// `current-context`) is not in the kubeconfig it reads, or there is none.
fn kubeconfig_context_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let sees_host = cx.cli.terraform_sees_host_credentials();
    for layer in layers(cx) {
        for need in &layer.credentials {
            let Some(k) = &need.kubeconfig else { continue };
            // Unseen by Terraform in the toolbox container: LD701 says so.
            if need.used == Usage::Unused || ((k.in_home || k.from_env) && !sees_host) {
                continue;
            }
            let named = need.context.as_ref().and_then(|c| match &c.value {
                AttrValue::Literal(name) => Some((name.as_str(), c.span.clone())),
                _ => None,
            });
            let via = if k.from_env {
                format!("{} (KUBE_CONFIG_PATH)", k.shown)
            } else {
                k.shown.clone()
            };
            let have = if k.contexts.is_empty() {
                "it has no contexts".to_string()
            } else {
                format!("it has {}", quoted_list(&k.contexts))
            };
            let d = if let Some(why) = &k.invalid {
                let at = need
                    .attr
                    .as_ref()
                    .map_or(need.block.clone(), |a| a.span.clone());
                LD707
                    .diag(format!(
                        "{} reads {via}, which is not a kubeconfig: {why}",
                        provider_label(need)
                    ))
                    .at(at, "the kubeconfig")
                    .help("the provider stops when Terraform configures it, before any resource is read")
                    // update-kubeconfig merges into the file it is given, and cannot parse this
                    // one either: first find out what wrote it.
                    .fix(format!(
                        "find out what wrote {0} (a kubeconfig is YAML); with it moved aside, aws eks update-kubeconfig --name <cluster> --kubeconfig {0} writes a new one",
                        k.shown
                    ))
            } else if let Some((name, span)) = named {
                if k.contexts.iter().any(|c| c == name) {
                    continue;
                }
                LD707
                    .diag(format!(
                        "{} uses context `{name}`, which {via} does not have",
                        provider_label(need)
                    ))
                    .at(span, "config_context")
                    .related(k.file.clone(), have.clone())
                    .help(format!(
                        "the provider stops when Terraform configures it (\"invalid configuration: context was not found for specified context: {name}\")"
                    ))
                    .fix(context_fix(&k.contexts, name, &k.shown))
            } else {
                match &k.current {
                    Some((current, _)) if k.contexts.iter().any(|c| c == current) => continue,
                    Some((current, span)) => LD707
                        .diag(format!(
                            "{} uses the current-context `{current}` of {via}, which has no such context",
                            provider_label(need)
                        ))
                        .at(span.clone(), "current-context")
                        .help(format!(
                            "no config_context is written, so the provider takes the file's current-context, and stops (\"invalid configuration: context was not found for specified context: {current}\"); {have}"
                        ))
                        .fix(context_fix(&k.contexts, current, &k.shown)),
                    None => LD707
                        .diag(format!(
                            "{} reads {via}, which names no current-context, and no config_context is written",
                            provider_label(need)
                        ))
                        .at(
                            need.attr.as_ref().map_or(need.block.clone(), |a| a.span.clone()),
                            "the kubeconfig",
                        )
                        .help(format!(
                            "the provider then has no cluster to talk to and fails at the first resource; {have}"
                        ))
                        .fix(match k.contexts.first() {
                            Some(c) => format!("config_context = \"{c}\" in {}", provider_label(need)),
                            None => format!(
                                "aws eks update-kubeconfig --name <cluster> --kubeconfig {}",
                                k.shown
                            ),
                        }),
                }
            };
            out.push(d);
        }
    }
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Name one of the contexts there, or write the missing one.
fn context_fix(contexts: &[String], name: &str, shown: &str) -> String {
    let nearest = contexts
        .iter()
        .map(|c| (strsim::levenshtein(c, name), c))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, c)| c);
    match nearest {
        Some(c) => format!(
            "config_context = \"{c}\"   (or: aws eks update-kubeconfig --name <cluster> --alias {name} --kubeconfig {shown})"
        ),
        None => format!(
            "aws eks update-kubeconfig --name <cluster> --alias {name} --kubeconfig {shown}"
        ),
    }
}

/// The account a profile's credentials are for, and where that is written: its `role_arn`'s
/// account, `sso_account_id` or Leverage's `account_id` in the AWS files, else the common.tfvars
/// id of the account its Leverage name designates.
fn profile_account<'a>(cx: &Context<'a>, name: &str) -> Option<(String, Option<Span>)> {
    if let Some(aws) = cx.aws {
        for key in ["role_arn", "sso_account_id", "account_id"] {
            let Some(entry) = aws.profile_value(name, key) else {
                continue;
            };
            let account = if key == "role_arn" {
                crate::values::arn_account(&entry.value, "iam", "role")
            } else {
                Some(entry.value.as_str())
            };
            if let Some(a) =
                account.filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            {
                return Some((a.to_string(), Some(entry.value_span.clone())));
            }
        }
    }
    let account = cx.account_of(name)?;
    let id = cx.account_id(account)?;
    let decl = cx
        .project
        .and_then(|p| p.accounts.get(account))
        .and_then(|a| a.id.as_ref())
        .map(|l| l.span.clone());
    Some((id.to_string(), decl))
}

/// The Leverage profile of the same role in the account whose id is `id`
/// (`bb-shared-devops` → `bb-apps-devstg-devops`).
fn same_role_in(cx: &Context, profile: &str, id: &str) -> Option<String> {
    let from = cx.account_of(profile)?;
    let (to, _) = cx
        .project?
        .accounts
        .iter()
        .find(|(_, a)| a.id.as_ref().is_some_and(|l| l.value == id))?;
    let swapped = profile.replacen(&format!("-{from}-"), &format!("-{to}-"), 1);
    (swapped != profile).then_some(swapped)
}

/// `arn:<partition>:kms:<region>:<12 digits>:key/<id>` (or `alias/<name>`): the account id.
fn kms_account(arn: &str) -> Option<&str> {
    let (service, region, account, resource) = crate::values::arn_parts(arn)?;
    let ok = service == "kms"
        && !region.is_empty()
        && (resource
            .strip_prefix("key/")
            .or_else(|| resource.strip_prefix("alias/")))
        .is_some_and(|r| !r.is_empty());
    ok.then_some(account)
}

/// A sops file's KMS key is in another account than the one its `aws_profile` gives
/// credentials for.
fn sops_key_account_mismatch(cx: &Context, out: &mut Vec<Diagnostic>) {
    for layer in layers(cx) {
        for key in &layer.sops_keys {
            let Some(profile) = &key.profile else {
                continue;
            };
            let Some(key_account) = kms_account(&key.arn) else {
                continue;
            };
            let Some((account, at)) = profile_account(cx, profile) else {
                continue;
            };
            if account == key_account {
                continue;
            }
            let mut d = LD708
                .diag(format!(
                    "the sops KMS key is in account {key_account}, but its `aws_profile` `{profile}` has credentials of account {account}"
                ))
                .profile(profile.clone())
                .at(key.span.clone(), format!("account {key_account}"))
                .help(format!(
                    "the sops provider calls kms:Decrypt with `{profile}`: it fails with AccessDeniedException unless the key's policy grants account {account} (a key of another account is mostly a copied file or a profile of the wrong account)"
                ))
                .fix(format!(
                    "aws_profile: {}   (or re-encrypt: sops updatekeys, with a key of account {account})",
                    same_role_in(cx, profile, key_account)
                        .unwrap_or_else(|| format!("<a profile of account {key_account}>"))
                ));
            if let Some(at) = at {
                d = d.related(at, format!("account {account}"));
            }
            out.push(d);
        }
    }
}

/// Module sources fetched over SSH from a host whose key ssh does not know.
fn ssh_host_key_unknown(cx: &Context, out: &mut Vec<Diagnostic>) {
    let env = &cx.model.credentials;
    // Before 3.x, git runs in the toolbox container, whose known hosts are the image's (the
    // home folder's ~/.ssh is not mounted): nothing here says what they are.
    if !cx.cli.terraform_sees_host_credentials() || env.host_key_checking_off {
        return;
    }
    for layer in layers(cx) {
        let unknown: Vec<_> = layer
            .module_sources
            .iter()
            .filter(|m| m.transport == GitTransport::Ssh && !m.host.is_empty())
            .filter(|m| env.knows_host(&m.host) != Some(true))
            .collect();
        let Some(first) = unknown.first() else {
            continue;
        };
        let hosts: Vec<&str> = unknown
            .iter()
            .map(|m| m.host.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let why = if env.known_hosts.is_none() {
            "there is no ~/.ssh/known_hosts (nor /etc/ssh/ssh_known_hosts)"
        } else {
            "~/.ssh/known_hosts (and /etc/ssh/ssh_known_hosts) has no entry for it, plain or hashed"
        };
        let mut d = LD709
            .diag(format!(
                "ssh does not know the host key of {}, where `terraform init` fetches modules over SSH",
                hosts.join(", ")
            ))
            .at(first.span.clone(), "fetched with git over SSH")
            .help(format!(
                "{why}: without a terminal to ask on (CI, a pipeline), git stops with \"Host key verification failed\" and init with \"Failed to download module\""
            ))
            .fix(format!(
                "ssh-keyscan {} >> ~/.ssh/known_hosts   (then compare ssh-keygen -lf ~/.ssh/known_hosts with the fingerprints the host publishes)",
                hosts.join(" ")
            ));
        for m in unknown.iter().skip(1) {
            d = d.related(m.span.clone(), "also over SSH");
        }
        out.push(d);
    }
}

/// Module sources fetched over HTTPS from a host git has no credential for: fine for a public
/// repository, a failed init for a private one.
fn git_https_credential_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let env = &cx.model.credentials;
    let sees_host = cx.cli.terraform_sees_host_credentials();
    for layer in layers(cx) {
        let bare: Vec<_> = layer
            .module_sources
            .iter()
            .filter(|m| m.transport == GitTransport::Https && !m.host.is_empty())
            .filter(|m| match env.git_https_credential(&m.host) {
                None => true,
                // Before 3.x the toolbox container mounts ~/.gitconfig, not ~/.netrc.
                Some(found) => !sees_host && found == "~/.netrc",
            })
            .collect();
        let Some(first) = bare.first() else { continue };
        let hosts: Vec<&str> = bare
            .iter()
            .map(|m| m.host.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let where_ = if sees_host {
            "in ~/.gitconfig nor a ~/.netrc entry"
        } else {
            "in ~/.gitconfig (the toolbox container mounts that file, not ~/.netrc)"
        };
        let netrc = if sees_host {
            format!("; or a `machine {}` entry in ~/.netrc", hosts[0])
        } else {
            String::new()
        };
        let mut d = LD710
            .diag(format!(
                "`terraform init` fetches modules over HTTPS from {} with no credential helper for it {where_}",
                hosts.join(", ")
            ))
            .at(first.span.clone(), "fetched with git over HTTPS")
            .help("a public repository needs none; a private one makes git ask for a user name, which init cannot answer: \"could not read Username\" and \"Failed to download module\"")
            .fix(format!(
                "git config --global credential.https://{}.helper store, then one git clone to store a token{netrc}",
                hosts[0]
            ));
        for m in bare.iter().skip(1) {
            d = d.related(m.span.clone(), "also over HTTPS");
        }
        out.push(d);
    }
}

/// One credential a layer needs, as the report lists it: where it comes from, and whether it
/// is there.
#[derive(Debug, Clone)]
pub struct CredentialStatus {
    pub layer: String,
    /// `vault`, `github`…, or `git-ssh` for modules fetched over SSH.
    pub provider: &'static str,
    pub alias: Option<String>,
    pub credential: &'static str,
    /// The provider block, the attribute, or the module source.
    pub span: Span,
    /// Where it comes from (`var.vault_token via config/*.tfvars`, `VAULT_TOKEN`,
    /// `~/.vault-token`, `app_auth`…), `none` when nowhere. Never a value.
    pub source: String,
    /// `ok`, `missing`, `malformed`, `unchecked` (computed when Terraform runs) or `not-needed`
    /// (the block authenticates another way).
    pub status: &'static str,
}

/// Every credential the layers in scope need, judged as LD701–LD703 judge them.
pub fn statuses(cx: &Context) -> Vec<CredentialStatus> {
    let env = &cx.model.credentials;
    let sees_host = cx.cli.terraform_sees_host_credentials();
    let mut out = Vec::new();
    for layer in layers(cx) {
        for need in &layer.credentials {
            let malformed = token_of(cx, need).is_some_and(|from| {
                let value = match &from {
                    TokenFrom::Literal(v, _)
                    | TokenFrom::Tfvars(_, v, _)
                    | TokenFrom::Env(_, v)
                    | TokenFrom::File(_, v) => *v,
                };
                token_shape_problem(need.provider, value).is_some()
            });
            let (source, status, span) = if need.other_way {
                let way = need
                    .spec
                    .other_ways
                    .first()
                    .copied()
                    .unwrap_or("another way");
                (way.to_string(), "not-needed", need.block.clone())
            } else {
                match need.attr.as_ref() {
                    Some(a) => {
                        let (source, status) = match &a.value {
                            AttrValue::Literal(_)
                                if need.used != Usage::Unused
                                    && file_unseen(a.file, sees_host).is_some() =>
                            {
                                (format!("`{}` attribute", a.name), "missing")
                            }
                            AttrValue::Literal(_) => (format!("`{}` attribute", a.name), "ok"),
                            AttrValue::Computed => (format!("`{}` attribute", a.name), "unchecked"),
                            AttrValue::Var(v) => {
                                let by = if v.in_tfvars {
                                    "config/*.tfvars"
                                } else if v.has_default {
                                    "its default"
                                } else if sees_host && env.tf_vars.contains_key(&v.name) {
                                    "TF_VAR_"
                                } else {
                                    ""
                                };
                                let source = match by {
                                    "" => format!("var.{}", v.name),
                                    "TF_VAR_" => format!("var.{} via TF_VAR_{}", v.name, v.name),
                                    by => format!("var.{} via {by}", v.name),
                                };
                                let ok = v.declared && !by.is_empty();
                                (source, if ok { "ok" } else { "missing" })
                            }
                        };
                        (source, status, a.span.clone())
                    }
                    None if need.used == Usage::Unused => (
                        "nothing in the layer uses the provider".to_string(),
                        "not-needed",
                        need.block.clone(),
                    ),
                    None => {
                        let found = sees_host
                            .then(|| {
                                need.spec
                                    .env
                                    .iter()
                                    .copied()
                                    .find(|e| env.var(e).is_some())
                                    .or_else(|| {
                                        need.spec
                                            .home_files
                                            .iter()
                                            .copied()
                                            .find(|f| env.home_file(f).is_some())
                                    })
                            })
                            .flatten();
                        match found {
                            Some(from) => (from.to_string(), "ok", need.block.clone()),
                            None => ("none".to_string(), "missing", need.block.clone()),
                        }
                    }
                }
            };
            let status = if malformed && status == "ok" {
                "malformed"
            } else {
                status
            };
            out.push(CredentialStatus {
                layer: layer.path.clone(),
                provider: need.provider.name(),
                alias: need.alias.clone(),
                credential: need.spec.what,
                span,
                source,
                status,
            });
        }
        let agent = env.ssh_agent;
        let key = sees_host
            .then(|| env.ssh_keys.first().cloned())
            .flatten()
            .or_else(|| {
                (sees_host && env.ssh_config_identity).then(|| "~/.ssh/config IdentityFile".into())
            });
        for m in layer
            .module_sources
            .iter()
            .filter(|m| m.transport == GitTransport::Ssh)
        {
            let (source, status) = match (agent, &key) {
                (true, _) => ("SSH_AUTH_SOCK".to_string(), "ok"),
                (false, Some(k)) => (k.clone(), "ok"),
                (false, None) => ("none".to_string(), "missing"),
            };
            out.push(CredentialStatus {
                layer: layer.path.clone(),
                provider: "git-ssh",
                alias: None,
                credential: "ssh key",
                span: m.span.clone(),
                source,
                status,
            });
        }
    }
    out
}

/// One live token check to make (or not, and why): the plan `read::token_live` executes.
#[derive(Debug, Clone)]
pub struct TokenPlan {
    pub layer: String,
    pub provider: Provider,
    pub alias: Option<String>,
    /// The API's address, as shown (`https://api.github.com/`), `-` when unknown.
    pub base: String,
    /// The call, or why it is not made.
    pub action: Result<crate::model::token_live::TokenProbe, String>,
}

/// Where the provider sends its token: its attribute, else its environment variable (when
/// Terraform sees the shell's environment), else its default.
fn api_base_of(
    cx: &Context,
    layer: &Layer,
    need: &CredentialNeed,
) -> Result<crate::model::token_live::ApiBase, String> {
    use crate::model::token_live::ApiBase;
    let Some((attr_name, env_name, default)) = crate::model::credentials::api_base(need.provider)
    else {
        return Err("not checked live".into());
    };
    let sees_host = cx.cli.terraform_sees_host_credentials();
    let attr = if need.provider == Provider::Vault {
        layer
            .credentials
            .iter()
            .find(|n| {
                n.provider == Provider::Vault && n.alias == need.alias && n.spec.what == "address"
            })
            .and_then(|n| n.attr.as_ref())
    } else {
        need.base.as_ref()
    };
    let tfe = |host: &str| -> String {
        if need.provider == Provider::Tfe {
            format!("https://{host}")
        } else {
            host.to_string()
        }
    };
    match attr.map(|a| &a.value) {
        Some(AttrValue::Literal(v)) => Ok(ApiBase {
            url: tfe(v),
            from: format!("`{attr_name}` attribute"),
            from_checkout: true,
        }),
        Some(AttrValue::Var(VarValue {
            name,
            tfvars: Some(v),
            ..
        })) => Ok(ApiBase {
            url: tfe(v),
            from: format!("var.{name} via config/*.tfvars"),
            from_checkout: true,
        }),
        Some(AttrValue::Var(VarValue {
            name,
            in_tfvars: false,
            has_default: false,
            ..
        })) if sees_host && cx.model.credentials.tf_vars.contains_key(name) => {
            let v = cx
                .model
                .credentials
                .tf_vars
                .get(name)
                .cloned()
                .unwrap_or_default();
            Ok(ApiBase {
                url: tfe(&v),
                from: format!("TF_VAR_{name}"),
                from_checkout: false,
            })
        }
        Some(_) => Err(format!(
            "the `{attr_name}` is known only when Terraform runs: not checked"
        )),
        None => match (sees_host, cx.model.credentials.var(env_name), default) {
            (true, Some(v), _) => Ok(ApiBase {
                url: tfe(v),
                from: env_name.to_string(),
                from_checkout: false,
            }),
            (_, _, Some(d)) => Ok(ApiBase {
                url: tfe(d),
                from: "default".into(),
                from_checkout: false,
            }),
            (_, _, None) => Err(format!("no `{attr_name}` nor {env_name}: not checked")),
        },
    }
}

fn same_base(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
    norm(a) == norm(b)
}

/// The live checks of the layers' tokens (github, gitlab, vault, tfe). A checkout is not
/// trusted: a token from outside it (the environment, a home file, a config/*.tfvars kept out
/// of git) is sent to an address the checkout names only when that is the provider's public
/// default or the address your own environment names (GITHUB_BASE_URL, GITLAB_BASE_URL,
/// VAULT_ADDR, TFE_HOSTNAME); a token written in the provider block itself may go where that
/// block says.
pub fn token_plan(cx: &Context) -> Vec<TokenPlan> {
    use crate::model::token_live::{TokenProbe, probe_url};
    let mut out = Vec::new();
    for layer in layers(cx) {
        for need in &layer.credentials {
            if !matches!(
                need.provider,
                Provider::Github | Provider::Gitlab | Provider::Vault | Provider::Tfe
            ) || need.used == Usage::Unused
            {
                continue;
            }
            let Some(from) = token_of(cx, need) else {
                continue;
            };
            let (token, in_block) = match &from {
                TokenFrom::Literal(v, _) => (*v, true),
                TokenFrom::Tfvars(_, v, _) | TokenFrom::Env(_, v) | TokenFrom::File(_, v) => {
                    (*v, false)
                }
            };
            let base = api_base_of(cx, layer, need);
            let shown = base
                .as_ref()
                .map(|b| b.url.clone())
                .unwrap_or_else(|_| "-".into());
            let action = base.and_then(|base| {
                if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err("the token is malformed (LD702): not sent".into());
                }
                let env_name = crate::model::credentials::api_base(need.provider)
                    .map(|(_, e, _)| e)
                    .unwrap_or_default();
                let default = crate::model::credentials::api_base(need.provider)
                    .and_then(|(_, _, d)| d)
                    .map(|d| if need.provider == Provider::Tfe { format!("https://{d}") } else { d.to_string() });
                let trusted = !base.from_checkout
                    || in_block
                    || default.is_some_and(|d| same_base(&d, &base.url))
                    || cx
                        .model
                        .credentials
                        .var(env_name)
                        .is_some_and(|e| same_base(&(if need.provider == Provider::Tfe { format!("https://{e}") } else { e.to_string() }), &base.url));
                if !trusted {
                    return Err(format!(
                        "the address comes from the checkout ({}) and the token from outside it: not sent there unless your environment names the same address (export {env_name}=…)",
                        base.from
                    ));
                }
                let lower = base.url.to_ascii_lowercase();
                if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                    return Err(format!("the address {} is not an http(s) URL: not checked", base.url));
                }
                probe_url(need.provider, &base.url)
                    .map(|url| TokenProbe {
                        provider: need.provider,
                        url,
                        token: token.to_string(),
                    })
                    .ok_or_else(|| "not checked live".to_string())
            });
            out.push(TokenPlan {
                layer: layer.path.clone(),
                provider: need.provider,
                alias: need.alias.clone(),
                base: shown,
                action,
            });
        }
    }
    out
}

/// Under this much time left, a token that expires is reported (LD705): a week for the
/// services' personal tokens (made by hand, with a date), half an hour for Vault's (hours
/// long, renewed or taken again by `vault login`; as LD502 for the SSO token).
pub fn expiry_margin(provider: Provider) -> chrono::Duration {
    match provider {
        Provider::Vault => chrono::Duration::minutes(30),
        _ => chrono::Duration::days(7),
    }
}

/// Each live check with the need it was made for and where its token comes from; a token
/// from the environment or a home file is reported once, not once per layer.
fn live_checks<'a>(
    cx: &Context<'a>,
) -> Vec<(
    &'a crate::model::token_live::TokenCheck,
    &'a CredentialNeed,
    Span,
    String,
)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for check in &cx.model.token_live {
        let Some(layer) = layers(cx).into_iter().find(|l| l.path == check.layer) else {
            continue;
        };
        let Some(need) = layer.credentials.iter().find(|n| {
            n.provider == check.provider && n.alias == check.alias && n.spec.what == "token"
        }) else {
            continue;
        };
        let Some(from) = token_of(cx, need) else {
            continue;
        };
        let (span, source) = match &from {
            TokenFrom::Literal(_, span) => (span.clone(), "the `token` attribute".to_string()),
            TokenFrom::Tfvars(name, _, span) => (
                tfvars_value(cx, layer, name).unwrap_or_else(|| span.clone()),
                format!("var.{name} (config/*.tfvars)"),
            ),
            TokenFrom::Env(name, _) => {
                if !seen.insert((need.provider, name.clone(), check.base.clone())) {
                    continue;
                }
                (need.block.clone(), name.clone())
            }
            TokenFrom::File(shown, _) => {
                if !seen.insert((need.provider, shown.to_string(), check.base.clone())) {
                    continue;
                }
                (need.block.clone(), shown.to_string())
            }
        };
        out.push((check, need, span, source));
    }
    out
}

/// How to get a new token, and where to give it.
fn new_token_fix(need: &CredentialNeed, source: &str, base: &str) -> String {
    let give = format!("then give it where the provider reads it now ({source})");
    match need.provider {
        Provider::Github => format!(
            "gh auth login   (or create a token at <GitHub>/settings/tokens with the scopes the layer's resources need, e.g. repo and read:org), {give}"
        ),
        Provider::Gitlab => format!(
            "create a personal access token with the api scope (GitLab: User settings > Access tokens), {give}"
        ),
        Provider::Vault => format!(
            "VAULT_ADDR={} vault login   (writes ~/.vault-token; or: export VAULT_TOKEN=<token>), {give}",
            base.trim_end_matches('/')
        ),
        Provider::Tfe => format!(
            "terraform login {}   (writes ~/.terraform.d/credentials.tfrc.json; or a new token from User settings > Tokens), {give}",
            base.trim_start_matches("https://").trim_end_matches('/')
        ),
        Provider::Hcp | Provider::Kubernetes | Provider::Helm => give,
    }
}

fn api_doc(provider: Provider) -> &'static str {
    match provider {
        Provider::Github => {
            "https://docs.github.com/en/rest/users/users#get-the-authenticated-user"
        }
        Provider::Gitlab => {
            "https://docs.gitlab.com/api/personal_access_tokens/#get-details-on-a-personal-access-token"
        }
        Provider::Vault => {
            "https://developer.hashicorp.com/vault/api-docs/auth/token#lookup-a-token-self"
        }
        Provider::Tfe => {
            "https://developer.hashicorp.com/terraform/cloud-docs/api-docs/account#get-your-account-details"
        }
        Provider::Hcp | Provider::Kubernetes | Provider::Helm => "",
    }
}

fn token_rejected(cx: &Context, out: &mut Vec<Diagnostic>) {
    use crate::model::token_live::{TokenFailure, TokenOutcome};
    for (check, need, span, source) in live_checks(cx) {
        let TokenOutcome::Failed {
            kind: TokenFailure::Rejected,
            detail,
            ..
        } = &check.outcome
        else {
            continue;
        };
        let provider = need.provider.name();
        out.push(
            LD704
                .diag(format!(
                    "{} refuses the {provider} token of {}: {detail}",
                    check.base,
                    provider_label(need)
                ))
                .at(span, format!("token from {source}"))
                .help(format!(
                    "the token is unknown, revoked or expired: Terraform's {provider} provider fails the same way at its first request; the call made: {}",
                    api_doc(need.provider)
                ))
                .fix(new_token_fix(need, &source, &check.base)),
        );
    }
}

fn token_expiring(cx: &Context, out: &mut Vec<Diagnostic>) {
    use crate::model::token_live::{TokenFailure, TokenOutcome};
    for (check, need, span, source) in live_checks(cx) {
        let provider = need.provider.name();
        let (expires_at, renewable, expired) = match &check.outcome {
            TokenOutcome::Failed {
                kind: TokenFailure::Expired,
                info,
                ..
            } => (info.expires_at, None, true),
            TokenOutcome::Ok(info) => match info.expires_at {
                Some(at) if at - cx.model.now < expiry_margin(need.provider) => {
                    (Some(at), info.renewable, at <= cx.model.now)
                }
                _ => continue,
            },
            _ => continue,
        };
        let when = match expires_at {
            Some(at) if at <= cx.model.now => format!(
                "expired {} ago",
                crate::time::human_duration(crate::time::seconds(
                    (cx.model.now - at).num_seconds()
                ))
            ),
            Some(at) => format!(
                "expires in {}",
                crate::time::human_duration(crate::time::seconds(
                    (at - cx.model.now).num_seconds()
                ))
            ),
            None => "has expired".to_string(),
        };
        let fix = if renewable == Some(true) && !expired {
            format!(
                "VAULT_ADDR={} vault token renew   (or take a new one: vault login)",
                check.base.trim_end_matches('/')
            )
        } else {
            new_token_fix(need, &source, &check.base)
        };
        out.push(
            LD705
                .diag(format!(
                    "the {provider} token of {} {when}",
                    provider_label(need)
                ))
                .severity(if expired {
                    Severity::Error
                } else {
                    Severity::Warning
                })
                .at(span, format!("token from {source}"))
                .help(format!(
                    "{} says so; an expired token is refused at the provider's first request. Reported under {} left; the call made: {}",
                    check.base,
                    crate::time::human_duration(crate::time::seconds(
                        expiry_margin(need.provider).num_seconds()
                    )),
                    api_doc(need.provider)
                ))
                .fix(fix),
        );
    }
}

fn token_check_failed(cx: &Context, out: &mut Vec<Diagnostic>) {
    use crate::model::token_live::{TokenFailure, TokenOutcome};
    for (check, need, span, source) in live_checks(cx) {
        let TokenOutcome::Failed { kind, detail, .. } = &check.outcome else {
            continue;
        };
        let provider = need.provider.name();
        let (help, fix) = match kind {
            TokenFailure::Rejected | TokenFailure::Expired => continue,
            TokenFailure::Forbidden => (
                "the token is known but may not make this call: a token without the scope the provider needs, an organization's SSO authorization or IP allow list",
                new_token_fix(need, &source, &check.base),
            ),
            TokenFailure::Throttled => (
                "the service limits the requests of this token or address: Terraform may be throttled too",
                "wait for the limit to reset, then run the check again".to_string(),
            ),
            TokenFailure::Unreachable | TokenFailure::Timeout => (
                "Terraform's provider would not reach it either: a wrong address, a VPN or proxy not set (HTTPS_PROXY), or a certificate authority missing (AWS_CA_BUNDLE)",
                format!(
                    "check the address ({}) and the network: curl -sS -o /dev/null -w '%{{http_code}}' {}",
                    check.base, check.base
                ),
            ),
            TokenFailure::Unexpected => (
                "the address may not be the provider's API (a redirect is never followed with a token)",
                format!(
                    "point the provider at its API: {}",
                    crate::model::credentials::api_base(need.provider)
                        .map(|(attr, env, _)| format!("`{attr}` or {env}"))
                        .unwrap_or_default()
                ),
            ),
        };
        out.push(
            LD706
                .diag(format!(
                    "the {provider} token of {} could not be checked at {}: {detail}",
                    provider_label(need),
                    check.base
                ))
                .at(span, format!("token from {source}"))
                .help(format!("{help}; class `{}`", kind.as_str()))
                .fix(fix),
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn kms_arns() {
        assert_eq!(
            super::kms_account("arn:aws:kms:us-east-1:333333333333:key/1234abcd"),
            Some("333333333333")
        );
        assert_eq!(
            super::kms_account("arn:aws-us-gov:kms:us-gov-west-1:333333333333:alias/sops"),
            Some("333333333333")
        );
        for bad in [
            "arn:aws:kms::333333333333:key/k",
            "arn:aws:kms:us-east-1:3333:key/k",
            "arn:aws:iam::333333333333:role/r",
            "arn:aws:kms:us-east-1:333333333333:key/",
            "projects/x/locations/global/keyRings/r",
        ] {
            assert_eq!(super::kms_account(bad), None, "{bad}");
        }
    }
}
