//! Text helpers shared by reports, notifications and error messages. Outside text (function output,
//! log tails, reasons people type, values from payloads) passes through here before anyone sees it.

/// Unicode bidirectional controls: they can make `rolled back to v1` display as something else in
/// a mail client or Slack (a "Trojan Source" trick), so they never reach a message.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Drops C0/C1 control characters and bidi controls, keeping newlines and tabs.
pub fn strip_controls(s: &str) -> String {
    s.chars()
        .filter(|c| (!c.is_control() || *c == '\n' || *c == '\t') && !is_bidi_control(*c))
        .collect()
}

/// One line: as [`strip_controls`], and newlines and tabs dropped too.
pub fn one_line(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect()
}

/// At most `max` characters, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// At most `max` characters, keeping the start and the end: error messages echo bad values, and a
/// 100 KB value must not make a 100 KB message.
pub fn bounded(s: String, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s;
    }
    let head: String = s.chars().take(max / 2).collect();
    let tail: String = s.chars().skip(n - max / 2).collect();
    format!("{head}…{tail}")
}

/// The last `max` characters, with `…` in front when cut (log tails: the end is what matters).
pub fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    format!("…{}", s.chars().skip(n - max).collect::<String>())
}

/// The first `most` names, comma-separated, and how many more there are: a reason or a summary
/// names the functions it is about without growing with the fleet.
pub fn first_names<S: AsRef<str>>(names: &[S], most: usize) -> String {
    let mut s = names
        .iter()
        .take(most)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > most {
        s.push_str(&format!(" and {} more", names.len() - most));
    }
    s
}

/// `sha256:` and the first 12 hex digits: enough to tell images apart in a table or a subject.
pub fn short_digest(digest: &str) -> String {
    digest.chars().take("sha256:".len() + 12).collect()
}

/// Rows as left-aligned columns two spaces apart, each line trimmed at the end: the CLI's tables.
pub fn table<R: AsRef<[String]>>(rows: &[R]) -> String {
    let cols = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.as_ref().get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .as_ref()
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_removed_newlines_kept() {
        assert_eq!(strip_controls("a\u{7}b\u{1b}[31m\nc\td"), "ab[31m\nc\td");
        assert_eq!(strip_controls("v1\u{202E}2v\u{2066}x\u{2069}"), "v12vx");
        assert_eq!(strip_controls("c1\u{85}\u{9b}"), "c1");
        assert_eq!(one_line("a\nb\u{202D}c"), "abc");
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(tail("abcdef", 3), "…def");
        assert_eq!(bounded("x".repeat(10), 4), "xx…xx");
        assert_eq!(bounded("abc".into(), 4), "abc");
        assert_eq!(
            short_digest(&format!("sha256:{}", "a".repeat(64))),
            "sha256:aaaaaaaaaaaa"
        );
    }

    #[test]
    fn a_long_list_names_its_first_and_counts_the_rest() {
        assert_eq!(first_names(&["a", "b"], 2), "a, b");
        assert_eq!(first_names(&["a", "b", "c"], 2), "a, b and 1 more");
        assert_eq!(first_names::<String>(&[], 2), "");
    }
}
