//! The demo's customers, defined once: the accounts the demo tenant holds (`demo.rs`)
//! and the companies the sandbox's demo seed holds for them, with the hard cases that make
//! linking interesting. Both sides read them from here, so they cannot drift apart.

/// The demo customers; a few are known to ConnectWise by another identifier.
pub const ACCOUNTS: [&str; 50] = [
    "acme-dental",
    "alpine-logistics",
    "apex-legal",
    "aspen-clinic",
    "atlas-builders",
    "beacon-realty",
    "birch-accounting",
    "blue-harbor-hotel",
    "brightpath-law",
    "cedar-schools",
    "cobalt-engineering",
    "coral-pharmacy",
    "crestview-vets",
    "delta-freight",
    "ember-bakery",
    "evergreen-insurance",
    "falcon-aviation",
    "fjord-shipping",
    "garnet-jewelers",
    "granite-mortgage",
    "harbor-medical",
    "highland-farms",
    "horizon-travel",
    "ironwood-manufacturing",
    "jade-architects",
    "juniper-spa",
    "keystone-credit",
    "lakeside-dentistry",
    "lumen-optics",
    "maple-pediatrics",
    "meridian-consulting",
    "monarch-events",
    "nimbus-software",
    "northwind-traders",
    "oak-family-law",
    "orchid-florists",
    "pacific-brewing",
    "pinnacle-fitness",
    "quartz-labs",
    "redwood-capital",
    "riverbend-church",
    "sage-counseling",
    "sierra-auto",
    "summit-chiropractic",
    "tidewater-marine",
    "timber-homes",
    "union-plumbing",
    "vertex-robotics",
    "willow-vision",
    "zenith-media",
];

/// Accounts whose ConnectWise Company ID was taken by another integration: their company
/// carries the account name in the `echo_username` custom field instead.
pub const LINKED_BY_ECHO_USERNAME: [&str; 5] = [
    "alpine-logistics",
    "cedar-schools",
    "garnet-jewelers",
    "lumen-optics",
    "sage-counseling",
];
/// An account with no company in ConnectWise.
pub const NOT_IN_PSA: &str = "zenith-media";
/// An account two companies claim (one by Company ID, one by `echo_username`).
pub const CLAIMED_TWICE: &str = "quartz-labs";
/// An account whose company has two active agreements of the backup agreement type.
pub const TWO_AGREEMENTS: &str = "redwood-capital";
/// An account known to ConnectWise by another identifier, set as its link identifier.
pub const LINK_IDENTIFIER: (&str, &str) = ("northwind-traders", "NWT-001");

/// The ConnectWise Company ID of an account that has one (`echo_username` companies get a
/// name-style ID, as another integration would have created them).
pub fn company_identifier(account: &str) -> String {
    if LINKED_BY_ECHO_USERNAME.contains(&account) {
        company_name(account).replace(' ', "")
    } else if account == LINK_IDENTIFIER.0 {
        LINK_IDENTIFIER.1.to_owned()
    } else {
        account.to_owned()
    }
}

/// The ConnectWise company name of an account: "acme-dental" → "Acme Dental".
pub fn company_name(account: &str) -> String {
    account
        .split('-')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
