//! `--push`: the branch to its remote through the user's own `git`, so that everything git
//! knows about reaching a remote applies: `~/.ssh/config` and host aliases, credential helpers,
//! proxies, `url.<base>.insteadOf`, pre-push hooks. libgit2 is built without a network stack
//! (no `https`, no `ssh`): no C TLS stack in the binary.

use super::git_err;
use crate::error::Error;
use git2::{Oid, Repository};
use std::io::Read;
use std::process::{Command, Stdio};

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// The remote branch moved from `old` (None: it did not exist) to `new`; `commits` is how
    /// many commits that is, when the old tip is known locally.
    Updated {
        old: Option<Oid>,
        new: Oid,
        commits: Option<usize>,
    },
    /// The remote already had the branch at this commit.
    UpToDate(Oid),
}

impl Pushed {
    /// One line for the user: `pushed main to origin: 1a2b3c4d5e6f..7a8b9c0d1e2f (2 commits)`.
    pub(crate) fn describe(&self, branch: &str, remote: &str) -> String {
        let short = |id: &Oid| id.to_string()[..12].to_string();
        match self {
            Pushed::Updated { old, new, commits } => {
                let range = match old {
                    Some(old) => format!("{}..{}", short(old), short(new)),
                    None => format!("new branch at {}", short(new)),
                };
                let count = match commits {
                    Some(1) => " (1 commit)".to_string(),
                    Some(n) => format!(" ({n} commits)"),
                    None => String::new(),
                };
                format!("pushed {branch} to {remote}: {range}{count}")
            }
            Pushed::UpToDate(id) => format!(
                "{remote} already has {branch} at {}: nothing to push",
                short(id)
            ),
        }
    }
}

/// At most this much of git's own output is kept (and shown, control characters escaped).
const MAX_GIT_OUTPUT: u64 = 64 * 1024;

/// Pushes `branch` to `remote_name` whatever the commit step did: a branch ahead of its
/// remote (an earlier run's commit, a rejected push retried after `git pull --rebase`) is
/// pushed too.
pub(crate) fn push(repo: &Repository, remote_name: &str, branch: &str) -> Result<Pushed, Error> {
    if let Err(e) = repo.find_remote(remote_name) {
        return Err(
            Error::usage(format!("no remote `{remote_name}`: {}", e.message()))
                .with_hint("pass --remote NAME"),
        );
    }
    let local = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .and_then(|r| r.peel_to_commit())
        .map_err(git_err("read the branch to push"))?
        .id();
    let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir")
        .arg(repo.path())
        // The porcelain status of the one ref on stdout; git's messages on stderr.
        .args(["push", "--porcelain", "--", remote_name, &spec])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Relative remote paths (`../fleet.git`) are git's to resolve: against the work tree's
    // top, or the git folder of a bare repository.
    cmd.current_dir(repo.workdir().unwrap_or_else(|| repo.path()));
    let mut child = cmd.spawn().map_err(|e| {
        Error::environment(format!("cannot run git to push {branch} to {remote_name}: {e}")).with_hint("install git (kubectl vault commit --push pushes with your git, its SSH and credential settings)")
    })?;
    // Both pipes are read to their end (bounded) on two threads, so neither can fill and
    // block git.
    let stderr = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || read_bounded(stderr));
    let out = read_bounded(child.stdout.take().expect("piped"));
    let err = err_reader.join().unwrap_or_default();
    let status = child
        .wait()
        .map_err(|e| Error::environment(format!("git push of {branch} to {remote_name}: {e}")))?;

    match porcelain_status(&out, &spec) {
        Some(RefStatus::UpToDate) => Ok(Pushed::UpToDate(local)),
        Some(RefStatus::New) if status.success() => Ok(Pushed::Updated {
            old: None,
            new: local,
            commits: commits_between(repo, None, local),
        }),
        Some(RefStatus::FastForward(old)) if status.success() => {
            let old = repo.revparse_single(&old).ok().map(|o| o.id());
            Ok(Pushed::Updated {
                old,
                new: local,
                commits: old.and_then(|old| commits_between(repo, Some(old), local)),
            })
        }
        Some(RefStatus::Rejected(reason)) => {
            let non_ff = ["fetch first", "non-fast-forward", "stale info"]
                .iter()
                .any(|m| reason.contains(m));
            let reason = if non_ff {
                format!("the remote branch has commits that are not here (git: {reason})")
            } else {
                reason
            };
            Err(push_failure(remote_name, branch, &reason, non_ff))
        }
        _ => Err(push_failure(
            remote_name,
            branch,
            &last_lines(&err).unwrap_or_else(|| format!("git push exited with {status}")),
            false,
        )),
    }
}

/// How git reported the one ref of the push (`git push --porcelain`: `<flag>\t<from>:<to>\t<summary>`).
#[derive(Debug, PartialEq, Eq)]
enum RefStatus {
    UpToDate,
    New,
    /// The old tip, abbreviated as git printed it.
    FastForward(String),
    Rejected(String),
}

fn porcelain_status(stdout: &str, spec: &str) -> Option<RefStatus> {
    let line = stdout
        .lines()
        .find(|l| l.split('\t').nth(1) == Some(spec))?;
    let mut fields = line.split('\t');
    let flag = fields.next()?.chars().next()?;
    let summary = fields.nth(1).unwrap_or_default();
    Some(match flag {
        '=' => RefStatus::UpToDate,
        '*' => RefStatus::New,
        ' ' | '+' => RefStatus::FastForward(
            summary
                .split("..")
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
        _ => RefStatus::Rejected(
            summary
                .trim_start_matches("[rejected]")
                .trim_start_matches("[remote rejected]")
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .to_string(),
        ),
    })
}

fn read_bounded(stream: impl Read) -> String {
    let mut buf = Vec::new();
    let _ = stream.take(MAX_GIT_OUTPUT).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The last few lines git wrote, credentials in URLs masked and control characters escaped.
fn last_lines(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return None;
    }
    let tail = lines[lines.len().saturating_sub(3)..].join("; ");
    Some(mask_credentials(&crate::core::outside::shown(&tail)))
}

/// `scheme://user:password@host` → `scheme://***@host`.
fn mask_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '/' || c == '\'' || c == '"')
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str("***");
            rest = &rest[at..];
        }
    }
    out.push_str(rest);
    out
}

fn commits_between(repo: &Repository, old: Option<Oid>, new: Oid) -> Option<usize> {
    let mut walk = repo.revwalk().ok()?;
    walk.push(new).ok()?;
    if let Some(old) = old {
        walk.hide(old).ok()?;
    }
    Some(walk.count())
}

fn push_failure(remote: &str, branch: &str, reason: &str, non_ff: bool) -> Error {
    let hint = if non_ff {
        format!("the remote has commits you do not have. The local commit is kept; recover with\n  git pull --rebase {remote} {branch}\nthen run kubectl vault commit --push again (it regenerates on top, and pushes even when there is nothing new to commit)")
    } else {
        format!("kubectl vault pushes with your git: check that `git push {remote} {branch}` works here (the remote URL, your SSH config and agent, or a credential helper)")
    };
    Error::environment(format!(
        "push of {branch} to {remote} was rejected: {reason}"
    ))
    .with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_lines() {
        let spec = "refs/heads/main:refs/heads/main";
        let cases = [
            ("=\trefs/heads/main:refs/heads/main\t[up to date]\nDone\n", Some(RefStatus::UpToDate)),
            ("*\trefs/heads/main:refs/heads/main\t[new branch]\nDone\n", Some(RefStatus::New)),
            (
                " \trefs/heads/main:refs/heads/main\tabc1234..def5678\nDone\n",
                Some(RefStatus::FastForward("abc1234".into())),
            ),
            (
                "!\trefs/heads/main:refs/heads/main\t[rejected] (fetch first)\nDone\n",
                Some(RefStatus::Rejected("fetch first".into())),
            ),
            (
                "!\trefs/heads/main:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n",
                Some(RefStatus::Rejected("pre-receive hook declined".into())),
            ),
            ("", None),
        ];
        for (out, want) in cases {
            assert_eq!(porcelain_status(out, spec), want, "{out:?}");
        }
    }

    #[test]
    fn git_output_is_masked_and_escaped() {
        assert_eq!(
            last_lines("fatal: unable to access 'https://bob:s3cret@git.example.com/x.git/': \x1b[2Jboom\n").unwrap(),
            "fatal: unable to access 'https://***@git.example.com/x.git/': \\u{1b}[2Jboom"
        );
        assert_eq!(mask_credentials("ssh://git@host/x"), "ssh://***@host/x");
        assert_eq!(mask_credentials("no url here"), "no url here");
    }
}
