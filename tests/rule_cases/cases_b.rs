//! Fires/silent pairs (see tests/rule_cases.rs).

use super::Edit::*;
use super::RuleCase;

const CONFIG: &str = "home/.aws/bb/config";
const CREDENTIALS: &str = "home/.aws/bb/credentials";
const TOKEN: &str = "home/.aws/bb/sso/cache/token";
const NETWORK: &str = "shared/us-east-1/base-network";

pub const CASES: &[RuleCase] = &[
    // A new teammate: the config is there, the IAM user's keys never were.
    RuleCase {
        rule: "LD201",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Remove(CREDENTIALS)],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A profile pasted a second time.
    RuleCase {
        rule: "LD202",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Append(
            CONFIG,
            "\n[profile bb-shared-devops]\noutput = json\nregion = us-east-1\n\
             role_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-security\n\
             mfa_serial = arn:aws:iam::444444444444:mfa/jane.doe\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A region added by hand above the one already there.
    RuleCase {
        rule: "LD203",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Replace(
            CONFIG,
            "[profile bb-shared-devops]\noutput = json\n",
            "[profile bb-shared-devops]\noutput = json\nregion = us-east-2\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A config section written the credentials way, without `profile `.
    RuleCase {
        rule: "LD204",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Replace(
            CONFIG,
            "[profile bb-shared-devops]",
            "[bb-shared-devops]",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A comment that lost its `#`.
    RuleCase {
        rule: "LD205",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Replace(
            CONFIG,
            "# Role profiles written by",
            "Role profiles written by",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A note after a value.
    RuleCase {
        rule: "LD206",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Replace(
            CONFIG,
            "mfa_serial = arn:aws:iam::444444444444:mfa/jane.doe",
            "mfa_serial = arn:aws:iam::444444444444:mfa/jane.doe # my phone",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A region in credentials that overrides the config's.
    RuleCase {
        rule: "LD207",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Append(
            CREDENTIALS,
            "\n[bb-shared-devops]\nregion = us-east-2\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // 3.x writes the MFA keys without a region; with no `[default]` region, a remote state
    // without `region` has none.
    RuleCase {
        rule: "LD301",
        base: "v3-iam-healthy",
        scope: NETWORK,
        fires: &[
            Replace(
                CONFIG,
                "[default]\noutput = json\nregion = us-east-1\n",
                "[default]\noutput = json\n",
            ),
            Append(
                "project/shared/us-east-1/base-network/config.tf",
                "\ndata \"terraform_remote_state\" \"identities\" {\n  backend = \"s3\"\n  \
                 config = {\n    bucket  = \"bb-security-terraform-backend\"\n    \
                 key     = \"security/identities/terraform.tfstate\"\n    \
                 profile = \"${var.project}-security-devops\"\n  }\n}\n",
            ),
        ],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A role profile written by hand without its source.
    RuleCase {
        rule: "LD302",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Replace(
            CONFIG,
            "role_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-security\n",
            "role_arn = arn:aws:iam::222222222222:role/DevOps\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A role profile without `mfa_serial` while MFA is on.
    RuleCase {
        rule: "LD303",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Replace(
            CONFIG,
            "role_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-security\n\
             mfa_serial = arn:aws:iam::444444444444:mfa/jane.doe\n",
            "role_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-security\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A typo in `source_profile`.
    RuleCase {
        rule: "LD304",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Replace(
            CONFIG,
            "role_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-security",
            "role_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-securty",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A role profile naming itself as its source (it has no keys of its own).
    RuleCase {
        rule: "LD305",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Replace(
            CONFIG,
            "role_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-security",
            "role_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-shared-devops",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // The IAM user's secret key lost from credentials.
    RuleCase {
        rule: "LD306",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Replace(
            CREDENTIALS,
            "aws_secret_access_key = LDFIXTURESECRETsecretSecretSecret0000000\n",
            "",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A Leverage SSO account profile without its role.
    RuleCase {
        rule: "LD307",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Replace(
            CONFIG,
            "account_id = 222222222222\nrole_name = DevOps\n",
            "account_id = 222222222222\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A role profile copied from another account's.
    RuleCase {
        rule: "LD308",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Replace(
            CONFIG,
            "role_arn = arn:aws:iam::222222222222:role/DevOps",
            "role_arn = arn:aws:iam::333333333333:role/DevOps",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // Keys left in credentials for a role profile (`aws configure --profile`).
    RuleCase {
        rule: "LD309",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[Append(
            CREDENTIALS,
            "\n[bb-shared-devops]\naws_access_key_id = AKIALDFIXTURESECRET5\n\
             aws_secret_access_key = LDFIXTURESECRETsharedSecret0000000000000\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // Upgraded to 3.x with the 2.x layout left in the config.
    RuleCase {
        rule: "LD310",
        base: "v3-iam-healthy",
        scope: NETWORK,
        fires: &[Replace(
            CONFIG,
            "[profile bb-shared-devops-mfa]",
            "[profile bb-shared-devops]",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // The IAM user's keys replaced by `aws login`.
    RuleCase {
        rule: "LD311",
        base: "iam-mfa-healthy",
        scope: NETWORK,
        fires: &[
            Remove(CREDENTIALS),
            Append(
                CONFIG,
                "\n[profile bb-security]\n\
                 login_session = arn:aws:iam::444444444444:user/jane.doe\nregion = us-east-1\n",
            ),
        ],
        twin: &[],
        args: &[],
        env: &[],
    },
    // An sso-session profile for the backend of an account on Terraform 1.5.7.
    RuleCase {
        rule: "LD312",
        base: "sso-healthy",
        scope: "apps-devstg/us-east-1/k8s-eks/cluster",
        fires: &[Append(
            CONFIG,
            "\n[sso-session bb]\nsso_start_url = https://bb-fixture.awsapps.com/start\n\
             sso_region = us-east-1\n\n[profile bb-apps-devstg-devops]\nsso_session = bb\n\
             sso_account_id = 333333333333\nsso_role_name = DevOps\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // Never logged in (or logged out).
    RuleCase {
        rule: "LD501",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Remove(TOKEN)],
        twin: &[],
        args: &[],
        env: &[],
    },
    // LD502 (expired token) has no pair: its every message says how long ago or how soon
    // relative to now (`expired 2522d 19h ago`), so no rendering stays the same.
    //
    // A token file left empty by an interrupted write.
    RuleCase {
        rule: "LD503",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Write(TOKEN, "")],
        twin: &[],
        args: &[],
        env: &[],
    },
    // An `expiration` that is not milliseconds since the epoch. (Its other findings say how
    // long is left or since when, relative to now.)
    RuleCase {
        rule: "LD504",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Append(
            CONFIG,
            "\n[profile bb-shared-devops]\nexpiration = 2099-01-01T00:00:00Z\n",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // Upgraded to 3.x with a 2.x MFA cache file. (An expired session's message says how long
    // ago, relative to now.)
    RuleCase {
        rule: "LD505",
        base: "v3-iam-healthy",
        scope: NETWORK,
        fires: &[Write(
            "home/.aws/bb/cache/bb-shared-devops",
            "{\"Credentials\": {\"AccessKeyId\": \"ASIALDFIXTURESECRET2\", \
             \"SecretAccessKey\": \"LDFIXTURESECRETcachedSecret0000000000000\", \
             \"SessionToken\": \"LDFIXTURESECRET-session-token\", \
             \"Expiration\": \"2099-01-01T00:00:00+00:00\"}, \
             \"AssumedRoleUser\": {\"AssumedRoleId\": \"AROAEXAMPLE:jane\", \
             \"Arn\": \"arn:aws:sts::222222222222:assumed-role/DevOps/jane\"}}",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    // A token from another organisation's SSO (a copied AWS folder).
    RuleCase {
        rule: "LD506",
        base: "sso-healthy",
        scope: NETWORK,
        fires: &[Replace(
            TOKEN,
            "https://bb-fixture.awsapps.com/start",
            "https://other-org.awsapps.com/start",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
];
