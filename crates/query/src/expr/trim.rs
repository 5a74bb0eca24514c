//! `$trim`, `$ltrim` and `$rtrim`: `{input, chars}`, removing code points
//! from the ends of a string.

use std::sync::Arc;

use bson::Bson;

use super::args::{eval_opt, null, owned, required, NamedArgs};
use super::ops::type_name;
use super::special::SpecialForm;
use super::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// What the server trims when no `chars` are given: NUL, the ASCII
/// whitespace, no-break space, ogham space mark and the U+2000 … U+200A
/// spaces (but not, e.g., U+3000).
const WHITESPACE: &[char] = &[
    '\u{0}', '\u{9}', '\u{A}', '\u{B}', '\u{C}', '\u{D}', ' ', '\u{A0}', '\u{1680}', '\u{2000}',
    '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}',
    '\u{2009}', '\u{200A}',
];

/// Which ends to trim.
#[derive(Debug, Clone, Copy)]
enum Ends {
    /// `$trim`.
    Both,
    /// `$ltrim`.
    Start,
    /// `$rtrim`.
    End,
}

/// A trim operator.
#[derive(Debug)]
struct Trim {
    /// The operator name, for messages.
    op: &'static str,
    /// Which ends.
    ends: Ends,
    /// The string.
    input: Node,
    /// The characters to remove, if given.
    chars: Option<Node>,
}

/// The error for an argument that is not a string.
fn not_a_string(op: &str, what: &str, value: &Bson) -> QueryError {
    QueryError::new(format!(
        "{op} requires {what} to be a string, got {value} (of type {}) instead.",
        type_name(Some(value))
    ))
}

impl SpecialForm for Trim {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let input = self.input.eval(ctx)?;
        let input = match input.as_deref() {
            None | Some(Bson::Null | Bson::Undefined) => return null(),
            Some(Bson::String(s)) => s.clone(),
            Some(other) => return Err(not_a_string(self.op, "its input", other)),
        };
        let chars: Vec<char> = match &self.chars {
            None => WHITESPACE.to_vec(),
            Some(_) => match eval_opt(&self.chars, ctx)?.as_deref() {
                None | Some(Bson::Null | Bson::Undefined) => return null(),
                Some(Bson::String(s)) => s.chars().collect(),
                Some(other) => return Err(not_a_string(self.op, "'chars'", other)),
            },
        };
        let trimmed = match self.ends {
            Ends::Both => input.trim_matches(chars.as_slice()),
            Ends::Start => input.trim_start_matches(chars.as_slice()),
            Ends::End => input.trim_end_matches(chars.as_slice()),
        };
        owned(Bson::String(trimmed.to_owned()))
    }
}

/// Parses one of the trim operators.
fn parse_trim(op: &'static str, ends: Ends, arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(op, arg, &["input", "chars"], &["input"], scope)?;
    Ok(Node::Special(Arc::new(Trim {
        op,
        ends,
        input: required(&mut args, 0),
        chars: args.take(1),
    })))
}

/// Parses `$trim`.
pub(crate) fn parse_trim_both(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_trim("$trim", Ends::Both, arg, scope)
}

/// Parses `$ltrim`.
pub(crate) fn parse_ltrim(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_trim("$ltrim", Ends::Start, arg, scope)
}

/// Parses `$rtrim`.
pub(crate) fn parse_rtrim(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_trim("$rtrim", Ends::End, arg, scope)
}
