//! Fires/silent pairs (see tests/rule_cases.rs).

use super::Edit::*;
use super::RuleCase;

const NETWORK: &str = "shared/us-east-1/base-network";
const NETWORK_TF: &str = "project/shared/us-east-1/base-network/config.tf";
const SSO_CONFIG: &str = "home/.aws/bb/config";

pub const CASES: &[RuleCase] = &[
    // The folder has `config/` but no build.env: no Leverage project encloses it.
    RuleCase {
        rule: "LD001",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Remove("project/build.env")],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A provider block left unclosed.
    RuleCase {
        rule: "LD002",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Replace(
            NETWORK_TF,
            "  profile = var.profile\n}\n",
            "  profile = var.profile\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // project.yaml (from `leverage project init`) names another short name.
    RuleCase {
        rule: "LD003",
        base: "sso-healthy",
        scope: "",
        fires: &[Write(
            "project/project.yaml",
            "project_name: binbash\nshort_name: bx\nprimary_region: us-east-1\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A fresh clone: common.tfvars is git-ignored, only the example is committed.
    RuleCase {
        rule: "LD004",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[
            Write(
                "project/config/common.tfvars.example",
                "project          = \"bb\"\nproject_long     = \"binbash\"\nregion_primary   = \"us-east-1\"\nregion_secondary = \"us-east-2\"\n\nsso_enabled = false\n\naccounts = {\n  security = {\n    email = \"aws+security@example.com\"\n    id    = \"<security account id>\"\n  }\n}\n",
            ),
            Remove("project/config/common.tfvars"),
        ],
        twin: &[],
        args: &[],
        env: &[],
    },
    // `True` is not `true`: MFA is off for the CLI.
    RuleCase {
        rule: "LD005",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Replace(
            "project/build.env",
            "MFA_ENABLED=true",
            "MFA_ENABLED=True",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // `sso_enabled = "false"`: a non-empty string, so SSO on.
    RuleCase {
        rule: "LD006",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Replace(
            "project/config/common.tfvars",
            "sso_enabled = false",
            "sso_enabled = \"false\"",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // SSO on, an account without `sso_role`.
    RuleCase {
        rule: "LD007",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Replace(
            "project/shared/config/account.tfvars",
            "sso_role    = \"DevOps\"\n",
            "",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // The doctor's settings with `fail_on` for `fail-on`.
    RuleCase {
        rule: "LD008",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Write(
            "project/.leverage-doctor.toml",
            "ignore = []\nfail_on = \"warning\"\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // The long name with a space where the short name goes.
    RuleCase {
        rule: "LD009",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Replace(
            "project/config/common.tfvars",
            "project          = \"bb\"",
            "project          = \"binbash leverage\"",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A misspelt variable in a provider's profile.
    RuleCase {
        rule: "LD101",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Replace(
            NETWORK_TF,
            "${var.project}-security-devops",
            "${var.projct}-security-devops",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A layer uses the management account, whose SSO account profile is not in the config.
    RuleCase {
        rule: "LD103",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Replace(
            SSO_CONFIG,
            "[profile bb-sso-management]\nsso_start_url = https://bb-fixture.awsapps.com/start\nsso_region = us-east-1\naccount_id = 111111111111\nrole_name = DevOps\n\n",
            "",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // The management permission set is Administrator; the layer names `-devops`.
    RuleCase {
        rule: "LD104",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Replace(
            SSO_CONFIG,
            "account_id = 111111111111\nrole_name = DevOps",
            "account_id = 111111111111\nrole_name = Administrator",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // `[profile bb-sso]` points at another organisation's portal.
    RuleCase {
        rule: "LD105",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Replace(
            SSO_CONFIG,
            "sso_start_url = https://bb-fixture.awsapps.com/start",
            "sso_start_url = https://other-org.awsapps.com/start",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // `${var.environment}` in a profile: Terraform resolves it, the CLI does not.
    RuleCase {
        rule: "LD106",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Replace(
            NETWORK_TF,
            "profile = var.profile",
            "profile = \"${var.project}-${var.environment}-devops\"",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // 3.x SSO: an aliased provider in providers.tf, a file the CLI does not scan.
    RuleCase {
        rule: "LD107",
        base: "v3-sso-healthy",
        scope: NETWORK,
        fires: &[Write(
            "project/shared/us-east-1/base-network/providers.tf",
            "provider \"aws\" {\n  alias   = \"apps_devstg\"\n  region  = var.region\n  profile = \"${var.project}-apps-devstg-devops\"\n}\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A provider for another region added without `profile`.
    RuleCase {
        rule: "LD108",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Append(
            NETWORK_TF,
            "\nprovider \"aws\" {\n  alias  = \"us_west_2\"\n  region = \"us-west-2\"\n}\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // SSO on, MFA_ENABLED=true left in build.env.
    RuleCase {
        rule: "LD401",
        base: "sso-healthy",
        scope: "",
        fires: &[Replace(
            "project/build.env",
            "MFA_ENABLED=false",
            "MFA_ENABLED=true",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // Moved from IAM to SSO: the old role profile of the same name is still in the config.
    RuleCase {
        rule: "LD402",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Append(
            SSO_CONFIG,
            "\n# Left from the IAM days (leverage credentials configure)\n[profile bb-management-devops]\noutput = json\nregion = us-east-1\nrole_arn = arn:aws:iam::111111111111:role/DevOps\nsource_profile = bb-security\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
];
