//! MongoDB (PCRE) regular expressions on top of the `regex` crate.
//!
//! The server uses PCRE2 in UTF mode. The two dialects agree on most syntax;
//! where they differ we translate so the same strings match:
//!
//! - `$` (without `m`) and `\Z` also match before a final newline in PCRE;
//! - inside a character class PCRE reads `[`, `&&`, `~~` literally, `regex`
//!   would read them as nested classes or set operations, so they are escaped;
//!   `[\b]` is a backspace.
//!
//! `\d \w \s \b` stay Unicode-aware: the reference server matched `^\d$`
//! against an Arabic-Indic digit.
//!
//! Features `regex` cannot do (look-around, backreferences, atomic groups,
//! possessive quantifiers, recursion, `\Q…\E`, …) make compilation fail with
//! an error naming the pattern rather than matching differently.

use regex::{Regex, RegexBuilder};

use super::{QueryError, QueryResult};

/// A compiled MongoDB regular expression with its source and options.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    source: String,
    options: String,
    regex: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source && self.options == other.options
    }
}

impl Pattern {
    /// Compiles `source` with MongoDB `options` (any of `i m s x u`).
    pub(crate) fn new(source: &str, options: &str) -> QueryResult<Pattern> {
        let mut builder = RegexBuilder::new(&translate(source, options.contains('m'))?);
        for flag in options.chars() {
            match flag {
                'i' => builder.case_insensitive(true),
                'm' => builder.multi_line(true),
                's' => builder.dot_matches_new_line(true),
                'x' => builder.ignore_whitespace(true),
                // PCRE's UTF/UCP mode: `regex` is always Unicode-aware.
                'u' => &mut builder,
                other => {
                    return Err(QueryError::new(format!(
                        "invalid flag in regex options: {other}"
                    )))
                }
            };
        }
        let regex = builder
            .build()
            .map_err(|e| unsupported(source, &e.to_string()))?;
        Ok(Pattern {
            source: source.to_owned(),
            options: options.to_owned(),
            regex,
        })
    }

    /// Whether the pattern matches somewhere in `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    /// The compiled regex, for searches that need match positions and
    /// capture groups (`$regexFind`).
    pub(crate) fn regex(&self) -> &Regex {
        &self.regex
    }

    /// The pattern as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The options as written.
    pub(crate) fn options(&self) -> &str {
        &self.options
    }
}

/// The error for a pattern the `regex` crate cannot express.
fn unsupported(source: &str, detail: &str) -> QueryError {
    QueryError::new(format!(
        "Regular expression is invalid or uses an unsupported feature: /{source}/: {detail}"
    ))
}

/// PCRE's `$` outside multi-line mode: end of text or before a final newline.
const END_OR_FINAL_NEWLINE: &str = r"(?:\n?\z)";

/// Rewrites the PCRE-only meanings of `pattern` into `regex` syntax.
fn translate(pattern: &str, multi_line: bool) -> QueryResult<String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // Inside a character class, and whether a `]` now would be literal
    // (first position, as in `[]a]` or `[^]a]`).
    let mut in_class = false;
    let mut class_start = false;
    // Whether the previous token was a quantifier, so a `+` now would make
    // it possessive, which `regex` would misread as a repeated repetition.
    let mut after_quantifier = false;
    while let Some(c) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        let quantified = std::mem::take(&mut after_quantifier);
        match c {
            '+' if quantified => {
                return Err(unsupported(
                    pattern,
                    "possessive quantifiers are not supported",
                ))
            }
            '*' | '+' | '?' | '}' if !in_class => {
                after_quantifier = true;
                out.push(c);
            }
            '\\' => match chars.next() {
                Some(escaped) => translate_escape(escaped, in_class, &mut out),
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                class_start = true;
            }
            '[' if chars.peek() == Some(&':') => {
                // A POSIX class `[:name:]` is copied whole so its closing `]`
                // does not end the outer class.
                out.push('[');
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == ']' {
                        break;
                    }
                }
            }
            '[' => out.push_str(r"\["),
            ']' if in_class && at_class_start => out.push_str(r"\]"),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' if in_class && chars.peek() == Some(&c) => {
                chars.next();
                out.push('\\');
                out.push(c);
                out.push('\\');
                out.push(c);
            }
            '$' if !in_class && !multi_line => out.push_str(END_OR_FINAL_NEWLINE),
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Appends the `regex` spelling of PCRE's escape `\c`.
fn translate_escape(c: char, in_class: bool, out: &mut String) {
    match c {
        'b' if in_class => out.push_str(r"\x08"),
        'Z' if !in_class => out.push_str(END_OR_FINAL_NEWLINE),
        other => {
            out.push('\\');
            out.push(other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, options: &str, text: &str) -> bool {
        Pattern::new(pattern, options).unwrap().is_match(text)
    }

    #[test]
    fn plain_patterns_and_flags() {
        assert!(m("^ab", "", "abc"));
        assert!(!m("^AB", "", "abc"));
        assert!(m("^AB", "i", "abc"));
        assert!(m("^b", "m", "a\nb"));
        assert!(!m("^b", "", "a\nb"));
        assert!(!m("a.b", "", "a\nb"));
        assert!(m("a.b", "s", "a\nb"));
        assert!(m("a b # comment", "x", "ab"));
        assert!(m("é", "iu", "É"));
    }

    #[test]
    fn dollar_matches_before_a_final_newline() {
        assert!(m("a$", "", "a\n"));
        assert!(!m("a$", "", "a\nb"));
        assert!(m("a$", "m", "a\nb"));
        assert!(m(r"a\Z", "", "a\n"));
        assert!(m("[$]", "", "$"));
    }

    #[test]
    fn shorthand_classes() {
        assert!(m(r"^\d$", "", "7"));
        // server: matches (Unicode digits count).
        assert!(m(r"^\d$", "", "٣"));
        assert!(m(r"^\w$", "", "é"));
        assert!(m(r"^[\w.]+$", "", "a.b_1"));
        assert!(m(r"^[^\d]+$", "", "abc"));
        assert!(m(r"\bfoo\b", "", "a foo b"));
        assert!(m(r"^[\b]$", "", "\u{8}"));
    }

    #[test]
    fn pcre_class_literals() {
        assert!(m("^[a[]+$", "", "a[a"));
        assert!(m("^[]a]+$", "", "]a"));
        assert!(m("^[^]a]$", "", "b"));
        assert!(m("^[a&&b]+$", "", "a&&b"));
        assert!(m("^[[:alpha:]]+$", "", "abc"));
        assert!(m("^[[:alpha:]0]+$", "", "ab0"));
        assert!(m(r"^\.$", "", "."));
        assert!(m(r"a\/b", "", "a/b"));
    }

    #[test]
    fn unsupported_features_and_flags_are_errors() {
        for pattern in [
            r"(?<=a)b", r"(a)\1", r"a(?=b)", r"(?>a)", "a++", "a*+", r"\Qa\E",
        ] {
            let err = Pattern::new(pattern, "").unwrap_err();
            assert!(err.message().contains("unsupported"), "{pattern}: {err}");
        }
        assert_eq!(
            Pattern::new("a", "q").unwrap_err().message(),
            "invalid flag in regex options: q"
        );
        assert!(Pattern::new("a", "l").is_err());
    }
}
