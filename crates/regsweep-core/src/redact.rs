//! One redaction of the configured secrets, for every string that reaches output.
//!
//! A [`Redactor`] holds the secrets of a run (the GitHub token, the registry password,
//! bearer tokens learnt from a registry's token endpoint) and every form in which a
//! server or a library could echo them: as is, JSON-escaped, percent-encoded, and in
//! base64 (standard and URL-safe, with and without padding), alone or inside the
//! `user:secret` of a Basic `Authorization` header. Each occurrence is replaced by
//! [`MARKER`]. The handle is shared: clones see secrets added later, so a token learnt
//! at run time is redacted from then on by every writer.
//!
//! [`Stream`] applies it to text that arrives in chunks (an `io::Write`): it holds back
//! an unfinished line, so a secret split across two writes is still found. Pure: no
//! I/O; the writers that use it live in the binary.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::secret::Secret;

/// What replaces a secret.
pub const MARKER: &str = "[redacted]";

/// Secrets shorter than this are not redacted (they would match everywhere); no real
/// token is this short.
pub const MIN_SECRET_LEN: usize = 4;

/// Shortest stretch of base64 that counts as the encoding of a secret when it is
/// found inside a longer encoded string (e.g. `user:secret`).
const MIN_ENCODED_CORE: usize = 6;

/// Most bytes a [`Stream`] holds back waiting for the end of a line.
const MAX_PENDING: usize = 8 * 1024;

/// The secrets of a run and the forms they are recognised in. Cheap to clone; clones
/// share the same set.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<RwLock<Patterns>>,
}

#[derive(Default)]
struct Patterns {
    forms: Vec<Vec<u8>>,
    matcher: Option<AhoCorasick>,
    longest: usize,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.read().forms.len())
    }
}

impl Redactor {
    /// A redactor of no secrets (it passes text through).
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Patterns> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a secret (a token or password) and its encoded forms.
    pub fn add_secret(&self, secret: &Secret) {
        self.add_forms(secret_forms(secret.expose().trim()));
        if secret.expose().trim() != secret.expose() {
            self.add_forms(secret_forms(secret.expose()));
        }
    }

    /// Adds the Basic credentials `user:secret` (their base64 forms) and the secret.
    pub fn add_basic(&self, user: &str, secret: &Secret) {
        self.add_secret(secret);
        if secret.expose().len() < MIN_SECRET_LEN {
            return;
        }
        let pair = format!("{user}:{}", secret.expose());
        self.add_forms(base64_forms(pair.as_bytes()));
    }

    fn add_forms(&self, forms: Vec<Vec<u8>>) {
        let mut p = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let before = p.forms.len();
        for f in forms {
            if f.len() >= MIN_SECRET_LEN.min(MIN_ENCODED_CORE) && !p.forms.contains(&f) {
                p.forms.push(f);
            }
        }
        if p.forms.len() == before {
            return;
        }
        p.longest = p.forms.iter().map(Vec::len).max().unwrap_or(0);
        p.matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&p.forms)
            .ok();
    }

    /// Whether no secret is known.
    pub fn is_empty(&self) -> bool {
        self.read().forms.is_empty()
    }

    /// `text` with every secret replaced by [`MARKER`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.redact_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Secrets and the marker are whole strings, so the result stays UTF-8
            // except when a secret was cut out of a multi-byte character.
            Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
        }
    }

    /// `bytes` with every secret replaced by [`MARKER`].
    pub fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let (out, cut) = self.replace(bytes, bytes.len());
        debug_assert_eq!(cut, bytes.len());
        match out {
            Some(o) => Cow::Owned(o),
            None => Cow::Borrowed(bytes),
        }
    }

    /// Replaces the secrets in `bytes[..cut]`, moving `cut` past any secret that
    /// starts before it. Returns the replaced text (None: unchanged) and the cut.
    fn replace(&self, bytes: &[u8], mut cut: usize) -> (Option<Vec<u8>>, usize) {
        let p = self.read();
        let Some(m) = &p.matcher else {
            return (None, cut);
        };
        let mut out: Option<Vec<u8>> = None;
        let mut pos = 0;
        for found in m.find_iter(bytes) {
            if found.start() >= cut {
                break;
            }
            cut = cut.max(found.end());
            let o = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
            o.extend_from_slice(&bytes[pos..found.start()]);
            o.extend_from_slice(MARKER.as_bytes());
            pos = found.end();
        }
        if let Some(o) = out.as_mut() {
            o.extend_from_slice(&bytes[pos..cut]);
        }
        (out, cut)
    }

    /// A buffer that redacts text arriving in chunks.
    pub fn stream(&self) -> Stream {
        Stream {
            redactor: self.clone(),
            pending: Vec::new(),
        }
    }
}

/// Redacts text written in chunks: [`Stream::push`] returns what can be written now
/// (whole lines; a long line in parts, never cutting through a secret), and
/// [`Stream::finish`] the rest.
pub struct Stream {
    redactor: Redactor,
    pending: Vec<u8>,
}

impl Stream {
    /// Takes `bytes`; returns the redacted text that is ready to be written.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut ready = Vec::new();
        let _ = self.push_to(bytes, |b| {
            ready.extend_from_slice(b);
            Ok::<(), std::convert::Infallible>(())
        });
        ready
    }

    /// Takes `bytes`; hands `write` the redacted text that is ready (whole lines, or
    /// part of a long line), in one or more pieces. Only the unfinished line held
    /// from the last call and the unfinished line at the end of `bytes` are copied;
    /// the whole lines between go to `write` as they are when they hold no secret
    /// (a report of 100,000 versions is 69 MB).
    pub fn push_to<E>(
        &mut self,
        mut bytes: &[u8],
        mut write: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        if !self.pending.is_empty() {
            let Some(nl) = bytes.iter().position(|b| *b == b'\n') else {
                self.pending.extend_from_slice(bytes);
                return self.write_long_line(write);
            };
            // The held line, finished: a secret in it is whole (none spans lines).
            self.pending.extend_from_slice(&bytes[..=nl]);
            let line = self.take(self.pending.len());
            write(&line)?;
            bytes = &bytes[nl + 1..];
        }
        let Some(nl) = bytes.iter().rposition(|b| *b == b'\n') else {
            self.pending.extend_from_slice(bytes);
            return self.write_long_line(write);
        };
        let (out, cut) = self.redactor.replace(bytes, nl + 1);
        self.pending.extend_from_slice(&bytes[cut..]);
        match out {
            Some(o) => write(&o),
            None => write(&bytes[..cut]),
        }
    }

    /// When the held line is longer than [`MAX_PENDING`], writes all of it but the
    /// end a secret could still start in.
    fn write_long_line<E>(
        &mut self,
        mut write: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.pending.len() <= MAX_PENDING {
            return Ok(());
        }
        let keep = self.redactor.read().longest.saturating_sub(1);
        let part = self.take(self.pending.len().saturating_sub(keep));
        if part.is_empty() {
            return Ok(());
        }
        write(&part)
    }

    /// Everything still held, redacted.
    pub fn finish(&mut self) -> Vec<u8> {
        self.take(self.pending.len())
    }

    /// Whether nothing is held back.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    fn take(&mut self, cut: usize) -> Vec<u8> {
        if cut == 0 {
            return Vec::new();
        }
        let (out, cut) = self.redactor.replace(&self.pending, cut);
        let rest = self.pending.split_off(cut);
        let taken = std::mem::replace(&mut self.pending, rest);
        out.unwrap_or(taken)
    }
}

/// The forms of a secret found in output: as is, JSON-escaped, percent-encoded and
/// base64 (alone, and the part that stays the same inside a longer encoded string).
fn secret_forms(secret: &str) -> Vec<Vec<u8>> {
    if secret.len() < MIN_SECRET_LEN {
        return Vec::new();
    }
    let mut forms = Vec::new();
    // A secret spanning lines is recognised line by line (writers work per line).
    for line in secret.lines().filter(|l| l.len() >= MIN_SECRET_LEN) {
        forms.push(line.as_bytes().to_vec());
    }
    if let Ok(json) = serde_json::to_string(secret) {
        forms.push(json.trim_matches('"').as_bytes().to_vec());
    }
    forms.push(percent_encode(secret, true));
    forms.push(percent_encode(secret, false));
    forms.extend(base64_forms(secret.as_bytes()));
    forms.extend(base64_cores(secret.as_bytes()));
    forms
}

/// Standard and URL-safe base64, with and without padding.
fn base64_forms(bytes: &[u8]) -> Vec<Vec<u8>> {
    [STANDARD, URL_SAFE]
        .iter()
        .map(|e| e.encode(bytes).into_bytes())
        .chain(
            [STANDARD_NO_PAD, URL_SAFE_NO_PAD]
                .iter()
                .map(|e| e.encode(bytes).into_bytes()),
        )
        .collect()
}

/// The characters of base64 that depend only on `secret`, whatever comes before it
/// (at each of the three byte alignments) and after it: so `base64(user:secret)` for
/// any user name contains one of them.
fn base64_cores(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut cores = Vec::new();
    for offset in 0..3usize {
        let mut input = vec![0u8; offset];
        input.extend_from_slice(secret);
        let first = (8 * offset).div_ceil(6);
        let last = 8 * (offset + secret.len()) / 6;
        if last < first + MIN_ENCODED_CORE {
            continue;
        }
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            let enc = engine.encode(&input);
            if let Some(core) = enc.get(first..last) {
                cores.push(core.as_bytes().to_vec());
            }
        }
    }
    cores
}

/// Percent-encoding of everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str, upper: bool) -> Vec<u8> {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else if upper {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &str = "ghp_EchoedSecret123";

    fn redactor() -> Redactor {
        let r = Redactor::new();
        r.add_secret(&Secret::new(TOKEN));
        r
    }

    /// Every form of `secret` a test looks for in output.
    fn encoded_forms(user: &str, secret: &str) -> Vec<String> {
        let pair = format!("{user}:{secret}");
        let mut v = vec![secret.to_string()];
        for e in [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            v.push(e.encode(secret));
            v.push(e.encode(&pair));
        }
        v
    }

    #[test]
    fn redacts_the_token_and_keeps_the_rest() {
        let r = redactor();
        let out = r
            .redact(&format!("answered 403: token {TOKEN} is bad"))
            .into_owned();
        assert_eq!(out, "answered 403: token [redacted] is bad");
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn empty_redactor_passes_text_through() {
        let r = Redactor::new();
        assert!(r.is_empty());
        assert_eq!(r.redact(TOKEN), TOKEN);
    }

    #[test]
    fn short_secrets_are_ignored() {
        let r = Redactor::new();
        r.add_secret(&Secret::new("ab"));
        assert!(r.is_empty());
        assert_eq!(r.redact("a cab"), "a cab");
    }

    #[test]
    fn base64_of_the_token_alone_is_redacted() {
        let r = redactor();
        for e in [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            let enc = e.encode(TOKEN);
            let out = r.redact(&format!("x {enc} y")).into_owned();
            assert_eq!(out, "x [redacted] y", "{enc}");
        }
    }

    #[test]
    fn basic_credentials_of_any_user_are_redacted() {
        // The user name is not known to the redactor: the stable part of the
        // encoding is still found, at every alignment.
        let r = redactor();
        for user in ["", "a", "ab", "abc", "octocat", "x-access-token"] {
            for form in encoded_forms(user, TOKEN) {
                let out = r
                    .redact(&format!("Authorization: Basic {form}"))
                    .into_owned();
                assert!(out.contains(MARKER), "{user}: {form} -> {out}");
                for f in encoded_forms(user, TOKEN) {
                    assert!(!out.contains(&f), "{user}: {f} in {out}");
                }
            }
        }
    }

    #[test]
    fn known_basic_pair_is_redacted_whole() {
        let r = Redactor::new();
        r.add_basic("octocat", &Secret::new(TOKEN));
        let enc = STANDARD.encode(format!("octocat:{TOKEN}"));
        assert_eq!(r.redact(&format!("Basic {enc}")), "Basic [redacted]");
    }

    #[test]
    fn percent_and_json_escaped_forms_are_redacted() {
        let r = Redactor::new();
        r.add_secret(&Secret::new("pa ss/w\"rd"));
        assert_eq!(r.redact("u=pa%20ss%2Fw%22rd"), "u=[redacted]");
        assert_eq!(r.redact("u=pa%20ss%2fw%22rd"), "u=[redacted]");
        assert_eq!(
            r.redact(r#"{"reason":"pa ss/w\"rd"}"#),
            r#"{"reason":"[redacted]"}"#
        );
    }

    #[test]
    fn secrets_added_later_reach_every_clone() {
        let r = Redactor::new();
        let writer_side = r.clone();
        r.add_secret(&Secret::new("learnt_bearer_token"));
        assert_eq!(
            writer_side.redact("Bearer learnt_bearer_token"),
            "Bearer [redacted]"
        );
    }

    #[test]
    fn debug_never_prints_a_secret() {
        let r = redactor();
        assert!(!format!("{r:?}").contains("Secret123"));
    }

    #[test]
    fn stream_finds_a_secret_split_across_writes() {
        let r = redactor();
        let mut s = r.stream();
        let mut out = s.push(b"error: ghp_Echo");
        assert!(out.is_empty(), "an unfinished line is held back");
        out.extend(s.push(b"edSecret123 refused\nnext"));
        assert_eq!(out, b"error: [redacted] refused\n");
        out.extend(s.finish());
        assert_eq!(out, b"error: [redacted] refused\nnext");
        assert!(s.is_empty());
    }

    #[test]
    fn stream_writes_long_lines_in_parts_without_cutting_a_secret() {
        let r = redactor();
        let mut s = r.stream();
        let mut out = Vec::new();
        let filler = "x".repeat(MAX_PENDING);
        out.extend(s.push(filler.as_bytes()));
        out.extend(s.push(b"ghp_EchoedSec"));
        assert!(!out.is_empty(), "a long line is not held back whole");
        out.extend(s.push(b"ret123"));
        out.extend(s.finish());
        assert_eq!(out, format!("{filler}[redacted]").into_bytes());
    }

    fn chunked(r: &Redactor, text: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut s = r.stream();
        let mut out = Vec::new();
        let mut pos = 0;
        for c in cuts {
            let end = (pos + c).min(text.len());
            out.extend(s.push(&text[pos..end]));
            pos = end;
        }
        out.extend(s.push(&text[pos..]));
        out.extend(s.finish());
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    proptest! {
        /// Text written in pieces of any size, lines short and long (past
        /// `MAX_PENDING`), comes out as the whole text redacted at once.
        #[test]
        fn chunked_output_is_the_text_redacted_at_once(
            secret in "[a-zA-Z0-9_]{8,40}",
            parts in proptest::collection::vec((0usize..12_000, 0u8..3), 0..8),
            cuts in proptest::collection::vec(0usize..14_000, 0..12),
        ) {
            let r = Redactor::new();
            r.add_secret(&Secret::new(secret.clone()));
            let mut text = Vec::new();
            for (len, what) in &parts {
                text.extend(std::iter::repeat_n(b'x', *len));
                match what {
                    0 => text.extend_from_slice(secret.as_bytes()),
                    1 => text.push(b'\n'),
                    _ => {
                        text.extend_from_slice(secret.as_bytes());
                        text.push(b'\n');
                    }
                }
            }
            let out = chunked(&r, &text, &cuts);
            prop_assert!(out == r.redact_bytes(&text).into_owned());
        }

        #[test]
        fn output_never_contains_the_secret(
            secret in "[a-zA-Z0-9_]{5,40}",
            user in "[a-z-]{0,12}",
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just(0u8), Just(1u8), Just(2u8), Just(3u8),
                    Just(4u8), Just(5u8), Just(6u8)
                ],
                0..12,
            ),
            noise in "[ a-zA-Z0-9_:\n]{0,30}",
            cuts in proptest::collection::vec(0usize..50, 0..20),
        ) {
            let r = Redactor::new();
            r.add_secret(&Secret::new(secret.clone()));
            let pair = format!("{user}:{secret}");
            let mut text = String::new();
            for p in &pieces {
                text.push_str(&noise);
                match p {
                    0 => text.push_str(&secret),
                    1 => text.push_str(&STANDARD.encode(&secret)),
                    2 => text.push_str(&URL_SAFE_NO_PAD.encode(&secret)),
                    3 => text.push_str(&STANDARD.encode(&pair)),
                    4 => text.push_str(&URL_SAFE.encode(&pair)),
                    5 => text.push_str(&STANDARD_NO_PAD.encode(&pair)),
                    _ => text.push_str(&percent_encode(&secret, true).iter().map(|b| *b as char).collect::<String>()),
                }
            }
            let out = chunked(&r, text.as_bytes(), &cuts);
            prop_assert!(!contains(&out, secret.as_bytes()), "secret in {:?}", String::from_utf8_lossy(&out));
            for e in [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
                prop_assert!(!contains(&out, e.encode(&secret).as_bytes()));
                prop_assert!(!contains(&out, e.encode(&pair).as_bytes()));
            }
            if !pieces.is_empty() {
                prop_assert!(contains(&out, MARKER.as_bytes()));
            }
        }

        #[test]
        fn text_without_secrets_is_unchanged_by_chunking(
            text in "[ a-z\n]{0,200}",
            cuts in proptest::collection::vec(0usize..50, 0..20),
        ) {
            let r = redactor();
            prop_assert_eq!(chunked(&r, text.as_bytes(), &cuts), text.as_bytes());
        }
    }
}
