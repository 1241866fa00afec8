//! `env`: the shell exports that point the AWS CLI, SDKs and Terraform at the project's files,
//! for `eval "$(leverage-doctor env)"`.

use super::Exit;
use crate::cli::{EnvArgs, EnvShell, Global};
use crate::read;

pub fn run(args: &EnvArgs, global: &Global) -> anyhow::Result<Exit> {
    let model = read::load(&super::read_settings(args.path.as_ref(), global))?;
    let (config, credentials) = super::exec::aws_files(&model)?;
    let mut vars = vec![
        ("AWS_CONFIG_FILE", config.display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            credentials.display().to_string(),
        ),
    ];
    if args.profile {
        vars.push(("AWS_PROFILE", backend_profile(&model)?));
    }
    let text: String = vars.iter().map(|(k, v)| export(args.shell, k, v)).collect();
    super::print(&text)?;
    Ok(Exit::Clean)
}

/// The layer's backend profile (backend.tfvars `profile`, resolved).
fn backend_profile(model: &crate::model::Model) -> anyhow::Result<String> {
    let analysis = crate::analysis::Analysis::new(model);
    let (project, _) = super::project_and_aws(model)?;
    let profiles = crate::analysis::backend_profiles(&analysis.runs, &project.backend_refs);
    match profiles.len() {
        1 => Ok(profiles.into_iter().next().unwrap_or_default()),
        0 => anyhow::bail!(
            "--profile: no backend profile here (config/backend.tfvars `profile` of a layer's account): run it in a layer"
        ),
        _ => anyhow::bail!(
            "--profile: this folder spans accounts with different backend profiles: run it in a layer"
        ),
    }
}

/// One export line for `shell`, the value quoted so that any byte comes through as it is.
pub fn export(shell: EnvShell, name: &str, value: &str) -> String {
    match shell {
        EnvShell::Bash | EnvShell::Zsh => {
            format!("export {name}='{}'\n", value.replace('\'', "'\\''"))
        }
        EnvShell::Fish => format!(
            "set -gx {name} '{}'\n",
            value.replace('\\', "\\\\").replace('\'', "\\'")
        ),
        // PowerShell also closes a single-quoted string on the typographic quotes: each doubled.
        EnvShell::Powershell => {
            let quoted: String = value
                .chars()
                .flat_map(|c| match c {
                    '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => vec![c, c],
                    _ => vec![c],
                })
                .collect();
            format!("$Env:{name} = '{quoted}'\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_per_shell() {
        let v = "/home/a b/it's\\x";
        assert_eq!(
            export(EnvShell::Bash, "X", v),
            "export X='/home/a b/it'\\''s\\x'\n"
        );
        assert_eq!(
            export(EnvShell::Fish, "X", v),
            "set -gx X '/home/a b/it\\'s\\\\x'\n"
        );
        assert_eq!(
            export(EnvShell::Powershell, "X", v),
            "$Env:X = '/home/a b/it''s\\x'\n"
        );
    }
}
