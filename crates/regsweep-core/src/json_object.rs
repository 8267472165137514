//! [`Object`]: a struct read from a JSON object only. serde's derive also reads a
//! struct from an array, field by field in order, so `["", "sha256:…"]` would pass
//! for a descriptor and `[1, "sha256:…"]` for a version entry; registries and GitHub
//! send objects, and anything else is refused rather than guessed at.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// `T`, read only from a JSON object (a map); an array or any other value is an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Only<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Only<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Only(PhantomData)).map(Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Pair {
        a: String,
        b: u32,
    }

    #[test]
    fn objects_are_read_and_arrays_refused() {
        let o: Object<Pair> = serde_json::from_str(r#"{"b": 2, "a": "x"}"#).unwrap();
        assert_eq!(
            o.0,
            Pair {
                a: "x".into(),
                b: 2
            }
        );
        // serde's derive alone reads the array form.
        assert!(serde_json::from_str::<Pair>(r#"["x", 2]"#).is_ok());
        let e = serde_json::from_str::<Object<Pair>>(r#"["x", 2]"#).unwrap_err();
        assert!(e.to_string().contains("expected an object"), "{e}");
        assert!(serde_json::from_str::<Object<Pair>>("7").is_err());
    }
}
