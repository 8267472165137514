//! Reading local files the user names (a policy file, a journal) with a size cap, so a wrong path
//! such as `/dev/zero` or a huge file fails at once instead of filling memory.

use std::io::Read;
use std::path::Path;

/// Why a capped read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it holds more than {cap} bytes, the most read")]
    TooLarge { cap: usize },
    #[error("it is not UTF-8 text")]
    NotText,
}

/// Reads at most `cap` bytes of `path`; more is an error, never a truncation.
pub fn read(path: &Path, cap: usize) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(cap as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > cap {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, cap: usize) -> Result<String, ReadError> {
    String::from_utf8(read(path, cap)?).map_err(|_| ReadError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_zero_is_refused_not_read_forever() {
        let e = read_to_string(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { cap: 1024 }), "{e}");
    }

    #[test]
    fn small_file_reads_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.yaml");
        std::fs::write(&p, "rules: []\n").unwrap();
        assert_eq!(read_to_string(&p, 10).unwrap(), "rules: []\n");
        assert!(matches!(
            read_to_string(&p, 9),
            Err(ReadError::TooLarge { cap: 9 })
        ));
    }
}
