//! `kubectl vault import`: move a live Secret into Vault, behind the operator, without a
//! window in which the application lacks its Secret.
//!
//! Order (each step only once the one before succeeded; values only ever in memory and in
//! the request body to Vault):
//! 1. the spec: the app in the Secret's namespace, no secret of that name declared yet (or
//!    declared with this very kv source: a re-import), the edited spec validated;
//! 2. the Secret, read from the cluster (`get` on secrets);
//! 3. Vault: kv v2 written with check-and-set (`cas: 0` creates; an existing version refuses
//!    unless `--force`, which writes the next version with `cas` = the current one); kv v1
//!    refuses an existing path unless `--force`;
//! 4. the spec file: the entry (with `adopt: true`, so the VaultStaticSecret says
//!    `destination.overwrite: true` and VSO takes the existing Secret over) inserted after
//!    the app's last secret, comments and layout kept — or, when the layout cannot be edited
//!    safely, the exact lines to add are printed and the file is left alone.

use crate::commands::args::KubeArgs;
use crate::commands::runtime;
use crate::core::model::{App, Source};
use crate::core::spec::edit;
use crate::edge::kube::{Cluster, Connection};
use crate::edge::vault::Vault;
use crate::error::{Error, Exit};
use crate::pipeline;
use crate::term::Term;
use clap::Args;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The spec file to add the secret to (a VaultStack; for a fleet the lines to add are printed).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "SPEC",
        default_value = "vault.yaml"
    )]
    pub(crate) file: PathBuf,
    /// The live Secret to move: NAMESPACE/NAME.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub(crate) from_secret: String,
    /// Where in Vault: kv:MOUNT/PATH (split at the first `/`, as the spec's short form).
    #[arg(long, value_name = "kv:MOUNT/PATH")]
    pub(crate) to: String,
    /// The kv engine version of MOUNT (1 or 2).
    #[arg(long, value_name = "1|2", default_value = "2", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub(crate) kv_version: u8,
    /// The app that reads the secret (needed when several apps run in the namespace).
    #[arg(long, value_name = "NAME")]
    pub(crate) app: Option<String>,
    /// Write even when the kv path already holds data (kv v2: a new version).
    #[arg(long)]
    pub(crate) force: bool,
    /// With a fleet spec (kind: VaultFleet): the cluster the Secret lives in.
    #[arg(long, value_name = "NAME")]
    pub(crate) cluster: Option<String>,
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
}

/// Largest Secret imported: the API server's own limit for a Secret is 1 MiB.
const MAX_VALUE_BYTES: usize = 1024 * 1024;

pub(crate) fn run(args: ImportArgs, term: &Term) -> Result<Exit, Error> {
    let (namespace, name) = args
        .from_secret
        .split_once('/')
        .filter(|(ns, n)| {
            crate::core::spec::validate::rules::is_dns_label(ns)
                && crate::core::spec::validate::rules::is_dns_subdomain(n)
        })
        .ok_or_else(|| {
            Error::usage(format!(
                "--from-secret `{}` is not NAMESPACE/NAME (a Kubernetes namespace and Secret name)",
                args.from_secret
            ))
        })?;
    let (mount, path) = args
        .to
        .strip_prefix("kv:")
        .and_then(|t| t.split_once('/'))
        .filter(|(m, p)| !m.is_empty() && !p.is_empty())
        .ok_or_else(|| {
            Error::usage(format!(
                "--to `{}` is not kv:MOUNT/PATH (e.g. kv:secret/payments/config)",
                args.to
            ))
        })?;

    // 1. The spec, and the edit, checked before anything else is touched.
    let select: Vec<String> = args.cluster.iter().cloned().collect();
    let loaded = pipeline::load_one(&args.file, false, &select)?;
    let source_text = crate::edge::fs::read_text(&args.file, crate::edge::fs::SPEC_BYTES)
        .map_err(|e| Error::usage(format!("{}: {e}", args.file.display())))?;
    let (app_index, app) = pick_app(&loaded.stack.apps, namespace, args.app.as_deref())?;
    let wanted = Source::Kv {
        mount: mount.to_string(),
        path: path.to_string(),
        version: args.kv_version,
    };
    let declared = app.secrets.iter().find(|s| s.name == name);
    let plan = match declared {
        Some(s) if s.source == wanted => SpecPlan::AlreadyDeclared { adopt: s.adopt },
        Some(s) => {
            return Err(Error::usage(format!(
                "{}: app {}/{} already declares secret {name} ({}); nothing was changed",
                args.file.display(),
                app.namespace,
                app.name,
                s.source.describe()
            ))
            .with_hint("import into the path it declares, or rename one of them"))
        }
        None => {
            let kv = if args.kv_version == 2 {
                format!("{mount}/{path}")
            } else {
                String::new()
            };
            let fields: Vec<edit::Field> = if args.kv_version == 2 {
                vec![
                    ("name", edit::Val::Str(name)),
                    ("kv", edit::Val::Str(&kv)),
                    ("adopt", edit::Val::Bool(true)),
                ]
            } else {
                vec![]
            };
            let is_fleet = source_text
                .lines()
                .any(|l| l.trim_end() == "kind: VaultFleet");
            let by_hand = || {
                let mut lines = edit::entry_lines(&[("name", edit::Val::Str(name))], 6);
                if args.kv_version == 2 {
                    lines.push(format!("        kv: {}", edit::scalar(&kv)));
                } else {
                    lines.push(format!(
                        "        kv: {{mount: {}, path: {}, version: 1}}",
                        edit::scalar(mount),
                        edit::scalar(path)
                    ));
                }
                lines.push("        adopt: true".into());
                lines
            };
            let edited = if is_fleet || args.kv_version == 1 {
                Err(edit::Unplaced(if is_fleet {
                    "a fleet spec is edited by hand".into()
                } else {
                    "a kv v1 source is written in its long form".into()
                }))
            } else {
                edit::add_secret(&source_text, app_index, app.secrets.len(), &fields)
            };
            match edited {
                Ok((text, line)) => {
                    // The edited spec must load, and declare exactly the new secret.
                    let check = pipeline::load_text(&args.file, &text, false)?;
                    let ok = check.stack.apps.get(app_index).is_some_and(|a| {
                        a.secrets
                            .iter()
                            .any(|s| s.name == name && s.source == wanted && s.adopt)
                    });
                    if ok {
                        SpecPlan::Edit { text, line }
                    } else {
                        SpecPlan::ByHand {
                            reason: "the edited spec did not declare the secret".into(),
                            lines: by_hand(),
                        }
                    }
                }
                Err(edit::Unplaced(reason)) => SpecPlan::ByHand {
                    reason,
                    lines: by_hand(),
                },
            }
        }
    };

    // Vault's address and token are checked before the cluster is read.
    let vault = Vault::from_env()?;

    // 2. The Secret.
    let connection = args
        .kube
        .connection(&loaded.stack.cluster, loaded.context.as_deref())?;
    let secret = read_secret(&connection, namespace, name)?;
    let Some(secret) = secret else {
        return Err(Error::usage(format!(
            "Secret {namespace}/{name} does not exist in the cluster; nothing was changed"
        ))
        .with_hint("check --context and the name"));
    };
    let (data, secret_type) = secret_data(&secret, namespace, name)?;
    if data.is_empty() {
        return Err(Error::usage(format!(
            "Secret {namespace}/{name} holds no data; nothing was changed"
        )));
    }

    // 3. Vault, with check-and-set, into a kv mount of the version it really is.
    check_kv_mount(&vault, mount, path, args.kv_version)?;
    // A path that holds data (and no --force) is refused: exit 1, nothing written.
    let written = write_kv(&vault, mount, path, args.kv_version, &data, args.force)?;

    // 4. The spec.
    let mut out = String::new();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    out.push_str(&format!(
        "wrote {} key{} ({}) of Secret {namespace}/{name} to kv-v{} {mount}/{path}{}\n",
        keys.len(),
        if keys.len() == 1 { "" } else { "s" },
        keys.join(", "),
        args.kv_version,
        written
    ));
    if secret_type != "Opaque" {
        out.push_str(&format!(
            "note: the Secret's type is {secret_type}: add `type: {secret_type}` to the spec entry\n"
        ));
    }
    match plan {
        SpecPlan::AlreadyDeclared { adopt: true } => out.push_str(&format!(
            "{} already declares secret {name} for app {}/{} with adopt: true\n",
            args.file.display(),
            app.namespace,
            app.name
        )),
        SpecPlan::AlreadyDeclared { adopt: false } => out.push_str(&format!(
            "{} already declares secret {name} for app {}/{}: add `adopt: true` to it, so that VSO takes the existing Secret over\n",
            args.file.display(),
            app.namespace,
            app.name
        )),
        SpecPlan::Edit { text, line } => {
            crate::edge::fs::replace_keeping_mode(&args.file, text.as_bytes()).map_err(
                |e| {
                    Error::environment(format!(
            "cannot write {}: {e} (Vault already holds the data)",
            args.file.display()
        )).with_hint("add the secret to the spec by hand")
                },
            )?;
            out.push_str(&format!(
                "added secret {name} (kv {mount}/{path}, adopt: true) to app {}/{} at {}:{line}\n",
                app.namespace,
                app.name,
                args.file.display()
            ));
        }
        SpecPlan::ByHand { reason, lines } => {
            out.push_str(&format!(
                "{} was not edited ({reason}); add this item to the `secrets:` list of app {}/{}:\n",
                args.file.display(),
                app.namespace,
                app.name
            ));
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
    }
    out.push_str(&format!(
        "next: kubectl vault configure -f {spec}   # the app's policy reads the new path\n      kubectl vault commit -f {spec} --repo <gitops>   # VSO adopts the Secret (overwrite: true)\n      kubectl vault verify -f {spec}\n      kubectl vault scan --repo <gitops>   # the files that still hold the old plaintext: remove them, rotate, purge history\n",
        spec = args.file.display()
    ));
    term.out(out)?;
    Ok(Exit::Ok)
}

enum SpecPlan {
    /// The spec declares this very secret already (a re-import), with or without `adopt`.
    AlreadyDeclared {
        adopt: bool,
    },
    Edit {
        text: String,
        line: usize,
    },
    ByHand {
        reason: String,
        lines: Vec<String>,
    },
}

fn pick_app<'a>(
    apps: &'a [App],
    namespace: &str,
    name: Option<&str>,
) -> Result<(usize, &'a App), Error> {
    let in_ns: Vec<(usize, &App)> = apps
        .iter()
        .enumerate()
        .filter(|(_, a)| a.namespace == namespace)
        .collect();
    let names = || {
        in_ns
            .iter()
            .map(|(_, a)| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (name, in_ns.len()) {
        (_, 0) => Err(Error::usage(format!(
            "no app of the spec runs in namespace {namespace}; nothing was changed"
        ))
        .with_hint("add the app (name, namespace) to the spec first")),
        (None, 1) => Ok(in_ns[0]),
        (None, _) => Err(Error::usage(format!(
            "several apps run in namespace {namespace} ({}); nothing was changed",
            names()
        ))
        .with_hint("pass --app NAME")),
        (Some(n), _) => in_ns.into_iter().find(|(_, a)| a.name == n).ok_or_else(|| {
            Error::usage(format!(
                "no app {n} in namespace {namespace} (there: {})",
                apps.iter()
                    .filter(|a| a.namespace == namespace)
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
    }
}

fn read_secret(
    connection: &Connection,
    namespace: &str,
    name: &str,
) -> Result<Option<Value>, Error> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let cluster = Cluster::connect(connection).await?;
        cluster.get_secret(namespace, name).await
    })
}

/// The Secret's keys and values (base64-decoded; each must be UTF-8, as kv stores strings)
/// and its type. Error messages name keys, never values.
fn secret_data(
    secret: &Value,
    namespace: &str,
    name: &str,
) -> Result<(BTreeMap<String, String>, String), Error> {
    use base64::Engine;
    let mut out = BTreeMap::new();
    let mut total = 0;
    if let Some(data) = secret["data"].as_object() {
        for (k, v) in data {
            let bytes = v
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| {
                    Error::environment(format!(
                        "Secret {namespace}/{name}: key {k} is not base64 as the API server sends it"
                    ))
                })?;
            total += bytes.len();
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::usage(format!("Secret {namespace}/{name}: the value of key {k} is binary (not UTF-8), which a kv secret cannot hold as it is; nothing was changed")).with_hint("store it base64-encoded in Vault yourself and decode it in the application")
            })?;
            out.insert(k.clone(), text);
        }
    }
    if total > MAX_VALUE_BYTES {
        return Err(Error::environment(format!(
            "Secret {namespace}/{name} holds more than 1 MiB"
        )));
    }
    let secret_type = secret["type"].as_str().unwrap_or("Opaque").to_string();
    Ok((out, secret_type))
}

/// `--to kv:MOUNT/PATH` must name a path inside a kv mount whose version is `--kv-version`:
/// Vault says which mount a path is in (`sys/internal/ui/mounts/PATH`, which any token with a
/// capability on the path may read). Anything else (`sys/policies/…`, a database mount, a kv
/// v1 mount written as v2) is refused before anything is written.
fn check_kv_mount(vault: &Vault, mount: &str, path: &str, version: u8) -> Result<(), Error> {
    let to = format!("kv:{mount}/{path}");
    let info = vault.read(&format!("sys/internal/ui/mounts/{mount}/{path}"))?;
    let Some(info) = info else {
        return Err(Error::usage(format!(
            "--to {to}: Vault has no mount at {mount}/; nothing was written"
        ))
        .with_hint("name a path inside a kv secrets engine, e.g. kv:secret/payments/config"));
    };
    let kind = info["type"].as_str().unwrap_or_default();
    let at = info["path"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches('/');
    if !matches!(kind, "kv" | "generic") || at != mount {
        return Err(Error::usage(format!(
            "--to {to}: {mount}/{path} is not inside a kv mount named {mount} (Vault: a `{}` mount at `{}/`); nothing was written",
            crate::core::outside::shown(kind),
            crate::core::outside::shown(at)
        ))
        .with_hint("name a path inside a kv secrets engine, e.g. kv:secret/payments/config"));
    }
    let actual: u8 = match info["options"]["version"].as_str() {
        Some("2") => 2,
        _ => 1,
    };
    if actual != version {
        return Err(Error::usage(format!(
            "--to {to}: {mount} is a kv version {actual} mount, but --kv-version is {version}; nothing was written"
        ))
        .with_hint(format!("pass --kv-version {actual}")));
    }
    Ok(())
}

/// Writes the data; `Ok(text)` says which version was written. A path that holds data (and
/// no `--force`) is refused (a failed check: exit 1).
fn write_kv(
    vault: &Vault,
    mount: &str,
    path: &str,
    version: u8,
    data: &BTreeMap<String, String>,
    force: bool,
) -> Result<String, Error> {
    let object: Map<String, Value> = data
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if version == 2 {
        let current = vault
            .read(&format!("{mount}/metadata/{path}"))?
            .and_then(|m| m["current_version"].as_u64())
            .unwrap_or(0);
        if current > 0 && !force {
            return Err(Error::check_failed(format!(
                "refusing to import: kv-v2 {mount}/{path} already has version {current}; nothing was written or edited"
            ))
            .with_hint(format!(
                "pick another path, or pass --force to write version {}",
                current + 1
            )));
        }
        let body = json!({"options": {"cas": current}, "data": object});
        let answer = vault.write(&format!("{mount}/data/{path}"), &body)?;
        let written = answer["data"]["version"].as_u64().unwrap_or(current + 1);
        Ok(format!(" (version {written}, check-and-set)"))
    } else {
        if vault.read(&format!("{mount}/{path}"))?.is_some() && !force {
            return Err(Error::check_failed(format!(
                "refusing to import: kv-v1 {mount}/{path} already holds data; nothing was written or edited"
            ))
            .with_hint("pick another path, or pass --force to replace it"));
        }
        vault.write(&format!("{mount}/{path}"), &Value::Object(object))?;
        Ok(String::new())
    }
}
