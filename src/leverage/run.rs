//! What a run of `leverage tf plan` does, step by step, as each generation does it: whether it
//! authenticates and how (SSO refresh, the MFA step), what it substitutes, where Terraform runs,
//! and where it stops before Terraform (exit codes, crashes). The analysis stage plans each
//! layer's run from these answers (`crate::analysis::LayerRun`).

use super::{Generation, LeverageCli};

impl LeverageCli {
    /// Only `${var.profile}` and `${var.project}` are substituted (1.12 →): any other variable in
    /// a profile makes the CLI stop (exit 40), although Terraform alone would resolve it.
    pub fn substitutes_only_profile_and_project(self) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 | Generation::V3 => true,
        }
    }

    /// Whether the CLI runs its MFA step: 3.x whenever SSO is off (`MFA_ENABLED` is read as a
    /// string and `"false"` is truthy; only an empty value is false); before, only `true`.
    pub fn mfa_runs(self, sso_enabled: bool, mfa_enabled: Option<&str>) -> bool {
        if sso_enabled {
            return false;
        }
        match self.generation {
            Generation::V3 => mfa_enabled != Some(""),
            Generation::V1 | Generation::V2 => mfa_enabled == Some("true"),
        }
    }

    /// The 1.x toolbox finds a layer's profiles with grep: `profile = …` lines inside comments
    /// count too.
    pub fn mfa_reads_commented_profiles(self) -> bool {
        match self.generation {
            Generation::V1 => true,
            Generation::V2 => false,
            Generation::V3 => false,
        }
    }

    /// 3.x runs Terraform on the host (`TF_BINARY`); before, the toolbox image
    /// (`TERRAFORM_IMAGE_TAG`).
    pub fn runs_terraform_on_host(self) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 => false,
            Generation::V3 => true,
        }
    }

    /// Whether Terraform sees the user's environment (GITHUB_TOKEN, VAULT_TOKEN, TF_VAR_…) and
    /// home folder (~/.vault-token, ~/.ssh keys). Before 3.x the toolbox container gets a fixed
    /// environment (project and AWS file variables, `SSH_AUTH_SOCK=/ssh-agent`) and only the
    /// project, the AWS folder, ~/.gitconfig and the SSH agent's socket are mounted (2.1.1
    /// `container.py` `TerraformContainer.__init__`): the agent is the one credential of the
    /// host that reaches it.
    pub fn terraform_sees_host_credentials(self) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 => false,
            Generation::V3 => true,
        }
    }

    /// 3.x compares the token's `expiresAt` (UTC) with the local time.
    pub fn token_check_in_local_time(self) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 => false,
            Generation::V3 => true,
        }
    }

    /// The CLI's own authentication (1.12 →, Python) reads account.tfvars `sso_role` (its token
    /// check builds a path from it: TypeError when absent) and backend.tfvars `profile`
    /// (`get_profiles`: FileNotFoundError / KeyError when absent) without checking them: a run
    /// that authenticates crashes before Terraform (2.1.1 `container.py`, 3.1.0 `modules/auth.py`).
    /// `sso`: the run authenticates with SSO (else with the MFA step, which 2.x leaves to the
    /// toolbox's shell script).
    pub fn crashes_without_account_files(self, sso: bool) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 => sso,
            Generation::V3 => true,
        }
    }

    /// The lowest toolbox version the CLI accepts (2.1.1 `MINIMUM_VERSIONS`: toolbox 0.2.4,
    /// Terraform 1.3.5) and a tag that meets both, to suggest.
    pub fn toolbox_tags(self) -> Option<(&'static str, &'static str)> {
        match self.generation {
            Generation::V3 => None,
            Generation::V2 => Some(("0.2.4", "1.3.5-0.2.4")),
            Generation::V1 => Some(("0.0.0", "1.2.7-0.1.4")),
        }
    }

    /// 3.x builds its SSO client with boto3's default session, from the user's own AWS
    /// settings (not the project's): an `AWS_PROFILE` that `~/.aws/config` does not define
    /// crashes it (ProfileNotFound) before anything is refreshed (3.1.0 `modules/auth.py`).
    pub fn sso_client_reads_host_config(self) -> bool {
        match self.generation {
            Generation::V1 | Generation::V2 => false,
            Generation::V3 => true,
        }
    }

    /// 1.12 → writes SSO role credentials into the project's files itself (credentials section,
    /// config `expiration` in ms: 2.1.1 and 3.1.0 `modules/auth.py`); the 1.x toolbox leaves them
    /// to the AWS CLI's cache inside its container.
    pub fn writes_sso_role_credentials(self) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 | Generation::V3 => true,
        }
    }
}
