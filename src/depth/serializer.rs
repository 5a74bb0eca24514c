//! Serializes a user's value to BSON without recursing deeper than a limit.
//!
//! A serde `Serialize` impl recurses once per level of the value (or more:
//! an `Option` or a `Box` adds frames without adding a BSON level), so a
//! value nested 20,000 levels deep would overflow the stack inside
//! serialization, long before any check on the result could run. This
//! adapter sits between the value and `bson`'s serializer and counts: each
//! nested call one step, each document or array one level; past either
//! limit it fails instead of going deeper.

use std::fmt::Display;

use bson::Bson;
use serde::ser::{self, Serialize};

/// The most nested `serialize` calls that do not open a document or array
/// (`Some`, newtypes), on top of the levels themselves: generous for real
/// types, and still a bounded recursion.
const MAX_TRANSPARENT_STEPS: usize = 400;

/// The stack a level may need before [`stacker`] moves to a new segment.
const RED_ZONE: usize = 64 * 1024;

/// The size of each segment [`stacker`] allocates.
const STACK_SEGMENT: usize = 1024 * 1024;

/// Serializes `value` to BSON, failing without recursing further once it
/// has more than `max_levels` levels of documents and arrays below itself.
pub(crate) fn to_bson<T: Serialize + ?Sized>(
    value: &T,
    max_levels: usize,
) -> Result<Bson, bson::error::Error> {
    let limits = Limits {
        levels: 0,
        steps: 0,
        max_levels,
    };
    value.serialize(Limited {
        inner: bson::Serializer::new(),
        limits,
    })
}

/// The message of a refusal for depth.
pub(crate) fn too_deep(max_levels: usize) -> String {
    format!("the value nests more than {max_levels} levels of documents and arrays")
}

/// How deep the value being serialized is so far.
#[derive(Clone, Copy)]
struct Limits {
    levels: usize,
    steps: usize,
    max_levels: usize,
}

impl Limits {
    /// The limits one step further in, without a new level.
    fn step<E: ser::Error>(self) -> Result<Limits, E> {
        if self.steps >= self.max_levels + MAX_TRANSPARENT_STEPS {
            return Err(E::custom(too_deep(self.max_levels)));
        }
        Ok(Limits {
            steps: self.steps + 1,
            ..self
        })
    }

    /// The limits inside a new document or array.
    fn level<E: ser::Error>(self) -> Result<Limits, E> {
        if self.levels >= self.max_levels {
            return Err(E::custom(too_deep(self.max_levels)));
        }
        Ok(Limits {
            levels: self.levels + 1,
            ..self.step()?
        })
    }
}

/// A serializer (or one of its compound states) with the depth so far.
struct Limited<S> {
    inner: S,
    limits: Limits,
}

/// A value to serialize one step deeper.
struct Nested<'a, T: ?Sized> {
    value: &'a T,
    limits: Limits,
}

impl<T: Serialize + ?Sized> Serialize for Nested<'_, T> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Up to the limit the value is legitimate, and its serialization
        // (generic code, compiled at the caller's optimisation level: several
        // KiB a level in a debug build) must not overflow a small thread
        // stack either: past the red zone, continue on a fresh segment.
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            self.value.serialize(Limited {
                inner: serializer,
                limits: self.limits,
            })
        })
    }
}

impl<S> Limited<S> {
    /// `value`, wrapped to be serialized inside this compound.
    fn nested<'a, T: ?Sized>(&self, value: &'a T) -> Nested<'a, T> {
        Nested {
            value,
            limits: self.limits,
        }
    }
}

/// Forwards the scalar methods of `Serializer` unchanged: they do not recurse.
macro_rules! forward_scalars {
    ($($method:ident($($ty:ty)?)),* $(,)?) => {
        $(
            fn $method(self $(, v: $ty)?) -> Result<S::Ok, S::Error> {
                self.inner.$method($(forward_scalars!(@arg v $ty))?)
            }
        )*
    };
    (@arg $v:ident $ty:ty) => { $v };
}

impl<S: ser::Serializer> ser::Serializer for Limited<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Limited<S::SerializeSeq>;
    type SerializeTuple = Limited<S::SerializeTuple>;
    type SerializeTupleStruct = Limited<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Limited<S::SerializeTupleVariant>;
    type SerializeMap = Limited<S::SerializeMap>;
    type SerializeStruct = Limited<S::SerializeStruct>;
    type SerializeStructVariant = Limited<S::SerializeStructVariant>;

    forward_scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
    );

    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_struct(name)
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let limits = self.limits.step()?;
        self.inner.serialize_some(&Nested { value, limits })
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let limits = self.limits.step()?;
        self.inner
            .serialize_newtype_struct(name, &Nested { value, limits })
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        // `{variant: value}`: a document.
        let limits = self.limits.level()?;
        self.inner
            .serialize_newtype_variant(name, index, variant, &Nested { value, limits })
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        let limits = self.limits.level()?;
        Ok(Limited {
            inner: self.inner.serialize_seq(len)?,
            limits,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        let limits = self.limits.level()?;
        Ok(Limited {
            inner: self.inner.serialize_tuple(len)?,
            limits,
        })
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        let limits = self.limits.level()?;
        Ok(Limited {
            inner: self.inner.serialize_tuple_struct(name, len)?,
            limits,
        })
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        let limits = self.limits.level()?;
        Ok(Limited {
            inner: self
                .inner
                .serialize_tuple_variant(name, index, variant, len)?,
            limits,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let limits = self.limits.level()?;
        Ok(Limited {
            inner: self.inner.serialize_map(len)?,
            limits,
        })
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let limits = self.limits.level()?;
        Ok(Limited {
            inner: self.inner.serialize_struct(name, len)?,
            limits,
        })
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let limits = self.limits.level()?;
        Ok(Limited {
            inner: self
                .inner
                .serialize_struct_variant(name, index, variant, len)?,
            limits,
        })
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Implements a compound state by wrapping each element one step deeper.
macro_rules! compound {
    ($trait:ident, $method:ident $(, $key:ident: $key_ty:ty)?) => {
        impl<S: ser::$trait> ser::$trait for Limited<S> {
            type Ok = S::Ok;
            type Error = S::Error;

            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($key: $key_ty,)?
                value: &T,
            ) -> Result<(), S::Error> {
                let value = self.nested(value);
                self.inner.$method($($key,)? &value)
            }

            fn end(self) -> Result<S::Ok, S::Error> {
                self.inner.end()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);
compound!(SerializeStruct, serialize_field, key: &'static str);
compound!(SerializeStructVariant, serialize_field, key: &'static str);

impl<S: ser::SerializeMap> ser::SerializeMap for Limited<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        let key = self.nested(key);
        self.inner.serialize_key(&key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        let value = self.nested(value);
        self.inner.serialize_value(&value)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.inner.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    /// A list as deep as it is long: `{next: {next: … null}}`.
    #[derive(serde::Serialize)]
    struct Chain {
        next: Option<Box<Chain>>,
    }

    fn chain(len: usize) -> Chain {
        let mut chain = Chain { next: None };
        for _ in 1..len {
            chain = Chain {
                next: Some(Box::new(chain)),
            };
        }
        chain
    }

    /// Frees a chain without recursing.
    fn drop_chain(mut chain: Chain) {
        while let Some(next) = chain.next.take() {
            chain = *next;
        }
    }

    #[test]
    fn shallow_values_serialize_as_bson_does() {
        let value = (
            doc! { "a": [1, { "b": null }], "c": "x" },
            Some(Some(3_i64)),
            vec![(1, 2)],
        );
        assert_eq!(
            to_bson(&value, 10).unwrap(),
            bson::serialize_to_bson(&value).unwrap()
        );
        let exact = chain(5);
        assert!(to_bson(&exact, 5).is_ok());
        assert!(to_bson(&exact, 4).is_err());
    }

    #[test]
    fn a_value_twenty_thousand_levels_deep_fails_on_a_small_stack() {
        let refused = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let deep = chain(20_000);
                let result = to_bson(&deep, 100).map_err(|err| err.to_string());
                drop_chain(deep);
                result
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(refused.unwrap_err().contains(&too_deep(100)));
    }
}
