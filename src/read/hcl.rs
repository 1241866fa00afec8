//! Terraform files: variables from .tfvars, and every `profile` a layer names.

use crate::model::credentials::{
    AttrValue, CredAttr, CredentialNeed, GitTransport, ModuleSource, Provider, VarValue,
};
use crate::model::project::{
    AccountDecl, ParseError, ProfileRef, RefSite, Resolution, TfVar, TfvarsFile,
};
use crate::source::{FileId, Located, Span};
use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::structure::{Body, Structure};
use hcl::eval::Evaluate;
use std::collections::BTreeMap;

/// HCL nested deeper than this is not walked (the parser has its own limit too).
const MAX_DEPTH: usize = 64;

fn span_of(file: FileId, node: &impl hcl::edit::Span) -> Span {
    match node.span() {
        Some(r) => Span::new(file, r),
        None => Span::whole(file),
    }
}

/// The longest any file may take to parse. The HCL parser takes exponential time on some
/// inputs (found by fuzzing: `w=111-1%{` repeated), and a stuck parse must not hang the doctor.
pub const PARSE_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a file of `len` bytes may take to parse: half a second plus a microsecond a byte,
/// at most [`PARSE_LIMIT`]. A real file parses at about 0.1 µs a byte, so this is a hundred
/// times that, while each stuck file of a checkout costs half a second, not five (a hostile
/// one with a hundred of them must not stall CI for minutes).
pub fn parse_limit(len: usize) -> std::time::Duration {
    (std::time::Duration::from_millis(500) + std::time::Duration::from_micros(len as u64))
        .min(PARSE_LIMIT)
}

/// What a file the parser gave up on is reported with.
pub fn parse_gave_up(limit: std::time::Duration) -> String {
    format!(
        "the HCL parser did not finish within {:.1} s on this file (a real file takes \
         milliseconds: the parser is stuck on it); it was skipped",
        limit.as_secs_f64()
    )
}

/// Parses on a thread of its own and gives up after [`parse_limit`] (the stuck thread is left
/// behind and ends with the process).
pub fn parse_body(text: &str, file: FileId) -> Result<Body, ParseError> {
    let owned = text.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().spawn(move || {
        let result = hcl::edit::parser::parse_body(&owned)
            .map_err(|e| (e.location().offset(), e.message().to_string()));
        let _ = tx.send(result);
    });
    if spawned.is_err() {
        return parse_body_unbounded(text, file);
    }
    let limit = parse_limit(text.len());
    match rx.recv_timeout(limit) {
        Ok(Ok(body)) => Ok(body),
        Ok(Err((at, message))) => Err(located(text, file, at, message)),
        Err(_) => Err(ParseError {
            span: Span::whole(file),
            message: parse_gave_up(limit),
        }),
    }
}

/// Parses on this thread, with no time limit: for callers that bound it themselves.
pub fn parse_body_unbounded(text: &str, file: FileId) -> Result<Body, ParseError> {
    hcl::edit::parser::parse_body(text)
        .map_err(|e| located(text, file, e.location().offset(), e.message().to_string()))
}

/// The parser's error where people look for it: an error at the end of the file with a block
/// left open points at that block's first line, as Terraform does ("Unclosed configuration
/// block"), not at the end of the file.
fn located(text: &str, file: FileId, at: usize, message: String) -> ParseError {
    let at = at.min(text.len());
    // Only a parser that was waiting for a `}` at the end (not, say, for a value).
    let at_end =
        text.get(at..).is_some_and(|rest| rest.trim().is_empty()) && message.contains("`}`");
    if at_end && let Some(open) = unclosed_block(text) {
        let line_start = text[..open].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let first =
            line_start + (text[line_start..open].len() - text[line_start..open].trim_start().len());
        return ParseError {
            span: Span::new(file, first..open + 1),
            message: "unclosed block: there is no `}` for this block before the end of the file"
                .into(),
        };
    }
    ParseError {
        span: Span::new(file, at..at),
        message,
    }
}

/// The byte offset of the outermost `{` never closed, skipping strings and comments (a
/// heredoc's braces are taken as they come: JSON in one balances them).
fn unclosed_block(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' => open.push(i),
            b'}' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.first().copied()
}

/// Whether an expression is free of arithmetic. The doctor never needs arithmetic, and hcl's
/// evaluator panics on results that are not finite (`1/0`, found by fuzzing), so such
/// expressions are not evaluated at all.
fn arithmetic_free(expr: &Expression) -> bool {
    use hcl::edit::expr::BinaryOperator as Op;
    use hcl::edit::visit::Visit;
    struct Finder(bool);
    impl Visit for Finder {
        fn visit_binary_operator(&mut self, op: &hcl::edit::Decorated<Op>) {
            if matches!(
                op.value(),
                Op::Plus | Op::Minus | Op::Mul | Op::Div | Op::Mod
            ) {
                self.0 = true;
            }
        }
    }
    let mut finder = Finder(false);
    finder.visit_expr(expr);
    !finder.0
}

/// Values Terraform refuses in a file given with `-var-file` ("Variables not allowed",
/// "Function calls not allowed"): every `config/*.tfvars` the Leverage CLI passes is such a
/// file, so one of these stops `leverage tf plan`. One problem per attribute, at its value.
pub fn tfvars_problems(body: &Body, file: FileId) -> Vec<ParseError> {
    use hcl::edit::visit::Visit;
    struct Finder(Option<&'static str>);
    impl Visit for Finder {
        fn visit_expr(&mut self, expr: &Expression) {
            let found = match expr {
                Expression::Variable(_) | Expression::Traversal(_) => Some("a variable"),
                Expression::FuncCall(_) => Some("a function call"),
                _ => None,
            };
            if self.0.is_none() {
                self.0 = found;
            }
            hcl::edit::visit::visit_expr(self, expr);
        }
    }
    body.attributes()
        .filter_map(|attr| {
            let mut finder = Finder(None);
            finder.visit_expr(&attr.value);
            finder.0.map(|what| ParseError {
                span: span_of(file, &attr.value),
                message: format!(
                    "`{}` holds {what}: Terraform refuses variables and function calls in a file given with -var-file, and the Leverage CLI passes every config/*.tfvars that way (\"Variables not allowed\")",
                    attr.key.as_str()
                ),
            })
        })
        .collect()
}

/// Reads a .tfvars file: each top-level attribute evaluated as a literal.
pub fn tfvars(text: &str, file: FileId) -> Result<(TfvarsFile, Body), ParseError> {
    let body = parse_body(text, file)?;
    let ctx = hcl::eval::Context::new();
    let vars = body
        .attributes()
        .map(|attr| {
            let value = if arithmetic_free(&attr.value) {
                let expr: hcl::Expression = attr.value.clone().into();
                expr.evaluate(&ctx).unwrap_or(hcl::Value::Null)
            } else {
                hcl::Value::Null
            };
            TfVar {
                name: attr.key.as_str().to_string(),
                value,
                span: span_of(file, attr),
                value_span: span_of(file, &attr.value),
            }
        })
        .collect();
    Ok((TfvarsFile { file, vars }, body))
}

/// The accounts common.tfvars declares: `accounts = { name = { id = "…" } }`, or the newer
/// `organization.accounts` / `organization.organizational_units.<ou>.accounts` (maps, or lists
/// of objects with `name`).
pub fn accounts(body: &Body, file: FileId) -> BTreeMap<String, AccountDecl> {
    let mut out = BTreeMap::new();
    if let Some(attr) = body.get_attribute("accounts") {
        collect_accounts(&attr.value, file, &mut out);
    }
    if let Some(attr) = body.get_attribute("organization") {
        if let Some(accounts) = object_get(&attr.value, "accounts") {
            collect_accounts(accounts, file, &mut out);
        }
        if let Some(Expression::Object(ous)) = object_get(&attr.value, "organizational_units") {
            for (_, ou) in ous.iter() {
                if let Some(accounts) = object_get(ou.expr(), "accounts") {
                    collect_accounts(accounts, file, &mut out);
                }
            }
        }
    }
    out
}

fn key_text(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(id) => Some(id.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.as_str().to_string()),
        ObjectKey::Expression(_) => None,
    }
}

fn object_get<'a>(expr: &'a Expression, key: &str) -> Option<&'a Expression> {
    match expr {
        Expression::Object(obj) => obj
            .iter()
            .find(|(k, _)| key_text(k).as_deref() == Some(key))
            .map(|(_, v)| v.expr()),
        _ => None,
    }
}

fn string_at(expr: &Expression, file: FileId) -> Option<Located<String>> {
    match expr {
        Expression::String(s) => Some(Located {
            value: s.as_str().to_string(),
            span: span_of(file, expr),
        }),
        Expression::Number(n) => Some(Located {
            value: n.to_string(),
            span: span_of(file, expr),
        }),
        _ => None,
    }
}

fn collect_accounts(expr: &Expression, file: FileId, out: &mut BTreeMap<String, AccountDecl>) {
    match expr {
        Expression::Object(obj) => {
            for (key, value) in obj.iter() {
                let Some(name) = key_text(key) else { continue };
                let id = object_get(value.expr(), "id").and_then(|e| string_at(e, file));
                out.insert(
                    name.clone(),
                    AccountDecl {
                        name,
                        name_span: span_of(file, key),
                        id,
                    },
                );
            }
        }
        Expression::Array(items) => {
            for item in items.iter() {
                let Some(name) = object_get(item, "name").and_then(|e| string_at(e, file)) else {
                    continue;
                };
                let id = object_get(item, "id").and_then(|e| string_at(e, file));
                out.insert(
                    name.value.clone(),
                    AccountDecl {
                        name: name.value,
                        name_span: name.span,
                        id,
                    },
                );
            }
        }
        _ => {}
    }
}

/// Whether a file declares `terraform { backend "s3" { … } }`.
pub fn declares_s3_backend(body: &Body) -> bool {
    body.blocks()
        .filter(|b| b.ident.as_str() == "terraform")
        .flat_map(|b| b.body.blocks())
        .any(|b| {
            b.ident.as_str() == "backend" && b.labels.first().is_some_and(|l| l.as_str() == "s3")
        })
}

/// The files `data "sops_file"` blocks decrypt (`source_file`, literal or under
/// `${path.module}/`), relative to the layer.
pub fn sops_files(body: &Body) -> Vec<String> {
    body.blocks()
        .filter(|b| {
            b.ident.as_str() == "data"
                && b.labels.first().is_some_and(|l| l.as_str() == "sops_file")
        })
        .filter_map(|b| b.body.get_attribute("source_file"))
        .filter_map(|a| match &a.value {
            Expression::String(s) => Some(s.as_str().to_string()),
            Expression::StringTemplate(t) => {
                let text = t.to_string();
                let text = text.trim().trim_matches('"');
                text.strip_prefix("${path.module}/")
                    .filter(|rest| !rest.contains("${"))
                    .map(str::to_string)
            }
            _ => None,
        })
        .collect()
}

/// `aws_profile` values of a sops file's KMS keys (YAML `aws_profile: x`, JSON
/// `"aws_profile": "x"`), with their byte ranges; empty values (the default chain) are skipped.
pub fn sops_aws_profiles(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    for (at, key) in text.match_indices("aws_profile") {
        let rest = &text[at + key.len()..];
        let rest_trim = rest.trim_start_matches('"');
        let Some(after_colon) = rest_trim.trim_start().strip_prefix(':') else {
            continue;
        };
        let value_text = after_colon.trim_start_matches([' ', '\t']);
        let value_at = text.len() - value_text.len();
        let quoted = value_text.starts_with(['"', '\'']);
        let inner = if quoted { &value_text[1..] } else { value_text };
        let end = inner
            .find(|c: char| {
                matches!(c, '"' | '\'' | ',' | '\n' | '\r' | '}') || (!quoted && c.is_whitespace())
            })
            .unwrap_or(inner.len());
        let value = &inner[..end];
        if value.is_empty() {
            continue;
        }
        let start = value_at + usize::from(quoted);
        out.push((start..start + value.len(), value.to_string()));
    }
    out
}

/// The KMS keys of a sops file's metadata (`sops.kms[]`, YAML or JSON): each `arn` with its
/// byte range, and its `aws_profile` when set. A file that does not parse (or another sops
/// format, dotenv or INI) gives none.
pub fn sops_kms_keys(text: &str) -> Vec<(std::ops::Range<usize>, String, Option<String>)> {
    let Ok(root) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Vec::new();
    };
    let Some(serde_yaml::Value::Sequence(keys)) = root.get("sops").and_then(|s| s.get("kms"))
    else {
        return Vec::new();
    };
    let mut from = 0;
    let mut out = Vec::new();
    for key in keys {
        let Some(arn) = key.get("arn").and_then(serde_yaml::Value::as_str) else {
            continue;
        };
        let profile = key
            .get("aws_profile")
            .and_then(serde_yaml::Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        // The next occurrence of the ARN (serde_yaml keeps no positions).
        let at = text
            .get(from..)
            .and_then(|rest| rest.find(arn))
            .map(|i| i + from)
            .or_else(|| text.find(arn));
        let range = at.map_or(0..0, |a| a..a + arn.len());
        from = range.end;
        out.push((range, arn.to_string(), profile));
    }
    out
}

/// `terraform { required_providers { aws = { version = "…" } } }`: the AWS provider
/// constraint, where it is written.
pub fn aws_provider_constraint(body: &Body, file: FileId) -> Option<Located<String>> {
    body.blocks()
        .filter(|b| b.ident.as_str() == "terraform")
        .flat_map(|b| b.body.blocks())
        .filter(|b| b.ident.as_str() == "required_providers")
        .find_map(|b| b.body.get_attribute("aws"))
        .and_then(|a| object_get(&a.value, "version"))
        .and_then(|e| string_at(e, file))
}

/// The AWS provider version `.terraform.lock.hcl` holds (`provider "<registry>/hashicorp/aws"
/// { version = "…" }`), where it is written.
pub fn locked_aws_provider(text: &str, file: FileId) -> Option<Located<String>> {
    let body = parse_body(text, file).ok()?;
    body.blocks()
        .filter(|b| {
            b.ident.as_str() == "provider"
                && b.labels
                    .first()
                    .is_some_and(|l| l.as_str().ends_with("/hashicorp/aws"))
        })
        .find_map(|b| b.body.get_attribute("version"))
        .and_then(|a| string_at(&a.value, file))
}

/// `provider "aws"` blocks without a `profile`: Terraform's AWS provider then takes the
/// default chain (`[default]` of the files Leverage points it at, or the environment).
pub fn providers_without_profile(body: &Body, file: FileId) -> Vec<Span> {
    body.blocks()
        .filter(|b| {
            b.ident.as_str() == "provider"
                && b.labels.first().is_some_and(|l| l.as_str() == "aws")
                && b.body.get_attribute("profile").is_none()
        })
        .map(|b| span_of(file, &b.ident))
        .collect()
}

/// The non-AWS credentials one layer file's `provider` blocks need, and the providers its
/// `required_providers` names (for a layer that has no block for one: Terraform configures it
/// empty, from the environment alone).
#[derive(Debug, Default)]
pub struct FileCredentials {
    pub needs: Vec<CredentialNeed>,
    pub required: Vec<(Provider, Span)>,
    pub module_sources: Vec<ModuleSource>,
}

pub fn credentials(body: &Body, file: FileId, owner: &str) -> FileCredentials {
    let mut out = FileCredentials::default();
    for block in body.blocks() {
        match (block.ident.as_str(), block.labels.first()) {
            ("provider", Some(label)) => {
                let Some(provider) = Provider::from_name(label.as_str()) else {
                    continue;
                };
                let alias = block
                    .body
                    .get_attribute("alias")
                    .and_then(|a| a.value.as_str().map(str::to_string));
                out.needs.extend(provider_needs(
                    provider,
                    Some(&block.body),
                    span_of(file, &block.ident),
                    alias,
                    file,
                    owner,
                ));
            }
            ("terraform", _) => {
                for required in block
                    .body
                    .blocks()
                    .filter(|b| b.ident.as_str() == "required_providers")
                {
                    for attr in required.body.attributes() {
                        let by_source = object_get(&attr.value, "source")
                            .and_then(Expression::as_str)
                            .and_then(|s| s.rsplit('/').next())
                            .and_then(Provider::from_name);
                        if let Some(p) = Provider::from_name(attr.key.as_str()).or(by_source) {
                            out.required.push((p, span_of(file, &attr.key)));
                        }
                    }
                }
            }
            ("module", _) => {
                let Some(attr) = block.body.get_attribute("source") else {
                    continue;
                };
                let Some(source) = attr.value.as_str() else {
                    continue;
                };
                if let Some((transport, host)) = git_source(source) {
                    out.module_sources.push(ModuleSource {
                        layer: owner.to_string(),
                        transport,
                        host,
                        span: span_of(file, &attr.value),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// The needs of one provider configuration (`body` is `None` for a provider configured empty).
pub fn provider_needs(
    provider: Provider,
    body: Option<&Body>,
    block: Span,
    alias: Option<String>,
    file: FileId,
    owner: &str,
) -> Vec<CredentialNeed> {
    // helm: the cluster settings sit in a nested `kubernetes` block (2.x) or object (3.x).
    let nested = body.and_then(|b| {
        b.blocks()
            .find(|k| k.ident.as_str() == "kubernetes")
            .map(|k| &k.body)
    });
    let nested_object = body
        .and_then(|b| b.get_attribute("kubernetes"))
        .map(|a| &a.value);
    crate::model::credentials::needs(provider)
        .iter()
        .map(|spec| {
            let mut attr = None;
            let mut other_way = false;
            for name in spec.attrs {
                let found = match (provider, body) {
                    (Provider::Helm, _) => nested
                        .and_then(|n| n.get_attribute(name))
                        .map(|a| &a.value)
                        .or_else(|| nested_object.and_then(|o| object_get(o, name))),
                    (_, Some(b)) => b.get_attribute(name).map(|a| &a.value),
                    (_, None) => None,
                };
                if let Some(value) = found {
                    if matches!(value, Expression::Null(_)) {
                        continue;
                    }
                    attr = Some(CredAttr {
                        name: name.to_string(),
                        value: attr_value(value),
                        span: span_of(file, value),
                        // Looked at with the layer (`Reader::resolve_credential_vars`).
                        file: None,
                    });
                    break;
                }
            }
            if let Some(b) = body {
                other_way = spec.other_ways.iter().any(|w| {
                    b.get_attribute(w).is_some() || b.blocks().any(|x| x.ident.as_str() == *w)
                });
            }
            // The API address attribute (github/gitlab `base_url`, tfe `hostname`).
            let base = crate::model::credentials::api_base(provider)
                .filter(|(name, ..)| *name != "address")
                .and_then(|(name, ..)| {
                    let value = body?.get_attribute(name).map(|a| &a.value)?;
                    (!matches!(value, Expression::Null(_))).then(|| CredAttr {
                        name: name.to_string(),
                        value: attr_value(value),
                        span: span_of(file, value),
                        file: None,
                    })
                });
            // kubernetes/helm `config_context` (helm: in its `kubernetes` block or object).
            let context = matches!(provider, Provider::Kubernetes | Provider::Helm)
                .then(|| {
                    let value = match provider {
                        Provider::Helm => nested
                            .and_then(|n| n.get_attribute("config_context"))
                            .map(|a| &a.value)
                            .or_else(|| {
                                nested_object.and_then(|o| object_get(o, "config_context"))
                            }),
                        _ => body?.get_attribute("config_context").map(|a| &a.value),
                    }?;
                    (!matches!(value, Expression::Null(_))).then(|| CredAttr {
                        name: "config_context".to_string(),
                        value: attr_value(value),
                        span: span_of(file, value),
                        file: None,
                    })
                })
                .flatten();
            CredentialNeed {
                base,
                context,
                kubeconfig: None,
                layer: owner.to_string(),
                provider,
                alias: alias.clone(),
                spec,
                block: block.clone(),
                attr,
                other_way,
                // Decided for the whole layer (`Reader::resolve_credential_vars`).
                used: crate::model::credentials::Usage::Direct,
            }
        })
        .collect()
}

fn attr_value(expr: &Expression) -> AttrValue {
    use hcl::edit::expr::TraversalOperator as Op;
    match expr {
        Expression::String(s) => AttrValue::Literal(s.as_str().to_string()),
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [op]) if v.as_str() == "var" => match op.value() {
                Op::GetAttr(name) => AttrValue::Var(VarValue {
                    name: name.as_str().to_string(),
                    tfvars: None,
                    in_tfvars: false,
                    declared: false,
                    has_default: false,
                }),
                _ => AttrValue::Computed,
            },
            _ => AttrValue::Computed,
        },
        Expression::Parenthesis(p) => attr_value(p.inner()),
        _ => AttrValue::Computed,
    }
}

/// A module source fetched with git, and its host: `git@host:org/repo`, `git::ssh://[user@]host/…`
/// (SSH), `git::https://host/…` (HTTPS). Other sources (registry, `github.com/…` shorthands
/// fetched over anonymous HTTPS, local paths) need no credential of the user's.
pub fn git_source(source: &str) -> Option<(GitTransport, String)> {
    let host_of = |rest: &str, stops: &[char]| -> String {
        let rest = rest.split_once('@').map_or(
            rest,
            |(user, after)| {
                if user.contains('/') { rest } else { after }
            },
        );
        rest.split(stops).next().unwrap_or("").to_string()
    };
    if let Some(rest) = source.strip_prefix("git@") {
        return Some((
            GitTransport::Ssh,
            rest.split(':').next().unwrap_or("").to_string(),
        ));
    }
    if let Some(rest) = source.strip_prefix("git::ssh://") {
        return Some((GitTransport::Ssh, host_of(rest, &['/', ':'])));
    }
    if let Some(rest) = source.strip_prefix("git::git@") {
        return Some((
            GitTransport::Ssh,
            rest.split(':').next().unwrap_or("").to_string(),
        ));
    }
    if let Some(rest) = source.strip_prefix("git::https://") {
        return Some((GitTransport::Https, host_of(rest, &['/', ':'])));
    }
    None
}

/// Whether `variable "<name>"` is declared in a layer file, and with a non-null `default`.
pub fn variable_declaration(body: &Body, name: &str) -> Option<bool> {
    body.blocks()
        .find(|b| {
            b.ident.as_str() == "variable" && b.labels.first().is_some_and(|l| l.as_str() == name)
        })
        .map(|b| {
            b.body
                .get_attribute("default")
                .is_some_and(|d| !matches!(d.value, Expression::Null(_)))
        })
}

/// What one layer file says about profiles: its `profile` attributes, resolved with the
/// variables Terraform is given, and what a layer-wide pass needs to follow `for_each` over
/// the layer's literal `locals` maps ([`resolve_iterations`]).
#[derive(Debug, Default)]
pub struct FileRefs {
    pub refs: Vec<ProfileRef>,
    pub iterations: Vec<Iteration>,
    pub local_maps: Vec<LocalMap>,
}

/// A profile taken from the element a `for_each` over `locals` maps gives
/// (`lookup(each.value, "profile", default)`, `each.value.profile`).
#[derive(Debug, Clone)]
pub struct Iteration {
    /// Index of the reference in its file's `refs`.
    pub at: usize,
    /// The `locals` maps the `for_each` draws its elements from (several behind a condition).
    pub locals: Vec<String>,
    /// The element's key that names the profile.
    pub key: String,
    /// `lookup`'s default, for elements without the key, resolved like any reference.
    pub default: Option<ProfileRef>,
}

/// A `locals` value written as a map of objects: the keys each element has, or `None` when an
/// element is not written out (a function call, a variable), so the map cannot be followed.
#[derive(Debug, Clone)]
pub struct LocalMap {
    pub name: String,
    pub element_keys: Option<Vec<Vec<String>>>,
}

/// Every `profile` attribute of a layer file, resolved with the variables Terraform is given.
pub fn profile_refs(
    body: &Body,
    text: &str,
    file: FileId,
    vars: &hcl::Map<String, hcl::Value>,
    owner: &std::sync::Arc<str>,
) -> FileRefs {
    let mut walker = RefWalker {
        text,
        file,
        vars,
        owner,
        for_each: None,
        out: FileRefs::default(),
    };
    walker.body(body, &RefSite::Other, 0);
    walker.out.refs.shrink_to_fit();
    walker.out
}

/// Follows each `for_each` over a literal `locals` map of a layer: a reference taken from its
/// elements resolves to the profiles the elements write (each a reference of its own, checked
/// where it is written), plus `lookup`'s default when an element lacks the key (a reference
/// Terraform alone reads: the Leverage CLI skips every value that holds `lookup`).
/// A map written nowhere or not as literals, or an element without the key and no default
/// (Terraform fails on it), leaves the reference skipped, as before.
pub fn resolve_iterations(
    refs: &mut Vec<ProfileRef>,
    iterations: Vec<Iteration>,
    maps: &[LocalMap],
) {
    for it in iterations {
        let mut missing_key = false;
        let mut known = true;
        for name in &it.locals {
            let mut found = maps.iter().filter(|m| &m.name == name);
            match (found.next(), found.next()) {
                (
                    Some(LocalMap {
                        element_keys: Some(elements),
                        ..
                    }),
                    None,
                ) => {
                    missing_key |= elements.iter().any(|keys| !keys.contains(&it.key));
                }
                _ => known = false,
            }
        }
        if !known || (missing_key && it.default.is_none()) {
            continue;
        }
        let Some(r) = refs.get_mut(it.at) else {
            continue;
        };
        r.resolution = Resolution::Iterated(
            it.locals
                .iter()
                .map(|l| format!("local.{l}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        if missing_key && let Some(default) = it.default {
            refs.push(default);
        }
    }
}

/// The `locals` a `for_each` draws its elements from: `local.x`, `cond ? local.x : {}`, or
/// `{ for k, v in local.x : k => v if … }` (a subset of local.x's elements).
fn iterated_locals(expr: &Expression) -> Option<Vec<String>> {
    match expr {
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [op]) if v.as_str() == "local" => match op.value() {
                hcl::edit::expr::TraversalOperator::GetAttr(name) => {
                    Some(vec![name.as_str().to_string()])
                }
                _ => None,
            },
            _ => None,
        },
        Expression::Object(obj) if obj.is_empty() => Some(Vec::new()),
        Expression::Parenthesis(inner) => iterated_locals(inner.inner()),
        Expression::Conditional(c) => {
            let mut all = iterated_locals(&c.true_expr)?;
            all.extend(iterated_locals(&c.false_expr)?);
            Some(all)
        }
        Expression::ForExpr(f) => match &f.value_expr {
            Expression::Variable(v)
                if f.key_expr.is_some()
                    && !f.grouping
                    && v.as_str() == f.intro.value_var.as_str() =>
            {
                iterated_locals(&f.intro.collection_expr)
            }
            _ => None,
        },
        _ => None,
    }
}

/// `lookup(each.value, "key"[, default])`, `each.value.key` or `each.value["key"]`: the key,
/// and the default.
fn each_value_key(expr: &Expression) -> Option<(String, Option<&Expression>)> {
    use hcl::edit::expr::TraversalOperator as Op;
    let is_each_value = |e: &Expression| match e {
        Expression::Traversal(t) => {
            matches!(&t.expr, Expression::Variable(v) if v.as_str() == "each")
                && matches!(t.operators.as_slice(), [op] if matches!(op.value(), Op::GetAttr(a) if a.as_str() == "value"))
        }
        _ => false,
    };
    match expr {
        Expression::FuncCall(call)
            if call.name.namespace.is_empty() && call.name.name.as_str() == "lookup" =>
        {
            let args: Vec<&Expression> = call.args.iter().collect();
            match args.as_slice() {
                [map, Expression::String(key), rest @ ..]
                    if rest.len() <= 1 && is_each_value(map) =>
                {
                    Some((key.as_str().to_string(), rest.first().copied()))
                }
                _ => None,
            }
        }
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [value, key]) if v.as_str() == "each" => {
                if !matches!(value.value(), Op::GetAttr(a) if a.as_str() == "value") {
                    return None;
                }
                match key.value() {
                    Op::GetAttr(k) => Some((k.as_str().to_string(), None)),
                    Op::Index(Expression::String(k)) => Some((k.as_str().to_string(), None)),
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// The keys of each element of a `locals` map of objects, `None` when one is not a literal.
fn element_keys(expr: &Expression) -> Option<Vec<Vec<String>>> {
    let Expression::Object(obj) = expr else {
        return None;
    };
    obj.iter()
        .map(|(_, element)| match element.expr() {
            Expression::Object(fields) => {
                Some(fields.iter().filter_map(|(k, _)| key_text(k)).collect())
            }
            _ => None,
        })
        .collect()
}

/// Expressions evaluated on this thread, by their text and the variables they name.
const EVALUATED_MAX: usize = 4096;
thread_local! {
    static EVALUATED: std::cell::RefCell<std::collections::HashMap<String, Resolution>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

struct RefWalker<'a> {
    text: &'a str,
    file: FileId,
    vars: &'a hcl::Map<String, hcl::Value>,
    owner: &'a std::sync::Arc<str>,
    /// The `locals` maps the enclosing block's `for_each` iterates, when it is one.
    for_each: Option<Vec<String>>,
    out: FileRefs,
}

impl RefWalker<'_> {
    /// After a block or object was walked from `start`: when it has a `profile` of its own
    /// (not a `lookup`), the CLI's search returns that one alone, so every other reference
    /// found inside it is hidden from the CLI.
    fn hide_beside(&mut self, start: usize, own: Option<usize>) {
        if let Some(own) = own
            && !self.out.refs[own].expr.contains("lookup")
        {
            for (i, r) in self.out.refs.iter_mut().enumerate().skip(start) {
                if i != own {
                    r.hidden_from_cli = true;
                }
            }
        }
    }

    fn body(&mut self, body: &Body, site: &RefSite, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let start = self.out.refs.len();
        let mut own = None;
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    if attr.key.as_str() == "profile" {
                        let region = body.get_attribute("region").is_some();
                        own = Some(self.out.refs.len());
                        self.reference(&attr.value, site, region);
                    } else if attr.key.as_str() == "args"
                        && let Expression::Array(items) = &attr.value
                    {
                        // kubernetes/helm `exec { command = "aws" args = [..., "--profile", X] }`:
                        // Terraform runs the AWS CLI with the project's files, so X is read too.
                        let items: Vec<&Expression> = items.iter().collect();
                        for pair in items.windows(2) {
                            if pair[0].as_str() == Some("--profile") {
                                let region = items.iter().any(|i| i.as_str() == Some("--region"));
                                self.reference(pair[1], &RefSite::Exec, region);
                            }
                        }
                    } else {
                        self.expr(&attr.value, site, depth + 1);
                    }
                }
                Structure::Block(block) => {
                    let site = match (block.ident.as_str(), block.labels.first()) {
                        ("provider", _) => RefSite::Provider {
                            alias: block
                                .body
                                .get_attribute("alias")
                                .and_then(|a| a.value.as_str().map(str::to_string)),
                        },
                        ("data", Some(label)) if label.as_str() == "terraform_remote_state" => {
                            RefSite::RemoteState
                        }
                        ("locals", _) => RefSite::Local,
                        _ => site.clone(),
                    };
                    if block.ident.as_str() == "locals" {
                        for attr in block.body.attributes() {
                            self.out.local_maps.push(LocalMap {
                                name: attr.key.as_str().to_string(),
                                element_keys: element_keys(&attr.value),
                            });
                        }
                    }
                    let outer = self.for_each.take();
                    self.for_each = match block.body.get_attribute("for_each") {
                        Some(a) => iterated_locals(&a.value),
                        None => outer.clone(),
                    };
                    self.body(&block.body, &site, depth + 1);
                    self.for_each = outer;
                }
            }
        }
        self.hide_beside(start, own);
    }

    /// Profiles also stand inside object values (remote-state `config = {…}`, locals maps).
    fn expr(&mut self, expr: &Expression, site: &RefSite, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match expr {
            Expression::Object(obj) => {
                let region = obj
                    .iter()
                    .any(|(key, _)| key_text(key).as_deref() == Some("region"));
                let start = self.out.refs.len();
                let mut own = None;
                for (key, value) in obj.iter() {
                    if key_text(key).as_deref() == Some("profile") {
                        own = Some(self.out.refs.len());
                        self.reference(value.expr(), site, region);
                    } else {
                        self.expr(value.expr(), site, depth + 1);
                    }
                }
                self.hide_beside(start, own);
            }
            Expression::Array(items) => {
                for item in items.iter() {
                    self.expr(item, site, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn reference(&mut self, value: &Expression, site: &RefSite, region_given: bool) {
        let at = self.out.refs.len();
        let r = self.profile_ref(value, site, region_given);
        if !matches!(r.resolution, Resolution::Resolved(_))
            && let Some(locals) = &self.for_each
            && let Some((key, default)) = each_value_key(value)
        {
            let default = default.map(|d| ProfileRef {
                hidden_from_cli: true,
                ..self.profile_ref(d, site, region_given)
            });
            self.out.iterations.push(Iteration {
                at,
                locals: locals.clone(),
                key,
                default,
            });
        }
        self.out.refs.push(r);
    }

    fn profile_ref(&self, value: &Expression, site: &RefSite, region_given: bool) -> ProfileRef {
        let span = span_of(self.file, value);
        let written = span
            .range
            .as_ref()
            .and_then(|r| self.text.get(r.clone()))
            .unwrap_or("")
            .trim()
            .to_string();
        // The Leverage CLI leaves these out: they only resolve at plan time.
        let resolution = if written.contains("lookup(") || written.contains("local.") {
            Resolution::Skipped(
                "values with `lookup(` or `local.` are only known when Terraform runs; the Leverage CLI skips them too".into(),
            )
        } else if !arithmetic_free(value) {
            Resolution::Unresolved("arithmetic in a profile name is not evaluated".into())
        } else {
            // Only the variables the expression names: evaluating `var.x` copies `var`.
            let used = used_vars(&written, self.vars);
            // Thousands of layers write the same few expressions with the same variables:
            // each (text, variables) is evaluated once per thread.
            let key = format!("{written}\u{0}{used:?}");
            let cached = EVALUATED.with(|c| c.borrow().get(&key).cloned());
            match cached {
                Some(resolution) => resolution,
                None => {
                    let expr: hcl::Expression = value.clone().into();
                    let mut ctx = hcl::eval::Context::new();
                    ctx.declare_var("var", hcl::Value::Object(used));
                    let resolution = match expr.evaluate(&ctx) {
                        Ok(hcl::Value::String(name)) => Resolution::Resolved(name),
                        Ok(other) => Resolution::Unresolved(format!(
                            "evaluates to {}, not a string",
                            value_kind(&other)
                        )),
                        Err(e) => Resolution::Unresolved(eval_reason(&e)),
                    };
                    EVALUATED.with(|c| {
                        let mut c = c.borrow_mut();
                        if c.len() >= EVALUATED_MAX {
                            c.clear();
                        }
                        c.insert(key, resolution.clone());
                    });
                    resolution
                }
            }
        };
        ProfileRef {
            span,
            expr: written,
            site: site.clone(),
            resolution,
            owner: self.owner.clone(),
            region_given,
            hidden_from_cli: false,
        }
    }
}

/// The `var.<name>` a piece of HCL names, with their values.
fn used_vars(text: &str, vars: &hcl::Map<String, hcl::Value>) -> hcl::Map<String, hcl::Value> {
    let mut out = hcl::Map::new();
    for (at, _) in text.match_indices("var.") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let name: String = text[at + 4..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if let Some(v) = vars.get(&name) {
            out.insert(name, v.clone());
        }
    }
    out
}

fn value_kind(v: &hcl::Value) -> &'static str {
    match v {
        hcl::Value::Null => "null",
        hcl::Value::Bool(_) => "a bool",
        hcl::Value::Number(_) => "a number",
        hcl::Value::String(_) => "a string",
        hcl::Value::Array(_) => "a list",
        hcl::Value::Object(_) => "an object",
    }
}

fn eval_reason(e: &hcl::eval::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or(&text);
    first.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;
    use std::path::PathBuf;

    #[test]
    fn finds_and_resolves_profiles() {
        let text = r#"
provider "aws" {
  region  = var.region
  profile = var.profile
}
provider "aws" {
  alias   = "shared"
  profile = "${var.project}-shared-devops"
}
data "terraform_remote_state" "vpc" {
  for_each = local.states
  config = {
    profile = lookup(each.value, "profile")
  }
}
locals {
  m = { a = { profile = "${var.nope}-x" } }
}
"#;
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("c"), "c".into(), text.into());
        let body = parse_body(text, id).unwrap();
        let mut vars = hcl::Map::new();
        vars.insert("profile".into(), hcl::Value::from("bb-apps-devstg-devops"));
        vars.insert("project".into(), hcl::Value::from("bb"));
        let refs = profile_refs(&body, text, id, &vars, &"apps-devstg/l".into()).refs;
        assert_eq!(refs.len(), 4);
        assert_eq!(refs[0].resolved(), Some("bb-apps-devstg-devops"));
        assert_eq!(refs[1].resolved(), Some("bb-shared-devops"));
        assert_eq!(
            refs[1].site,
            RefSite::Provider {
                alias: Some("shared".into())
            }
        );
        assert!(matches!(refs[2].resolution, Resolution::Skipped(_)));
        assert_eq!(refs[2].site, RefSite::RemoteState);
        assert!(matches!(refs[3].resolution, Resolution::Unresolved(_)));
        assert_eq!(
            s.get(id)
                .line_col(refs[1].span.range.clone().unwrap().start),
            (8, 13)
        );
    }

    /// `for_each` over literal `locals` maps, as the reference architecture writes it: the
    /// `lookup` takes the elements' profiles (each its own reference), plus the default where an
    /// element lacks `profile`; what cannot be followed stays skipped.
    #[test]
    fn iterations_over_locals_maps_resolve() {
        let config = r#"
data "terraform_remote_state" "all" {
  for_each = local.all
  config = { profile = lookup(each.value, "profile") }
}
data "terraform_remote_state" "some" {
  for_each = { for k, v in local.some : k => v if !v["tgw"] }
  config = { profile = lookup(each.value, "profile", var.profile) }
}
data "terraform_remote_state" "maybe" {
  for_each = var.on ? local.all : {}
  config = { profile = each.value.profile }
}
data "terraform_remote_state" "no_default" {
  for_each = local.some
  config = { profile = lookup(each.value, "profile") }
}
data "terraform_remote_state" "computed" {
  for_each = local.computed
  config = { profile = lookup(each.value, "profile", var.profile) }
}
data "terraform_remote_state" "other" {
  for_each = var.states
  config = { profile = lookup(each.value, "profile", var.profile) }
}
"#;
        let locals = r#"
locals {
  all      = { a = { profile = "${var.project}-shared-devops" } }
  some     = { a = { profile = "bb-network-devops", tgw = false }, b = { tgw = false } }
  computed = merge(local.all, {})
}
"#;
        let mut vars = hcl::Map::new();
        vars.insert("profile".into(), hcl::Value::from("bb-apps-devstg-devops"));
        vars.insert("project".into(), hcl::Value::from("bb"));
        let mut refs = Vec::new();
        let mut iterations = Vec::new();
        let mut maps = Vec::new();
        for text in [config, locals] {
            let found = profile_refs(
                &parse_body(text, FileId::DETACHED).unwrap(),
                text,
                FileId::DETACHED,
                &vars,
                &"l".into(),
            );
            let first = refs.len();
            refs.extend(found.refs);
            iterations.extend(found.iterations.into_iter().map(|mut it| {
                it.at += first;
                it
            }));
            maps.extend(found.local_maps);
        }
        resolve_iterations(&mut refs, iterations, &maps);
        let kind = |r: &ProfileRef| match &r.resolution {
            Resolution::Resolved(name) => format!("resolved {name}"),
            Resolution::Skipped(_) => "skipped".into(),
            Resolution::Iterated(from) => format!("iterated {from}"),
            Resolution::Unresolved(_) => "unresolved".into(),
        };
        let got: Vec<String> = refs.iter().map(kind).collect();
        assert_eq!(
            got,
            [
                "iterated local.all",
                "iterated local.some",
                "iterated local.all",
                // an element without `profile` and no default: Terraform fails on it
                "skipped",
                // not a map written out
                "skipped",
                // not a local
                "skipped",
                "resolved bb-shared-devops",
                "resolved bb-network-devops",
                // the default, for element `b` of local.some
                "resolved bb-apps-devstg-devops",
            ]
        );
        assert!(refs[8].hidden_from_cli);
        assert_eq!(refs[8].expr, "var.profile");
    }

    #[test]
    fn accounts_map_and_list_forms() {
        let text = r#"
accounts = { shared = { email = "a", id = "222222222222" } }
organization = { accounts = [ { name = "apps-prd", id = 333333333333 } ] }
"#;
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("c"), "c".into(), text.into());
        let (_, body) = tfvars(text, id).unwrap();
        let acc = accounts(&body, id);
        assert_eq!(acc["shared"].id.as_ref().unwrap().value, "222222222222");
        assert_eq!(acc["apps-prd"].id.as_ref().unwrap().value, "333333333333");
    }

    /// Found by fuzzing: hcl's evaluator panics on `1/0`; the doctor does not evaluate it.
    #[test]
    fn arithmetic_is_not_evaluated() {
        let text = "t = 1111/0\nu = 1e308 * 10\nprovider \"aws\" { profile = 1/0 }\n";
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("c"), "c".into(), text.into());
        let (vars, body) = tfvars(text, id).unwrap();
        assert_eq!(vars.get("t").unwrap().value, hcl::Value::Null);
        let refs = profile_refs(&body, text, id, &hcl::Map::new(), &"l".into()).refs;
        assert!(matches!(refs[0].resolution, Resolution::Unresolved(_)));
    }

    #[test]
    fn parse_errors_have_a_place() {
        let text = "a = 1\nprovider \"aws\" {\n  profile = \n";
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("c"), "c".into(), text.into());
        let err = parse_body(text, id).unwrap_err();
        assert!(s.start_of(&err.span).unwrap().0 >= 3);
        // A block left open to the end: its first line, as Terraform says it.
        let text = "a = 1\nprovider \"aws\" {\n  profile = \"x\"\n\nlocals {\n  b = \"{\"\n}\n";
        let id = s.add(PathBuf::from("d"), "d".into(), text.into());
        let err = parse_body(text, id).unwrap_err();
        assert_eq!(s.start_of(&err.span).unwrap().0, 2, "{}", err.message);
        assert!(err.message.starts_with("unclosed block"), "{}", err.message);
    }

    /// Provider blocks as the reference architecture writes them (vault from variables,
    /// kubernetes/helm through EKS data sources), a GitHub App, a provider only required, and
    /// module sources over SSH and HTTPS.
    #[test]
    fn credentials_of_a_layer_file() {
        let text = r#"
provider "vault" {
  address = var.vault_address
  token   = var.vault_token
}
provider "kubernetes" {
  host  = data.aws_eks_cluster.cluster.endpoint
  token = data.aws_eks_cluster_auth.cluster.token
}
provider "helm" {
  kubernetes {
    host = data.aws_eks_cluster.cluster.endpoint
  }
}
provider "github" {
  alias = "app"
  app_auth {}
}
provider "gitlab" {
  token = "glpat-literal-token-000"
}
terraform {
  required_providers {
    tfe    = { source = "hashicorp/tfe", version = "~> 0.50" }
    random = { source = "hashicorp/random" }
    aws    = "~> 5.0"
  }
}
module "a" { source = "git@github.com:org/a.git?ref=v1" }
module "b" { source = "git::ssh://git@gitlab.example.com:2222/org/b.git" }
module "c" { source = "git::https://github.com/org/c.git" }
module "d" { source = "github.com/org/d" }
"#;
        let body = parse_body(text, FileId::DETACHED).unwrap();
        let found = credentials(&body, FileId::DETACHED, "l");
        let got: Vec<String> = found
            .needs
            .iter()
            .map(|n| {
                let attr = match n.attr.as_ref().map(|a| &a.value) {
                    None => "-".to_string(),
                    Some(AttrValue::Literal(_)) => "literal".into(),
                    Some(AttrValue::Var(v)) => format!("var.{}", v.name),
                    Some(AttrValue::Computed) => "computed".into(),
                };
                format!(
                    "{} {} {attr}{}",
                    n.provider.name(),
                    n.spec.what,
                    if n.other_way { " other-way" } else { "" }
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "vault address var.vault_address",
                "vault token var.vault_token",
                "kubernetes cluster configuration computed",
                "helm cluster configuration computed",
                "github token - other-way",
                "gitlab token literal",
            ]
        );
        assert_eq!(found.needs[4].alias.as_deref(), Some("app"));
        let required: Vec<&str> = found.required.iter().map(|(p, _)| p.name()).collect();
        assert_eq!(required, ["tfe"]);
        let sources: Vec<(GitTransport, &str)> = found
            .module_sources
            .iter()
            .map(|m| (m.transport, m.host.as_str()))
            .collect();
        assert_eq!(
            sources,
            [
                (GitTransport::Ssh, "github.com"),
                (GitTransport::Ssh, "gitlab.example.com"),
                (GitTransport::Https, "github.com"),
            ]
        );
        // A provider configured nowhere but required: its needs, with no attribute.
        let empty = provider_needs(
            Provider::Tfe,
            None,
            Span::whole(FileId::DETACHED),
            None,
            FileId::DETACHED,
            "l",
        );
        assert_eq!(empty.len(), 1);
        assert!(empty[0].attr.is_none() && !empty[0].other_way);
    }

    #[test]
    fn variable_declarations_and_defaults() {
        let body = parse_body(
            "variable \"a\" {\n  type = string\n}\nvariable \"b\" {\n  default = \"x\"\n}\nvariable \"c\" {\n  default = null\n}\n",
            FileId::DETACHED,
        )
        .unwrap();
        assert_eq!(variable_declaration(&body, "a"), Some(false));
        assert_eq!(variable_declaration(&body, "b"), Some(true));
        assert_eq!(variable_declaration(&body, "c"), Some(false));
        assert_eq!(variable_declaration(&body, "d"), None);
    }

    #[test]
    fn sops_files_and_their_profiles() {
        let body = parse_body(
            "data \"sops_file\" \"a\" {\n  source_file = \"secrets.enc.yaml\"\n}\ndata \"sops_file\" \"b\" {\n  source_file = \"${path.module}/b.enc.json\"\n}\ndata \"sops_file\" \"c\" {\n  source_file = var.f\n}\n",
            FileId::DETACHED,
        )
        .unwrap();
        assert_eq!(sops_files(&body), ["secrets.enc.yaml", "b.enc.json"]);
        let yaml = "sops:\n    kms:\n        - arn: arn:aws:kms:us-east-1:1:key/k\n          aws_profile: bb-shared-devops\n        - arn: x\n          aws_profile: \"\"\n";
        let found = sops_aws_profiles(yaml);
        assert_eq!(found.len(), 1);
        assert_eq!(&yaml[found[0].0.clone()], "bb-shared-devops");
        let json =
            "{\"sops\": {\"kms\": [{\"arn\": \"x\", \"aws_profile\": \"bb-apps-devstg-devops\"}]}}";
        let keys = sops_kms_keys(yaml);
        assert_eq!(keys.len(), 2);
        assert_eq!(&yaml[keys[0].0.clone()], "arn:aws:kms:us-east-1:1:key/k");
        assert_eq!(keys[0].2.as_deref(), Some("bb-shared-devops"));
        assert_eq!(keys[1].2, None);
        let found = sops_aws_profiles(json);
        assert_eq!(found[0].1, "bb-apps-devstg-devops");
        assert_eq!(&json[found[0].0.clone()], "bb-apps-devstg-devops");
    }
}
