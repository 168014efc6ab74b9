//! Making outside text safe to show. Function output, log tails and reasons come from code we do
//! not control: they must not ping a Slack channel, inject links or formatting, or carry terminal
//! escapes into a mail client; and no field may grow a message towards SNS's 256 KB limit.

pub use crate::text::{strip_controls, truncate};

/// Text for Slack/Chatbot markdown. `&`, `<`, `>` are entity-escaped (Slack's own rule), which
/// defuses `<!channel>`, `<@U123>` and `<http://x|links>`; bare `@here`/`@channel`/`@everyone`
/// get a zero-width joiner so they do not notify; `*`, `_`, `~` and backticks are replaced by
/// look-alikes so outside text cannot format or break out of a code span.
pub fn slack(s: &str) -> String {
    slack_code(s)
        .chars()
        .map(|c| match c {
            '*' => '∗',
            '_' => 'ˍ',
            '~' => '∼',
            c => c,
        })
        .collect()
}

/// Text inside a Slack code span or block, where `*`, `_` and `~` do not format (so they stay, and
/// commands remain copy-pastable): only entities, backticks and mentions are defused.
pub fn slack_code(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in strip_controls(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('ˋ'),
            _ => out.push(c),
        }
    }
    for word in ["here", "channel", "everyone"] {
        out = out.replace(&format!("@{word}"), &format!("@\u{200d}{word}"));
    }
    out
}

/// A subject SNS accepts: printable ASCII, no line breaks, at most `max` characters (cut with
/// `...`). Non-ASCII characters become `?`.
pub fn subject(s: &str, max: usize) -> String {
    let ascii: String = s
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect();
    let ascii = ascii.trim().to_owned();
    if ascii.len() <= max {
        ascii
    } else {
        format!("{}...", &ascii[..max - 3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_escaping_defuses_mentions_links_and_formatting() {
        assert_eq!(slack("<!channel> deploy"), "&lt;!channel&gt; deploy");
        assert_eq!(
            slack("<https://evil.example|click>"),
            "&lt;https://evil.example|click&gt;"
        );
        assert_eq!(
            slack("hey @here and @channel"),
            "hey @\u{200d}here and @\u{200d}channel"
        );
        assert_eq!(
            slack("*bold* _it_ ~del~ `code`"),
            "∗bold∗ ˍitˍ ∼del∼ ˋcodeˋ"
        );
        assert_eq!(slack("a & b"), "a &amp; b");
        assert_eq!(slack("bell\u{7} esc\u{1b}[31m\nline"), "bell esc[31m\nline");
        assert_eq!(
            slack_code("a_b *c* `d` <!here> @channel"),
            "a_b *c* ˋdˋ &lt;!here&gt; @\u{200d}channel"
        );
    }

    #[test]
    fn subjects_are_ascii_single_line_and_bounded() {
        assert_eq!(subject("DEPLOYED api v2", 100), "DEPLOYED api v2");
        assert_eq!(subject("FAILED\nfn é", 100), "FAILED fn ?");
        let long = format!("DEPLOYED {} v1", "f".repeat(120));
        let s = subject(&long, 100);
        assert_eq!(s.len(), 100);
        assert!(s.ends_with("..."));
        assert!(s.is_ascii());
    }

    #[test]
    fn bidi_overrides_never_reach_slack_or_mail_text() {
        assert_eq!(slack("rolled back to v1\u{202E}2v"), "rolled back to v12v");
        assert_eq!(slack_code("a\u{2066}b\u{2069}"), "ab");
        assert_eq!(strip_controls("x\u{202A}y"), "xy");
    }
}
