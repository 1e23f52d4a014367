//! Accept-style request headers (`Accept`, `Accept-Encoding`): a comma-separated list of
//! `name;param=…` items, each with a quality `q` (RFC 9110 §12.4.2).

/// Each item of `list`: its name (trimmed, as written) and its quality in thousandths,
/// 1000 when it gives none. Empty items are left out.
pub fn items(list: &str) -> impl Iterator<Item = (&str, u16)> {
    list.split(',').filter_map(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let quality = parts
            .filter_map(|p| {
                let (key, value) = p.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().ok())
                    .flatten()
            })
            .next()
            .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0).round() as u16);
        (!name.is_empty()).then_some((name, quality))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn items_carry_their_quality() {
        let items: Vec<_> =
            super::items("gzip, br;q=0.5 , ,*;Q = 0, text/html;level=1;q=2").collect();
        assert_eq!(
            items,
            [("gzip", 1000), ("br", 500), ("*", 0), ("text/html", 1000)]
        );
    }
}
