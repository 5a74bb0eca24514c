//! `$regexMatch`, `$regexFind` and `$regexFindAll`: `{input, regex,
//! options}`, with the query engine's PCRE translation
//! ([`crate::pattern`]). Match positions are reported in code
//! points; a capture group that did not take part is null.

use std::sync::Arc;

use bson::{doc, Bson};

use super::args::{eval_opt, owned, required, NamedArgs};
use super::special::SpecialForm;
use super::{Ctx, Node, Scope, Value};
use crate::pattern::Pattern;
use crate::{QueryError, QueryResult};

/// Which of the three operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `$regexMatch`: a boolean.
    Match,
    /// `$regexFind`: the first match, or null.
    Find,
    /// `$regexFindAll`: every match.
    FindAll,
}

/// A regex operator.
#[derive(Debug)]
struct RegexOp {
    /// The operator name, for messages.
    op: &'static str,
    /// Which operator.
    kind: Kind,
    /// The string searched.
    input: Node,
    /// The pattern: a string or a BSON regex.
    regex: Node,
    /// Options, if given.
    options: Option<Node>,
}

impl RegexOp {
    /// The result when the input or the pattern is null.
    fn null_result(&self) -> Bson {
        match self.kind {
            Kind::Match => Bson::Boolean(false),
            Kind::Find => Bson::Null,
            Kind::FindAll => Bson::Array(Vec::new()),
        }
    }

    /// An error in the server's words.
    fn error(&self, detail: &str) -> QueryError {
        QueryError::new(format!("{} {detail}", self.op))
    }

    /// Compiles the pattern from the `regex` and `options` values; `None`
    /// when the pattern is null.
    fn pattern(
        &self,
        regex: Option<&Bson>,
        options: Option<&Bson>,
    ) -> QueryResult<Option<Pattern>> {
        let (source, regex_options) = match regex {
            None | Some(Bson::Null | Bson::Undefined) => (None, String::new()),
            Some(Bson::String(s)) => (Some(s.as_str()), String::new()),
            Some(Bson::RegularExpression(r)) => (Some(r.pattern.as_str()), r.options.to_string()),
            Some(_) => return Err(self.error("needs 'regex' to be of type string or regex")),
        };
        let options = match options {
            None | Some(Bson::Null | Bson::Undefined) => None,
            Some(Bson::String(s)) => Some(s.as_str()),
            Some(_) => return Err(self.error("needs 'options' to be of type string")),
        };
        if options.is_some() && !regex_options.is_empty() {
            return Err(
                self.error("found regex option(s) specified in both 'regex' and 'option' fields")
            );
        }
        let Some(source) = source else {
            return Ok(None);
        };
        if source.contains('\0') {
            return Err(self.error("Regular expression cannot contain an embedded null byte"));
        }
        let options = options.unwrap_or(&regex_options);
        if options.contains('\0') {
            return Err(self
                .error("Regular expression options string cannot contain an embedded null byte"));
        }
        Pattern::new(source, options)
            .map(Some)
            .map_err(|e| self.error(&format!("invalid regex: {}", e.message())))
    }
}

/// The match document `{match, idx, captures}` for the match of `caps`,
/// `idx` counted in code points.
fn match_doc(text: &str, caps: &regex::Captures<'_>) -> Bson {
    let whole = caps.get(0).map_or((0, 0), |m| (m.start(), m.end()));
    let idx = text
        .get(..whole.0)
        .map_or(0, |before| before.chars().count());
    let captures: Vec<Bson> = caps
        .iter()
        .skip(1)
        .map(|group| group.map_or(Bson::Null, |m| Bson::String(m.as_str().to_owned())))
        .collect();
    Bson::Document(doc! {
        "match": text.get(whole.0..whole.1).unwrap_or_default(),
        "idx": i32::try_from(idx).unwrap_or(i32::MAX),
        "captures": captures,
    })
}

/// Every match the server reports: after a match, searching resumes at its
/// end; after an empty match, one code point further; and the search stops
/// once the end of the string is reached (so no empty match at the end of
/// a non-empty string).
fn find_all(pattern: &Pattern, text: &str) -> Vec<Bson> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(caps) = pattern.regex().captures_at(text, pos) {
        let Some(m) = caps.get(0) else { break };
        out.push(match_doc(text, &caps));
        pos = if m.is_empty() {
            let step = text
                .get(m.start()..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
            m.start() + step
        } else {
            m.end()
        };
        if pos >= text.len() {
            break;
        }
    }
    out
}

impl SpecialForm for RegexOp {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let input = self.input.eval(ctx)?;
        let regex = self.regex.eval(ctx)?;
        let options = eval_opt(&self.options, ctx)?;
        let text = match input.as_deref() {
            None | Some(Bson::Null | Bson::Undefined) => None,
            Some(Bson::String(s)) => Some(s.as_str()),
            Some(_) => return Err(self.error("needs 'input' to be of type string")),
        };
        let pattern = self.pattern(regex.as_deref(), options.as_deref())?;
        let (Some(text), Some(pattern)) = (text, pattern) else {
            return owned(self.null_result());
        };
        let result = match self.kind {
            Kind::Match => Bson::Boolean(pattern.is_match(text)),
            Kind::Find => pattern
                .regex()
                .captures(text)
                .map_or(Bson::Null, |caps| match_doc(text, &caps)),
            Kind::FindAll => Bson::Array(find_all(&pattern, text)),
        };
        owned(result)
    }
}

/// Parses one of the regex operators.
fn parse_regex(op: &'static str, kind: Kind, arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(
        op,
        arg,
        &["input", "regex", "options"],
        &["input", "regex"],
        scope,
    )?;
    Ok(Node::Special(Arc::new(RegexOp {
        op,
        kind,
        input: required(&mut args, 0),
        regex: required(&mut args, 1),
        options: args.take(2),
    })))
}

/// Parses `$regexMatch`.
pub(crate) fn parse_regex_match(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_regex("$regexMatch", Kind::Match, arg, scope)
}

/// Parses `$regexFind`.
pub(crate) fn parse_regex_find(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_regex("$regexFind", Kind::Find, arg, scope)
}

/// Parses `$regexFindAll`.
pub(crate) fn parse_regex_find_all(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_regex("$regexFindAll", Kind::FindAll, arg, scope)
}
