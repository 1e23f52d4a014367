//! Level names are case-sensitive: ConnectWise matches a cross-reference only on the exact
//! text. When a typed level is not known, suggest the one the user most likely meant.

/// The known level closest to `typed`: one that differs only in letter case first, else the
/// nearest within a small edit distance (a typo). `None` when nothing is close.
pub fn suggest<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed_lower = typed.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for name in known {
        if name == typed {
            continue;
        }
        if name.to_lowercase() == typed_lower {
            return Some(name);
        }
        let distance = edit_distance(&typed_lower, &name.to_lowercase());
        // Short names (often numbers) are never "typos" of each other: 3 is not 1.
        let allowed = match typed.chars().count().max(name.chars().count()) {
            0..=2 => 0,
            3..=5 => 1,
            _ => 2,
        };
        if distance > 0 && distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, name));
        }
    }
    best.map(|(_, name)| name)
}

/// Edit distance over characters where swapping two neighbours counts as one edit
/// (optimal string alignment), since "Glod" is one slip of the fingers from "Gold".
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between the first i chars of a and the first j of b.
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let known = ["Gold", "Silver", "Bronze", "1", "2", "Premium"];
        let table: &[(&str, Option<&str>)] = &[
            ("gold", Some("Gold")),       // case only
            ("GOLD", Some("Gold")),       // case only
            ("Glod", Some("Gold")),       // typo
            ("Silvr", Some("Silver")),    // typo
            ("premium", Some("Premium")), // case only
            ("Gold", None),               // exact: nothing to suggest
            ("Platinum", None),           // nothing close
            ("3", None),                  // short names are not typos of each other
            ("Gld", Some("Gold")),
            ("", None),
        ];
        for &(typed, expected) in table {
            assert_eq!(suggest(typed, known), expected, "typed {typed:?}");
        }
    }

    #[test]
    fn case_only_match_beats_a_closer_typo() {
        assert_eq!(suggest("ab", ["aB", "ab2"]), Some("aB"));
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("glod", "gold"), 1);
    }
}
