//! Reading the NeuronIO pickles with serde-pickle, including the numpy values inside them.
//!
//! The simulation files were written by Python 2's cPickle (protocol 2). Besides plain dicts,
//! lists, ints and floats they hold numpy objects: arrays (`_reconstruct` + `BUILD` with the
//! state `(1, shape, dtype, is_fortran, raw_bytes)`) and scalars (`scalar(dtype, raw_bytes)`).
//! serde-pickle, told to keep restore state, turns those into tuples:
//!
//! * an array becomes its `BUILD` state, `(1, shape, dtype, fortran, bytes)`;
//! * a scalar becomes its argument tuple, `(dtype, bytes)`;
//! * a dtype becomes either its `BUILD` state `(3, '<', None, None, None, -1, -1, 0)` (the
//!   first time the pickle writes that dtype) or its constructor arguments `('f2', 0, 1)`
//!   (every later time, through the memo).
//!
//! The first form says the byte order but not the type code, the second the reverse. So the
//! element type is taken from the code where the pickle gives it, and otherwise from what the
//! field must hold (a voltage is a float, a segment index an integer) and the element size,
//! which the byte count fixes: 2/4/8-byte floats, 1/2/4/8-byte integers. Big-endian data and
//! object arrays are refused with an error.

use serde_pickle::{DeOptions, HashableValue, Value};

/// What a numeric field must hold, used where the pickle does not name the element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A float (voltages, output spike times).
    Float,
    /// An integer (segment indices, input spike times in ms).
    Integer,
}

/// Parses a whole pickle into serde-pickle's value tree, keeping numpy restore state.
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    let options = DeOptions::new().keep_restore_state().replace_unresolved_globals();
    serde_pickle::value_from_slice(bytes, options).map_err(|e| format!("not a readable pickle: {e}"))
}

/// A Python 2 `str` arrives as bytes; keys are compared as text either way.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bytes(b) => Some(b.iter().map(|&c| c as char).collect()),
        _ => None,
    }
}

fn hashable_text(value: &HashableValue) -> Option<String> {
    match value {
        HashableValue::String(s) => Some(s.clone()),
        HashableValue::Bytes(b) => Some(b.iter().map(|&c| c as char).collect()),
        _ => None,
    }
}

/// The entry `key` of a dict, or an error naming `what`.
pub fn field<'a>(value: &'a Value, key: &str, what: &str) -> Result<&'a Value, String> {
    let Value::Dict(map) = value else {
        return Err(format!("{what} is a {}, expected a dict", kind(value)));
    };
    map.iter()
        .find(|(k, _)| hashable_text(k).as_deref() == Some(key))
        .map(|(_, v)| v)
        .ok_or_else(|| format!("{what} has no key '{key}'"))
}

/// A short name of a value's Python type, for error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::None => "None",
        Value::Bool(_) => "bool",
        Value::I64(_) | Value::Int(_) => "int",
        Value::F64(_) => "float",
        Value::Bytes(_) => "bytes",
        Value::String(_) => "str",
        Value::List(_) => "list",
        Value::Tuple(_) => "tuple (or a numpy object)",
        Value::Set(_) | Value::FrozenSet(_) => "set",
        Value::Dict(_) => "dict",
    }
}

/// An element type: kind and size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Element {
    float: bool,
    unsigned: bool,
    size: usize,
}

/// What a dtype value says: the element type when the code is there, else only the byte order.
fn dtype(value: &Value) -> Result<Option<Element>, String> {
    let Value::Tuple(items) = value else {
        return Err(format!("a numpy dtype was expected, found a {}", kind(value)));
    };
    // BUILD state: (version, byte order, subarray, names, fields, elsize, alignment, flags[, metadata]).
    if items.len() >= 8 && matches!(items[0], Value::I64(_)) {
        let order = text(&items[1]).unwrap_or_default();
        return match order.as_str() {
            "<" | "|" | "=" => Ok(None),
            ">" => Err("big-endian numpy data is not supported".into()),
            other => Err(format!("unknown numpy byte order '{other}'")),
        };
    }
    // Constructor arguments: (code, align, copy).
    let code = items.first().and_then(text).ok_or("a numpy dtype without a type code")?;
    let (kind_char, size) = code.split_at(1.min(code.len()));
    let size: usize = size.parse().map_err(|_| format!("unsupported numpy dtype '{code}'"))?;
    let element = match kind_char {
        "f" => Element { float: true, unsigned: false, size },
        "i" => Element { float: false, unsigned: false, size },
        "u" | "b" => Element { float: false, unsigned: true, size },
        _ => return Err(format!("unsupported numpy dtype '{code}'")),
    };
    if !matches!((element.float, size), (true, 2 | 4 | 8) | (false, 1 | 2 | 4 | 8)) {
        return Err(format!("unsupported numpy dtype '{code}'"));
    }
    Ok(Some(element))
}

fn element_for(known: Option<Element>, expect: Expect, size: usize) -> Result<Element, String> {
    if let Some(e) = known {
        if e.size != size {
            return Err(format!("numpy data of {size}-byte elements does not match its dtype of {} bytes", e.size));
        }
        return Ok(e);
    }
    match (expect, size) {
        (Expect::Float, 2 | 4 | 8) => Ok(Element { float: true, unsigned: false, size }),
        (Expect::Integer, 1 | 2 | 4 | 8) => Ok(Element { float: false, unsigned: false, size }),
        _ => Err(format!("numpy elements of {size} bytes cannot hold {expect:?} values")),
    }
}

fn decode(bytes: &[u8], e: Element) -> Vec<f64> {
    bytes
        .chunks_exact(e.size)
        .map(|c| match (e.float, e.unsigned, e.size) {
            (true, _, 2) => f64::from(half::f16::from_le_bytes([c[0], c[1]])),
            (true, _, 4) => f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))),
            (true, _, _) => f64::from_le_bytes(c.try_into().expect("8 bytes")),
            (false, false, 1) => f64::from(c[0] as i8),
            (false, true, 1) => f64::from(c[0]),
            (false, false, 2) => f64::from(i16::from_le_bytes([c[0], c[1]])),
            (false, true, 2) => f64::from(u16::from_le_bytes([c[0], c[1]])),
            (false, false, 4) => f64::from(i32::from_le_bytes(c.try_into().expect("4 bytes"))),
            (false, true, 4) => f64::from(u32::from_le_bytes(c.try_into().expect("4 bytes"))),
            (false, false, _) => i64::from_le_bytes(c.try_into().expect("8 bytes")) as f64,
            (false, true, _) => u64::from_le_bytes(c.try_into().expect("8 bytes")) as f64,
        })
        .collect()
}

/// A numeric sequence: a numpy array (any shape, flattened in C order), or a list or tuple of
/// numbers and numpy scalars.
pub fn numbers(value: &Value, expect: Expect) -> Result<Vec<f64>, String> {
    match value {
        Value::List(items) => items.iter().map(|v| number(v, expect)).collect(),
        Value::Tuple(items) if is_array_state(items) => array(items, expect),
        Value::Tuple(items) if items.len() == 3 && matches!(items[2], Value::Bytes(_)) && items[0] == Value::None => {
            Err("a numpy array the pickle refers to twice (memoised before its state) is not supported".into())
        }
        Value::Tuple(items) if !is_scalar(items) => items.iter().map(|v| number(v, expect)).collect(),
        other => Err(format!("a sequence of numbers was expected, found a {}", kind(other))),
    }
}

fn is_array_state(items: &[Value]) -> bool {
    items.len() == 5
        && matches!(items[0], Value::I64(_))
        && matches!(items[1], Value::Tuple(_))
        && matches!(items[3], Value::Bool(_))
}

fn is_scalar(items: &[Value]) -> bool {
    items.len() == 2 && matches!(items[0], Value::Tuple(_)) && matches!(items[1], Value::Bytes(_))
}

fn array(items: &[Value], expect: Expect) -> Result<Vec<f64>, String> {
    let Value::Tuple(shape) = &items[1] else { unreachable!("checked by is_array_state") };
    let mut count = 1usize;
    for dim in shape {
        match dim {
            Value::I64(d) if *d >= 0 => count = count.saturating_mul(*d as usize),
            other => {
                return Err(format!("a numpy array with a bad shape entry ({})", kind(other)));
            }
        }
    }
    if items[3] == Value::Bool(true) && shape.len() > 1 {
        return Err("Fortran-ordered numpy arrays are not supported".into());
    }
    let known = dtype(&items[2])?;
    let empty = Vec::new();
    let raw = match &items[4] {
        Value::Bytes(b) => b,
        // Python 3 pickles empty bytes at protocol 2 as the call `bytes()`.
        Value::Tuple(args) if args.is_empty() => &empty,
        Value::List(_) => return Err("numpy object arrays are not supported".into()),
        other => {
            return Err(format!("numpy array data is a {}, expected bytes", kind(other)));
        }
    };
    if count == 0 {
        return if raw.is_empty() { Ok(Vec::new()) } else { Err("an empty numpy array with data".into()) };
    }
    if raw.len() % count != 0 {
        return Err(format!("numpy array of {count} elements has {} bytes of data", raw.len()));
    }
    let element = element_for(known, expect, raw.len() / count)?;
    Ok(decode(raw, element))
}

/// One number: a Python int/float/bool or a numpy scalar.
pub fn number(value: &Value, expect: Expect) -> Result<f64, String> {
    match value {
        Value::I64(i) => Ok(*i as f64),
        Value::F64(f) => Ok(*f),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::Tuple(items) if is_scalar(items) => {
            let Value::Bytes(raw) = &items[1] else { unreachable!("checked by is_scalar") };
            let element = element_for(dtype(&items[0])?, expect, raw.len())?;
            Ok(decode(raw, element)[0])
        }
        other => Err(format!("a number was expected, found a {}", kind(other))),
    }
}

/// A dict key that must be a number (an int or a numpy scalar).
pub fn key_number(key: &HashableValue, expect: Expect) -> Result<f64, String> {
    number(&key.clone().into_value(), expect)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bytes written by CPython 3.12 + numpy 2.4 (`pickle.dumps(x, protocol=2)`):
    //   x = [np.array([1.5, -2.0], np.float16), np.int64(7), np.array([3.0], np.float16)]
    const MIXED: &[u8] = b"\x80\x02]q\x00(cnumpy._core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85q\x03c_codecs\nencode\nq\x04X\x01\x00\x00\x00bq\x05X\x06\x00\x00\x00latin1q\x06\x86q\x07Rq\x08\x87q\x09Rq\n(K\x01K\x02\x85q\x0bcnumpy\ndtype\nq\x0cX\x02\x00\x00\x00f2q\x0d\x89\x88\x87q\x0eRq\x0f(K\x03X\x01\x00\x00\x00<q\x10NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x11b\x89h\x04X\x05\x00\x00\x00\x00>\x00\xc3\x80q\x12h\x06\x86q\x13Rq\x14tq\x15bcnumpy._core.multiarray\nscalar\nq\x16h\x0cX\x02\x00\x00\x00i8q\x17\x89\x88\x87q\x18Rq\x19(K\x03h\x10NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x1abh\x04X\x08\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00q\x1bh\x06\x86q\x1cRq\x1d\x86q\x1eRq\x1fh\x01h\x02K\x00\x85q h\x08\x87q!Rq\x22(K\x01K\x01\x85q#h\x0f\x89h\x04X\x02\x00\x00\x00\x00Bq$h\x06\x86q%Rq&tq'be.";

    #[test]
    fn numpy_arrays_and_scalars_decode_in_both_dtype_forms() {
        let Value::List(items) = parse(MIXED).unwrap() else { panic!("a list") };
        // The first f2 array carries the dtype's BUILD state (no code); the last one the memoised
        // constructor arguments ('f2', False, True).
        assert_eq!(numbers(&items[0], Expect::Float).unwrap(), vec![1.5, -2.0]);
        assert_eq!(number(&items[1], Expect::Integer).unwrap(), 7.0);
        assert_eq!(numbers(&items[2], Expect::Float).unwrap(), vec![3.0]);
        // Element sizes that cannot hold the expected kind are refused, not reinterpreted.
        assert!(number(&items[1], Expect::Float).is_ok(), "8 bytes may be a float64");
        let as_integers = numbers(&items[0], Expect::Integer).unwrap();
        assert_eq!(as_integers.len(), 2, "2-byte elements read as int16 when no code says otherwise");
    }

    #[test]
    fn wrong_kinds_name_what_was_found() {
        assert!(numbers(&Value::String("x".into()), Expect::Float).unwrap_err().contains("found a str"));
        assert!(field(&Value::List(vec![]), "Params", "the file").unwrap_err().contains("expected a dict"));
        let big_endian = Value::Tuple(vec![
            Value::I64(3),
            Value::String(">".into()),
            Value::None,
            Value::None,
            Value::None,
            Value::I64(-1),
            Value::I64(-1),
            Value::I64(0),
        ]);
        let scalar = Value::Tuple(vec![big_endian, Value::Bytes(vec![0; 8])]);
        assert!(number(&scalar, Expect::Integer).unwrap_err().contains("big-endian"));
    }
}
