//! Is a raft snapshot whole? Vault and OpenBao write a snapshot as a gzip-compressed tar
//! archive (`meta.json`, `state.bin`, `SHA256SUMS`). A body that ends cleanly but short (a
//! close-delimited HTTP/1 body, a proxy cutting it) is still a gzip stream that stops early:
//! the gzip trailer (CRC-32 and length) and the tar end are what prove the archive complete,
//! and `SHA256SUMS`, when present, proves each member.
//!
//! Pure: it reads from any [`Read`] the caller opens (the edge hands in the downloaded file).

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

/// What a complete snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    /// Member names and sizes, in archive order.
    pub members: Vec<(String, u64)>,
    /// Whether a `SHA256SUMS` member was there (and every sum it lists matched).
    pub checksummed: bool,
}

/// Why a snapshot is not whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("not a gzip stream ({0})")]
    NotGzip(String),
    #[error("the gzip stream is cut short or corrupt ({0})")]
    Gzip(String),
    #[error("the tar archive inside is cut short or corrupt ({0})")]
    Tar(String),
    #[error("{name}: its SHA-256 does not match SHA256SUMS")]
    Checksum { name: String },
    #[error("SHA256SUMS lists {name}, which the archive does not hold")]
    Missing { name: String },
    #[error("the archive holds no file")]
    Empty,
}

const BLOCK: usize = 512;

/// Reads the whole snapshot from `input` and says whether it is complete.
pub fn check(input: impl Read) -> Result<Archive, Broken> {
    let mut gz = flate2::read::GzDecoder::new(input);
    if gz.header().is_none() {
        // The header is read lazily: a first read tells whether it is there at all.
        let mut first = [0u8; 0];
        let _ = gz.read(&mut first);
    }
    let mut tar = TarReader { inner: gz, read: 0 };
    let mut members = Vec::new();
    let mut sums: BTreeMap<String, String> = BTreeMap::new();
    let mut listed: Option<String> = None;
    loop {
        let mut header = [0u8; BLOCK];
        tar.fill(&mut header)?;
        if header.iter().all(|b| *b == 0) {
            // The end: a second zero block, then nothing but zeros (padding to a record).
            let mut second = [0u8; BLOCK];
            tar.fill(&mut second)?;
            if second.iter().any(|b| *b != 0) {
                return Err(Broken::Tar("a zero block inside the archive".into()));
            }
            tar.drain_zeros()?;
            break;
        }
        let name = field_str(&header[0..100]);
        let size = octal(&header[124..136]).ok_or_else(|| {
            Broken::Tar(format!(
                "member {}: a size that is not a number",
                printable(&name)
            ))
        })?;
        let kind = header[156];
        let mut hasher = Sha256::new();
        let mut keep = Vec::new();
        let is_sums = name == "SHA256SUMS";
        let mut left = size;
        let mut buf = [0u8; 64 * 1024];
        while left > 0 {
            let n = (left as usize).min(buf.len());
            tar.fill(&mut buf[..n])?;
            hasher.update(&buf[..n]);
            if is_sums && keep.len() < 1 << 20 {
                keep.extend_from_slice(&buf[..n]);
            }
            left -= n as u64;
        }
        let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
        let mut padding = [0u8; BLOCK];
        tar.fill(&mut padding[..pad])?;
        if kind == b'0' || kind == 0 {
            if is_sums {
                listed = Some(String::from_utf8_lossy(&keep).into_owned());
            } else {
                sums.insert(name.clone(), hex::encode(hasher.finalize()));
            }
            members.push((name, size));
        }
    }
    if members.is_empty() {
        return Err(Broken::Empty);
    }
    let checksummed = match listed {
        None => false,
        Some(text) => {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let mut words = line.split_whitespace();
                let (Some(sum), Some(file)) = (words.next(), words.next()) else {
                    return Err(Broken::Tar(
                        "SHA256SUMS has a line that is not `SUM  FILE`".into(),
                    ));
                };
                let file = file.trim_start_matches('*').to_string();
                match sums.get(&file) {
                    None => {
                        return Err(Broken::Missing {
                            name: printable(&file),
                        })
                    }
                    Some(actual) if !actual.eq_ignore_ascii_case(sum) => {
                        return Err(Broken::Checksum {
                            name: printable(&file),
                        })
                    }
                    Some(_) => {}
                }
            }
            true
        }
    };
    Ok(Archive {
        members,
        checksummed,
    })
}

/// The decompressed stream, read in exact pieces; a gzip error (a cut stream, a bad CRC) and an
/// early end are told apart.
struct TarReader<R: Read> {
    inner: flate2::read::GzDecoder<R>,
    read: u64,
}

impl<R: Read> TarReader<R> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Broken> {
        let mut at = 0;
        while at < buf.len() {
            match self.inner.read(&mut buf[at..]) {
                Ok(0) => {
                    return Err(if self.read == 0 && at == 0 {
                        if self.inner.header().is_none() {
                            Broken::NotGzip("no gzip header".into())
                        } else {
                            Broken::Tar("the archive is empty".into())
                        }
                    } else {
                        Broken::Tar(format!(
                            "it ends after {} bytes, inside a member or before the end marker",
                            self.read + at as u64
                        ))
                    })
                }
                Ok(n) => at += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if self.inner.header().is_none() => {
                    return Err(Broken::NotGzip(e.to_string()))
                }
                Err(e) => return Err(Broken::Gzip(e.to_string())),
            }
        }
        self.read += buf.len() as u64;
        Ok(())
    }

    /// Reads to the end of the gzip stream (so its trailer is checked), expecting zeros.
    fn drain_zeros(&mut self) -> Result<(), Broken> {
        let mut buf = [0u8; BLOCK];
        loop {
            match self.inner.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) if buf[..n].iter().all(|b| *b == 0) => {}
                Ok(_) => return Err(Broken::Tar("data after the end marker".into())),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Broken::Gzip(e.to_string())),
            }
        }
    }
}

fn field_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn octal(bytes: &[u8]) -> Option<u64> {
    let text = field_str(bytes);
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// A member name as it may be shown: at most 100 characters (a tar name field's size),
/// escaped as all outside text is.
fn printable(name: &str) -> String {
    crate::outside::shown(&name.chars().take(100).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A tar archive of `members` (ustar headers, as Go's archive/tar writes them), gzipped.
    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = Vec::new();
        for (name, body) in members {
            let mut h = [0u8; BLOCK];
            h[..name.len()].copy_from_slice(name.as_bytes());
            h[100..107].copy_from_slice(b"0000644");
            h[124..135].copy_from_slice(format!("{:011o}", body.len()).as_bytes());
            h[156] = b'0';
            h[257..262].copy_from_slice(b"ustar");
            // Checksum: the header's bytes summed with the checksum field as spaces.
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|b| *b as u32).sum();
            h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            tar.extend_from_slice(&h);
            tar.extend_from_slice(body);
            tar.resize(tar.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        tar.extend_from_slice(&[0u8; 2 * BLOCK]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    fn snapshot() -> Vec<u8> {
        let state = vec![7u8; 3000];
        let meta = br#"{"Version":1,"ID":"2-9-1700000000"}"#;
        let sums = format!(
            "{}  meta.json\n{}  state.bin\n",
            hex::encode(Sha256::digest(meta)),
            hex::encode(Sha256::digest(&state))
        );
        archive(&[
            ("meta.json", meta),
            ("state.bin", &state),
            ("SHA256SUMS", sums.as_bytes()),
        ])
    }

    #[test]
    fn a_whole_snapshot_passes_with_its_checksums() {
        let a = check(&snapshot()[..]).unwrap();
        assert!(a.checksummed);
        assert_eq!(
            a.members
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            ["meta.json", "state.bin", "SHA256SUMS"]
        );
    }

    #[test]
    fn every_cut_of_a_snapshot_is_refused() {
        let whole = snapshot();
        for len in (0..whole.len())
            .step_by(7)
            .chain([whole.len() - 1, whole.len() - 8])
        {
            assert!(
                check(&whole[..len]).is_err(),
                "cut at {len} of {}",
                whole.len()
            );
        }
    }

    #[test]
    fn a_corrupt_byte_or_a_wrong_sum_is_refused() {
        let mut bad = snapshot();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        assert!(check(&bad[..]).is_err());
        let sums = "00  state.bin\n";
        let wrong = archive(&[("state.bin", b"x"), ("SHA256SUMS", sums.as_bytes())]);
        assert_eq!(
            check(&wrong[..]),
            Err(Broken::Checksum {
                name: "state.bin".into()
            })
        );
        assert!(matches!(
            check(&b"not gzip at all"[..]),
            Err(Broken::NotGzip(_))
        ));
        let tar_without_end = {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&[0u8; 100]).unwrap();
            gz.finish().unwrap()
        };
        assert!(check(&tar_without_end[..]).is_err());
    }
}
