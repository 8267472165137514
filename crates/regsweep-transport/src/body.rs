//! Reading an answer's body with a cap, chunk by chunk: reading stops at the cap, so
//! an endless or huge body costs at most the cap in memory.
//!
//! A successful answer whose body exceeds the cap is an error ([`BodyError::TooLarge`]):
//! its content would be cut, and a cut listing or manifest must never be used. The
//! body of an unsuccessful answer is only read for its message: it is cut at
//! [`MAX_ERROR_BODY`] and kept, the status being the information.

use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::defaults::MAX_ERROR_BODY;

/// A body that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body went past the cap; reading stopped there.
    #[error("the answer's body is larger than {} (regsweep stopped reading at that limit)\n  expected {what} of at most {}\n  help: check the URL points at the right server; a server sending an endless body is faulty or hostile", human_size(*cap), human_size(*cap))]
    TooLarge { cap: usize, what: &'static str },
    /// The connection failed while reading.
    #[error(transparent)]
    Read(#[from] reqwest::Error),
}

/// An answer, its body read within the cap.
#[derive(Debug)]
pub struct Capped {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// `1 KiB`, `4 MiB`, `123 bytes`.
pub fn human_size(n: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n % MIB == 0 {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n % KIB == 0 {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// Reads `resp`'s status, headers and body. A successful answer's body may hold up
/// to `cap` bytes (`what` names it in the error); an unsuccessful one's is cut at
/// [`MAX_ERROR_BODY`].
pub async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
    what: &'static str,
) -> Result<Capped, BodyError> {
    let status = resp.status();
    let headers = std::mem::take(resp.headers_mut());
    let success = status.is_success();
    let limit = if success {
        cap
    } else {
        cap.min(MAX_ERROR_BODY)
    };
    if success && resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { cap, what });
    }
    let mut body = Gather::default();
    while let Some(chunk) = resp.chunk().await? {
        if body.len + chunk.len() > limit {
            if success {
                return Err(BodyError::TooLarge { cap, what });
            }
            let room = limit - body.len;
            body.push(chunk.slice(..room));
            break;
        }
        body.push(chunk);
    }
    Ok(Capped {
        status,
        headers,
        body: body.finish(),
    })
}

/// A body as its chunks arrive: a body that comes in one chunk (most pages, on a
/// fast link) is that chunk itself; a longer one is copied together once.
#[derive(Default)]
struct Gather {
    first: Option<Bytes>,
    rest: BytesMut,
    len: usize,
}

impl Gather {
    fn push(&mut self, chunk: Bytes) {
        self.len += chunk.len();
        match self.first.take() {
            None if self.rest.is_empty() => self.first = Some(chunk),
            Some(first) => {
                self.rest.reserve(self.len);
                self.rest.extend_from_slice(&first);
                self.rest.extend_from_slice(&chunk);
            }
            None => self.rest.extend_from_slice(&chunk),
        }
    }

    fn finish(self) -> Bytes {
        self.first.unwrap_or_else(|| self.rest.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_gathered_in_order() {
        for chunks in [
            vec![],
            vec!["abc"],
            vec!["ab", "", "c"],
            vec!["", "abc"],
            vec!["a", "b", "c", "d"],
        ] {
            let mut g = Gather::default();
            for c in &chunks {
                g.push(Bytes::from(c.to_string()));
            }
            assert_eq!(g.finish(), Bytes::from(chunks.concat()), "{chunks:?}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(16 * 1024 * 1024), "16 MiB");
        assert_eq!(human_size(64 * 1024), "64 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}
