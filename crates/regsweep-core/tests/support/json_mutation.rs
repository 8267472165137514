//! Structure-aware mutation of JSON documents for the parsers' fuzz properties: a
//! documented document with up to four edits (a field removed, replaced, duplicated
//! under another case, or wrapped in an array) at places picked among its JSON
//! pointers. Shared by regsweep-core's `tests/fuzz_parsers.rs` (manifests) and
//! regsweep-github's `src/wire_fuzz.rs` (listing entries), each with its own
//! replacement values.

use proptest::prelude::*;
use serde_json::Value;

/// What to do at one place of a document.
#[derive(Clone, Debug)]
enum Mutation {
    Remove,
    Replace(Value),
    /// Duplicate an array element, or copy an object field under a differently cased key.
    Duplicate,
    /// Wrap the value in an array (`"v1"` → `["v1"]`, `["v1"]` → `[["v1"]]`).
    Wrap,
}

fn mutation(replacement: impl Strategy<Value = Value>) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => Just(Mutation::Remove),
        4 => replacement.prop_map(Mutation::Replace),
        1 => Just(Mutation::Duplicate),
        1 => Just(Mutation::Wrap),
    ]
}

/// The JSON pointer of every value in `v`, `v` itself (`""`) included.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let key = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn unescape(key: &str) -> String {
    key.replace("~1", "/").replace("~0", "~")
}

/// Applies `m` at the place `place` picks among the pointers of `doc`.
fn apply(doc: &mut Value, place: prop::sample::Index, m: &Mutation) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let at = all[place.index(all.len())].clone();
    if at.is_empty() {
        if let Mutation::Replace(v) = m {
            *doc = v.clone();
        }
        return;
    }
    let (parent, key) = at.rsplit_once('/').unwrap();
    let key = unescape(key);
    let Some(parent) = doc.pointer_mut(parent) else {
        return;
    };
    match parent {
        Value::Object(obj) => match m {
            Mutation::Remove => {
                obj.remove(&key);
            }
            Mutation::Replace(v) => {
                obj.insert(key, v.clone());
            }
            Mutation::Duplicate => {
                let v = obj[&key].clone();
                obj.insert(key.to_ascii_uppercase(), v);
            }
            Mutation::Wrap => {
                let v = obj[&key].take();
                obj.insert(key, Value::Array(vec![v]));
            }
        },
        Value::Array(arr) => {
            let i: usize = key.parse().unwrap();
            match m {
                Mutation::Remove => {
                    arr.remove(i);
                }
                Mutation::Replace(v) => arr[i] = v.clone(),
                Mutation::Duplicate => {
                    let v = arr[i].clone();
                    arr.insert(i, v);
                }
                Mutation::Wrap => {
                    let v = arr[i].take();
                    arr[i] = Value::Array(vec![v]);
                }
            }
        }
        _ => {}
    }
}

/// A documented entry of `bases` with up to four mutations, replacing values with
/// ones drawn from `replacement`.
pub fn mutated(
    bases: Vec<Value>,
    replacement: impl Strategy<Value = Value>,
) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(bases),
        prop::collection::vec((any::<prop::sample::Index>(), mutation(replacement)), 0..4),
    )
        .prop_map(|(mut doc, ms)| {
            for (place, m) in &ms {
                apply(&mut doc, *place, m);
            }
            doc
        })
}
