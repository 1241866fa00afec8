//! Command-line definitions, turned once into checked settings.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "leverage-doctor",
    version,
    about = "Finds and fixes AWS-credential problems in Leverage (binbash) Terraform projects",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What a command's options resolve to (each subcommand takes only the options it uses; the
/// ones it does not are refused by the parser, and here keep their defaults).
#[derive(Debug, Clone)]
pub struct Global {
    pub aws_dir: Option<PathBuf>,
    pub leverage_version: Option<String>,
    pub format: Format,
    pub color: ColorChoice,
    pub verbose: bool,
    pub quiet: bool,
}

impl Global {
    fn of(project: Option<&ProjectOpts>, format: Format, color: Option<ColorChoice>) -> Global {
        Global {
            aws_dir: project.and_then(|p| p.aws_dir.clone()),
            leverage_version: project.and_then(|p| p.leverage_version.clone()),
            format,
            color: color.unwrap_or(ColorChoice::Auto),
            verbose: false,
            quiet: false,
        }
    }
}

impl Command {
    /// The settings every command reads, from its own options.
    pub fn global(&self) -> Global {
        match self {
            Command::Check(a) => Global {
                verbose: a.verbose,
                quiet: a.quiet,
                ..Global::of(Some(&a.project), a.format, Some(a.color))
            },
            Command::RegenConfig(a) => Global {
                quiet: a.quiet,
                ..Global::of(Some(&a.project), a.format.into(), Some(a.color))
            },
            Command::SsoReset(a) => Global::of(Some(&a.project), Format::Human, Some(a.color)),
            Command::SsoLogin(a) => Global::of(Some(&a.project), Format::Human, None),
            Command::Status(a) => Global::of(Some(&a.project), a.format.into(), Some(a.color)),
            Command::Refresh(a) => Global::of(Some(&a.project), Format::Human, None),
            Command::Exec(a) => Global::of(Some(&a.project), Format::Human, None),
            Command::Env(a) => Global::of(Some(&a.project), Format::Human, None),
            Command::CredentialProcess(a) => Global::of(Some(&a.project), Format::Human, None),
            Command::Explain { format, color, .. } => {
                Global::of(None, (*format).into(), Some(*color))
            }
            Command::Completions { .. } | Command::Man { .. } => {
                Global::of(None, Format::Human, None)
            }
        }
    }
}

/// Where the project's credentials are, and which Leverage CLI runs it.
#[derive(Debug, Args, Clone, Default)]
pub struct ProjectOpts {
    /// The project's AWS folder (default: ~/.aws/<project>/)
    #[arg(long, value_name = "DIR")]
    pub aws_dir: Option<PathBuf>,
    /// The Leverage CLI version the project runs (e.g. 3.1, 2.1.1): overrides detection
    #[arg(long, value_name = "X.Y", value_parser = leverage_version)]
    pub leverage_version: Option<String>,
}

/// `--format` of the commands that print a table or a JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Human,
    Json,
}

impl From<TextOrJson> for Format {
    fn from(f: TextOrJson) -> Format {
        match f {
            TextOrJson::Human => Format::Human,
            TextOrJson::Json => Format::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose the layer, account or project at PATH
    Check(CheckArgs),
    /// Rebuild the project's AWS config from the source of truth (SSO portal or common.tfvars)
    RegenConfig(RegenArgs),
    /// Log out of the project's SSO session and clear what was derived from it
    SsoReset(SsoResetArgs),
    /// Sign in to the project's SSO (in the browser with PKCE, or --use-device-code) and write the token Leverage reads
    SsoLogin(SsoLoginArgs),
    /// Every credential session of the project with its expiry; --min-remaining gates on it
    Status(StatusArgs),
    /// Renew the SSO token (refresh token, no browser) and write the role credentials the
    /// scope's runs need, as the project's Leverage CLI writes them (IAM+MFA, 3.x: the MFA
    /// sessions, with --mfa-code)
    ///
    /// Exit 0: every session the scope needs lasts at least --min-remaining; 1: a sign-in is
    /// needed (`leverage aws sso login` or `leverage-doctor sso-login`), an MFA code is needed,
    /// or a session stays short; 2: bad input.
    Refresh(RefreshArgs),
    /// Refresh, then run COMMAND with AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE set to the
    /// project's files; exits with COMMAND's exit code
    ///
    /// Refuses to start COMMAND (exit 1) when the sessions cannot cover --min-remaining. A
    /// COMMAND killed by a signal gives 128 + the signal's number.
    Exec(ExecArgs),
    /// Print the shell exports of the project's AWS files, for `eval "$(leverage-doctor env)"`
    Env(EnvArgs),
    /// Print a profile's credentials as the AWS `credential_process` JSON (refreshed when stale)
    ///
    /// For `credential_process = leverage-doctor credential-process --profile NAME`: stdout
    /// holds the JSON and nothing else; errors go to stderr with exit 1.
    CredentialProcess(CredentialProcessArgs),
    /// Shell completions, generated from these definitions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man pages (roff), generated from these definitions
    ///
    /// The main page on stdout; `man SUBCOMMAND` that subcommand's page; `man --out-dir DIR`
    /// every page into DIR.
    Man {
        /// A subcommand whose page to print (e.g. check)
        #[arg(value_name = "SUBCOMMAND", conflicts_with = "out_dir")]
        command: Option<String>,
        /// Write every page (leverage-doctor.1, leverage-doctor-check.1, …) into DIR, created
        /// when missing
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Print a rule's documentation (all rules when no id is given)
    Explain {
        /// Rule id, e.g. LD102
        id: Option<String>,
        /// Output format (json: the page and its fields, for tools)
        #[arg(long, value_enum, default_value_t = TextOrJson::Human)]
        format: TextOrJson,
        /// When to use colours (NO_COLOR is honoured)
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Any folder of the project (default: the current folder)
    pub path: Option<PathBuf>,
    /// Exit 1 when a session the scope needs is missing or has less than this left (90m, 2h,
    /// 1h30m): the check to run before a long apply
    #[arg(long, value_name = "DURATION", value_parser = min_remaining)]
    pub min_remaining: Option<i64>,
    /// Also ask each GitHub, GitLab, Vault and HCP Terraform token's service when it expires
    /// (one call per token, as `check` makes them); --min-remaining then gates on them too
    #[arg(long)]
    pub live: bool,
    /// Seconds to wait for each --live call
    #[arg(long, value_name = "SECONDS", default_value_t = 10, requires = "live")]
    pub timeout: u64,
    #[command(flatten)]
    pub project: ProjectOpts,
    /// Output format
    #[arg(long, value_enum, default_value_t = TextOrJson::Human)]
    pub format: TextOrJson,
    /// When to use colours (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args, Clone)]
pub struct RefreshArgs {
    /// A layer, an account folder or the project root (default: the current folder)
    pub path: Option<PathBuf>,
    /// Every layer of the project, wherever PATH is inside it
    #[arg(long)]
    pub all: bool,
    /// Renew what has less than this left (90m, 2h, 1h30m)
    #[arg(long, value_name = "DURATION", value_parser = min_remaining, default_value = "30m")]
    pub min_remaining: i64,
    /// Seconds each AWS call may take
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// MFA code for renewing the MFA sessions of an IAM+MFA project (else asked on a terminal;
    /// never in CI or without one)
    #[arg(
        long,
        value_name = "CODE",
        env = "LEVERAGE_DOCTOR_MFA_CODE",
        hide_env_values = true
    )]
    pub mfa_code: Option<String>,
    #[command(flatten)]
    pub project: ProjectOpts,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The layer or folder whose runs to refresh for (default: the current folder)
    #[arg(long, short = 'C', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Refuse to start COMMAND unless every session it needs lasts this long (after renewal)
    #[arg(long, value_name = "DURATION", value_parser = min_remaining, default_value = "30m")]
    pub min_remaining: i64,
    /// Seconds each AWS call may take
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    #[command(flatten)]
    pub project: ProjectOpts,
    /// The command and its arguments (after `--`)
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// The shells `env` writes exports for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// A layer or any folder of the project (default: the current folder)
    pub path: Option<PathBuf>,
    /// The shell to quote for
    #[arg(long, value_enum, default_value_t = EnvShell::Bash)]
    pub shell: EnvShell,
    /// Also AWS_PROFILE: the layer's backend profile (backend.tfvars `profile`)
    #[arg(long)]
    pub profile: bool,
    #[command(flatten)]
    pub project: ProjectOpts,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// Any folder of the project (default: the current folder)
    pub path: Option<PathBuf>,
    /// The profile whose credentials to print (a name Leverage writes role credentials under)
    #[arg(long, value_name = "NAME")]
    pub profile: String,
    /// Refresh (as `refresh` does) when the credentials have less than this left
    #[arg(long, value_name = "DURATION", value_parser = min_remaining, default_value = "15m")]
    pub min_remaining: i64,
    /// Seconds each AWS call may take
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    #[command(flatten)]
    pub project: ProjectOpts,
}

fn min_remaining(v: &str) -> Result<i64, String> {
    crate::time::parse_duration(v).map(|d| d.num_seconds())
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// A layer, an account folder or the project root (default: the current folder)
    pub path: Option<PathBuf>,
    /// Every layer of the project, wherever PATH is inside it
    #[arg(long)]
    pub all: bool,
    /// No network calls: skip the live STS checks (and start no program at all)
    #[arg(long)]
    pub offline: bool,
    /// Live checks may run a TF_BINARY that lies inside the project (`TF_BINARY --version`, to
    /// know which Terraform reads the backend's profile). Without it, a program the checkout
    /// ships is never started
    #[arg(long)]
    pub trust_tf_binary: bool,
    /// Lowest severity that makes the run fail (exit 1) [default: error, or the settings file's]
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Rule ids to leave out of the report (repeat or separate with commas)
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Only these rules (repeat or separate with commas); the others are not run
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Vec<String>,
    /// The doctor's settings file [default: <project root>/.leverage-doctor.toml]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write the report (in --format) to FILE; the human report still goes to the terminal
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Profiles checked live at once
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Seconds each AWS call may take
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// MFA code for profiles without a valid cached MFA session (scripts; a terminal is asked)
    #[arg(
        long,
        value_name = "CODE",
        env = "LEVERAGE_DOCTOR_MFA_CODE",
        hide_env_values = true
    )]
    pub mfa_code: Option<String>,
    /// Apply the safe fixes that are edits (a diff is shown first; the project's AWS files only)
    #[arg(long)]
    pub fix: bool,
    /// With --fix: the unsafe ones too (they change what readers do, on purpose)
    #[arg(long, requires = "fix")]
    pub unsafe_fixes: bool,
    /// With --fix: show the diff and write nothing
    #[arg(long, requires = "fix")]
    pub diff: bool,
    /// With --fix: write without asking (needed when stdin is not a terminal)
    #[arg(long, short = 'y', requires = "fix")]
    pub yes: bool,
    /// Set by `regen-config` for its check of the file it just wrote: a fix that is
    /// regen-config again would be no fix.
    #[arg(skip)]
    pub after_regen: bool,
    #[command(flatten)]
    pub project: ProjectOpts,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to use colours (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Show more (every reference in the profiles table)
    #[arg(short, long)]
    pub verbose: bool,
    /// Show only findings that fail the run, and the summary
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// Options of every command that changes files.
#[derive(Debug, Args, Clone)]
pub struct WriteArgs {
    /// Show what would change (a diff) and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Write without asking (needed when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("method").required(true).args(["sso", "iam"])))]
pub struct RegenArgs {
    /// Any folder of the project (default: the current folder)
    pub path: Option<PathBuf>,
    /// Leverage's SSO layout, from the accounts and roles your SSO user sees
    #[arg(long)]
    pub sso: bool,
    /// Leverage's IAM layout (DevOps and OrganizationAccountAccessRole profiles)
    #[arg(long)]
    pub iam: bool,
    /// Also remove profiles generated earlier for accounts that no longer exist
    #[arg(long)]
    pub prune: bool,
    /// MFA device ARN for the IAM profiles (default: the one the config already uses)
    #[arg(long, value_name = "ARN")]
    pub mfa_serial: Option<String>,
    /// Write nothing: print the diff and exit 1 when the file differs from what regen would
    /// write, 0 when it does not (a drift check for CI)
    #[arg(long, conflicts_with_all = ["dry_run", "yes"])]
    pub check: bool,
    /// --sso: every account your SSO user can see (default: the accounts of common.tfvars,
    /// matched by id)
    #[arg(long)]
    pub all_accounts: bool,
    /// --sso: the role to use in every account that has it (else account.tfvars sso_role, else
    /// the first)
    #[arg(long, value_name = "NAME")]
    pub role: Option<String>,
    /// --sso: portal calls at once
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,
    /// --sso: portal calls per second at most, shared by all jobs (the portal throttles)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rate: u32,
    /// Seconds each AWS call may take
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub project: ProjectOpts,
    /// With --check: the drift as text or JSON
    #[arg(long, value_enum, default_value_t = TextOrJson::Human)]
    pub format: TextOrJson,
    /// When to use colours in the diff (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Only the findings of the check after writing that fail it
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct LoginArgs {
    /// Do not try to open a browser: the device-code flow, printing the URL and code
    #[arg(long)]
    pub no_browser: bool,
    /// The device-code flow instead of the browser sign-in (authorization code + PKCE)
    #[arg(long)]
    pub use_device_code: bool,
    /// Longest wait for the approval in the browser, in seconds
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=3600))]
    pub login_timeout: u64,
    /// Milliseconds in one second of the service's polling interval (tests only)
    #[arg(long, default_value_t = 1000, hide = true)]
    pub poll_unit_ms: u64,
}

#[derive(Debug, Args)]
pub struct SsoLoginArgs {
    /// Any folder of the project (default: the current folder)
    pub path: Option<PathBuf>,
    /// Also write the AWS CLI's token cache, so `aws --profile <project>-sso` works too
    #[arg(long)]
    pub aws_cli_cache: bool,
    /// Seconds each AWS call may take
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub project: ProjectOpts,
}

#[derive(Debug, Args)]
pub struct SsoResetArgs {
    /// Any folder of the project (default: the current folder)
    pub path: Option<PathBuf>,
    /// Sign in again afterwards
    #[arg(long)]
    pub login: bool,
    /// Also clear the AWS CLI's caches for this project's start URL and roles
    #[arg(long)]
    pub aws_cli_cache: bool,
    /// Seconds each AWS call may take
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub login_args: LoginArgs,
    #[command(flatten)]
    pub project: ProjectOpts,
    /// When to use colours in the diff (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

fn leverage_version(v: &str) -> Result<String, String> {
    crate::leverage::Generation::of_version(v)
        .map(|_| v.to_string())
        .ok_or_else(|| "a Leverage CLI version such as 3.1 or 2.1.1".to_string())
}
