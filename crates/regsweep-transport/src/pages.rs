//! The page budget of one listing: how many pages it may take before it is stopped
//! as runaway (`next` links with ever-new page numbers, a server that never says
//! "last").
//!
//! With the listing's announced size (a package's `version_count`) the budget is the
//! pages that size needs at the smallest page size the server may use, plus slack
//! for items added while listing; without it, [`MAX_PAGES`]. Going past the budget
//! fails the listing: a truncated listing must never be planned on.

use crate::defaults::{MAX_PAGES, PAGE_SLACK};

/// A listing went past its page budget.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("the listing went on past {budget} pages{}; it was stopped and is not used (a partial listing is never planned on)\n  expected the server to stop sending `next` links\n  help: this is a server defect (a `Link` header that never ends); run again later, or report it", announced_note(*announced))]
pub struct PagesExceeded {
    pub budget: u64,
    pub announced: Option<u64>,
}

fn announced_note(announced: Option<u64>) -> String {
    match announced {
        Some(n) => format!(" although the server announced {n} entries"),
        None => String::new(),
    }
}

/// How many pages a listing may take.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PageBudget {
    budget: u64,
    announced: Option<u64>,
}

impl PageBudget {
    /// The budget of a listing of `announced` entries (when known) served at least
    /// `min_page_size` a page.
    pub fn new(announced: Option<u64>, min_page_size: u64) -> PageBudget {
        let budget = match announced {
            Some(n) => {
                let needed = n.div_ceil(min_page_size.max(1)).max(1);
                needed
                    .saturating_add(PAGE_SLACK.max(needed / 4))
                    .min(MAX_PAGES)
            }
            None => MAX_PAGES,
        };
        PageBudget { budget, announced }
    }

    /// The budget in pages.
    pub fn pages(&self) -> u64 {
        self.budget
    }

    /// Whether page number `page` (1 for the first) may be requested.
    pub fn admit(&self, page: u64) -> Result<(), PagesExceeded> {
        if page <= self.budget {
            Ok(())
        } else {
            Err(PagesExceeded {
                budget: self.budget,
                announced: self.announced,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_table() {
        let cases = [
            // 160 versions at 30 a page: 6 pages, 3 of slack.
            (Some(160), 30, 9),
            (Some(0), 30, 4),
            (Some(30), 30, 4),
            (Some(31), 30, 5),
            // Large listings get a quarter more.
            (Some(3000), 30, 125),
            (Some(u64::MAX), 1, MAX_PAGES),
            (None, 30, MAX_PAGES),
            (Some(10), 0, 13),
        ];
        for (announced, size, want) in cases {
            assert_eq!(
                PageBudget::new(announced, size).pages(),
                want,
                "{announced:?} {size}"
            );
        }
    }

    #[test]
    fn admit_until_budget() {
        let b = PageBudget::new(Some(160), 30);
        assert!(b.admit(1).is_ok() && b.admit(9).is_ok());
        let e = b.admit(10).unwrap_err();
        assert_eq!(e.budget, 9);
        let text = e.to_string();
        assert!(
            text.contains("160 entries") && text.contains("help:"),
            "{text}"
        );
    }
}
