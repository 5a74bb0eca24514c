//! The write buffer behind a [`RunGuard`](crate::RunGuard).
//!
//! Inside a guard, `store` and `push` only land here; the outermost guard
//! turns the buffer into one MongoDB update document. The buffer folds
//! writes exactly as applying them one by one would, and never produces an
//! update that the server would refuse as a path conflict: no key in it is a
//! prefix of another.

use std::collections::BTreeMap;
use std::ops::Bound;

use bson::{doc, Bson, Document};

use crate::Error;
use yamlett_query::advanced::type_name;
use yamlett_query::{Update, UpdateContext};

/// One pending write at a key.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    /// The key's whole value, replaced.
    Set(Bson),
    /// Values appended, in order, to the array at the key.
    Push(Vec<Bson>),
}

/// The outcome of folding one write into the buffer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fold {
    /// The write is in the buffer.
    Folded,
    /// The write depends on stored data the buffer cannot see (for example
    /// a store below a key that has pending pushes); the caller must flush
    /// the buffer first and then fold the write, whose value comes back
    /// here untouched, into the empty buffer.
    FlushFirst(Bson),
}

/// Buffered writes, keyed by dotted path. Invariant: no key is a dotted
/// prefix of another, so the update document built from it never conflicts.
#[derive(Debug, Default, Clone)]
pub(crate) struct Buffer {
    pending: BTreeMap<String, Pending>,
}

impl Buffer {
    /// True when nothing is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Folds `store(key, value)`: afterwards the key holds `value`, and
    /// anything buffered below it is gone.
    pub(crate) fn store(&mut self, key: &str, value: Bson) -> Result<Fold, Error> {
        // The training loop's case: the key is buffered already, so by the
        // invariant nothing above or below it is, and replacing is all.
        if let Some(slot) = self.pending.get_mut(key) {
            *slot = Pending::Set(value);
            return Ok(Fold::Folded);
        }
        if let Some((prefix, rest)) = self.pending_prefix(key) {
            return self.fold_into_prefix(key, prefix, "$set", rest, value);
        }
        self.remove_below(key);
        self.pending.insert(key.to_owned(), Pending::Set(value));
        Ok(Fold::Folded)
    }

    /// Folds `push(key, value)`: afterwards `value` is the last element of
    /// the array at the key.
    pub(crate) fn push(&mut self, key: &str, value: Bson) -> Result<Fold, Error> {
        if let Some((prefix, rest)) = self.pending_prefix(key) {
            return self.fold_into_prefix(key, prefix, "$push", rest, value);
        }
        if self.has_pending_below(key) {
            // The stored value at `key` decides whether this push is valid,
            // and the buffer cannot see it.
            return Ok(Fold::FlushFirst(value));
        }
        match self.pending.get_mut(key) {
            Some(Pending::Push(values)) => values.push(value),
            Some(Pending::Set(Bson::Array(items))) => items.push(value),
            Some(Pending::Set(other)) => {
                return Err(Error::Conflict {
                    key: key.to_owned(),
                    reason: format!(
                        "the field must be an array but is of type {}",
                        type_name(Some(other))
                    ),
                })
            }
            None => {
                self.pending
                    .insert(key.to_owned(), Pending::Push(vec![value]));
            }
        }
        Ok(Fold::Folded)
    }

    /// Writes the buffered writes into the update document `update` (empty,
    /// or holding only an empty `$set`): `$set` for replaced keys, `$push`
    /// with `$each` for appends.
    pub(crate) fn write_update(&self, update: &mut Document) {
        let mut push = Document::new();
        for (key, pending) in &self.pending {
            match pending {
                Pending::Set(value) => {
                    set_of(update).insert(key.clone(), value.clone());
                }
                Pending::Push(values) => {
                    push.insert(key.clone(), doc! { "$each": values.clone() });
                }
            }
        }
        if !push.is_empty() {
            update.insert("$push", push);
        }
    }

    /// Empties the buffer, returning what it held.
    pub(crate) fn take(&mut self) -> Buffer {
        std::mem::take(self)
    }

    /// The first buffered key, to name in an error about the whole flush.
    pub(crate) fn first_key(&self) -> Option<&str> {
        self.pending.keys().next().map(String::as_str)
    }

    /// The nearest buffered key that is a dotted prefix of `key`, and the
    /// rest of `key` below it.
    fn pending_prefix<'k>(&self, key: &'k str) -> Option<(&'k str, &'k str)> {
        key.match_indices('.').find_map(|(dot, _)| {
            let prefix = &key[..dot];
            self.pending
                .contains_key(prefix)
                .then(|| (prefix, &key[dot + 1..]))
        })
    }

    /// Applies `operator` (`$set` or `$push`) of `value` at `rest`, relative
    /// to the value buffered at `prefix`, with the update engine, so the fold
    /// follows MongoDB's rules for paths through documents and arrays.
    fn fold_into_prefix(
        &mut self,
        key: &str,
        prefix: &str,
        operator: &str,
        rest: &str,
        value: Bson,
    ) -> Result<Fold, Error> {
        let Some(Pending::Set(buffered)) = self.pending.get_mut(prefix) else {
            // Writes below a pushed key depend on the stored array.
            return Ok(Fold::FlushFirst(value));
        };
        // The engine works on documents and a buffered value is any BSON, so
        // it becomes the only field `v` of a root while the update applies.
        let update = doc! { operator: { format!("v.{rest}"): value } };
        let mut root = Document::new();
        root.insert("v", std::mem::take(buffered));
        let context = UpdateContext {
            is_insert: false,
            now: bson::DateTime::now(),
        };
        // The engine leaves `root` unchanged on error, so the buffered value
        // goes back intact either way.
        let result = Update::parse(&update).and_then(|update| update.apply(&mut root, &context));
        *buffered = root.remove("v").unwrap_or(Bson::Null);
        result.map_err(|err| Error::Conflict {
            key: key.to_owned(),
            reason: err.to_string(),
        })?;
        Ok(Fold::Folded)
    }

    fn has_pending_below(&self, key: &str) -> bool {
        self.keys_below(key).next().is_some()
    }

    fn remove_below(&mut self, key: &str) {
        if self.has_pending_below(key) {
            let below: Vec<String> = self.keys_below(key).map(str::to_owned).collect();
            for k in below {
                self.pending.remove(&k);
            }
        }
    }

    /// Buffered keys strictly below `key` (`key.x`, `key.x.y`, …). All keys
    /// starting with `key` are contiguous in the map, so the scan stops at
    /// the first one that does not.
    fn keys_below<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pending
            .range::<str, _>((Bound::Excluded(key), Bound::Unbounded))
            .map(|(k, _)| k.as_str())
            .take_while(move |k| k.starts_with(key))
            .filter(move |k| k.as_bytes().get(key.len()) == Some(&b'.'))
    }
}

/// The `$set` of an update document, added if it has none.
pub(crate) fn set_of(update: &mut Document) -> &mut Document {
    if !matches!(update.get("$set"), Some(Bson::Document(_))) {
        update.insert("$set", Document::new());
    }
    match update.get_mut("$set") {
        Some(Bson::Document(set)) => set,
        _ => unreachable!("inserted above"),
    }
}
