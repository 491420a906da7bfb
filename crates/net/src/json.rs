//! JSON parsing with a budget on the number of values, so a reply's size in memory stays a
//! small multiple of its size on the wire: without it, a 1 MiB reply of `0,0,0,…` builds half a
//! million values (about 35 MiB) before any other check can look at it.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a body was not parsed.
pub enum Refused {
    /// Not JSON (or trailing bytes after it).
    NotJson,
    /// More values than the budget.
    TooManyValues,
}

/// Parses `bytes` as JSON holding at most `max_values` values.
pub fn parse_bounded(bytes: &[u8], max_values: usize) -> Result<Value, Refused> {
    let budget = Budget { left: Cell::new(max_values), exhausted: Cell::new(false) };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = Node(&budget).deserialize(&mut deserializer).and_then(|value| deserializer.end().map(|()| value));
    match parsed {
        Ok(value) => Ok(value),
        Err(_) if budget.exhausted.get() => Err(Refused::TooManyValues),
        Err(_) => Err(Refused::NotJson),
    }
}

struct Budget {
    left: Cell<usize>,
    exhausted: Cell<bool>,
}

/// One JSON value, charged to the budget before it is built.
struct Node<'a>(&'a Budget);

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.0.left.get().checked_sub(1) {
            Some(left) => self.0.left.set(left),
            None => {
                self.0.exhausted.set(true);
                return Err(de::Error::custom("too many JSON values"));
            }
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Node(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Node(self.0))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_parsing_reads_json_like_serde_json_and_stops_at_the_value_budget() {
        let text = r#"{"result":{"status":true,"value":[{"nonce":"N","n":-1,"f":1.5,"u":18446744073709551615,"x":null,"e":[],"o":{}}]},"detail":"\u00e9"}"#;
        let expected: Value = serde_json::from_str(text).unwrap();
        // 1 envelope + result + status + value + 1 item + 7 fields + detail = 13 values.
        assert!(parse_bounded(text.as_bytes(), 13).is_ok_and(|v| v == expected));
        assert!(matches!(parse_bounded(text.as_bytes(), 12), Err(Refused::TooManyValues)));
        for bad in ["", "{", "[1,]", "{} trailing", "nul"] {
            assert!(matches!(parse_bounded(bad.as_bytes(), 100), Err(Refused::NotJson)), "{bad:?}");
        }
        let deep = "[".repeat(10_000);
        assert!(parse_bounded(deep.as_bytes(), usize::MAX).is_err(), "serde_json's depth limit still holds");
    }
}
