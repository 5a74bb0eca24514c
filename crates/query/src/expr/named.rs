//! Operators whose argument is a document of named parameters
//! (`{$map: {input: …, as: …, in: …}}`): splitting that document into the
//! parameters an operator knows, with the operator's own error wording.

use bson::Bson;

use super::ops::type_name;
use crate::{QueryError, QueryResult};

/// How one operator words the errors of its argument document.
pub(crate) struct Wording {
    /// The error for an argument that is not a document, given its type name.
    pub(crate) not_object: fn(&str) -> String,
    /// The error for a parameter the operator does not know, given its name.
    pub(crate) unknown: fn(&str) -> String,
    /// The error for a required parameter that is absent, given its name.
    pub(crate) missing: fn(&str) -> String,
}

/// The values of the parameters `names` in `arg`, in that order; `None`
/// where a parameter is absent. Unknown parameters are refused.
pub(crate) fn named_args<'b, const N: usize>(
    arg: &'b Bson,
    names: [&str; N],
    wording: &Wording,
) -> QueryResult<[Option<&'b Bson>; N]> {
    let Bson::Document(doc) = arg else {
        return Err(QueryError::new((wording.not_object)(type_name(Some(arg)))));
    };
    let mut found = [None; N];
    for (key, value) in doc {
        let slot = names
            .iter()
            .position(|name| name == key)
            .ok_or_else(|| QueryError::new((wording.unknown)(key)))?;
        if let Some(entry) = found.get_mut(slot) {
            *entry = Some(value);
        }
    }
    Ok(found)
}

/// A parameter that must be present.
pub(crate) fn required<'b>(
    value: Option<&'b Bson>,
    name: &str,
    wording: &Wording,
) -> QueryResult<&'b Bson> {
    value.ok_or_else(|| QueryError::new((wording.missing)(name)))
}
