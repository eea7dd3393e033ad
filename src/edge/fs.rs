//! Reading files with a size limit, so that no input (`-f /dev/zero`, a `passwordFrom:
//! file:/dev/zero`, a huge CA file) can make the tool read until memory runs out.
//!
//! Every read of a user-named file goes through [`read_file`] (bytes) or [`read_text`]
//! (UTF-8): at most `limit` bytes are read; one byte more is an error that names the limit.

use std::io::Read;
use std::path::Path;

/// The largest spec file: 4 MiB, ten times the 1,000-app benchmark spec (~400 KiB).
pub(crate) const SPEC_BYTES: u64 = 4 * 1024 * 1024;
/// The largest secret read from a file (`passwordFrom: file:`, a token): 64 KiB.
pub(crate) const SECRET_BYTES: u64 = 64 * 1024;
/// The largest PEM bundle read from a file (`caCertFrom`, `VAULT_CACERT`): 1 MiB.
pub(crate) const PEM_BYTES: u64 = 1024 * 1024;

/// Why a bounded read failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// The file holds more than `limit` bytes (or never ends, as `/dev/zero`).
    TooLarge { limit: u64 },
    /// The file is not UTF-8; `offset` is the first invalid byte.
    NotUtf8 { offset: usize },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge { limit } => {
                write!(f, "larger than {} (the limit for this file)", human(*limit))
            }
            ReadError::NotUtf8 { offset } => {
                write!(f, "not UTF-8 text (invalid byte at offset {offset})")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// `4 MiB`, `64 KiB`, `100 bytes`.
pub(crate) fn human(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads at most `limit` bytes from `reader`; more is [`ReadError::TooLarge`].
pub(crate) fn read_all(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(ReadError::Io)?;
    if out.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(out)
}

/// Reads the file at `path`, at most `limit` bytes (devices and FIFOs included: `/dev/zero`
/// fails after `limit + 1` bytes instead of never ending).
pub(crate) fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    read_all(file, limit)
}

/// Reads a regular file only (never a FIFO, a device or a folder: opening does not block, and
/// the open file is checked), at most `limit` bytes. With `follow_links: false` the file may not
/// be a symbolic link (a committed `.kubectl-vault-allow` pointing at `/proc/self/environ`).
pub(crate) fn read_regular_file(
    path: &Path,
    limit: u64,
    follow_links: bool,
) -> Result<Vec<u8>, ReadError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK;
        if !follow_links {
            flags |= libc::O_NOFOLLOW;
        }
        opts.custom_flags(flags);
    }
    let file = opts.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return ReadError::Io(std::io::Error::other(
                "is a symbolic link (not read: it must be a regular file)",
            ));
        }
        ReadError::Io(e)
    })?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::Io(std::io::Error::other(
            "is not a regular file (not read)",
        )));
    }
    read_all(file, limit)
}

/// [`read_file`], as UTF-8 text.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_file(path, limit)?;
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

// ---------- files and variables named in the spec, read by `configure` ----------

/// Reads a file named in the spec, up to [`PEM_BYTES`] (`/dev/zero` must not exhaust memory);
/// a problem is a usage error (exit 2, before anything is changed) naming the spec field.
pub(crate) fn read_bounded(path: &str, field: &str) -> Result<String, crate::error::Error> {
    read_text(Path::new(path), PEM_BYTES).map_err(|e| {
        crate::error::Error::usage(format!(
            "{field}: cannot read {path}: {e}; nothing was changed"
        ))
        .with_hint("fix the path in the spec or create the file, then run again")
    })
}

/// The value of `env:NAME` or `file:PATH` (trailing newlines of a file removed). Read only when
/// applying, never printed. Missing or empty is a usage error naming `field`.
pub(crate) fn resolve_secret(source: &str, field: &str) -> Result<String, crate::error::Error> {
    let value = match source.split_once(':') {
        Some(("env", name)) => match std::env::var(name) {
            Ok(v) => v,
            Err(std::env::VarError::NotPresent) => {
                return Err(crate::error::Error::usage(format!("{field} is {source}, but the environment variable {name} is not set; nothing was changed")).with_hint(format!("export {name}=… and run again")))
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(crate::error::Error::usage(format!(
                    "{field} is {source}, but {name} is not UTF-8 text; nothing was changed"
                )))
            }
        },
        Some(("file", path)) => read_bounded(path, field)?
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        _ => {
            return Err(crate::error::Error::usage(format!(
                "{field} must be env:NAME or file:PATH; nothing was changed"
            )))
        }
    };
    if value.is_empty() {
        return Err(crate::error::Error::usage(format!(
            "{field} is {source}, which is empty; nothing was changed"
        )));
    }
    Ok(value)
}

// ---------- folders ----------

/// Why [`read_folder`] failed, and where.
#[derive(Debug)]
pub(crate) enum FolderError {
    /// A folder could not be listed.
    Folder(std::path::PathBuf, std::io::Error),
    /// An entry of a listed folder could not be read.
    Entry(std::io::Error),
    /// A file could not be read as UTF-8 text.
    File(std::path::PathBuf, std::io::Error),
}

/// The text of every file below `dir` (sub-folders included) whose name ends in `.{extension}`,
/// keyed by its `/`-separated path relative to `dir`.
pub(crate) fn read_folder(
    dir: &Path,
    extension: &str,
) -> Result<std::collections::BTreeMap<String, String>, FolderError> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| FolderError::Folder(d.clone(), e))?;
        for entry in entries {
            let path = entry.map_err(FolderError::Entry)?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == extension) {
                let name = path
                    .strip_prefix(dir)
                    .expect("below dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| FolderError::File(path.clone(), e))?;
                files.insert(name, text);
            }
        }
    }
    Ok(files)
}

// ---------- writing ----------

/// Writes `bytes` to `path` so that no reader ever sees it half written: into a temporary
/// file beside it, then renamed over it (the temporary file is removed on failure).
/// `executable`: see [`write_new_file`].
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], executable: bool) -> std::io::Result<()> {
    let name = path.file_name().expect("a file").to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.kubectl-vault-tmp"));
    write_new_file(&tmp, bytes, executable)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Creates `path` with `bytes`, never over an existing file (not even one created meanwhile:
/// the complete file is linked into place, which fails if the name is taken) and never half
/// written (a temporary file beside it, removed afterwards).
pub(crate) fn create_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().expect("a file").to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.kubectl-vault-tmp"));
    write_new_file(&tmp, bytes, false)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked
}

/// Replaces a file the user owns (`import` editing the spec) as an editor would: through the
/// symbolic link to its target (the link stays a link), keeping the target's mode (a 0400 spec
/// stays 0400), atomically (temporary file beside the target, then rename).
pub(crate) fn replace_keeping_mode(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let mode = std::fs::metadata(&target)?.permissions();
    let name = target.file_name().expect("a file").to_string_lossy();
    let tmp = target.with_file_name(format!(".{name}.kubectl-vault-tmp"));
    write_new_file(&tmp, bytes, false)?;
    std::fs::set_permissions(&tmp, mode)
        .and_then(|()| std::fs::rename(&tmp, &target))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// Creates `path` afresh (a leftover from a killed run is replaced) with the mode git would
/// give the file on checkout: 0666, or 0777 when `executable`, less the umask (the kernel
/// applies it at creation).
pub(crate) fn write_new_file(path: &Path, bytes: &[u8], executable: bool) -> std::io::Result<()> {
    use std::io::Write;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if executable { 0o777 } else { 0o666 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    let mut file = opts.open(path)?;
    file.write_all(bytes)
}

/// A file written in place of `path` only when complete: a 0600 temporary file beside it,
/// renamed over `path` by [`PrivateFile::commit`], removed when dropped uncommitted. For
/// secrets that may be large (a raft snapshot), streamed rather than held in memory.
pub(crate) struct PrivateFile {
    pub(crate) file: std::fs::File,
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    committed: bool,
}

impl PrivateFile {
    pub(crate) fn create(path: &Path) -> std::io::Result<PrivateFile> {
        let name = path
            .file_name()
            .ok_or_else(|| std::io::Error::other("not a file name"))?
            .to_string_lossy();
        let tmp = path.with_file_name(format!(".{name}.kubectl-vault-tmp"));
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut opts = std::fs::OpenOptions::new();
        // Read too: what was written is checked before it replaces the target.
        opts.read(true).write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        Ok(PrivateFile {
            file: opts.open(&tmp)?,
            tmp,
            path: path.to_path_buf(),
            committed: false,
        })
    }

    /// Flushes to disk and renames over the target.
    pub(crate) fn commit(mut self) -> std::io::Result<()> {
        self.file.sync_all()?;
        std::fs::rename(&self.tmp, &self.path)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A file that must not exist yet, created with mode 0600 (`operator init --shares-file`):
/// created before the data it will hold exists, written once, synced to disk.
pub(crate) struct NewPrivateFile {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl NewPrivateFile {
    pub(crate) fn create(path: &Path) -> std::io::Result<NewPrivateFile> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Not through a symbolic link: create_new already refuses an existing name, and
            // O_NOFOLLOW makes sure a dangling link is not followed either.
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        Ok(NewPrivateFile {
            file: opts.open(path)?,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` and syncs them to disk.
    pub(crate) fn write_all(mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.file.write_all(bytes)?;
        self.file.sync_all()
    }

    /// Removes the (still empty) file: nothing was there to keep.
    pub(crate) fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_fails_after_the_limit() {
        let e = read_all(std::io::repeat(0), 1000).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { limit: 1000 }));
        assert_eq!(
            e.to_string(),
            "larger than 1000 bytes (the limit for this file)"
        );
        #[cfg(unix)]
        assert!(matches!(
            read_file(Path::new("/dev/zero"), SECRET_BYTES),
            Err(ReadError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_file_at_the_limit_is_read() {
        assert_eq!(read_all(&b"abc"[..], 3).unwrap(), b"abc");
        assert!(read_all(&b"abcd"[..], 3).is_err());
        assert_eq!(human(SPEC_BYTES), "4 MiB");
        assert_eq!(human(SECRET_BYTES), "64 KiB");
    }

    #[test]
    fn text_must_be_utf8() {
        let dir = std::env::temp_dir().join(format!("kv-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x");
        std::fs::write(&p, b"ok\n\xff").unwrap();
        assert!(matches!(
            read_text(&p, 100),
            Err(ReadError::NotUtf8 { offset: 3 })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
