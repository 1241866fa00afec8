//! Generates a realistic Leverage project of any size, with its AWS folder, for benchmarks.
//!
//!     cargo run --release --example gen_project -- OUT [--accounts N] [--layers M]
//!         [--profiles K] [--mode sso|iam] [--endpoint-account-ids]
//!
//! OUT/project: build.env, config/common.tfvars, N accounts (config/account.tfvars,
//! backend.tfvars) with M layers each (config.tf with providers, aliased providers and
//! remote-state configs, locals.tf with remote-state maps, symlinked common-variables.tf,
//! a .terraform/ folder the doctor must not walk). OUT/home/.aws/<p>/: config and credentials
//! (and an SSO token in SSO mode), plus K extra profiles.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

struct Args {
    out: String,
    accounts: usize,
    layers: usize,
    profiles: usize,
    sso: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        out: String::new(),
        accounts: 12,
        layers: 40,
        profiles: 0,
        sso: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--accounts" => a.accounts = num("--accounts")?,
            "--layers" => a.layers = num("--layers")?,
            "--profiles" => a.profiles = num("--profiles")?,
            "--mode" => a.sso = it.next().as_deref() != Some("iam"),
            other if !other.starts_with('-') => a.out = other.to_string(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if a.out.is_empty() {
        return Err(
            "usage: gen_project OUT [--accounts N] [--layers M] [--profiles K] [--mode sso|iam]"
                .into(),
        );
    }
    Ok(a)
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, text)
}

fn account_name(i: usize) -> String {
    const BASE: [&str; 6] = [
        "management",
        "security",
        "shared",
        "network",
        "apps-devstg",
        "apps-prd",
    ];
    match BASE.get(i) {
        Some(n) => n.to_string(),
        None => format!("apps-team{i}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let root = Path::new(&a.out).join("project");
    let aws = Path::new(&a.out).join("home/.aws/bb");
    let names: Vec<String> = (0..a.accounts).map(account_name).collect();
    let id = |i: usize| format!("{:012}", 100_000_000_000u64 + i as u64);
    write(
        &root.join("build.env"),
        &format!(
            "PROJECT=bb\nMFA_ENABLED={}\nTERRAFORM_IMAGE_TAG=1.6.0-0.2.0\n",
            !a.sso
        ),
    )?;
    let mut common = String::from(
        "project = \"bb\"\nproject_long = \"binbash\"\nregion_primary = \"us-east-1\"\n",
    );
    writeln!(
        common,
        "sso_enabled = {}\nsso_start_url = \"https://bb-bench.awsapps.com/start\"\nsso_region = \"us-east-1\"\n\naccounts = {{",
        a.sso
    )?;
    for (i, n) in names.iter().enumerate() {
        writeln!(
            common,
            "  {n} = {{\n    email = \"aws+{n}@example.com\"\n    id    = \"{}\"\n  }}",
            id(i)
        )?;
    }
    common.push_str("}\n");
    write(&root.join("config/common.tfvars"), &common)?;
    write(
        &root.join("config/common-variables.tf"),
        "variable \"project\" { type = string }\nvariable \"profile\" { type = string }\nvariable \"region\" { type = string }\n",
    )?;
    fs::create_dir_all(root.join(".git"))?;
    for (i, n) in names.iter().enumerate() {
        write(
            &root.join(format!("{n}/config/account.tfvars")),
            &format!("environment = \"{n}\"\nsso_role    = \"DevOps\"\n"),
        )?;
        write(
            &root.join(format!("{n}/config/backend.tfvars")),
            &format!(
                "profile        = \"bb-{n}-devops\"\nbucket         = \"bb-{n}-terraform-backend\"\ndynamodb_table = \"bb-{n}-terraform-backend\"\nregion         = \"us-east-1\"\nencrypt        = true\n"
            ),
        )?;
        for l in 0..a.layers {
            let dir = root.join(format!("{n}/us-east-1/layer-{l:03}"));
            let other = &names[(i + l + 1) % names.len()];
            let shared = &names[2.min(names.len() - 1)];
            let config = format!(
                "provider \"aws\" {{\n  region  = var.region\n  profile = var.profile\n}}\n\nprovider \"aws\" {{\n  alias   = \"shared\"\n  region  = var.region\n  profile = \"${{var.project}}-{shared}-devops\"\n}}\n\nprovider \"aws\" {{\n  alias   = \"peer\"\n  region  = var.region\n  profile = \"${{var.project}}-{other}-devops\"\n}}\n\nterraform {{\n  required_version = \"~> 1.6\"\n  backend \"s3\" {{\n    key = \"{n}/layer-{l:03}/terraform.tfstate\"\n  }}\n}}\n\ndata \"terraform_remote_state\" \"deps\" {{\n  for_each = local.remote_states\n  backend  = \"s3\"\n  config = {{\n    region  = lookup(each.value, \"region\", var.region)\n    profile = lookup(each.value, \"profile\", var.profile)\n    bucket  = lookup(each.value, \"bucket\")\n    key     = lookup(each.value, \"key\")\n  }}\n}}\n"
            );
            write(&dir.join("config.tf"), &config)?;
            write(
                &dir.join("locals.tf"),
                &format!(
                    "locals {{\n  remote_states = {{\n    vpc = {{\n      profile = \"${{var.project}}-{other}-devops\"\n      bucket  = \"bb-{other}-terraform-backend\"\n      key     = \"{other}/network/terraform.tfstate\"\n    }}\n  }}\n}}\n"
                ),
            )?;
            write(
                &dir.join("main.tf"),
                &"resource \"null_resource\" \"x\" {}\n".repeat(20),
            )?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(
                "../../../config/common-variables.tf",
                dir.join("common-variables.tf"),
            )?;
            // What terraform init leaves behind: never walked.
            write(
                &dir.join(".terraform/modules/vpc/config.tf"),
                "provider \"aws\" { profile = \"never-read\" }\n",
            )?;
        }
    }
    let mut config = String::from("[default]\noutput = json\nregion = us-east-1\n\n");
    let mut credentials = String::new();
    if a.sso {
        config.push_str("[profile bb-sso]\nsso_start_url = https://bb-bench.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 100000000000\nsso_role_name = DevOps\n\n");
        for (i, n) in names.iter().enumerate() {
            writeln!(
                config,
                "[profile bb-sso-{n}]\nsso_start_url = https://bb-bench.awsapps.com/start\nsso_region = us-east-1\naccount_id = {}\nrole_name = DevOps\n",
                id(i)
            )?;
        }
        write(
            &aws.join("sso/cache/token"),
            "{\"startUrl\":\"https://bb-bench.awsapps.com/start\",\"region\":\"us-east-1\",\"accessToken\":\"LDFIXTURESECRET-bench\",\"expiresAt\":\"2099-01-01T00:00:00Z\"}\n",
        )?;
    } else {
        credentials.push_str("[bb-security]\naws_access_key_id = AKIALDFIXTURESECRET1\naws_secret_access_key = LDFIXTURESECRETsecretSecretSecret0000000\n");
        for (i, n) in names.iter().enumerate() {
            writeln!(
                config,
                "[profile bb-{n}-devops]\noutput = json\nregion = us-east-1\nrole_arn = arn:aws:iam::{}:role/DevOps\nsource_profile = bb-security\n",
                id(i)
            )?;
        }
    }
    for k in 0..a.profiles {
        writeln!(
            config,
            "[profile extra-{k}]\nregion = us-east-1\nrole_arn = arn:aws:iam::{}:role/Extra\nsource_profile = bb-security\n",
            id(k % names.len().max(1))
        )?;
    }
    write(&aws.join("config"), &config)?;
    if !credentials.is_empty() {
        write(&aws.join("credentials"), &credentials)?;
    }
    Ok(())
}
