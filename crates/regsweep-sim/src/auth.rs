//! Who is calling and what they may do: token lookup from `Authorization`, scopes of
//! classic tokens, grants of the Actions token, and access to one package. Decided by
//! capability (the scenario's token kind), never by the token's prefix.

use axum::http::HeaderMap;
use regsweep_core::Visibility;

use crate::scenario::{AccountKind, AppPermission, TokenKind, TokenSpec};
use crate::world::{Account, Package};

/// The caller of one request.
#[derive(Clone, Debug)]
pub(crate) enum Caller {
    Anonymous,
    /// A credential was sent but is not known.
    Invalid,
    Token(TokenSpec),
}

impl Caller {
    /// For the request log.
    pub fn kind(&self) -> &'static str {
        match self {
            Caller::Anonymous => "anonymous",
            Caller::Invalid => "invalid",
            Caller::Token(t) => match t.kind {
                TokenKind::Classic => "classic",
                TokenKind::Actions => "actions",
                TokenKind::App => "app",
            },
        }
    }
}

/// What a caller may do with a package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    /// Not visible: answered 404.
    Hidden,
    Read,
    Admin,
}

/// The token in `Authorization: Bearer|token X` or `Basic base64(user:X)`.
pub(crate) fn credential(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" | "token" => Some(rest.to_string()),
        "basic" => {
            let decoded = base64_decode(rest)?;
            let text = String::from_utf8(decoded).ok()?;
            let (_, password) = text.split_once(':')?;
            Some(password.to_string())
        }
        _ => Some(String::new()),
    }
}

/// Whether the request carried a Basic credential.
#[cfg(test)]
pub(crate) fn is_basic(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("basic "))
}

/// Resolves the caller from the token table.
pub(crate) fn caller(
    headers: &HeaderMap,
    tokens: &std::collections::HashMap<String, TokenSpec>,
) -> Caller {
    match credential(headers) {
        None if headers.get("authorization").is_none() => Caller::Anonymous,
        None => Caller::Invalid,
        Some(t) => tokens
            .get(&t)
            .cloned()
            .map_or(Caller::Invalid, Caller::Token),
    }
}

/// Whether a classic token has `scope` (or one that implies it).
pub(crate) fn has_scope(t: &TokenSpec, scope: &str) -> bool {
    t.scopes
        .iter()
        .any(|s| s == scope || (scope == "read:packages" && s == "write:packages"))
}

/// The `X-OAuth-Scopes` value of a classic token.
pub(crate) fn scopes_header(t: &TokenSpec) -> Option<String> {
    (t.kind == TokenKind::Classic).then(|| t.scopes.join(", "))
}

/// Whether `list` (of `account/package`) names `package` of `account`.
fn named(list: &[String], account: &Account, package: &Package) -> bool {
    list.iter().any(|g| {
        g.split_once('/').is_some_and(|(a, p)| {
            a.eq_ignore_ascii_case(&account.name) && p.eq_ignore_ascii_case(&package.name)
        })
    })
}

/// What `t` may do with `package` of `account` (scopes are checked separately).
pub(crate) fn package_access(t: &TokenSpec, account: &Account, package: &Package) -> Access {
    let public = package.visibility == Visibility::Public;
    let fallback = if public { Access::Read } else { Access::Hidden };
    match t.kind {
        TokenKind::Classic => match account.kind {
            AccountKind::Org if named(&t.not_admin_of, account, package) => Access::Read,
            AccountKind::Org => Access::Admin,
            AccountKind::User => {
                let own = t
                    .user
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(&account.name));
                if own {
                    Access::Admin
                } else {
                    fallback
                }
            }
        },
        TokenKind::App => {
            let installed = t
                .installed_on
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&account.name));
            match (installed, t.permission) {
                (true, AppPermission::Write) => Access::Admin,
                (true, AppPermission::Read) => Access::Read,
                (false, _) => fallback,
            }
        }
        TokenKind::Actions => {
            let granted = named(&t.grants, account, package);
            if granted {
                Access::Admin
            } else {
                fallback
            }
        }
    }
}

/// Standard base64 (with or without padding); `None` when malformed.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = s.bytes().filter(|&b| b != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        out.push((acc >> 16) as u8);
        if chunk.len() > 2 {
            out.push((acc >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(acc as u8);
        }
    }
    Some(out)
}

/// Standard base64 with padding.
#[cfg(test)]
pub(crate) fn base64_encode(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "user:ghp_secret", "x:y:z"] {
            assert_eq!(
                base64_decode(&base64_encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("!!!!").is_none());
    }

    #[test]
    fn credential_reads_all_schemes() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(credential(&h).as_deref(), Some("abc"));
        h.insert("authorization", "token abc".parse().unwrap());
        assert_eq!(credential(&h).as_deref(), Some("abc"));
        let basic = format!("Basic {}", base64_encode(b"anyone:abc"));
        h.insert("authorization", basic.parse().unwrap());
        assert_eq!(credential(&h).as_deref(), Some("abc"));
        assert!(is_basic(&h));
    }
}
