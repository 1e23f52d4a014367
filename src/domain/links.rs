//! Which ConnectWise company an account belongs to. The account's key (its link identifier,
//! else its name) is looked for as a company's Company ID and in its `echo_username`
//! custom field (used when another integration took the Company ID). One match links; none
//! or several are reported with the reason — never guessed.

/// A company as linking sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Company {
    pub id: i64,
    pub identifier: String,
    pub name: String,
    pub echo_username: Option<String>,
}

pub use super::state::LinkVia as Via;

#[derive(Clone, Debug, PartialEq)]
pub enum Link {
    Linked {
        company: Company,
        via: Via,
    },
    NotFound {
        reason: String,
    },
    Ambiguous {
        candidates: Vec<(Company, Via)>,
        reason: String,
    },
}

/// Companies indexed by the keys accounts are matched on (both case-insensitive, as
/// ConnectWise compares them).
pub struct Directory {
    by_identifier: std::collections::HashMap<String, Vec<usize>>,
    by_echo: std::collections::HashMap<String, Vec<usize>>,
    companies: Vec<Company>,
}

impl Directory {
    pub fn new(companies: Vec<Company>) -> Self {
        let mut by_identifier: std::collections::HashMap<String, Vec<usize>> = Default::default();
        let mut by_echo: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, c) in companies.iter().enumerate() {
            by_identifier
                .entry(c.identifier.to_lowercase())
                .or_default()
                .push(i);
            if let Some(echo) = c.echo_username.as_deref().filter(|e| !e.trim().is_empty()) {
                by_echo
                    .entry(echo.trim().to_lowercase())
                    .or_default()
                    .push(i);
            }
        }
        Directory {
            by_identifier,
            by_echo,
            companies,
        }
    }

    /// The link of the account whose key is `key`.
    pub fn link(&self, key: &str) -> Link {
        let needle = key.trim().to_lowercase();
        let mut candidates: Vec<(Company, Via)> = Vec::new();
        for (index, via) in self
            .by_identifier
            .get(&needle)
            .into_iter()
            .flatten()
            .map(|i| (*i, Via::CompanyId))
            .chain(
                self.by_echo
                    .get(&needle)
                    .into_iter()
                    .flatten()
                    .map(|i| (*i, Via::EchoUsername)),
            )
        {
            let company = &self.companies[index];
            if !candidates.iter().any(|(c, _)| c.id == company.id) {
                candidates.push((company.clone(), via));
            }
        }
        match candidates.len() {
            0 => Link::NotFound {
                reason: format!(
                    "no ConnectWise company has Company ID {key:?} or echo_username {key:?}"
                ),
            },
            1 => {
                let (company, via) = candidates.remove(0);
                Link::Linked { company, via }
            }
            _ => {
                let names: Vec<String> = candidates
                    .iter()
                    .map(|(c, via)| {
                        let how = match via {
                            Via::CompanyId => "Company ID",
                            Via::EchoUsername => "echo_username",
                        };
                        format!("{} ({} by {how})", c.name, c.identifier)
                    })
                    .collect();
                Link::Ambiguous {
                    reason: format!(
                        "{} companies claim {key:?}: {}; fix ConnectWise so only one does",
                        candidates.len(),
                        names.join(", ")
                    ),
                    candidates,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(id: i64, identifier: &str, echo: Option<&str>) -> Company {
        Company {
            id,
            identifier: identifier.into(),
            name: format!("Company {id}"),
            echo_username: echo.map(Into::into),
        }
    }

    #[test]
    fn links() {
        let directory = Directory::new(vec![
            company(1, "acme-dental", None),
            company(2, "AlpineLogistics", Some("alpine-logistics")),
            company(3, "quartz-labs", None),
            company(4, "QL-EAST", Some("quartz-labs")),
            company(5, "both-ways", Some("both-ways")),
            company(6, "Other", Some("   ")),
        ]);
        // (key, expected company and how, kind)
        type Case<'a> = (&'a str, Option<(i64, Via)>, &'a str);
        let table: &[Case] = &[
            ("acme-dental", Some((1, Via::CompanyId)), "linked"),
            ("ACME-DENTAL", Some((1, Via::CompanyId)), "linked"),
            ("alpine-logistics", Some((2, Via::EchoUsername)), "linked"),
            ("AlpineLogistics", Some((2, Via::CompanyId)), "linked"),
            ("both-ways", Some((5, Via::CompanyId)), "linked"), // one company, two ways
            ("zenith-media", None, "not found"),
            ("quartz-labs", None, "ambiguous"),
            ("", None, "not found"),
        ];
        for &(key, expected, kind) in table {
            let link = directory.link(key);
            match (expected, &link) {
                (Some((id, via)), Link::Linked { company, via: got }) => {
                    assert_eq!((company.id, *got), (id, via), "{key}");
                }
                (None, Link::NotFound { reason }) => {
                    assert_eq!(kind, "not found", "{key}");
                    assert!(reason.contains("no ConnectWise company"), "{reason}");
                }
                (None, Link::Ambiguous { candidates, reason }) => {
                    assert_eq!(kind, "ambiguous", "{key}");
                    assert_eq!(candidates.len(), 2);
                    assert!(
                        reason.contains("QL-EAST") && reason.contains("quartz-labs"),
                        "{reason}"
                    );
                }
                _ => panic!("{key}: expected {kind}, got {link:?}"),
            }
        }
    }
}
