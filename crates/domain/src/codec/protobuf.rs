//! The part of the protobuf wire format that Google Authenticator's migration payloads use:
//! varints and length-delimited fields. Hand-written rather than a protobuf crate: two message
//! types of seven fields do not justify a code generator and its runtime in the mobile library,
//! and this reader is total — hostile input yields an error, never a panic or an allocation
//! beyond the input's size.
use std::fmt;

/// Why a protobuf message cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ends inside a field.
    Truncated,
    /// A varint is longer than 64 bits.
    VarintTooLong,
    /// A field's wire type is not 0, 1, 2 or 5 (the type is given).
    UnsupportedWireType(u8),
    /// A field number is 0.
    InvalidFieldNumber,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("truncated"),
            DecodeError::VarintTooLong => f.write_str("a number is too long"),
            DecodeError::UnsupportedWireType(t) => write!(f, "unsupported wire type {t}"),
            DecodeError::InvalidFieldNumber => f.write_str("invalid field number"),
        }
    }
}

/// A field's value; fixed-width values are read and ignored by this module's users.
pub enum Value<'a> {
    /// A varint (wire type 0).
    Varint(u64),
    /// A length-delimited value (wire type 2), borrowed from the input.
    Bytes(&'a [u8]),
    /// A 64- or 32-bit fixed-width value (wire types 1 and 5), skipped.
    Fixed,
}

/// Reads the fields of one protobuf message, in order.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over one message's bytes.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next field number and value, `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<(u64, Value<'a>)>, DecodeError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = key >> 3;
        if field == 0 {
            return Err(DecodeError::InvalidFieldNumber);
        }
        let value = match (key & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| DecodeError::Truncated)?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            t => return Err(DecodeError::UnsupportedWireType(t)),
        };
        Ok(Some((field, value)))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.rest.len() {
            return Err(DecodeError::Truncated);
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&byte, rest) = self.rest.split_first().ok_or(DecodeError::Truncated)?;
            self.rest = rest;
            // The tenth byte holds the top bit of 64 only.
            if i == 9 && byte > 1 {
                return Err(DecodeError::VarintTooLong);
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::VarintTooLong)
    }
}

/// Appends `value` as a varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a varint field (wire type 0).
pub fn put_varint_field(out: &mut Vec<u8>, field: u64, value: u64) {
    put_varint(out, field << 3);
    put_varint(out, value);
}

/// Appends a length-delimited field (wire type 2).
pub fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, field << 3 | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}
