//! Aggregation expressions: parsed once into a tree, evaluated per document.
//!
//! The evaluator is table-driven. Every ordinary operator is one entry in
//! [`ops::OPERATORS`]: its name, its arity and a function over its already
//! evaluated arguments. The few operators that must control the evaluation
//! of their own arguments (`$cond`, `$and`/`$or` short-circuit, `$ifNull`,
//! `$let`, `$switch`, `$map`, …) are *special forms*: entries in
//! [`special::SPECIAL_FORMS`] whose parse function builds a
//! [`special::SpecialForm`] object. Adding an operator never touches the
//! evaluator itself.
//!
//! Values are `Option<Cow<Bson>>`: `None` is "missing", which MongoDB keeps
//! distinct from null (a missing field is not output by `$project`, and it
//! sorts below null), and borrowing lets `"$a.b"` read the input document
//! without cloning it.

mod accumulated;
mod args;
mod arith;
mod array;
mod basic;
mod bignum;
mod convert;
mod date;
mod decimal;
mod fields;
mod integral;
mod named;
mod numtext;
mod object;
mod ops;
mod path;
mod powers;
mod regex_ops;
mod replace;
mod rounding;
mod sets;
mod sort_array;
mod special;
mod stats;
mod strings;
mod substr;
mod summation;
mod switch;
mod trim;
mod vars;
mod zip;

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use bson::{Bson, Document};

use crate::path::RawDoc;
use crate::{QueryError, QueryResult};

pub(crate) use arith::{add_numbers, Num};
pub(crate) use date::{arith::add as add_to_date, zone::Zone, Unit as TimeUnit};
pub(crate) use decimal::Dec;
pub use ops::type_name;
use ops::OpDef;
pub(crate) use path::{split_path as path_segments, FieldPath};
use special::SpecialForm;
pub(crate) use summation::Summation;

/// The value of an expression: `None` is "missing".
pub(crate) type Value<'a> = Option<Cow<'a, Bson>>;

/// How deeply expressions may nest, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 200;

/// A compiled aggregation expression.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    /// The root of the compiled tree.
    node: Node,
}

/// One node of a compiled expression tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A constant (`$literal`, or any value that is not a path or operator).
    Literal(Bson),
    /// `"$a.b"` or `"$$VAR.a.b"`.
    Path(FieldPath),
    /// `{a: <expr>, b: <expr>}`: a document whose missing fields are left out.
    Object(Vec<(String, Node)>),
    /// `[<expr>, …]`: an array whose missing elements become null.
    Array(Vec<Node>),
    /// An ordinary operator from the table, with its argument expressions.
    Call(&'static OpDef, Vec<Node>),
    /// A special form, which evaluates its own arguments.
    Special(Arc<dyn SpecialForm>),
}

/// The variables a parse can see; `$let` and friends push user variables
/// here, and [`Ctx::vars`] holds their values by the same index.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    /// User variable names in scope, outermost first.
    user_vars: Vec<String>,
    /// How deeply the parse is nested, against [`MAX_DEPTH`].
    depth: usize,
}

impl Scope {
    /// A scope holding the variables an enclosing stage defines (`$lookup`'s
    /// `let`): their slots are their indexes in `names`, and at run time
    /// [`Ctx::with_vars`] supplies their values in the same order.
    pub(crate) fn with_outer(names: &[String]) -> Scope {
        Scope {
            user_vars: names.to_vec(),
            depth: 0,
        }
    }

    /// The slot of a user variable in scope, innermost first.
    pub(crate) fn lookup(&self, name: &str) -> Option<usize> {
        self.user_vars.iter().rposition(|v| v == name)
    }

    /// Parses `body` with extra user variables in scope (for `$let`, `$map`…);
    /// their slots are the returned base index onwards.
    pub(crate) fn with_vars<T>(
        &mut self,
        names: &[String],
        body: impl FnOnce(&mut Scope, usize) -> QueryResult<T>,
    ) -> QueryResult<T> {
        let base = self.user_vars.len();
        self.user_vars.extend(names.iter().cloned());
        let result = body(self, base);
        self.user_vars.truncate(base);
        result
    }
}

/// The value bound to a user variable: borrowed from the input, or
/// computed and shared (cheaply) by every context that can see it.
#[derive(Debug, Clone)]
pub(crate) enum Binding<'a> {
    /// A value inside the document or the expression.
    Borrowed(&'a Bson),
    /// A computed value.
    Shared(Rc<Bson>),
}

impl<'a> Binding<'a> {
    /// Binds an evaluated value; missing stays missing (`None`).
    pub(crate) fn of(value: Value<'a>) -> Option<Binding<'a>> {
        value.map(|v| match v {
            Cow::Borrowed(b) => Binding::Borrowed(b),
            Cow::Owned(b) => Binding::Shared(Rc::new(b)),
        })
    }
}

/// `$$ROOT`: a decoded document, or a stored one still in raw BSON.
///
/// A raw root is what lets a store run `$group` without decoding the runs
/// it streams: a field path then decodes only the value it reaches, instead
/// of every document on the way being built and dropped for each run.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Root<'a> {
    /// A decoded document.
    Doc(&'a Document),
    /// Raw BSON, read field by field.
    Raw(RawDoc<'a>),
}

impl<'a> Root<'a> {
    /// The whole document, decoded if it is raw.
    pub(crate) fn document(self) -> QueryResult<Cow<'a, Document>> {
        match self {
            Root::Doc(doc) => Ok(Cow::Borrowed(doc)),
            Root::Raw(raw) => raw.decode().map(Cow::Owned).ok_or_else(corrupt),
        }
    }
}

/// The error for raw BSON that cannot be read: a stored document is
/// corrupt (the store writes only well-formed documents).
pub(crate) fn corrupt() -> QueryError {
    QueryError::new("a stored document is corrupt")
}

/// What an expression is evaluated against.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    /// `$$ROOT`, which is also `$$CURRENT` unless a `$let` rebinds it.
    pub(crate) root: Root<'a>,
    /// Values of user variables, by the slot [`Scope::lookup`] gave.
    pub(crate) vars: Vec<Option<Binding<'a>>>,
}

impl<'a> Ctx<'a> {
    /// A context with `$$ROOT = $$CURRENT = root` and no user variables.
    pub(crate) fn new(root: &'a Document) -> Self {
        Ctx {
            root: Root::Doc(root),
            vars: Vec::new(),
        }
    }

    /// A context whose first user variables are `vars` (`None` = missing),
    /// for expressions parsed in a [`Scope::with_outer`] of the same names.
    pub(crate) fn with_vars(root: &'a Document, vars: &'a [Option<Bson>]) -> Self {
        Ctx::with_root(Root::Doc(root), vars)
    }

    /// [`Ctx::with_vars`] over a root that may be raw.
    pub(crate) fn with_root(root: Root<'a>, vars: &'a [Option<Bson>]) -> Self {
        Ctx {
            root,
            vars: vars
                .iter()
                .map(|v| v.as_ref().map(Binding::Borrowed))
                .collect(),
        }
    }
}

impl Expr {
    /// Compiles an aggregation expression.
    pub(crate) fn parse(spec: &Bson) -> QueryResult<Expr> {
        Ok(Expr {
            node: Node::parse(spec, &mut Scope::default())?.folded()?,
        })
    }

    /// Compiles an aggregation expression that may read the variables of
    /// `scope` (see [`Scope::with_outer`]).
    pub(crate) fn parse_in(spec: &Bson, scope: &Scope) -> QueryResult<Expr> {
        let mut scope = Scope::with_outer(&scope.user_vars);
        Ok(Expr {
            node: Node::parse(spec, &mut scope)?.folded()?,
        })
    }

    /// Evaluates with `$$ROOT = $$CURRENT = doc`; `None` means "missing".
    pub(crate) fn evaluate(&self, doc: &Document) -> QueryResult<Option<Bson>> {
        Ok(self.node.eval(&Ctx::new(doc))?.map(Cow::into_owned))
    }

    /// Evaluates with `$$ROOT = $$CURRENT = doc` and the outer variables
    /// `vars` (see [`Ctx::with_vars`]).
    pub(crate) fn evaluate_with(
        &self,
        doc: &Document,
        vars: &[Option<Bson>],
    ) -> QueryResult<Option<Bson>> {
        Ok(self
            .node
            .eval(&Ctx::with_vars(doc, vars))?
            .map(Cow::into_owned))
    }

    /// The expression's value when it reads neither the document nor any
    /// variable (`[1, {$add: [2, 3]}]`), as the server folds constants;
    /// `None` if it is not constant.
    pub(crate) fn constant(&self) -> Option<QueryResult<Option<Bson>>> {
        self.node
            .is_constant()
            .then(|| self.evaluate(&Document::new()))
    }

    /// Evaluates in a context, borrowing from the document where it can.
    pub(crate) fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        self.node.eval(ctx)
    }
}

/// Applies an ordinary operator to evaluated arguments (`"$subtract"`,
/// `[a, b]`): for the window functions the server defines by the
/// operators' arithmetic (`$derivative`, `$integral`, `$linearFill`), so
/// their result types follow the operators' rules. `None` is "missing".
pub(crate) fn apply_operator(name: &str, args: &[Bson]) -> QueryResult<Option<Bson>> {
    let def = ops::lookup(name)
        .ok_or_else(|| QueryError::new(format!("Unrecognized expression '{name}'")))?;
    let values = args.iter().map(|a| Some(Cow::Borrowed(a))).collect();
    Ok((def.eval)(values)?.map(Cow::into_owned))
}

/// Aggregation truthiness: false, null, missing, undefined and numeric zero
/// are false; everything else (NaN, empty strings and arrays too) is true.
pub(crate) fn is_truthy(value: Option<&Bson>) -> bool {
    match value {
        None | Some(Bson::Null | Bson::Undefined) => false,
        Some(Bson::Boolean(b)) => *b,
        Some(Bson::Int32(i)) => *i != 0,
        Some(Bson::Int64(i)) => *i != 0,
        Some(Bson::Double(f)) => *f != 0.0,
        Some(Bson::Decimal128(d)) => decimal::Dec::from_decimal128(d).is_none_or(|d| !d.is_zero()),
        Some(_) => true,
    }
}

impl Node {
    /// Compiles one expression value.
    pub(crate) fn parse(spec: &Bson, scope: &mut Scope) -> QueryResult<Node> {
        if scope.depth >= MAX_DEPTH {
            return Err(QueryError::new(format!(
                "expression nesting depth exceeds the limit of {MAX_DEPTH}"
            )));
        }
        scope.depth += 1;
        let node = Node::parse_value(spec, scope);
        scope.depth -= 1;
        node
    }

    /// Compiles one value, without the depth bookkeeping.
    fn parse_value(spec: &Bson, scope: &mut Scope) -> QueryResult<Node> {
        match spec {
            Bson::String(s) if s.starts_with('$') => Ok(Node::Path(FieldPath::parse(s, scope)?)),
            Bson::Document(doc) => Node::parse_document(doc, scope),
            Bson::Array(items) => Ok(Node::Array(
                items
                    .iter()
                    .map(|item| Node::parse(item, scope))
                    .collect::<QueryResult<_>>()?,
            )),
            other => Ok(Node::Literal(other.clone())),
        }
    }

    /// A document is an operator call when its first field starts with `$`,
    /// and an expression object otherwise.
    fn parse_document(doc: &Document, scope: &mut Scope) -> QueryResult<Node> {
        let Some((first, arg)) = doc.iter().next() else {
            return Ok(Node::Literal(Bson::Document(Document::new())));
        };
        if !first.starts_with('$') {
            return Node::parse_object(doc, scope);
        }
        if doc.len() != 1 {
            return Err(QueryError::new(format!(
                "an expression specification must contain exactly one field, the name of the \
                 expression. Found {} fields in {}",
                doc.len(),
                doc
            )));
        }
        Node::parse_operator(first, arg, scope)
    }

    /// Compiles an expression object `{a: <expr>, …}`.
    fn parse_object(doc: &Document, scope: &mut Scope) -> QueryResult<Node> {
        let mut fields = Vec::with_capacity(doc.len());
        for (name, value) in doc {
            path::validate_field_name(name)?;
            fields.push((name.clone(), Node::parse(value, scope)?));
        }
        Ok(Node::Object(fields))
    }

    /// Looks `name` up among the special forms, then the operator table.
    fn parse_operator(name: &str, arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
        if let Some((_, parse)) = special::SPECIAL_FORMS.iter().find(|(n, _)| *n == name) {
            return parse(arg, scope);
        }
        let def = ops::lookup(name)
            .ok_or_else(|| QueryError::new(format!("Unrecognized expression '{name}'")))?;
        let args = Node::parse_args(arg, scope)?;
        def.arity.check(def.name, args.len())?;
        Ok(Node::Call(def, args))
    }

    /// A whole expression that is constant, evaluated once now, as the
    /// server folds constants when it optimizes a pipeline: so an
    /// expression like `{$add: ["a", 1]}` is an error even when no document
    /// reaches it. Only whole expressions fold (the test server does not
    /// fail on a constant error inside an untaken `$cond` branch or an
    /// unneeded `onError`). A result of "missing" keeps the node (a literal
    /// cannot be missing).
    fn folded(self) -> QueryResult<Node> {
        if !self.is_constant() {
            return Ok(self);
        }
        let empty = Document::new();
        let value = self.eval(&Ctx::new(&empty))?.map(Cow::into_owned);
        Ok(match value {
            Some(value) => Node::Literal(value),
            None => self,
        })
    }

    /// An operator's argument: an array is the argument list, anything else
    /// is a single argument.
    pub(crate) fn parse_args(arg: &Bson, scope: &mut Scope) -> QueryResult<Vec<Node>> {
        match arg {
            Bson::Array(items) => items.iter().map(|item| Node::parse(item, scope)).collect(),
            other => Ok(vec![Node::parse(other, scope)?]),
        }
    }

    /// Whether the node's value depends on nothing but itself: no path, no
    /// variable, and no special form (which may bind variables).
    fn is_constant(&self) -> bool {
        match self {
            Node::Literal(_) => true,
            Node::Path(_) | Node::Special(_) => false,
            Node::Object(fields) => fields.iter().all(|(_, node)| node.is_constant()),
            Node::Array(items) => items.iter().all(Node::is_constant),
            Node::Call(_, args) => args.iter().all(Node::is_constant),
        }
    }

    /// Evaluates this node.
    pub(crate) fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        match self {
            Node::Literal(v) => Ok(Some(Cow::Borrowed(v))),
            Node::Path(p) => p.eval(ctx),
            Node::Object(fields) => {
                let mut out = Document::new();
                for (name, node) in fields {
                    if let Some(v) = node.eval(ctx)? {
                        out.insert(name.clone(), v.into_owned());
                    }
                }
                Ok(Some(Cow::Owned(Bson::Document(out))))
            }
            Node::Array(items) => {
                let values = items
                    .iter()
                    .map(|item| Ok(item.eval(ctx)?.map_or(Bson::Null, Cow::into_owned)))
                    .collect::<QueryResult<_>>()?;
                Ok(Some(Cow::Owned(Bson::Array(values))))
            }
            Node::Call(def, args) => {
                let values = args
                    .iter()
                    .map(|a| a.eval(ctx))
                    .collect::<QueryResult<Vec<_>>>()?;
                (def.eval)(values)
            }
            Node::Special(form) => form.eval(ctx),
        }
    }
}

/// Every expression operator's name, for the fuzzer.
#[cfg(test)]
pub(crate) fn operator_names() -> Vec<&'static str> {
    let ordinary = ops::OPERATORS.iter().map(|def| def.name);
    let special = special::SPECIAL_FORMS.iter().map(|(name, _)| *name);
    ordinary.chain(special).collect()
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_arith;
#[cfg(test)]
mod tests_array;
#[cfg(test)]
mod tests_convert;
#[cfg(test)]
mod tests_date;
#[cfg(test)]
mod tests_string;
#[cfg(test)]
mod tests_vars;
