//! What git does to a file between the work tree and the object database, for the generated
//! paths: clean/smudge filters (`filter=`, e.g. git-crypt), line endings (`text`, `eol`, the
//! legacy `crlf`, `core.autocrlf`, `core.eol`) and `$Id$` expansion (`ident`).
//!
//! The generated files are UTF-8 text with LF endings, so most rules reduce to one question:
//! does the work tree get CRLF? Filters are run by the user's own `git` binary
//! (`git hash-object --path`, `git cat-file --filters`), so the blob written is the one
//! `git add` would write. Attributes that cannot be honoured (`working-tree-encoding`, `ident`
//! on a file that holds `$Id`, a required filter without a driver) refuse the run, naming them.

use crate::error::Error;
use git2::{AttrCheckFlags, AttrValue, Oid, Repository};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How one path is converted. The default (no field set) is "bytes as they are".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The work tree gets CRLF line endings (the blob keeps LF).
    pub(crate) crlf: bool,
    /// The filter driver git runs for the path (only when it is configured).
    pub(crate) filter: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AutoCrlf {
    False,
    True,
    Input,
}

pub(crate) struct Converter<'r> {
    repo: &'r Repository,
    workdir: PathBuf,
    autocrlf: AutoCrlf,
    core_eol_crlf: bool,
    /// Filter driver name -> configured (true) or a no-op (false).
    drivers: HashMap<String, bool>,
    /// No attribute file can apply to the paths (see `preload`).
    no_sources: bool,
    /// Attributes read by `preload`, in the order of `ATTRS`.
    loaded: HashMap<String, [Val; 6]>,
}

/// The attributes that change what git writes.
const ATTRS: [&str; 6] = [
    "filter",
    "text",
    "eol",
    "crlf",
    "ident",
    "working-tree-encoding",
];

/// An attribute's value for a path, as `git check-attr` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Set,
    Unset,
    Unspecified,
    Value(String),
}

fn attr_error(path: &str, attr: &str, why: &str) -> Error {
    let name = attr.split('=').next().unwrap_or(attr);
    Error::usage(format!(
        "{path}: the .gitattributes attribute `{attr}` applies to this generated file, and {why}; nothing was changed"
    ))
    .with_hint(format!(
        "exclude the generated folders from that attribute in .gitattributes (e.g. `apps/** -{name}`), then run again"
    ))
}

impl<'r> Converter<'r> {
    pub(crate) fn new(repo: &'r Repository) -> Converter<'r> {
        let config = repo.config().ok();
        let autocrlf = match config.as_ref().map(|c| c.get_string("core.autocrlf")) {
            Some(Ok(v)) if v.eq_ignore_ascii_case("input") => AutoCrlf::Input,
            _ => match config.as_ref().map(|c| c.get_bool("core.autocrlf")) {
                Some(Ok(true)) => AutoCrlf::True,
                _ => AutoCrlf::False,
            },
        };
        let core_eol_crlf = config
            .as_ref()
            .and_then(|c| c.get_string("core.eol").ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("crlf"));
        Converter {
            repo,
            workdir: repo.workdir().unwrap_or(repo.path()).to_path_buf(),
            autocrlf,
            core_eol_crlf,
            drivers: HashMap::new(),
            no_sources: false,
            loaded: HashMap::new(),
        }
    }

    fn attr(&self, path: &str, name: &str) -> Result<Val, Error> {
        if self.no_sources {
            return Ok(Val::Unspecified);
        }
        if let (Some(values), Some(k)) =
            (self.loaded.get(path), ATTRS.iter().position(|a| *a == name))
        {
            return Ok(values[k].clone());
        }
        self.repo
            .get_attr(Path::new(path), name, AttrCheckFlags::FILE_THEN_INDEX)
            .map(|v| match AttrValue::from_string(v) {
                AttrValue::True => Val::Set,
                AttrValue::False => Val::Unset,
                AttrValue::String(s) => Val::Value(s.to_string()),
                AttrValue::Bytes(b) => Val::Value(String::from_utf8_lossy(b).into_owned()),
                AttrValue::Unspecified => Val::Unspecified,
            })
            .map_err(|e| {
                Error::environment(format!(
                    "git: read the attributes of {path}: {}",
                    e.message()
                ))
            })
    }

    /// Reads the attributes of all `paths` at once: none at all when no attribute file can
    /// apply to them (the common case, and free), else with one `git check-attr` (one lookup
    /// per path and attribute through libgit2 costs a second for 9,000 files). Without a `git`
    /// binary, `attr` asks libgit2 path by path.
    pub(crate) fn preload<'p>(&mut self, paths: impl IntoIterator<Item = &'p str>) {
        let paths: Vec<&str> = paths.into_iter().collect();
        let mut dirs: Vec<&str> = paths
            .iter()
            .flat_map(|p| p.match_indices('/').map(move |(i, _)| &p[..i]))
            .collect();
        dirs.sort_unstable();
        dirs.dedup();
        let config = self.repo.config().ok();
        let global = config
            .as_ref()
            .and_then(|c| c.get_path("core.attributesFile").ok())
            .or_else(|| {
                std::env::var_os("XDG_CONFIG_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
                    .map(|d| d.join("git/attributes"))
            });
        let any_source = self.workdir.join(".gitattributes").exists()
            || dirs
                .iter()
                .any(|d| self.workdir.join(d).join(".gitattributes").exists())
            || self.repo.commondir().join("info/attributes").exists()
            || global.is_some_and(|g| g.exists())
            || Path::new("/etc/gitattributes").exists();
        if !any_source {
            self.no_sources = true;
            return;
        }
        let mut input = Vec::new();
        for p in &paths {
            input.extend_from_slice(p.as_bytes());
            input.push(0);
        }
        let mut args: Vec<String> = vec!["check-attr".into(), "--stdin".into(), "-z".into()];
        args.extend(ATTRS.iter().map(|a| a.to_string()));
        let Ok(out) = self.run_git(&args, &input) else {
            return;
        };
        // `<path> NUL <attribute> NUL <info> NUL`, for every path and attribute.
        let fields: Vec<&[u8]> = out.split(|b| *b == 0).collect();
        for rec in fields.chunks_exact(3) {
            let (Ok(path), Ok(name), Ok(info)) = (
                std::str::from_utf8(rec[0]),
                std::str::from_utf8(rec[1]),
                std::str::from_utf8(rec[2]),
            ) else {
                continue;
            };
            let Some(k) = ATTRS.iter().position(|a| *a == name) else {
                continue;
            };
            let value = match info {
                "set" => Val::Set,
                "unset" => Val::Unset,
                "unspecified" => Val::Unspecified,
                v => Val::Value(v.to_string()),
            };
            self.loaded
                .entry(path.to_string())
                .or_insert_with(|| std::array::from_fn(|_| Val::Unspecified))[k] = value;
        }
    }

    /// The conversion git applies to `path`, whose generated content is `content`.
    pub(crate) fn rule(&mut self, path: &str, content: &str) -> Result<Rule, Error> {
        if let Val::Value(enc) = self.attr(path, "working-tree-encoding")? {
            if !["utf-8", "utf8"].contains(&enc.to_ascii_lowercase().as_str()) {
                return Err(attr_error(
                    path,
                    &format!("working-tree-encoding={enc}"),
                    "kubectl-vault writes UTF-8 only",
                ));
            }
        }
        if self.attr(path, "ident")? == Val::Set && content.contains("$Id") {
            return Err(attr_error(
                path,
                "ident",
                "the file holds `$Id`, which git would expand; kubectl-vault does not",
            ));
        }
        let filter = match self.attr(path, "filter")? {
            Val::Value(driver) => self.driver(path, &driver)?.then_some(driver),
            _ => None,
        };
        Ok(Rule {
            crlf: self.crlf(path)?,
            filter,
        })
    }

    /// Whether git checks `path` out with CRLF (for text content, which the generated files are).
    fn crlf(&self, path: &str) -> Result<bool, Error> {
        #[derive(PartialEq)]
        enum Text {
            Set,
            Unset,
            Auto,
            Unspecified,
        }
        let mut text = match self.attr(path, "text")? {
            Val::Set => Text::Set,
            Val::Unset => Text::Unset,
            Val::Value(v) if v == "auto" => Text::Auto,
            _ => Text::Unspecified,
        };
        let mut eol = match self.attr(path, "eol")? {
            Val::Value(v) if v == "crlf" => Some(true),
            Val::Value(v) if v == "lf" => Some(false),
            _ => None,
        };
        // The legacy `crlf` attribute, as git maps it.
        if text == Text::Unspecified {
            match self.attr(path, "crlf")? {
                Val::Set => text = Text::Set,
                Val::Unset => text = Text::Unset,
                Val::Value(v) if v == "input" => {
                    text = Text::Set;
                    eol.get_or_insert(false);
                }
                _ => {}
            }
        }
        Ok(match text {
            Text::Unset => false,
            _ if eol.is_some() => eol == Some(true),
            Text::Unspecified => self.autocrlf == AutoCrlf::True,
            Text::Set | Text::Auto => match self.autocrlf {
                AutoCrlf::True => true,
                AutoCrlf::Input => false,
                AutoCrlf::False => self.core_eol_crlf,
            },
        })
    }

    /// Whether the filter driver does anything: git passes content through a driver with no
    /// command configured, unless the driver is marked required.
    fn driver(&mut self, path: &str, driver: &str) -> Result<bool, Error> {
        if let Some(d) = self.drivers.get(driver) {
            return Ok(*d);
        }
        let config = self
            .repo
            .config()
            .map_err(|e| Error::environment(format!("git: read the config: {}", e.message())))?;
        let has = |key: &str| config.get_string(&format!("filter.{driver}.{key}")).is_ok();
        let configured = has("clean") || has("smudge") || has("process");
        if !configured
            && config
                .get_bool(&format!("filter.{driver}.required"))
                .unwrap_or(false)
        {
            return Err(attr_error(
                path,
                &format!("filter={driver}"),
                "the filter is required but has no command configured (git would refuse too)",
            ));
        }
        self.drivers.insert(driver.to_string(), configured);
        Ok(configured)
    }

    /// The id of the blob git would store for `content` at `path`; with `write`, the blob is
    /// written to the object database (by git itself when a filter runs).
    pub(crate) fn blob_id(
        &self,
        path: &str,
        rule: &Rule,
        content: &str,
        write: bool,
    ) -> Result<Oid, Error> {
        let Some(driver) = &rule.filter else {
            return if write {
                self.repo.blob(content.as_bytes())
            } else {
                Oid::hash_object(git2::ObjectType::Blob, content.as_bytes())
            }
            .map_err(|e| Error::environment(format!("git: write a blob: {}", e.message())));
        };
        let mut args = vec![
            "hash-object".to_string(),
            "--stdin".into(),
            format!("--path={path}"),
        ];
        if write {
            args.push("-w".into());
        }
        let out = self.git(&args, content.as_bytes(), path, driver)?;
        let text = String::from_utf8_lossy(&out);
        Oid::from_str(text.trim()).map_err(|_| {
            Error::environment(format!(
                "git hash-object for {path} printed `{}`, not an object id",
                text.trim()
            ))
        })
    }

    /// The text of blob `id` as it is in the work tree after git's conversion, with LF endings
    /// (for comparison with the generated content).
    pub(crate) fn read_blob(&self, path: &str, rule: &Rule, id: Oid) -> Option<String> {
        let bytes = match &rule.filter {
            None => self.repo.find_blob(id).ok()?.content().to_vec(),
            Some(driver) => self
                .git(
                    &[
                        "cat-file".into(),
                        "--filters".into(),
                        format!("--path={path}"),
                        id.to_string(),
                    ],
                    b"",
                    path,
                    driver,
                )
                .ok()?,
        };
        Some(Self::from_worktree(
            rule,
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }

    /// The bytes git would check out for `content` (the smudge filter is taken to be the
    /// inverse of the clean filter, as git-crypt and sops-style drivers are).
    pub(crate) fn to_worktree<'c>(rule: &Rule, content: &'c str) -> Cow<'c, [u8]> {
        if rule.crlf {
            Cow::Owned(
                content
                    .replace("\r\n", "\n")
                    .replace('\n', "\r\n")
                    .into_bytes(),
            )
        } else {
            Cow::Borrowed(content.as_bytes())
        }
    }

    /// A work-tree file's text with the line endings the blob would have.
    pub(crate) fn from_worktree(rule: &Rule, text: String) -> String {
        if rule.crlf && text.contains("\r\n") {
            text.replace("\r\n", "\n")
        } else {
            text
        }
    }

    fn git(
        &self,
        args: &[String],
        stdin: &[u8],
        path: &str,
        driver: &str,
    ) -> Result<Vec<u8>, Error> {
        self.run_git(args, stdin).map_err(|why| {
            Error::environment(format!("git: cannot run the `{driver}` filter (.gitattributes `filter={driver}`) for {path}: {why}")).with_hint("the filter driver must work as it does for `git add` (e.g. `git-crypt unlock`)")
        })
    }

    /// Runs the user's `git` on this repository with `stdin`; its stdout, or why it failed.
    fn run_git(&self, args: &[String], stdin: &[u8]) -> Result<Vec<u8>, String> {
        let mut child = Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.path())
            .arg("--work-tree")
            .arg(&self.workdir)
            .args(args)
            .current_dir(&self.workdir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start git: {e}"))?;
        let mut input = child.stdin.take().expect("piped");
        let data = stdin.to_vec();
        // Write from a thread: git may write its output before it has read all input.
        let writer = std::thread::spawn(move || input.write_all(&data));
        let out = child.wait_with_output().map_err(|e| format!("git: {e}"))?;
        let _ = writer.join();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(out.stdout)
    }
}
