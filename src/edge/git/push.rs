//! `--push`: the branch to its remote, with the user's credentials, as git would.

use super::git_err;
use crate::error::Error;
use git2::{Oid, Repository};

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
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
    pub fn describe(&self, branch: &str, remote: &str) -> String {
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

/// Pushes `branch` to `remote_name` whatever the commit step did: a branch ahead of its
/// remote (an earlier run's commit, a rejected push retried after `git pull --rebase`) is
/// pushed too.
pub fn push(repo: &Repository, remote_name: &str, branch: &str) -> Result<Pushed, Error> {
    let named = repo.find_remote(remote_name).map_err(|e| {
        Error::usage(format!(
            "no remote `{remote_name}`: {}\nhint: pass --remote NAME",
            e.message()
        ))
    })?;
    // A relative path (`../fleet.git`) is relative to the repository, as git reads it; libgit2
    // would read it relative to the current folder. Such a remote is pushed to by its
    // absolute path, and its remote-tracking branch moved here as git would.
    let url = match named.pushurl() {
        Ok(Some(push_url)) => Some(push_url),
        _ => named.url().ok(),
    };
    let resolved = url.and_then(|url| relative_to_repository(repo, url));
    let mut remote = match &resolved {
        Some(path) => repo
            .remote_anonymous(&path.to_string_lossy())
            .map_err(git_err("open the remote"))?,
        None => repo
            .find_remote(remote_name)
            .map_err(git_err("open the remote"))?,
    };
    let local = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .and_then(|r| r.peel_to_commit())
        .map_err(git_err("read the branch to push"))?
        .id();
    let config = repo.config().map_err(git_err("read the config"))?;
    let mut rejected: Option<String> = None;
    let mut remote_old: Option<Option<Oid>> = None;
    let mut tried_agent = false;
    let mut tried_helper = false;
    {
        let mut callbacks = git2::RemoteCallbacks::new();
        callbacks.credentials(|url, username, allowed| {
            if allowed.contains(git2::CredentialType::SSH_KEY) && !tried_agent {
                tried_agent = true;
                return git2::Cred::ssh_key_from_agent(username.unwrap_or("git"));
            }
            if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) && !tried_helper {
                tried_helper = true;
                return git2::Cred::credential_helper(&config, url, username);
            }
            if allowed.contains(git2::CredentialType::DEFAULT) {
                return git2::Cred::default();
            }
            Err(git2::Error::from_str(
                "no usable credentials (ssh-agent or a git credential helper)",
            ))
        });
        // The remote's tip before the push, as the server reported it.
        callbacks.push_negotiation(|updates| {
            if let Some(u) = updates.first() {
                remote_old = Some(Some(u.src()).filter(|id| !id.is_zero()));
            }
            Ok(())
        });
        callbacks.push_update_reference(|_refname, status| {
            if let Some(s) = status {
                rejected = Some(s.to_string());
            }
            Ok(())
        });
        let mut opts = git2::PushOptions::new();
        opts.remote_callbacks(callbacks);
        let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
        if let Err(e) = remote.push(&[spec.as_str()], Some(&mut opts)) {
            let msg = e.message().to_string();
            let non_ff = [
                "non-fast",
                "fastforward",
                "fast-forward",
                "not present locally",
            ]
            .iter()
            .any(|m| msg.contains(m));
            return Err(push_failure(remote_name, branch, &msg, non_ff));
        }
    }
    if let Some(reason) = rejected {
        return Err(push_failure(remote_name, branch, &reason, true));
    }
    if resolved.is_some() {
        update_tracking_branch(repo, &named, branch, local)?;
    }
    Ok(match remote_old {
        Some(Some(old)) if old == local => Pushed::UpToDate(local),
        // libgit2 skips the negotiation when there is nothing to send.
        None => Pushed::UpToDate(local),
        Some(old) => Pushed::Updated {
            old,
            new: local,
            commits: commits_between(repo, old, local),
        },
    })
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
        "check the remote URL and your credentials (ssh-agent for ssh remotes, a git credential helper for https)".to_string()
    };
    Error::environment(format!(
        "push of {branch} to {remote} was rejected: {reason}\nhint: {hint}"
    ))
}

/// The absolute path of a remote URL that is a relative local path (no scheme, no
/// `host:path`), resolved as git does: against the working tree's top (the git folder of a
/// bare repository). `None` for every other URL.
pub fn relative_to_repository(repo: &Repository, url: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(url);
    let first_slash = url.find('/').unwrap_or(url.len());
    let scp_like = url.find(':').is_some_and(|colon| colon < first_slash);
    if url.is_empty() || url.contains("://") || scp_like || path.is_absolute() {
        return None;
    }
    let base = repo.workdir().unwrap_or_else(|| repo.path());
    Some(base.join(path))
}

/// Moves `refs/remotes/<remote>/<branch>` (as the remote's fetch refspecs map the branch) to
/// the pushed commit, as a push through a named remote does.
fn update_tracking_branch(
    repo: &Repository,
    remote: &git2::Remote,
    branch: &str,
    pushed: Oid,
) -> Result<(), Error> {
    let head = format!("refs/heads/{branch}");
    for i in 0..remote.refspecs().len() {
        let Some(spec) = remote.get_refspec(i) else {
            continue;
        };
        if spec.direction() != git2::Direction::Fetch || !spec.src_matches(&head) {
            continue;
        }
        let Ok(target) = spec.transform(&head) else {
            continue;
        };
        if let Ok(target) = target.as_str() {
            repo.reference(target, pushed, true, "kubectl vault commit --push")
                .map_err(git_err("update the remote-tracking branch"))?;
        }
    }
    Ok(())
}
