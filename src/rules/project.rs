//! LD0xx: the Leverage project itself.

use super::{Context, rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::project::Mode;
use crate::source::Located;
use crate::source::Span;

rule!(
    LD001,
    "LD001",
    "project-not-found",
    Error,
    project_not_found
);
rule!(LD002, "LD002", "parse-error", Error, parse_error);
rule!(
    LD003,
    "LD003",
    "project-name-mismatch",
    Error,
    project_name_mismatch
);
rule!(
    LD009,
    "LD009",
    "project-name-invalid",
    Error,
    project_name_invalid
);
rule!(
    LD004,
    "LD004",
    "common-tfvars-missing",
    Error,
    common_tfvars_missing
);
rule!(
    LD005,
    "LD005",
    "build-env-invalid",
    Warning,
    build_env_invalid
);
rule!(
    LD006,
    "LD006",
    "sso-enabled-not-bool",
    Error,
    sso_enabled_not_bool
);
rule!(
    LD007,
    "LD007",
    "account-config-incomplete",
    Warning,
    account_config_incomplete
);
rule!(
    LD008,
    "LD008",
    "doctor-config-invalid",
    Error,
    doctor_config_invalid
);

fn doctor_config_invalid(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (span, message) in &cx.model.config.problems {
        out.push(
            LD008
                .diag(message.clone())
                .at(span.clone(), "here")
                .help("the doctor's own settings: keys are ignore, fail-on, leverage-version, [severity], [[per-path]] (path, ignore); rule ids as `leverage-doctor explain` lists them")
                .fix("correct or delete this entry"),
        );
    }
}

fn project_not_found(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.project.is_some() {
        return;
    }
    let d = LD001
        .diag(
            "no Leverage project (a folder with `build.env` and `config/`) at or above this folder",
        )
        .at(
            Span::whole(cx.model.start_file),
            "searched from here up to the git top level",
        );
    // A folder with one of the two: the project is here, and the other is what is missing.
    out.push(match &cx.model.half_root {
        Some((dir, "build.env")) => d
            .help(format!("`{dir}` has `config/` but no `build.env`: the Leverage CLI finds a project by both (a fresh clone may hold only `build.env.example`, or it was deleted)"))
            .fix(format!("create `{dir}/build.env` with at least PROJECT=<the project's short name> (copy build.env.example if the project has one)")),
        Some((dir, missing)) => d
            .help(format!("`{dir}` has `build.env` but no `{missing}`: the Leverage CLI finds a project by both"))
            .fix(format!("create `{dir}/config/` with the project's common.tfvars, or run the doctor from the project root if `{dir}` is a nested build.env")),
        None => d
            .help("run the doctor inside a Leverage project, or give its path: `leverage-doctor check PATH`")
            .fix("cd <your Leverage project> && leverage-doctor check"),
    });
}

/// 3.x `leverage tf` runs only a binary whose `--version` says OpenTofu (`tfrunner.py`).
fn tf_binary_not_opentofu(
    cx: &Context,
    project: &crate::model::project::Project,
    build_env: crate::source::FileId,
    out: &mut Vec<Diagnostic>,
) {
    use crate::model::project::TfBinaryKind;
    let written = project
        .build_var("TF_BINARY")
        .filter(|e| !e.value.is_empty());
    let shown = written
        .map(|e| crate::secrets::escape_controls(&e.value, false))
        .unwrap_or_else(|| crate::leverage::DEFAULT_TF_BINARY.to_string());
    let at = written
        .map(|e| e.value_span.clone())
        .unwrap_or_else(|| Span::whole(build_env));
    let refused = "every `leverage tf` command stops with \"The provided binary does not seem to be OpenTofu.\" before Terraform starts (`leverage terraform` is the command for a Terraform binary)";
    match &project.tf_binary_kind {
        Some(TfBinaryKind::NotOpenTofu { said }) => out.push(
            LD005
                .diag(format!(
                    "`{shown} --version` says `{}`, not OpenTofu: Leverage CLI {} runs only OpenTofu under `leverage tf`",
                    crate::secrets::escape_controls(said, false),
                    cx.cli.generation.label()
                ))
                .severity(Severity::Error)
                .at(at, "the binary `leverage tf` runs")
                .help(refused)
                .fix("TF_BINARY=/usr/local/bin/tofu   # the path of an OpenTofu binary"),
        ),
        Some(TfBinaryKind::NamedTerraform) => out.push(
            LD005
                .diag(format!(
                    "TF_BINARY `{shown}` is named like Terraform; Leverage CLI {} runs only a binary whose `--version` says OpenTofu under `leverage tf` (known by its name only: not run offline or inside the checkout)",
                    cx.cli.generation.label()
                ))
                .severity(Severity::Error)
                .at(at, "the binary `leverage tf` runs")
                .help(refused)
                .fix(format!(
                    "find out: `{shown} --version` must print \"OpenTofu\"; if it prints \"Terraform\", set TF_BINARY=/usr/local/bin/tofu (an OpenTofu binary)"
                )),
        ),
        Some(TfBinaryKind::OpenTofu) | None => {}
    }
}

fn parse_error(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(project) = cx.project else { return };
    for e in &project.parse_errors {
        let unclosed = e.message.starts_with("unclosed block");
        let unread = e.message.starts_with("cannot read the file");
        out.push(
            LD002
                .diag(format!("cannot parse: {}", e.message))
                .at(
                    e.span.clone(),
                    if unclosed {
                        "this block is never closed".to_string()
                    } else {
                        e.message.clone()
                    },
                )
                .help(
                    "the Leverage CLI and Terraform stop on this file; nothing it defines is known",
                )
                .fix(if unclosed {
                    "add the `}` that closes this block where its body ends (`terraform fmt` shows the same error)"
                } else if unread {
                    "make it a readable regular file inside the project (the reason is in the message); its syntax was not looked at"
                } else {
                    "fix the syntax at the marked place (`terraform fmt` shows the same error)"
                }),
        );
    }
}

fn project_name_mismatch(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(project) = cx.project else { return };
    let build = project.build_var("PROJECT");
    let common = project.common_str("project");
    let yaml = project.project_yaml_short_name.as_ref();
    let mut names: Vec<(&str, &str, Span)> = Vec::new();
    if let Some(c) = &common {
        names.push(("common.tfvars `project`", &c.value, c.span.clone()));
    }
    if let Some(b) = build {
        names.push(("build.env `PROJECT`", &b.value, b.value_span.clone()));
    }
    if let Some(y) = yaml {
        names.push(("project.yaml `short_name`", &y.value, y.span.clone()));
    }
    let Some((first_what, first, first_span)) = names.first().cloned() else {
        return;
    };
    for (what, value, span) in names.iter().skip(1) {
        if *value != first {
            out.push(
                LD003
                    .diag(format!(
                        "{what} is `{value}` but {first_what} is `{first}`"
                    ))
                    .at(span.clone(), format!("looks for profiles in ~/.aws/{value}/"))
                    .related(first_span.clone(), format!("looks for profiles in ~/.aws/{first}/"))
                    .help("Leverage commands disagree on the AWS folder and the profile prefix, so profiles are looked for in the wrong place")
                    .fix(format!("make them the same, e.g. set {what} to `{first}`")),
            );
        }
    }
}

/// The short name becomes a folder (`~/.aws/<name>/`) and every profile's prefix: a name
/// with `/`, `..` or other characters would send reads and writes elsewhere.
/// `sso_role = "…"` with the permission set the account's SSO profile already names, or what to
/// find out when no profile says it.
fn sso_role_fix(cx: &Context, account: &str) -> String {
    let section = cx.sso_account_profile(account);
    let role = cx
        .aws
        // Leverage writes the account's role as `role_name` (`leverage aws configure sso`).
        .and_then(|a| {
            a.profile_value(&section, "role_name")
                .or_else(|| a.profile_value(&section, "sso_role_name"))
        })
        .map(|e| e.value.clone())
        .filter(|r| {
            !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b))
        });
    match role {
        Some(role) => format!("sso_role = \"{role}\"   # the role [profile {section}] names"),
        None => format!(
            "sso_role = \"<permission set>\"   # the permission set you use in account `{account}`: the AWS access portal lists it under the account (e.g. DevOps)"
        ),
    }
}

fn project_name_invalid(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(project) = cx.project else { return };
    let mut names: Vec<(&str, Located<String>)> = Vec::new();
    if let Some(c) = project.common_str("project") {
        names.push(("config/common.tfvars `project`", c));
    }
    if let Some(b) = project.build_var("PROJECT") {
        names.push((
            "build.env `PROJECT`",
            Located {
                value: b.value.clone(),
                span: b.value_span.clone(),
            },
        ));
    }
    if let Some(y) = &project.project_yaml_short_name {
        names.push(("project.yaml `short_name`", y.clone()));
    }
    for (what, name) in names {
        if let Err(why) = crate::values::project_name(&name.value) {
            out.push(
                LD009
                    .diag(format!(
                        "{what} `{}` {why}",
                        crate::secrets::escape_controls(&name.value, false)
                    ))
                    .at(name.span.clone(), "not a project short name")
                    .help("the short name is a folder under ~/.aws/ and the prefix of every profile: only letters, digits, `-` and `_`; leverage-doctor reads and writes nothing for this name")
                    .fix(format!("{what}: a short name such as `bb`")),
            );
        }
    }
    // project.yaml's short name is checked by the CLI itself.
    if let Some(y) = &project.project_yaml_short_name
        && crate::values::project_name(&y.value).is_ok()
        && !crate::leverage::accepts_yaml_short_name(&y.value)
    {
        out.push(
            LD009
                .diag(format!(
                    "project.yaml `short_name` `{}` is not 2 to 4 lower-case letters, which the Leverage CLI requires",
                    crate::secrets::escape_controls(&y.value, false)
                ))
                .at(y.span.clone(), "refused by the Leverage CLI")
                // Only the IAM commands read it; an SSO project meets it at `project create`.
                .severity(if cx.mode == Mode::Sso {
                    Severity::Warning
                } else {
                    Severity::Error
                })
                .help("`leverage credentials configure` (and `leverage project create`) check it against ^[a-z]{2,4}$ and stop: \"Invalid or missing project short name in project.yaml file.\"")
                .fix("project.yaml `short_name`: 2 to 4 lower-case letters, the same as build.env `PROJECT` and common.tfvars `project` (e.g. `bb`)"),
        );
    }
}

fn common_tfvars_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(project) = cx.project else { return };
    if project.common.is_some() {
        return;
    }
    let mut d = LD004
        .diag("config/common.tfvars does not exist")
        .at(Span::whole(project.common_file), "missing")
        .help("without it SSO is silently off, no accounts are known and `var.project` is unset");
    d = if project.common_example_exists {
        d.fix("cp config/common.tfvars.example config/common.tfvars   # then fill in your values")
    } else {
        d.fix("create config/common.tfvars with `project`, `accounts` and (for SSO) `sso_enabled`, `sso_start_url`, `sso_region`")
    };
    out.push(d);
}

fn build_env_invalid(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(project) = cx.project else { return };
    let strict = cx.cli.strict_build_env();
    for file in &project.build_envs {
        for (span, why) in &file.unreadable {
            let exported = file
                .entries
                .iter()
                .find(|e| e.exported && e.line_span == *span);
            let mut d = LD005
                .diag(format!(
                    "the Leverage CLI's build.env parser refuses this line: {why}"
                ))
                .at(span.clone(), "refused");
            d = if strict {
                d.severity(Severity::Error).help(
                    "the CLI (1.12 →) reads build.env with `yaenv`, which refuses the whole file on one line it cannot read: every leverage command stops",
                )
            } else {
                d
            };
            out.push(match exported {
                Some(e) => d.fix(format!("{}={}", e.key, e.value)),
                None => d.fix("KEY=value (one value per line; quote values with spaces; `#` starts a comment)"),
            });
        }
        for e in &file.entries {
            if e.key == "MFA_ENABLED"
                && e.value != "true"
                && e.value != "false"
                && !cx.cli.mfa_runs(false, Some("false"))
            {
                let on = e.value.eq_ignore_ascii_case("true");
                out.push(
                    LD005
                        .diag(format!(
                            "MFA_ENABLED is `{}`: only exactly `true` turns MFA on, anything else means off",
                            e.value
                        ))
                        .at(e.value_span.clone(), "not `true` or `false`")
                        .fix(format!("MFA_ENABLED={}", if on { "true" } else { "false" })),
                );
            }
        }
        if !file.dir.is_empty() {
            for e in &file.entries {
                let parent = project
                    .build_envs
                    .iter()
                    .take_while(|f| f.dir != file.dir)
                    .find_map(|f| f.entries.iter().rev().find(|p| p.key == e.key));
                if let Some(parent) = parent {
                    out.push(
                        LD005
                            .diag(format!(
                                "`{}` is overridden here (`{}`, was `{}`)",
                                e.key, e.value, parent.value
                            ))
                            .severity(Severity::Info)
                            .at(e.line_span.clone(), "this value wins below this folder")
                            .related(parent.line_span.clone(), "overridden value"),
                    );
                }
            }
        }
    }
    let Some(root_env) = project.build_envs.first() else {
        return;
    };
    if cx.cli.runs_terraform_on_host() {
        // 3.x: the binary, not an image.
        let set = project
            .build_var("TF_BINARY")
            .filter(|e| !e.value.is_empty());
        let expanded_to_nothing = project
            .build_var("TF_BINARY")
            .filter(|e| e.interpolated && e.value.is_empty());
        match (set, &project.tf_binary_problem) {
            (None, Some(problem)) if expanded_to_nothing.is_some() => out.push(
                LD005
                    .diag(format!(
                        "TF_BINARY expands to nothing, and `{}` {problem}",
                        crate::leverage::DEFAULT_TF_BINARY,
                    ))
                    .severity(Severity::Error)
                    .at(
                        expanded_to_nothing.map(|e| e.value_span.clone()).unwrap_or_else(|| Span::whole(root_env.file)),
                        "empty once `${…}` is expanded",
                    )
                    .help("the CLI's build.env parser expands `${NAME}` from the same file or the environment (an unknown name is empty) and reads two `${…}` in one value as one unknown name; an empty TF_BINARY means `tofu` from PATH")
                    .fix("TF_BINARY=/usr/local/bin/tofu   # one `${NAME}` at most, or the path written out"),
            ),
            (None, Some(problem)) => out.push(
                LD005
                    .diag(format!(
                        "no TF_BINARY, and `{}` {problem}: Leverage CLI {} runs OpenTofu on the host and has no binary to run",
                        crate::leverage::DEFAULT_TF_BINARY,
                        cx.cli.generation.label()
                    ))
                    .severity(Severity::Error)
                    .at(Span::whole(root_env.file), "add TF_BINARY here")
                    .help("without TF_BINARY the CLI runs `tofu` from PATH; every `leverage tf` command stops with \"OpenTofu binary not found\"")
                    .fix("TF_BINARY=/usr/local/bin/tofu   # an absolute path, ~/…, a path relative to the root, or a name on PATH"),
            ),
            (None, None) => {}
            (Some(e), Some(problem)) => out.push(
                LD005
                    .diag(format!("TF_BINARY `{}` {problem}", crate::secrets::escape_controls(&e.value, false)))
                    .severity(Severity::Error)
                    .at(e.value_span.clone(), "the binary the CLI runs")
                    .help("every `leverage tf` command fails before Terraform starts")
                    .fix("TF_BINARY=<path of an executable tofu or terraform>"),
            ),
            _ => {}
        }
        tf_binary_not_opentofu(cx, project, root_env.file, out);
        return;
    }
    let Some((minimum, current)) = cx.cli.toolbox_tags() else {
        return;
    };
    match project
        .build_var("TERRAFORM_IMAGE_TAG")
        .or_else(|| project.build_var("TF_IMAGE_TAG"))
    {
        None => out.push(
            LD005
                .diag("no TERRAFORM_IMAGE_TAG (or TF_IMAGE_TAG): the Leverage CLI cannot pick its toolbox image")
                .at(Span::whole(root_env.file), "add the image tag here")
                .fix(format!("TERRAFORM_IMAGE_TAG={current}   # <terraform version>-<toolbox version>: the toolbox tag your project uses")),
        ),
        Some(tag) => {
            let toolbox = tag.value.rsplit('-').next().unwrap_or("");
            if version_below(toolbox, minimum) {
                out.push(
                    LD005
                        .diag(format!(
                            "toolbox image `{}` is below the toolbox version the Leverage CLI {} requires ({minimum})",
                            crate::secrets::escape_controls(&tag.value, false),
                            cx.cli.generation.label()
                        ))
                        .at(tag.value_span.clone(), "toolbox version too old")
                        .help("the CLI compares `<terraform>-<toolbox>` with its minimums on every run and warns; older toolboxes lack what the CLI's credential handling expects")
                        .fix(format!("{}={current}   # or newer: <terraform>-<toolbox ≥ {minimum}>", tag.key)),
                );
            }
        }
    }
}

/// `0.2.0` < `0.2.4`: dotted numbers compared part by part; unreadable ones are not below.
fn version_below(have: &str, minimum: &str) -> bool {
    let parse = |v: &str| -> Option<Vec<u32>> { v.split('.').map(|p| p.parse().ok()).collect() };
    match (parse(have), parse(minimum)) {
        (Some(h), Some(m)) => h < m,
        _ => false,
    }
}

fn sso_enabled_not_bool(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(var) = cx.project.and_then(|p| p.common_var("sso_enabled")) else {
        return;
    };
    let (shown, means) = match &var.value {
        hcl::Value::Bool(_) => return,
        hcl::Value::String(s) => (
            format!("the string \"{s}\""),
            if s.is_empty() {
                "off"
            } else {
                "on (a non-empty string is true)"
            },
        ),
        other => (format!("`{other}`"), "not what you expect"),
    };
    let wanted = matches!(&var.value, hcl::Value::String(s) if s.eq_ignore_ascii_case("true"));
    out.push(
        LD006
            .diag(format!(
                "`sso_enabled` is {shown}, not a bool: for the Leverage CLI SSO is {means}"
            ))
            .at(var.value_span.clone(), "write a bool without quotes")
            .fix(format!("sso_enabled = {wanted}")),
    );
}

fn account_config_incomplete(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(project) = cx.project else { return };
    // A run that authenticates (SSO, or the MFA step) reads the account's files unchecked.
    let authenticates = matches!(cx.mode, Mode::Sso | Mode::IamMfa)
        && cx.cli.crashes_without_account_files(cx.mode == Mode::Sso);
    for account in project
        .account_dirs
        .iter()
        .filter(|a| project.scope.accounts.contains(&a.name))
    {
        if let Some(tfvars) = &account.account_tfvars {
            match tfvars.get_str("environment") {
                Some(env) if env.value != account.name => out.push(
                    LD007
                        .diag(format!("`environment` is `{}` but the account folder is `{}`", env.value, account.name))
                        .at(env.span.clone(), "differs from the folder name")
                        .help("names built from `environment` (buckets, tags, profiles) point at another account")
                        .fix(format!("environment = \"{}\"", account.name)),
                ),
                None => out.push(
                    LD007
                        .diag("account.tfvars has no `environment`")
                        .at(Span::whole(tfvars.file), "add it")
                        .fix(format!("environment = \"{}\"", account.name)),
                ),
                _ => {}
            }
            if cx.mode == Mode::Sso && tfvars.get("sso_role").is_none() {
                let mut d = LD007
                    .diag("SSO is on but account.tfvars has no `sso_role`")
                    .at(
                        Span::whole(tfvars.file),
                        "add the permission set this account uses",
                    )
                    .fix(sso_role_fix(cx, &account.name));
                d = if cx.cli.crashes_without_account_files(true) {
                    d.severity(Severity::Error).help(format!(
                        "Leverage CLI {} builds the token's path from `sso_role` before every run of a layer: without it `leverage tf` crashes (TypeError) before Terraform starts",
                        cx.cli.generation.label()
                    ))
                } else {
                    d.help("`leverage aws configure sso` and the doctor use it to choose the role for this account")
                };
                out.push(d);
            }
        }
        match &account.backend_tfvars {
            Some(backend) => {
                if backend.get("profile").is_none() && authenticates {
                    out.push(
                        LD007
                            .diag("backend.tfvars has no `profile`: the Leverage CLI crashes before Terraform runs")
                            .severity(Severity::Error)
                            .at(Span::whole(backend.file), "no `profile`")
                            .help(format!(
                                "Leverage CLI {} reads backend.tfvars `profile` on every authenticated run of a layer (KeyError when it is missing)",
                                cx.cli.generation.label()
                            ))
                            .fix(backend_line("profile", &cx.name, &account.name)),
                    );
                }
                let missing: Vec<&str> = ["profile", "bucket", "dynamodb_table", "region"]
                    .into_iter()
                    .filter(|k| backend.get(k).is_none())
                    .filter(|k| !(authenticates && *k == "profile"))
                    .collect();
                if !missing.is_empty() {
                    let fix = missing
                        .iter()
                        .map(|k| backend_line(k, &cx.name, &account.name))
                        .collect::<Vec<_>>()
                        .join("\n");
                    out.push(
                        LD007
                            .diag(format!("backend.tfvars lacks {}", list(&missing)))
                            .at(Span::whole(backend.file), "incomplete backend settings")
                            .help("`terraform init` cannot configure the S3 state backend without them")
                            .fix(fix),
                    );
                }
            }
            None => {
                if let Some(tfvars) = &account.account_tfvars {
                    let severity = if authenticates {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    out.push(
                        LD007
                            .diag("the account has no config/backend.tfvars")
                            .severity(severity)
                            .at(Span::whole(tfvars.file), "backend.tfvars should sit beside this file")
                            .help("`terraform init` needs it for the state backend and its `profile`")
                            .fix(format!(
                                "create {}/config/backend.tfvars with profile, bucket, dynamodb_table, region",
                                account.name
                            )),
                    );
                }
            }
        }
    }
}

fn backend_line(key: &str, project: &str, account: &str) -> String {
    match key {
        "profile" => format!("profile        = \"{project}-{account}-devops\""),
        "bucket" => format!("bucket         = \"{project}-{account}-terraform-backend\""),
        "dynamodb_table" => format!("dynamodb_table = \"{project}-{account}-terraform-backend\""),
        _ => "region         = \"us-east-1\"".into(),
    }
}

pub fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
