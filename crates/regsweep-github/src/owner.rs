//! Who owns the packages: an organisation, the token's own account, or another user.
//!
//! This module owns the [`Owner`] value and its parsing from snok's `account` input.
//! URL prefixes for each owner kind are built in `urls.rs`, nowhere else.

use std::fmt;

/// The account whose container packages are read or changed.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Owner {
    /// An organisation: `/orgs/{org}`.
    Org(String),
    /// The account the token belongs to: `/user`.
    AuthenticatedUser,
    /// Another user, by login: `/users/{username}` (read only in practice).
    User(String),
}

impl Owner {
    /// Interprets snok's `account` input: `user` means the token's own account,
    /// anything else names an organisation.
    pub fn from_account(account: &str) -> Owner {
        let account = account.trim();
        if account == "user" {
            Owner::AuthenticatedUser
        } else {
            Owner::Org(account.to_string())
        }
    }

    /// What the owner is, for messages: "organisation `acme`", "the token's account".
    pub fn describe(&self) -> String {
        match self {
            Owner::Org(org) => format!("organisation `{org}`"),
            Owner::AuthenticatedUser => "the token's own account".to_string(),
            Owner::User(user) => format!("user `{user}`"),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Org(org) => f.write_str(org),
            Owner::AuthenticatedUser => f.write_str("user"),
            Owner::User(user) => write!(f, "users/{user}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_account_table() {
        let cases = [
            ("user", Owner::AuthenticatedUser),
            (" user ", Owner::AuthenticatedUser),
            ("acme", Owner::Org("acme".into())),
            ("User", Owner::Org("User".into())),
            ("users", Owner::Org("users".into())),
        ];
        for (input, want) in cases {
            assert_eq!(Owner::from_account(input), want, "input {input:?}");
        }
    }
}
