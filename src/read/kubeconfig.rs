//! Kubeconfig files (YAML, or JSON, which is YAML too): the contexts they hold, the current
//! one, and the AWS profile a context's user runs `aws eks get-token` or
//! `aws-iam-authenticator` with. Tokens, passwords and client keys in them are registered as
//! secrets when read, never kept.

use serde_yaml::Value;

/// What a kubeconfig says, as far as the doctor needs it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Kubeconfig {
    pub current_context: Option<String>,
    /// Each context: its name and its user's name.
    pub contexts: Vec<(String, Option<String>)>,
    pub users: Vec<KubeUser>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct KubeUser {
    pub name: String,
    /// `exec.command`.
    pub command: Option<String>,
    /// `exec.args`.
    pub args: Vec<String>,
    /// `exec.env` (`- name: AWS_PROFILE\n  value: x`).
    pub env: Vec<(String, String)>,
}

/// An AWS profile an `exec` user runs with, and where the value is written.
#[derive(Debug, PartialEq, Eq)]
pub struct ExecProfile {
    pub profile: String,
    pub range: std::ops::Range<usize>,
    /// `--region` is passed, or `AWS_REGION`/`AWS_DEFAULT_REGION` set.
    pub region_given: bool,
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    match v.get(key) {
        Some(Value::Sequence(items)) => items,
        _ => &[],
    }
}

/// Parses a kubeconfig; `Err` says why it is not one.
pub fn parse(text: &str) -> Result<Kubeconfig, String> {
    let root: Value = serde_yaml::from_str(text).map_err(|e| {
        // The location only: serde_yaml's messages can quote the text (a token).
        match e.location() {
            Some(at) => format!(
                "not valid YAML (line {}, column {})",
                at.line(),
                at.column()
            ),
            None => "not valid YAML".to_string(),
        }
    })?;
    if !matches!(root, Value::Mapping(_) | Value::Null) {
        return Err("not a mapping of kubeconfig keys".into());
    }
    let mut out = Kubeconfig {
        current_context: root
            .get("current-context")
            .and_then(str_of)
            .filter(|s| !s.is_empty()),
        ..Kubeconfig::default()
    };
    for c in list(&root, "contexts") {
        if let Some(name) = c.get("name").and_then(str_of) {
            let user = c
                .get("context")
                .and_then(|x| x.get("user"))
                .and_then(str_of);
            out.contexts.push((name, user));
        }
    }
    for u in list(&root, "users") {
        let Some(name) = u.get("name").and_then(str_of) else {
            continue;
        };
        let user = u.get("user");
        // Never kept; registered so that no sink prints them.
        for key in ["token", "password", "client-key-data"] {
            if let Some(secret) = user.and_then(|x| x.get(key)).and_then(str_of)
                && !secret.is_empty()
            {
                crate::secrets::register(&secret);
            }
        }
        let exec = user.and_then(|x| x.get("exec"));
        let mut found = KubeUser {
            name,
            ..KubeUser::default()
        };
        if let Some(exec) = exec {
            found.command = exec.get("command").and_then(str_of);
            found.args = list(exec, "args").iter().filter_map(str_of).collect();
            found.env = list(exec, "env")
                .iter()
                .filter_map(|e| {
                    Some((
                        e.get("name").and_then(str_of)?,
                        e.get("value").and_then(str_of)?,
                    ))
                })
                .collect();
        }
        out.users.push(found);
    }
    Ok(out)
}

impl Kubeconfig {
    /// The user a context names.
    pub fn user_of(&self, context: &str) -> Option<&KubeUser> {
        let (_, user) = self.contexts.iter().find(|(name, _)| name == context)?;
        let user = user.as_deref()?;
        self.users.iter().find(|u| u.name == user)
    }
}

/// The AWS profile a user's `exec` runs the AWS CLI (`aws eks get-token`) or
/// `aws-iam-authenticator` with: `--profile X`, `--profile=X`, else `AWS_PROFILE` in its env.
/// `text` is the file's, to point at the value.
pub fn exec_profile(user: &KubeUser, text: &str) -> Option<ExecProfile> {
    let command = user.command.as_deref()?;
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let aws_cli = matches!(base, "aws" | "aws.exe")
        && user.args.iter().any(|a| a == "eks")
        && user.args.iter().any(|a| a == "get-token");
    let authenticator = base.starts_with("aws-iam-authenticator");
    if !aws_cli && !authenticator {
        return None;
    }
    let from_args = user.args.windows(2).find_map(|pair| {
        (pair[0] == "--profile")
            .then(|| pair[1].clone())
            .or_else(|| pair[0].strip_prefix("--profile=").map(str::to_string))
    });
    let from_args = from_args.or_else(|| {
        user.args
            .last()
            .and_then(|a| a.strip_prefix("--profile="))
            .map(str::to_string)
    });
    let profile = from_args.or_else(|| {
        user.env
            .iter()
            .find(|(k, _)| k == "AWS_PROFILE")
            .map(|(_, v)| v.clone())
    })?;
    if profile.is_empty() {
        return None;
    }
    let region_given = user
        .args
        .iter()
        .any(|a| a == "--region" || a.starts_with("--region="))
        || user
            .env
            .iter()
            .any(|(k, v)| (k == "AWS_REGION" || k == "AWS_DEFAULT_REGION") && !v.is_empty());
    // Where the value is written: its first occurrence after the user's name (serde_yaml
    // keeps no positions), else its first occurrence.
    let after = text.find(&format!("name: {}", user.name)).unwrap_or(0);
    let at = text[after..]
        .find(profile.as_str())
        .map(|i| i + after)
        .or_else(|| text.find(profile.as_str()))
        .unwrap_or(0);
    let range = if text.get(at..at + profile.len()) == Some(profile.as_str()) {
        at..at + profile.len()
    } else {
        0..0
    };
    Some(ExecProfile {
        profile,
        range,
        region_given,
    })
}

/// Where `current-context: x` is written, for a label.
pub fn current_context_range(text: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let at = text.find("current-context")?;
    let rel = text[at..].find(name)?;
    Some(at + rel..at + rel + name.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EKS: &str = r#"apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0t
    server: https://ABC.gr7.us-east-1.eks.amazonaws.com
  name: arn:aws:eks:us-east-1:111111111111:cluster/bb-apps-devstg
contexts:
- context:
    cluster: arn:aws:eks:us-east-1:111111111111:cluster/bb-apps-devstg
    user: arn:aws:eks:us-east-1:111111111111:cluster/bb-apps-devstg
  name: bb-apps-devstg
- context:
    cluster: other
    user: static
  name: other
current-context: bb-apps-devstg
kind: Config
preferences: {}
users:
- name: arn:aws:eks:us-east-1:111111111111:cluster/bb-apps-devstg
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - us-east-1
      - eks
      - get-token
      - --cluster-name
      - bb-apps-devstg
      - --output
      - json
      command: aws
      env:
      - name: AWS_PROFILE
        value: bb-apps-devstg-devops
- name: static
  user:
    token: LDFIXTURESECRETkubeToken0000
"#;

    #[test]
    fn contexts_users_and_exec_profiles() {
        let k = parse(EKS).unwrap();
        assert_eq!(k.current_context.as_deref(), Some("bb-apps-devstg"));
        assert_eq!(k.contexts.len(), 2);
        let user = k.user_of("bb-apps-devstg").unwrap();
        let p = exec_profile(user, EKS).unwrap();
        assert_eq!(p.profile, "bb-apps-devstg-devops");
        assert_eq!(&EKS[p.range.clone()], "bb-apps-devstg-devops");
        assert!(p.region_given);
        assert!(exec_profile(k.user_of("other").unwrap(), EKS).is_none());
        // `--profile` in the args wins over AWS_PROFILE.
        let args = EKS.replace(
            "      - json\n",
            "      - json\n      - --profile\n      - bb-shared-devops\n",
        );
        let k = parse(&args).unwrap();
        let p = exec_profile(k.user_of("bb-apps-devstg").unwrap(), &args).unwrap();
        assert_eq!(p.profile, "bb-shared-devops");
        assert_eq!(&args[p.range], "bb-shared-devops");
    }

    #[test]
    fn json_and_broken_files() {
        let json = r#"{"current-context": "c", "contexts": [{"name": "c", "context": {"user": "u"}}],
            "users": [{"name": "u", "user": {"exec": {"command": "aws-iam-authenticator",
            "args": ["token", "-i", "x"], "env": [{"name": "AWS_PROFILE", "value": "p"}]}}}]}"#;
        let k = parse(json).unwrap();
        let p = exec_profile(k.user_of("c").unwrap(), json).unwrap();
        assert_eq!(p.profile, "p");
        assert!(!p.region_given);
        assert!(parse("contexts: [").is_err());
        assert!(parse("- a\n- b\n").is_err());
        assert_eq!(parse("").unwrap(), Kubeconfig::default());
        // Null lists are empty lists.
        assert!(parse("contexts:\nusers:\n").unwrap().contexts.is_empty());
    }
}
