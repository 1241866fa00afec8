//! Finding the project root, its accounts and layers, and reading their files.

use super::{Reader, buildenv, hcl as tf};
use crate::model::project::{
    AccountDir, BuildEnvFile, Layer, ParseError, ProfileRef, Project, ProviderPin, RefSite,
    Resolution, Scope, ScopeKind, TfvarsFile,
};
use crate::source::{FileId, Located, Span};
use std::path::{Path, PathBuf};

/// Folders never walked: generated, vendored or version-control data.
const SKIPPED_DIRS: &[&str] = &[".terraform", ".git", "node_modules", ".terragrunt-cache"];
/// Layers sit a few folders below their account (`shared/us-east-1/k8s-eks/network`).
const MAX_LAYER_DEPTH: usize = 8;

/// The project root above `start`: the topmost folder with `build.env` and `config/`, not above
/// the git top level.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let mut found = None;
    for dir in start.ancestors() {
        if dir.join("build.env").is_file() && dir.join("config").is_dir() {
            found = Some(dir.to_path_buf());
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    found
}

/// The topmost folder at or above `start` (not above the git top level) that has `build.env`
/// or `config/` but not both, and which of the two it lacks: topmost, as `find_root`, since
/// each account folder has a `config/` of its own.
pub fn half_root(start: &Path) -> Option<(PathBuf, &'static str)> {
    let mut found = None;
    for dir in start.ancestors() {
        let (env, config) = (dir.join("build.env").is_file(), dir.join("config").is_dir());
        match (env, config) {
            (true, false) => found = Some((dir.to_path_buf(), "config/")),
            (false, true) => found = Some((dir.to_path_buf(), "build.env")),
            _ => {}
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    found
}

impl Reader {
    /// The project's short name as `Project::name` gives it (config/common.tfvars `project`,
    /// else build.env `PROJECT` nearest `start`), reading those files and nothing else.
    pub fn project_name_only(&mut self, root: &Path, start: &Path) -> Option<String> {
        let mut errors = Vec::new();
        let common = root.join("config").join("common.tfvars");
        if let Some((file, text)) = self.read_project_file(root, &common, &mut errors)
            && let Ok((vars, _)) = tf::tfvars(&text, file)
            && let Some(name) = vars.get_str("project")
        {
            return Some(name.value);
        }
        self.build_envs(root, start, &mut errors)
            .iter()
            .rev()
            .find_map(|f| f.entries.iter().rev().find(|e| e.key == "PROJECT"))
            .map(|e| e.value.clone())
    }

    pub fn project(&mut self, root: &Path, start: &Path, all: bool) -> Project {
        let names = account_folders(root);
        let scope = scope_of(root, start, all, &names);
        // Where each account in scope is walked from: the walk only lists folders, so it runs
        // on its own threads while the configuration files are read here.
        let walks: Vec<(PathBuf, PathBuf)> = names
            .iter()
            .filter(|name| scope.accounts.contains(name))
            .map(|name| {
                let account_root = root.join(name);
                let from = if scope.kind == ScopeKind::Layer {
                    root.join(&scope.path)
                } else {
                    account_root.clone()
                };
                (from, account_root)
            })
            .collect();
        let walk = || walk_accounts(walks.iter().map(|(from, account)| (from, account)));
        let mut parse_errors = Vec::new();
        let (config, found) = std::thread::scope(|threads| {
            let walking = std::thread::Builder::new().spawn_scoped(threads, walk);
            let config = self.project_config(root, start, &names, &mut parse_errors);
            let found = match walking {
                // A panic ends the process (main's hook): a join error leaves nothing to use.
                Ok(walking) => walking.join().unwrap_or_default(),
                Err(_) => walk(),
            };
            (config, found)
        });
        let ProjectConfig {
            build_envs,
            root_var_files,
            common,
            accounts,
            project_yaml_short_name,
            account_dirs,
        } = config;

        let mut layers = Vec::new();
        let mut backend_refs = Vec::new();
        let mut in_scope = Vec::new();
        for account in &account_dirs {
            if !scope.accounts.contains(&account.name) {
                continue;
            }
            let mut vars = merged_vars(&root_var_files, &account.var_files);
            // `${var.project}` is the project name for the CLI even without common.tfvars (a
            // fresh clone: it is git-ignored): build.env PROJECT.
            if !vars.contains_key("project")
                && let Some(name) = build_envs
                    .iter()
                    .rev()
                    .flat_map(|f| f.entries.iter().rev())
                    .find(|e| e.key == "PROJECT")
            {
                vars.insert("project".into(), hcl::Value::String(name.value.clone()));
            }
            let vars = std::sync::Arc::new(vars);
            if let Some(backend) = &account.backend_tfvars
                && let Some(var) = backend.get("profile")
            {
                let resolution = match &var.value {
                    hcl::Value::String(s) => Resolution::Resolved(s.clone()),
                    _ => Resolution::Unresolved("backend.tfvars `profile` is not a string".into()),
                };
                let text = &self.sources.get(backend.file).text;
                let expr = var
                    .value_span
                    .range
                    .as_ref()
                    .and_then(|r| text.get(r.clone()))
                    .unwrap_or("")
                    .to_string();
                backend_refs.push(ProfileRef {
                    span: var.value_span.clone(),
                    expr,
                    site: RefSite::Backend,
                    resolution,
                    owner: account.name.as_str().into(),
                    region_given: backend.get("region").is_some(),
                    hidden_from_cli: false,
                });
            }
            in_scope.push((account, vars));
        }
        let mut jobs: Vec<LayerJob> = Vec::new();
        for ((account, vars), dirs) in in_scope.iter().zip(found) {
            for (dir, files) in dirs {
                let path = dir
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                jobs.push(LayerJob {
                    account: account.name.clone(),
                    path: path.into(),
                    files,
                    vars: vars.clone(),
                });
            }
        }
        // Reading and parsing hundreds of layer files is the bulk of the work: spread it over
        // the cores, then register the files in a fixed order.
        let jobs = std::sync::Arc::new(jobs);
        layers.reserve_exact(jobs.len());
        parse_layers_parallel(root, &jobs, |at, files| {
            let job = &jobs[at];
            let mut refs = Vec::new();
            let mut iterations = Vec::new();
            let mut local_maps = Vec::new();
            let mut commented_profiles = Vec::new();
            let mut s3_backend = false;
            let mut providers_without_profile = Vec::new();
            let mut aws_constraint = None;
            let mut needs = Vec::new();
            let mut required = Vec::new();
            let mut module_sources = Vec::new();
            let mut sops_keys = Vec::new();
            for done in files {
                s3_backend |= done.s3_backend;
                let file = match done.text {
                    // Not registered: nothing points into it (most layer files).
                    Ok(None) => continue,
                    Ok(Some(text)) => {
                        let display = self.display_path(&done.path);
                        let is_config = done
                            .path
                            .file_name()
                            .is_some_and(|n| n == "config.tf" || n == "locals.tf");
                        let project = job.vars.get("project").and_then(|v| v.as_str());
                        let found = if is_config {
                            commented_profile_lines(&text, project)
                        } else {
                            Vec::new()
                        };
                        let file = self.sources.add(done.path.clone(), display, text);
                        commented_profiles.extend(found.into_iter().map(|(range, value)| {
                            Located {
                                value,
                                span: Span::new(file, range),
                            }
                        }));
                        file
                    }
                    Err(reason) => {
                        let display = self.display_path(&done.path);
                        let file = self.sources.add_opaque(done.path.clone(), display);
                        parse_errors.push(ParseError {
                            span: Span::whole(file),
                            message: format!("cannot read the file: {reason}"),
                        });
                        continue;
                    }
                };
                if let Some(mut e) = done.error {
                    e.span.file = file;
                    parse_errors.push(e);
                }
                let first = refs.len();
                refs.extend(done.refs.refs.into_iter().map(|mut r| {
                    r.span.file = file;
                    r
                }));
                iterations.extend(done.refs.iterations.into_iter().map(|mut it| {
                    it.at += first;
                    if let Some(d) = &mut it.default {
                        d.span.file = file;
                    }
                    it
                }));
                local_maps.extend(done.refs.local_maps);
                providers_without_profile.extend(done.without_profile.into_iter().map(|mut s| {
                    s.file = file;
                    s
                }));
                for sops in done.sops {
                    let display = self.display_path(&sops.path);
                    let file = match sops.text {
                        Ok(text) => self.sources.add(sops.path, display, text),
                        // Terraform fails on it too, with its own message; nothing to say here.
                        Err(_) => continue,
                    };
                    sops_keys.extend(sops.keys.into_iter().map(|(range, arn, profile)| {
                        crate::model::credentials::SopsKey {
                            arn,
                            span: Span::new(file, range),
                            profile,
                        }
                    }));
                    refs.extend(sops.profiles.into_iter().map(|(range, name)| ProfileRef {
                        expr: name.clone(),
                        span: Span::new(file, range),
                        site: RefSite::Sops,
                        resolution: Resolution::Resolved(name),
                        owner: job.path.clone(),
                        // The KMS key's ARN names its region.
                        region_given: true,
                        hidden_from_cli: false,
                    }));
                }
                if let Some(mut c) = done.aws_constraint {
                    c.span.file = file;
                    aws_constraint.get_or_insert(c);
                }
                let found = done.credentials;
                for mut need in found.needs {
                    need.block.file = file;
                    for a in [&mut need.base, &mut need.context].into_iter().flatten() {
                        a.span.file = file;
                    }
                    if let Some(a) = &mut need.attr {
                        a.span.file = file;
                        // A token written in the file: never shown.
                        if let crate::model::credentials::AttrValue::Literal(value) = &a.value
                            && need.spec.what == "token"
                        {
                            crate::secrets::register(value);
                            if let Some(range) = a.span.range.clone() {
                                self.sources.mark_secret(file, range);
                            }
                        }
                    }
                    needs.push(need);
                }
                required.extend(found.required.into_iter().map(|(p, mut span)| {
                    span.file = file;
                    (p, span)
                }));
                module_sources.extend(found.module_sources.into_iter().map(|mut m| {
                    m.span.file = file;
                    m
                }));
            }
            // A provider the layer requires but configures nowhere: Terraform configures it
            // empty, from the environment alone (when something uses it: see below).
            let mut seen = std::collections::BTreeSet::new();
            for (provider, span) in required {
                if needs.iter().any(|n| n.provider == provider) || !seen.insert(provider) {
                    continue;
                }
                needs.extend(tf::provider_needs(
                    provider,
                    None,
                    span,
                    None,
                    FileId::DETACHED,
                    &job.path,
                ));
            }
            let kube_refs = self.resolve_credential_vars(root, job, &mut needs);
            tf::resolve_iterations(&mut refs, iterations, &local_maps);
            refs.extend(kube_refs);
            // What `init` installs: the lock file's version, else the newest the constraint allows.
            let lock = root.join(&*job.path).join(".terraform.lock.hcl");
            let locked = if lock.is_file() {
                self.read_project_file(root, &lock, &mut parse_errors)
                    .and_then(|(file, text)| tf::locked_aws_provider(&text, file))
            } else {
                None
            };
            let aws_provider = match (locked, aws_constraint) {
                (Some(written), _) => Some(ProviderPin {
                    written,
                    locked: true,
                }),
                (None, Some(written)) => Some(ProviderPin {
                    written,
                    locked: false,
                }),
                (None, None) => None,
            };
            layers.push(Layer {
                path: job.path.to_string(),
                account: job.account.clone(),
                refs: shared_refs(refs),
                commented_profiles,
                s3_backend,
                providers_without_profile,
                aws_provider,
                credentials: needs,
                module_sources,
                sops_keys,
            });
        });
        // Paths are unique: an unstable sort gives the one order, without a buffer.
        layers.sort_unstable_by(|a, b| a.path.cmp(&b.path));

        let common_file = match &common {
            Some(c) => c.file,
            None => self.sources.add_opaque(
                root.join("config").join("common.tfvars"),
                "config/common.tfvars".into(),
            ),
        };
        // Unset (or empty), 3.x runs `tofu` from PATH (3.1.0 `modules/tfrunner.py`).
        let tf_binary = build_envs
            .iter()
            .rev()
            .flat_map(|f| f.entries.iter().rev())
            .find(|e| e.key == "TF_BINARY")
            .map(|e| e.value.as_str())
            .filter(|v| !v.is_empty())
            .unwrap_or(crate::leverage::DEFAULT_TF_BINARY);
        let tf_binary_problem = super::leverage::tf_binary_problem(root, tf_binary);
        let image_tag = build_envs
            .iter()
            .rev()
            .flat_map(|f| f.entries.iter().rev())
            .find(|e| e.key == "TERRAFORM_IMAGE_TAG" || e.key == "TF_IMAGE_TAG")
            .and_then(|e| crate::model::project::Terraform::from_image_tag(&e.value));
        Project {
            root: root.to_path_buf(),
            common_file,
            build_envs,
            tf_binary_problem,
            tf_binary_kind: None,
            terraform: image_tag,
            common_example_exists: root.join("config").join("common.tfvars.example").exists(),
            common,
            root_var_files,
            project_yaml_short_name,
            accounts,
            account_dirs,
            layers,
            backend_refs: shared_refs(backend_refs),
            scope,
            parse_errors,
        }
    }

    /// What the layer's run gives each credential: what sets each `var.<name>` an attribute
    /// names (the `config/*.tfvars` the run passes, whose string values are secrets; the
    /// layer's own `terraform.tfvars` and `*.auto.tfvars`, which Terraform loads by itself; the
    /// `variable` declaration and its default), and whether anything uses the provider (a
    /// `resource`, `data` or `ephemeral` of its type, or any module call, which inherits it):
    /// Terraform configures no provider nothing uses. The layer's files are read again here,
    /// only for layers with such providers.
    fn resolve_credential_vars(
        &mut self,
        root: &Path,
        job: &LayerJob,
        needs: &mut [crate::model::credentials::CredentialNeed],
    ) -> Vec<ProfileRef> {
        use crate::model::credentials::AttrValue;
        if needs.is_empty() {
            return Vec::new();
        }
        let wanted: Vec<String> = needs
            .iter()
            .filter_map(|n| match n.attr.as_ref().map(|a| &a.value) {
                Some(AttrValue::Var(v)) => Some(v.name.clone()),
                _ => None,
            })
            .collect();
        let mut declared: std::collections::BTreeMap<String, bool> = Default::default();
        let mut texts = Vec::new();
        for (name, is_link) in &job.files {
            let path = &job.file_path(root, name);
            let text = if *is_link {
                super::fs::read_in_project(root, path)
            } else {
                super::fs::read_entry(path)
            };
            let Ok(text) = text else { continue };
            if path.to_string_lossy().ends_with(".tf.json") {
                // `{"variable": {"<name>": {"default": …}}}`
                if let Ok(serde_json::Value::Object(root)) = serde_json::from_str(&text.text)
                    && let Some(serde_json::Value::Object(vars)) = root.get("variable")
                {
                    for name in &wanted {
                        if let Some(decl) = vars.get(name) {
                            let default = decl.get("default").is_some_and(|d| !d.is_null());
                            *declared.entry(name.clone()).or_insert(false) |= default;
                        }
                    }
                }
            } else if wanted
                .iter()
                .any(|name| text.text.contains(&format!("variable \"{name}\"")))
                && let Ok(body) = tf::parse_body(&text.text, FileId::DETACHED)
            {
                for name in &wanted {
                    if let Some(default) = tf::variable_declaration(&body, name) {
                        let entry = declared.entry(name.clone()).or_insert(false);
                        *entry |= default;
                    }
                }
            }
            texts.push(text.text);
        }
        let calls_modules = texts.iter().any(|t| t.contains("module \""));
        for need in needs.iter_mut() {
            let name = need.provider.name();
            let typed = [
                format!("resource \"{name}_"),
                format!("data \"{name}_"),
                format!("ephemeral \"{name}_"),
            ];
            use crate::model::credentials::Usage;
            // In a `.tf.json` file: `"resource": {"<name>_…": …}` (any `"<name>_` key
            // beside a resource, data or ephemeral block).
            let json_typed = format!("\"{name}_");
            let in_json = |t: &String| {
                t.trim_start().starts_with('{')
                    && (t.contains("\"resource\"")
                        || t.contains("\"data\"")
                        || t.contains("\"ephemeral\""))
                    && t.contains(json_typed.as_str())
            };
            need.used = if texts
                .iter()
                .any(|t| typed.iter().any(|prefix| t.contains(prefix.as_str())) || in_json(t))
            {
                Usage::Direct
            } else if calls_modules {
                Usage::MaybeModules
            } else {
                Usage::Unused
            };
        }
        // Files the provider blocks name (kubeconfig, HCP credential file): relative to the
        // layer, `~/` in the home folder.
        for need in needs.iter_mut() {
            use crate::model::credentials::{PATH_ATTRS, PathCheck};
            let Some(attr) = need.attr.as_mut() else {
                continue;
            };
            let AttrValue::Literal(path) = &attr.value else {
                continue;
            };
            if !PATH_ATTRS.contains(&attr.name.as_str()) || path.is_empty() {
                continue;
            }
            // A checkout may name any path: only places inside the layer's project or the
            // home folder's own files are looked at (no absolute path, no `..`), so that a
            // pull request cannot learn through the report which files exist elsewhere.
            let inside = |p: &Path| {
                !p.is_absolute()
                    && p.components().all(|c| {
                        matches!(
                            c,
                            std::path::Component::Normal(_) | std::path::Component::CurDir
                        )
                    })
            };
            if !inside(Path::new(path.strip_prefix("~/").unwrap_or(path))) {
                continue;
            }
            attr.file = Some(match path.strip_prefix("~/") {
                Some(rest)
                    if !crate::model::credentials::home_folder_of(&attr.name)
                        .is_some_and(|folder| rest.starts_with(folder)) =>
                {
                    continue;
                }
                Some(rest) => PathCheck::InHome {
                    found: self.home.as_ref().is_some_and(|h| h.join(rest).exists()),
                },
                // Through a link, the answer would be about wherever it points (`lnk/shadow`
                // with `lnk -> /etc`): such a path is not looked at, as an absolute one is not.
                None if goes_through_link(&root.join(&*job.path), Path::new(path)) => continue,
                None => {
                    let full = root.join(&*job.path).join(path);
                    if full.exists() {
                        PathCheck::Found
                    } else {
                        PathCheck::Missing
                    }
                }
            });
        }
        let kube_refs = self.kubeconfigs(root, job, needs);
        // The layer's own variable files, which Terraform loads without -var-file.
        let mut local_vars = hcl::Map::new();
        if !wanted.is_empty()
            && let Ok(entries) = std::fs::read_dir(root.join(&*job.path))
        {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n == "terraform.tfvars" || n.ends_with(".auto.tfvars"))
                })
                .collect();
            paths.sort();
            for path in paths {
                let Ok(text) = super::fs::read_in_project(root, &path) else {
                    continue;
                };
                if let Ok((vars, _)) = tf::tfvars(&text.text, FileId::DETACHED) {
                    for var in vars.vars {
                        local_vars.insert(var.name, var.value);
                    }
                }
            }
        }
        for need in needs.iter_mut() {
            let Some(AttrValue::Var(v)) = need.attr.as_mut().map(|a| &mut a.value) else {
                continue;
            };
            // The -var-file the Leverage CLI passes beat the files Terraform loads by itself.
            if let Some(value) = job.vars.get(&v.name).or_else(|| local_vars.get(&v.name)) {
                v.in_tfvars = !matches!(value, hcl::Value::Null);
                if let hcl::Value::String(s) = value {
                    crate::secrets::register(s);
                    v.tfvars = Some(s.clone());
                }
            }
            if let Some(default) = declared.get(&v.name) {
                v.declared = true;
                v.has_default = *default;
            }
        }
        kube_refs
    }

    /// The kubeconfig each kubernetes/helm provider reads — its literal `config_path` (inside
    /// the project, or `~/` in the home folder: the same trust rule as above), else
    /// `KUBE_CONFIG_PATH` when it names a file in the project or the home folder — and the AWS
    /// profile the user of the context it uses runs `aws eks get-token` (or
    /// `aws-iam-authenticator`) with: a reference like a provider block's `exec`.
    fn kubeconfigs(
        &mut self,
        root: &Path,
        job: &LayerJob,
        needs: &mut [crate::model::credentials::CredentialNeed],
    ) -> Vec<ProfileRef> {
        use crate::model::credentials::{AttrValue, KubeconfigUse, PathCheck, Provider};
        let mut refs = Vec::new();
        let mut read: std::collections::BTreeMap<PathBuf, Option<(FileId, String)>> =
            Default::default();
        for need in needs.iter_mut() {
            if !matches!(need.provider, Provider::Kubernetes | Provider::Helm) {
                continue;
            }
            let (path, from_env, in_home) = match need.attr.as_ref() {
                Some(attr) if attr.name == "config_path" => {
                    let (AttrValue::Literal(p), Some(check)) = (&attr.value, attr.file) else {
                        continue;
                    };
                    match check {
                        PathCheck::Missing | PathCheck::InHome { found: false } => continue,
                        PathCheck::InHome { found: true } => {
                            let Some(home) = &self.home else { continue };
                            (home.join(p.trim_start_matches("~/")), false, true)
                        }
                        PathCheck::Found => (root.join(&*job.path).join(p), false, false),
                    }
                }
                Some(_) => continue,
                None => {
                    // The environment is the user's own, but only files in the project or the
                    // home folder are read, as for a checkout's paths.
                    let Some(env) = std::env::var_os("KUBE_CONFIG_PATH").filter(|v| !v.is_empty())
                    else {
                        continue;
                    };
                    let Ok(real) = std::fs::canonicalize(PathBuf::from(env)) else {
                        continue;
                    };
                    let home = self
                        .home
                        .as_ref()
                        .and_then(|h| std::fs::canonicalize(h).ok());
                    let in_home = home.as_ref().is_some_and(|h| real.starts_with(h));
                    if !in_home && !real.starts_with(root) {
                        continue;
                    }
                    (real, true, in_home)
                }
            };
            let entry = match read.get(&path) {
                Some(e) => e.clone(),
                None => {
                    let text = if in_home {
                        super::fs::read_text(&path)
                    } else {
                        super::fs::read_in_project(root, &path)
                    };
                    let e = text.ok().map(|t| {
                        let display = self.display_path(&path);
                        let file = self.sources.add(path.clone(), display, t.text.clone());
                        (file, t.text)
                    });
                    read.insert(path.clone(), e.clone());
                    e
                }
            };
            let Some((file, text)) = entry else { continue };
            let shown = self.sources.get(file).display.clone();
            let parsed = super::kubeconfig::parse(&text);
            let mut found = KubeconfigUse {
                file: Span::whole(file),
                shown,
                from_env,
                in_home,
                current: None,
                contexts: Vec::new(),
                invalid: None,
            };
            match parsed {
                Err(why) => found.invalid = Some(why),
                Ok(k) => {
                    found.current = k.current_context.as_ref().map(|c| {
                        let range = super::kubeconfig::current_context_range(&text, c);
                        (
                            c.clone(),
                            range.map_or_else(|| Span::whole(file), |r| Span::new(file, r)),
                        )
                    });
                    found.contexts = k.contexts.iter().map(|(n, _)| n.clone()).collect();
                    let used = match need.context.as_ref().map(|c| &c.value) {
                        Some(AttrValue::Literal(c)) => Some(c.clone()),
                        Some(_) => None,
                        None => k.current_context.clone(),
                    };
                    if let Some(user) = used.as_deref().and_then(|c| k.user_of(c))
                        && let Some(p) = super::kubeconfig::exec_profile(user, &text)
                        && !refs
                            .iter()
                            .any(|r: &ProfileRef| r.span.file == file && r.expr == p.profile)
                    {
                        refs.push(ProfileRef {
                            expr: p.profile.clone(),
                            span: Span::new(file, p.range),
                            site: RefSite::Exec,
                            resolution: Resolution::Resolved(p.profile),
                            owner: job.path.clone(),
                            region_given: p.region_given,
                            hidden_from_cli: false,
                        });
                    }
                }
            }
            need.kubeconfig = Some(found);
        }
        refs
    }

    /// Registers and reads a project file; a failure becomes a parse error with the file.
    fn read_project_file(
        &mut self,
        root: &Path,
        path: &Path,
        errors: &mut Vec<ParseError>,
    ) -> Option<(FileId, String)> {
        let display = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| path.display().to_string());
        match super::fs::read_in_project(root, path) {
            Ok(t) => {
                let file = self
                    .sources
                    .add(path.to_path_buf(), display, t.text.clone());
                if let Some(at) = t.invalid_utf8_at {
                    errors.push(ParseError {
                        span: Span::new(file, at..at),
                        message: "invalid UTF-8".into(),
                    });
                    return None;
                }
                Some((file, t.text))
            }
            Err(reason) => {
                let file = self.sources.add_opaque(path.to_path_buf(), display);
                errors.push(ParseError {
                    span: Span::whole(file),
                    message: format!("cannot read the file: {reason}"),
                });
                None
            }
        }
    }

    /// The project's configuration files: build.env (root to `start`), config/*.tfvars and
    /// each account's config/*.tfvars, the accounts common.tfvars declares, project.yaml.
    fn project_config(
        &mut self,
        root: &Path,
        start: &Path,
        account_names: &[String],
        parse_errors: &mut Vec<ParseError>,
    ) -> ProjectConfig {
        let build_envs = self.build_envs(root, start, parse_errors);
        let common_path = root.join("config").join("common.tfvars");
        let mut accounts = Default::default();
        let root_var_files =
            self.var_files(&root.join("config"), parse_errors, |path, file, body| {
                if path == common_path {
                    accounts = tf::accounts(body, file.file);
                }
            });
        let common = root_var_files
            .iter()
            .find(|f| self.sources.get(f.file).path == common_path)
            .cloned();
        let project_yaml_short_name = self.project_yaml(root);
        let mut account_dirs = Vec::new();
        for name in account_names {
            let config = root.join(name).join("config");
            let var_files = self.var_files(&config, parse_errors, |_, _, _| {});
            let pick = |file: &str| {
                let path = config.join(file);
                var_files
                    .iter()
                    .find(|f| self.sources.get(f.file).path == path)
                    .cloned()
            };
            account_dirs.push(AccountDir {
                account_tfvars: pick("account.tfvars"),
                backend_tfvars: pick("backend.tfvars"),
                name: name.clone(),
                var_files,
            });
        }
        ProjectConfig {
            build_envs,
            root_var_files,
            common,
            accounts,
            project_yaml_short_name,
            account_dirs,
        }
    }

    fn build_envs(
        &mut self,
        root: &Path,
        start: &Path,
        errors: &mut Vec<ParseError>,
    ) -> Vec<BuildEnvFile> {
        let mut dirs: Vec<&Path> = start
            .ancestors()
            .take_while(|d| d.starts_with(root))
            .collect();
        dirs.reverse();
        let mut out = Vec::new();
        for dir in dirs {
            let path = dir.join("build.env");
            if !path.exists() {
                continue;
            }
            if let Some((file, text)) = self.read_project_file(root, &path, errors) {
                let mut entries = buildenv::parse(&text, file);
                buildenv::expand(&mut entries, &|name| std::env::var(name).ok());
                out.push(BuildEnvFile {
                    dir: dir
                        .strip_prefix(root)
                        .map(|p| p.to_string_lossy().replace('\\', "/"))
                        .unwrap_or_default(),
                    file,
                    entries,
                    unreadable: buildenv::refused_lines(&text, file),
                });
            }
        }
        out
    }

    /// Every `*.tfvars` of a config folder, sorted by name as the CLI globs them.
    /// Every `*.tfvars` of a config folder, in name order; `with_body` sees each file's parsed
    /// body (common.tfvars's `accounts` are read from it: one parse a file, one time limit).
    fn var_files(
        &mut self,
        config: &Path,
        errors: &mut Vec<ParseError>,
        mut with_body: impl FnMut(&Path, &TfvarsFile, &hcl::edit::structure::Body),
    ) -> Vec<TfvarsFile> {
        let Ok(entries) = std::fs::read_dir(config) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tfvars"))
            .collect();
        paths.sort();
        let root = self.root.clone();
        let mut out = Vec::new();
        for path in paths {
            let Some((file, text)) = self.read_project_file(&root, &path, errors) else {
                continue;
            };
            match tf::tfvars(&text, file) {
                Ok((vars, body)) => {
                    errors.extend(tf::tfvars_problems(&body, file));
                    with_body(&path, &vars, &body);
                    out.push(vars);
                }
                Err(e) => errors.push(e),
            }
        }
        out
    }

    /// `short_name` from project.yaml, read line by line (it is a flat key in Leverage's file).
    fn project_yaml(&mut self, root: &Path) -> Option<Located<String>> {
        let path = root.join("project.yaml");
        let text = super::fs::read_in_project(root, &path).ok()?.text;
        let file = self.sources.add(path, "project.yaml".into(), text.clone());
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            if let Some(rest) = line.strip_prefix("short_name:") {
                let value = rest.trim().trim_matches(['"', '\'']);
                let at = start + line.find(value).unwrap_or(0);
                return Some(Located {
                    value: value.to_string(),
                    span: Span::new(file, at..at + value.len()),
                });
            }
        }
        None
    }
}

/// `# profile = "bb-x-devops"` / `// profile = "${var.project}-x-devops"`: commented profile
/// lines, as a grep finds them (byte range of the line, the name).
fn commented_profile_lines(
    text: &str,
    project: Option<&str>,
) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim();
        let Some(rest) = body.strip_prefix('#').or_else(|| body.strip_prefix("//")) else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("profile") else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim().trim_start_matches('"');
        let Some(end) = value.find('"') else { continue };
        let mut name = value[..end].to_string();
        if let Some(p) = project {
            name = name.replace("${var.project}", p);
        }
        if !name.is_empty() && !name.contains("${") {
            out.push((
                start..start + line.trim_end_matches(['\n', '\r']).len(),
                name,
            ));
        }
    }
    out
}

/// The variables Terraform gets: root config/*.tfvars, then the account's (later files win).
fn merged_vars(root: &[TfvarsFile], account: &[TfvarsFile]) -> hcl::Map<String, hcl::Value> {
    let mut vars = hcl::Map::new();
    for file in root.iter().chain(account) {
        for var in &file.vars {
            vars.insert(var.name.clone(), var.value.clone());
        }
    }
    vars
}

/// First-level folders with an account `config/` (account.tfvars or backend.tfvars).
/// Whether `rel` (plain components only), taken from `base`, passes through a symbolic link
/// (the last component included): looked at without following any.
fn goes_through_link(base: &Path, rel: &Path) -> bool {
    let mut at = base.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => return true,
            Ok(_) => {}
            // Not there: nothing further down can be reached, through a link or not.
            Err(_) => return false,
        }
    }
    false
}

/// What `project_config` read.
struct ProjectConfig {
    build_envs: Vec<BuildEnvFile>,
    root_var_files: Vec<TfvarsFile>,
    common: Option<TfvarsFile>,
    accounts: std::collections::BTreeMap<String, crate::model::project::AccountDecl>,
    project_yaml_short_name: Option<Located<String>>,
    account_dirs: Vec<AccountDir>,
}

/// What a run from `start` covers: the project (the root, `--all`, or a folder that is no
/// account), one account, or one layer (a folder below an account).
fn scope_of(root: &Path, start: &Path, all: bool, account_names: &[String]) -> Scope {
    let rel = start
        .strip_prefix(root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let first = rel.split('/').next().unwrap_or("").to_string();
    if all || rel.is_empty() || !account_names.contains(&first) {
        Scope {
            kind: ScopeKind::Project,
            path: ".".into(),
            accounts: account_names.to_vec(),
        }
    } else if rel == first {
        Scope {
            kind: ScopeKind::Account,
            path: rel,
            accounts: vec![first],
        }
    } else {
        Scope {
            kind: ScopeKind::Layer,
            path: rel,
            accounts: vec![first],
        }
    }
}

fn account_folders(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.') && n != "config")
        .filter(|n| {
            let c = root.join(n).join("config");
            c.join("account.tfvars").exists() || c.join("backend.tfvars").exists()
        })
        .collect();
    names.sort();
    names
}

/// A `.tf` entry of a layer folder: its name (not its whole path: ten thousand layers hold
/// forty thousand of them until they are read), and whether it is a symbolic link (read by its
/// real path, which must stay inside the project) or an entry of this real folder.
type TfEntry = (std::ffi::OsString, bool);

/// The layer folders found under an account, each with its files.
type LayerDirs = Vec<(PathBuf, Vec<TfEntry>)>;

/// The layers of each account (`(walk from, account folder)`), in the order given, the
/// accounts walked on all cores: at 10 000 layers the walk is an eighth of the run.
fn walk_accounts<'a>(
    walks: impl ExactSizeIterator<Item = (&'a PathBuf, &'a PathBuf)>,
) -> Vec<LayerDirs> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let walks: Vec<_> = walks.collect();
    let found: Vec<Mutex<LayerDirs>> = walks.iter().map(|_| Mutex::default()).collect();
    let next = AtomicUsize::new(0);
    let walk = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let (Some(&(from, account_root)), Some(slot)) = (walks.get(i), found.get(i)) else {
                break;
            };
            let mut dirs = Vec::new();
            find_layers(from, account_root, 0, &mut dirs);
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = dirs;
        }
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
        .min(walks.len());
    std::thread::scope(|scope| {
        for _ in 1..threads {
            // A thread that cannot start leaves its share to the others.
            let _ = std::thread::Builder::new().spawn_scoped(scope, walk);
        }
        walk();
    });
    found
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// Folders with `*.tf` files below `dir` (itself included), each with every `*.tf` entry
/// Terraform reads there (providers.tf, remote_states.tf…: the Leverage CLI refreshes only the
/// profiles of the files its generation scans, `LeverageCli::layer_files`, and the rules tell
/// the two apart): what one directory listing says. Symlinked folders are not entered,
/// so link loops cannot trap the walk and every folder found is a real path; symlinked files
/// count.
fn find_layers(dir: &Path, account_root: &Path, depth: usize, out: &mut LayerDirs) {
    if depth > MAX_LAYER_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs = Vec::new();
    let mut has_tf = false;
    let mut files = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            let skip = SKIPPED_DIRS.contains(&name.as_ref())
                || name.starts_with('.')
                || (dir == account_root && name == "config");
            // Terraform skips folders; a folder named like a file the CLI parses makes it fail.
            if ["config.tf", "locals.tf", "runtime.tf"].contains(&name.as_ref()) {
                files.push((entry.file_name(), false));
            }
            if !skip {
                subdirs.push(entry.path());
            }
        } else if name.ends_with(".tf") {
            has_tf = true;
            files.push((entry.file_name(), kind.is_symlink()));
        } else if name.ends_with(".tf.json") {
            // Terraform reads it; the CLI takes a folder for a layer only by its `*.tf`.
            files.push((entry.file_name(), kind.is_symlink()));
        }
    }
    if has_tf && dir != account_root {
        // The CLI takes any folder with .tf files under an account for a layer, nested ones
        // too (`k8s-eks/` and `k8s-eks/cluster/`); a module folder without provider or
        // backend profiles adds nothing.
        files.sort();
        out.push((dir.to_path_buf(), files));
    }
    subdirs.sort();
    for sub in subdirs {
        find_layers(&sub, account_root, depth + 1, out);
    }
}

/// One layer to read: its files and the variables Terraform gives it.
struct LayerJob {
    account: String,
    /// Shared by every reference found in the layer (their `owner`).
    path: std::sync::Arc<str>,
    files: Vec<TfEntry>,
    vars: std::sync::Arc<hcl::Map<String, hcl::Value>>,
}

impl LayerJob {
    /// Where a file of the layer is (`path` is relative to the project root, `/`-separated).
    fn file_path(&self, root: &Path, name: &std::ffi::OsStr) -> PathBuf {
        let mut path = root.join(&*self.path);
        path.push(name);
        path
    }
}

/// References made shareable, in a vector of their own size: collected in place, the
/// vector would keep the allocation of the references it was made from (a ProfileRef is 15
/// times an Arc), for every layer of the project.
fn shared_refs(refs: Vec<ProfileRef>) -> Vec<std::sync::Arc<ProfileRef>> {
    let mut shared = Vec::with_capacity(refs.len());
    shared.extend(refs.into_iter().map(std::sync::Arc::new));
    shared
}

/// A layer file read and searched for profiles, before it has a `FileId` (spans are detached
/// and re-pointed when the file is registered).
struct ParsedFile {
    path: PathBuf,
    /// `Ok(None)`: read, and nothing in it names a profile (not kept).
    text: Result<Option<String>, String>,
    refs: tf::FileRefs,
    s3_backend: bool,
    without_profile: Vec<Span>,
    aws_constraint: Option<Located<String>>,
    /// Files its `data "sops_file"` blocks decrypt, and their KMS keys' `aws_profile`s.
    sops: Vec<SopsFile>,
    /// Non-AWS credentials its providers need, and its git module sources.
    credentials: tf::FileCredentials,
    error: Option<ParseError>,
}

struct SopsFile {
    path: PathBuf,
    text: Result<String, String>,
    profiles: Vec<(std::ops::Range<usize>, String)>,
    keys: Vec<(std::ops::Range<usize>, String, Option<String>)>,
}

fn parse_layer_file(
    root: &Path,
    path: &Path,
    is_link: bool,
    vars: &hcl::Map<String, hcl::Value>,
    owner: &std::sync::Arc<str>,
    parsing_with_limit: &dyn Fn(std::time::Duration),
) -> ParsedFile {
    let detached = FileId::DETACHED;
    let mut done = ParsedFile {
        path: path.to_path_buf(),
        text: Err(String::new()),
        refs: tf::FileRefs::default(),
        s3_backend: false,
        without_profile: Vec::new(),
        aws_constraint: None,
        sops: Vec::new(),
        credentials: tf::FileCredentials::default(),
        error: None,
    };
    // An entry of a real folder of the project is read as it is (never through a link that
    // appeared since); a link must resolve inside the project.
    let read = if is_link {
        thread_local! {
            static RESOLVED: std::cell::RefCell<std::collections::HashMap<PathBuf, Result<PathBuf, String>>> =
                std::cell::RefCell::default();
        }
        RESOLVED.with_borrow_mut(|resolved| {
            super::fs::read_link_in_project(root, path.parent().unwrap_or(root), path, resolved)
        })
    } else {
        super::fs::read_entry(path)
    };
    match read {
        Err(reason) => done.text = Err(reason),
        Ok(t) => {
            if let Some(at) = t.invalid_utf8_at {
                done.error = Some(ParseError {
                    span: Span::new(detached, at..at),
                    message: "invalid UTF-8".into(),
                });
            } else if !may_name_a_profile(&t.text) {
                // Nothing in it can be reported (no place points into it): its text is not
                // kept, and the file is not registered (ten thousand layers' main.tf and
                // shared variables files would hold most of the memory otherwise).
                done.text = Ok(None);
                return done;
            } else if path.to_string_lossy().ends_with(".tf.json") {
                parse_tf_json(&t.text, vars, owner, &mut done);
            } else {
                // A file that says neither has no profile or backend to find: no parse needed.
                // The watchdog in `parse_layers_parallel` bounds this parse.
                parsing_with_limit(tf::parse_limit(t.text.len()));
                match tf::parse_body_unbounded(&t.text, detached) {
                    Ok(body) => {
                        done.refs = tf::profile_refs(&body, &t.text, detached, vars, owner);
                        done.s3_backend = tf::declares_s3_backend(&body);
                        done.without_profile = tf::providers_without_profile(&body, detached);
                        done.aws_constraint = tf::aws_provider_constraint(&body, detached);
                        done.credentials = tf::credentials(&body, detached, owner);
                        let dir = path.parent().unwrap_or(root);
                        done.sops = tf::sops_files(&body)
                            .into_iter()
                            .map(|rel| {
                                let path = dir.join(rel);
                                let text = super::fs::read_in_project(root, &path).map(|t| t.text);
                                let profiles = text
                                    .as_deref()
                                    .map(tf::sops_aws_profiles)
                                    .unwrap_or_default();
                                let keys =
                                    text.as_deref().map(tf::sops_kms_keys).unwrap_or_default();
                                SopsFile {
                                    path,
                                    text,
                                    profiles,
                                    keys,
                                }
                            })
                            .collect();
                    }
                    Err(e) => done.error = Some(e),
                }
            }
            done.text = Ok(Some(t.text));
        }
    }
    done
}

/// A `.tf.json` file (Terraform reads it; the Leverage CLI does not): its `provider` and
/// `terraform` blocks, read as the same blocks written in HCL, with every span moved back onto
/// the JSON text.
fn parse_tf_json(
    text: &str,
    vars: &hcl::Map<String, hcl::Value>,
    owner: &std::sync::Arc<str>,
    done: &mut ParsedFile,
) {
    let detached = FileId::DETACHED;
    let translated = match super::tf_json::translate(text) {
        Ok(t) => t,
        Err(message) => {
            done.error = Some(ParseError {
                span: Span::whole(detached),
                message,
            });
            return;
        }
    };
    let body = match tf::parse_body_unbounded(&translated.hcl, detached) {
        Ok(body) => body,
        Err(e) => {
            done.error = Some(ParseError {
                span: Span::whole(detached),
                message: e.message,
            });
            return;
        }
    };
    let remap = |span: &mut Span| translated.remap(span, detached);
    done.refs = tf::profile_refs(&body, &translated.hcl, detached, vars, owner);
    for r in &mut done.refs.refs {
        remap(&mut r.span);
    }
    for it in &mut done.refs.iterations {
        if let Some(d) = &mut it.default {
            remap(&mut d.span);
        }
    }
    done.s3_backend = tf::declares_s3_backend(&body);
    done.without_profile = tf::providers_without_profile(&body, detached);
    for s in &mut done.without_profile {
        remap(s);
    }
    done.aws_constraint = tf::aws_provider_constraint(&body, detached);
    if let Some(c) = &mut done.aws_constraint {
        remap(&mut c.span);
    }
    done.credentials = tf::credentials(&body, detached, owner);
    for need in &mut done.credentials.needs {
        remap(&mut need.block);
        for a in [&mut need.attr, &mut need.base, &mut need.context]
            .into_iter()
            .flatten()
        {
            remap(&mut a.span);
        }
    }
    for (_, span) in &mut done.credentials.required {
        remap(span);
    }
}

/// Whether a file can hold what the reader looks for — a `profile` attribute or object key
/// (`profile =`, `profile:`), an exec `--profile`, a `provider`, `backend` or `sops_file`
/// block, a module source fetched with git (`git@`, `git::`) — so that
/// the many files that cannot (`main.tf`, `variables.tf` declaring `variable "profile"`) are
/// not parsed at all.
fn may_name_a_profile(text: &str) -> bool {
    if text.contains("provider")
        || text.contains("backend")
        || text.contains("--profile")
        || text.contains("sops_file")
        || text.contains("git@")
        || text.contains("git::")
    {
        return true;
    }
    text.match_indices("profile").any(|(at, word)| {
        text[at + word.len()..]
            .trim_start_matches([' ', '\t', '"'])
            .starts_with(['=', ':'])
    })
}

/// Reads and parses every layer file on detached worker threads. A watchdog marks a file whose
/// parse runs past its `tf::parse_limit` as skipped (LD002) and starts a fresh worker, so one
/// pathological file cannot hang the run; the stuck thread ends with the process. Workers
/// store results in shared state and wake the caller once, when all are in.
fn parse_layers_parallel(
    root: &Path,
    jobs: &std::sync::Arc<Vec<LayerJob>>,
    mut deliver: impl FnMut(usize, Vec<ParsedFile>),
) {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::{Duration, Instant};
    const WATCH_EVERY: Duration = Duration::from_millis(200);
    struct State {
        /// Boxed: a slot per file of the project (40 000 at 10 000 layers) costs a pointer
        /// until its file is parsed, not the whole ParsedFile.
        results: Vec<Option<Box<ParsedFile>>>,
        /// Files before it have been handed to `deliver` (their slots are empty for good).
        delivered: usize,
    }
    // Each file as (layer, file of the layer): the workers read the jobs through one Arc
    // instead of a copy of every path, variable map and owner per file.
    let work: Arc<Vec<(u32, u32)>> = Arc::new(
        jobs.iter()
            .enumerate()
            .flat_map(|(j, job)| (0..job.files.len()).map(move |f| (j as u32, f as u32)))
            .collect(),
    );
    let n = work.len();
    let next = Arc::new(AtomicUsize::new(0));
    // When each file's parse started: milliseconds since `epoch`, plus one (0: not yet).
    let epoch = Instant::now();
    let started: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    // Each file's own limit (milliseconds), known once it is read: `tf::parse_limit`.
    let most = tf::PARSE_LIMIT.as_millis() as u64;
    let limits: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(most)).collect());
    let shared = Arc::new((
        Mutex::new(State {
            results: (0..n).map(|_| None).collect(),
            delivered: 0,
        }),
        Condvar::new(),
    ));
    let root: Arc<PathBuf> = Arc::new(root.to_path_buf());
    let spawn_worker = || {
        let (work, next, shared, root, jobs, started, limits) = (
            work.clone(),
            next.clone(),
            shared.clone(),
            root.clone(),
            jobs.clone(),
            started.clone(),
            limits.clone(),
        );
        std::thread::Builder::new().spawn(move || {
            let (lock, all_in) = &*shared;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(j, f)) = work.get(i) else {
                    break;
                };
                let job = &jobs[j as usize];
                let (name, is_link) = &job.files[f as usize];
                let path = &job.file_path(&root, name);
                // Outside the lock: one lock a file (its result), not two.
                if let Some(at) = started.get(i) {
                    at.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
                }
                let limit = |limit: Duration| {
                    if let Some(at) = limits.get(i) {
                        at.store(limit.as_millis() as u64, Ordering::Relaxed);
                    }
                };
                let file = parse_layer_file(&root, path, *is_link, &job.vars, &job.path, &limit);
                let Ok(mut state) = lock.lock() else { break };
                // A file the watchdog gave up on keeps its verdict.
                if i >= state.delivered && state.results[i].is_none() {
                    state.results[i] = Some(Box::new(file));
                    if i == state.delivered {
                        all_in.notify_all();
                    }
                }
            }
        })
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
        .min(n.div_ceil(16).max(1));
    let spawned = (0..threads).filter(|_| spawn_worker().is_ok()).count();
    let (lock, all_in) = &*shared;
    // Layers are handed over in order as soon as their files are in, so a large project's
    // parsed files do not pile up: each is registered and dropped while the rest are parsed.
    let mut layer: Option<(usize, Vec<ParsedFile>)> = None;
    let mut hand_over = |i: usize, file: ParsedFile| {
        let job = work[i].0 as usize;
        match &mut layer {
            Some((current, files)) if *current == job => files.push(file),
            _ => {
                if let Some((done, files)) = layer.replace((job, vec![file])) {
                    deliver(done, files);
                }
            }
        }
    };
    if spawned == 0 {
        // No threads to be had: parse here, without the watchdog.
        for (i, &(j, f)) in work.iter().enumerate() {
            let job = &jobs[j as usize];
            let (name, is_link) = &job.files[f as usize];
            let path = &job.file_path(&root, name);
            hand_over(
                i,
                parse_layer_file(&root, path, *is_link, &job.vars, &job.path, &|_| {}),
            );
        }
        if let Some((job, files)) = layer {
            deliver(job, files);
        }
        return;
    }
    let Ok(mut state) = lock.lock() else {
        return;
    };
    let mut last_watch = Instant::now();
    loop {
        let mut ready = Vec::new();
        while state.delivered < n {
            let at = state.delivered;
            match state.results[at].take() {
                Some(file) => {
                    ready.push((at, *file));
                    state.delivered += 1;
                }
                None => break,
            }
        }
        let finished = state.delivered == n;
        if !ready.is_empty() {
            drop(state);
            for (i, file) in ready {
                hand_over(i, file);
            }
            state = match lock.lock() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            if !finished {
                // More may have come in meanwhile (their wake-up found no one waiting).
                continue;
            }
        }
        if finished {
            break;
        }
        state = match all_in.wait_timeout(state, WATCH_EVERY) {
            Ok((s, _)) => s,
            Err(poisoned) => poisoned.into_inner().0,
        };
        // The watch looks at the files taken and not yet delivered, every WATCH_EVERY: not
        // at every wake-up over every file left (that was 6% of a 10 000-layer run).
        if last_watch.elapsed() < WATCH_EVERY {
            continue;
        }
        last_watch = Instant::now();
        let from = state.delivered;
        let taken = next.load(Ordering::Relaxed).min(n);
        let stuck: Vec<usize> = (from..taken)
            .filter(|&i| {
                state.results[i].is_none()
                    && started[i]
                        .load(Ordering::Relaxed)
                        .checked_sub(1)
                        .is_some_and(|at| {
                            epoch.elapsed().saturating_sub(Duration::from_millis(at))
                                > Duration::from_millis(limits[i].load(Ordering::Relaxed))
                        })
            })
            .collect();
        for i in stuck {
            state.results[i] = Some(Box::new(ParsedFile {
                path: {
                    let job = &jobs[work[i].0 as usize];
                    job.file_path(&root, &job.files[work[i].1 as usize].0)
                },
                text: Ok(Some(String::new())),
                refs: tf::FileRefs::default(),
                s3_backend: false,
                without_profile: Vec::new(),
                aws_constraint: None,
                sops: Vec::new(),
                credentials: tf::FileCredentials::default(),
                error: Some(ParseError {
                    span: Span::whole(FileId::DETACHED),
                    message: tf::parse_gave_up(Duration::from_millis(
                        limits[i].load(Ordering::Relaxed),
                    )),
                }),
            }));
            let _ = spawn_worker();
        }
    }
    drop(state);
    if let Some((job, files)) = layer {
        deliver(job, files);
    }
}

#[cfg(test)]
mod parse_trigger_tests {
    use super::may_name_a_profile;

    /// Files that may name a profile are parsed; declarations and resources are not.
    #[test]
    fn what_is_parsed() {
        for yes in [
            "provider \"aws\" {}",
            "locals { x = { profile = \"a\" } }",
            "x = { \"profile\": \"a\" }",
            "terraform { backend \"s3\" {} }",
            "args = [\"eks\", \"--profile\", var.p]",
            "profile=var.profile",
            "data \"sops_file\" \"s\" { source_file = \"s.enc.yaml\" }",
            "module \"m\" { source = \"git@github.com:org/m.git\" }",
            "module \"m\" { source = \"git::https://github.com/org/m.git\" }",
        ] {
            assert!(may_name_a_profile(yes), "{yes}");
        }
        for no in [
            "variable \"profile\" { type = string }",
            "resource \"null_resource\" \"x\" {}",
            "# profile of the team\n",
        ] {
            assert!(!may_name_a_profile(no), "{no}");
        }
    }
}
