//! What may be written into an AWS file. Every value the doctor writes (portal account names,
//! ids and role names, common.tfvars accounts and regions, `--mfa-serial`, the project name)
//! passes one of these first; a value that fails is skipped with a warning naming it, never
//! written. `check_plan` is the last gate: no line break, no bracket in a header, and only the
//! keys the doctor manages, whatever a portal answers.

/// The keys the doctor writes; nothing else can reach a file (no `credential_process`).
pub const MANAGED_KEYS: &[&str] = &[
    "region",
    "output",
    "role_arn",
    "source_profile",
    "mfa_serial",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
    "role_name",
    "account_id",
];

/// A value the readers take as one plain token: printable, no white space at its ends, no line
/// break, no comment character that some readers would cut at.
pub fn plain(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("is empty".into());
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {}",
            c.escape_default()
        ));
    }
    if value.trim() != value {
        return Err("starts or ends with white space".into());
    }
    if value.contains(['#', ';']) {
        return Err("contains `#` or `;` (readers cut the value there)".into());
    }
    Ok(())
}

fn only(value: &str, what: &str, ok: impl Fn(char) -> bool, max: usize) -> Result<(), String> {
    plain(value)?;
    if value.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    match value.chars().find(|c| !ok(*c)) {
        Some(c) => Err(format!(
            "contains `{}`, which {what} cannot hold",
            c.escape_default()
        )),
        None => Ok(()),
    }
}

/// The project's short name: a folder name under `~/.aws/` and the prefix of every profile.
pub fn project_name(value: &str) -> Result<(), String> {
    only(
        value,
        "a project name",
        |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
        64,
    )
}

/// A profile name as every reader accepts it in `[profile …]` and `[…]` headers.
pub fn profile_name(value: &str) -> Result<(), String> {
    only(
        value,
        "a profile name",
        |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
        128,
    )
}

/// A 12-digit AWS account id.
pub fn account_id(value: &str) -> Result<(), String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("is not a 12-digit account id".into())
    }
}

/// An IAM role (or permission-set) name: `[A-Za-z0-9+=,.@_-]`, at most 64 characters.
pub fn role_name(value: &str) -> Result<(), String> {
    only(
        value,
        "an IAM role name",
        |c| c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-'),
        64,
    )
}

/// A region name such as `us-east-1` or `us-gov-west-1`.
pub fn region(value: &str) -> Result<(), String> {
    only(
        value,
        "a region name",
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        32,
    )?;
    if value.starts_with('-') || value.ends_with('-') || !value.contains('-') {
        return Err("is not a region name".into());
    }
    Ok(())
}

/// An SSO start URL: `https://…`, no white space.
pub fn start_url(value: &str) -> Result<(), String> {
    only(
        value,
        "a URL",
        |c| c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>' | '\\' | '[' | ']'),
        512,
    )?;
    if !value.starts_with("https://") || value.len() <= "https://".len() {
        return Err("is not an https:// URL".into());
    }
    Ok(())
}

/// Two start URLs name the same portal when they differ only by case, surrounding blanks, or
/// a trailing `/` or `#/` (the portal's own links end in `#/`).
pub fn same_start_url(a: &str, b: &str) -> bool {
    let norm = |u: &str| u.trim().trim_end_matches(['/', '#']).to_ascii_lowercase();
    norm(a) == norm(b)
}

/// `arn:<partition>:<service>:<region>:<12 digits>:<resource>`: (service, region, account,
/// resource), when the partition is AWS's and the account twelve digits.
pub fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let ok = partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    ok.then_some((service, region, account, resource))
}

/// `arn:<partition>:<service>::<12 digits>:<kind>/<name>`: the account id, if well formed.
pub fn arn_account<'a>(arn: &'a str, service: &str, kind: &str) -> Option<&'a str> {
    let (svc, region, account, resource) = arn_parts(arn)?;
    let ok = svc == service
        && region.is_empty()
        && resource
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|r| !r.is_empty());
    ok.then_some(account)
}

/// An MFA device ARN: `arn:<partition>:iam::<12 digits>:mfa/<name>`.
pub fn mfa_serial(value: &str) -> Result<(), String> {
    plain(value)?;
    let rest = value
        .strip_prefix("arn:")
        .ok_or("is not an ARN (arn:aws:iam::<account>:mfa/<name>)")?;
    let (partition, rest) = rest
        .split_once(":iam::")
        .ok_or("is not an IAM ARN (arn:aws:iam::<account>:mfa/<name>)")?;
    let (account, device) = rest
        .split_once(":mfa/")
        .ok_or("is not an MFA device ARN (…:mfa/<name>)")?;
    let partition_ok = !partition.is_empty()
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-');
    if !partition_ok {
        return Err("has an invalid partition".into());
    }
    account_id(account)?;
    only(
        device,
        "an MFA device name",
        |c| c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-' | '/'),
        256,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated() {
        assert!(project_name("bb").is_ok());
        assert!(project_name("../evil").is_err());
        assert!(project_name("a/b").is_err());
        assert!(project_name("").is_err());
        assert!(account_id("123456789012").is_ok());
        assert!(account_id("12345678901").is_err());
        assert!(role_name("DevOps").is_ok());
        assert!(role_name("Dev Ops").is_err());
        assert!(role_name("x\ncredential_process = sh").is_err());
        assert!(region("us-gov-west-1").is_ok());
        assert!(region("us east").is_err());
        assert!(start_url("https://d-123.awsapps.com/start").is_ok());
        assert!(start_url("https://x/start\r\nevil = 1").is_err());
        assert!(start_url("http://x").is_err());
        assert!(mfa_serial("arn:aws:iam::123456789012:mfa/alice").is_ok());
        assert!(mfa_serial("arn:aws:iam::123456789012:mfa/alice\n[evil]").is_err());
        assert!(mfa_serial("alice").is_err());
        assert!(profile_name("bb-sso-data-lake").is_ok());
        assert!(profile_name("bb-sso-ops[eu]").is_err());
    }
}

#[cfg(test)]
mod arn_tests {
    use super::arn_account;

    #[test]
    fn arns() {
        assert_eq!(
            arn_account("arn:aws:iam::123456789012:role/DevOps", "iam", "role"),
            Some("123456789012")
        );
        assert_eq!(
            arn_account("arn:aws-us-gov:iam::123456789012:mfa/me", "iam", "mfa"),
            Some("123456789012")
        );
        assert_eq!(
            arn_account("arn:aws:iam::12345:role/DevOps", "iam", "role"),
            None
        );
        assert_eq!(
            arn_account("arn:aws:iam::123456789012:user/x", "iam", "role"),
            None
        );
        assert_eq!(arn_account("DevOps", "iam", "role"), None);
    }
}
