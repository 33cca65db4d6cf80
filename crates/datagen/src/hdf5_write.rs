//! A minimal HDF5 writer: groups, contiguous 1-D datasets of numbers, fixed-length strings and
//! variable-length sequences of numbers, and string attributes. Exactly what the SHD layout
//! needs and no more (no chunking, compression or editing of existing files).
//!
//! No maintained pure-Rust crate writes vlen numeric sequences (spec data.md §2), and the C
//! library would put a C build into every user's path, so this writes the format directly
//! from the HDF5 File Format Specification (version 3.0):
//! - superblock version 2 (checksummed, no driver info);
//! - object headers version 2 (`OHDR`, checksummed), links stored compactly as Link
//!   messages beside Link Info and Group Info messages (a "new-style" group, HDF5 ≥ 1.8);
//! - datasets: Dataspace v2, Datatype v1, Fill Value v3, Layout v3 (contiguous);
//! - vlen data in global heap collections (`GCOL`) of at most 64 KiB, each element in the dataset being
//!   `u32 length, u64 collection address, u32 object index`, and an empty sequence stored as
//!   length 0 with the null address, as libhdf5 does.
//!
//! Objects are laid out children first, so every address is known when its parent is
//! encoded; the superblock is patched last. h5py (HDF5 2.0) and `hdf5-reader` read the files
//! (tests in `tests/shd_synth.rs` and `scripts/compare_lauscher.py`).

const UNDEFINED_ADDRESS: u64 = u64::MAX;
const SUPERBLOCK_SIZE: usize = 48;
/// libhdf5 reads a global heap collection in one 4 KiB piece before it knows its size.
const MIN_COLLECTION_SIZE: usize = 4096;
/// Object indices are 16-bit and 0 is the free space.
const MAX_OBJECTS_PER_COLLECTION: usize = 65_535;
/// Collections stay small, as libhdf5's own (4 KiB, or one large object). libhdf5 caches them
/// as metadata, at most 32 MiB: with 64 MiB collections, reading `times[i]` then `units[i]`
/// (what sample-by-sample loaders do) reloaded a whole collection for every element, 0.4 s per
/// sample in h5py.
pub const MAX_COLLECTION_BYTES: usize = 1 << 16;

/// Element type of a numeric dataset or vlen sequence (all little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberType {
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `int32`.
    I32,
    /// IEEE half precision.
    F16,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
}

impl NumberType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NumberType::U8 => 1,
            NumberType::U16 | NumberType::F16 => 2,
            NumberType::U32 | NumberType::I32 | NumberType::F32 => 4,
            NumberType::F64 => 8,
        }
    }

    /// The Datatype message body (class 0 fixed-point or class 1 floating-point, version 1).
    fn encode(self) -> Vec<u8> {
        let size = self.size() as u32;
        let bits = 8 * size as u16;
        let mut out = Vec::new();
        match self {
            NumberType::U8 | NumberType::U16 | NumberType::U32 | NumberType::I32 => {
                let signed = if self == NumberType::I32 { 0x08 } else { 0 };
                out.extend([0x10, signed, 0, 0]);
                out.extend(size.to_le_bytes());
                out.extend(0u16.to_le_bytes()); // bit offset
                out.extend(bits.to_le_bytes()); // precision
            }
            NumberType::F16 | NumberType::F32 | NumberType::F64 => {
                // (exponent location, exponent bits, mantissa bits, bias)
                let (exp_loc, exp_bits, man_bits, bias): (u8, u8, u8, u32) = match self {
                    NumberType::F16 => (10, 5, 10, 15),
                    NumberType::F32 => (23, 8, 23, 127),
                    _ => (52, 11, 52, 1023),
                };
                // Bit field: little-endian, mantissa normalised with an implied leading one
                // (bits 4-5 = 2), sign bit at the top.
                out.extend([0x11, 0x20, (bits - 1) as u8, 0]);
                out.extend(size.to_le_bytes());
                out.extend(0u16.to_le_bytes());
                out.extend(bits.to_le_bytes());
                out.extend([exp_loc, exp_bits, 0, man_bits]);
                out.extend(bias.to_le_bytes());
            }
        }
        out
    }
}

/// A dataset's contents: a 1-D array.
#[derive(Clone, Debug)]
pub enum Values {
    /// Numbers as little-endian bytes of `ty`.
    Numbers { ty: NumberType, bytes: Vec<u8> },
    /// Fixed-length, null-padded ASCII strings of `len` bytes (numpy `S<len>`).
    Strings { len: usize, values: Vec<String> },
    /// One sequence per element, each the little-endian bytes of `ty` numbers.
    Sequences { ty: NumberType, sequences: Vec<Vec<u8>> },
}

impl Values {
    /// Numbers from any values that convert to little-endian bytes.
    pub fn numbers<T: Copy, const N: usize>(ty: NumberType, values: &[T], le: impl Fn(T) -> [u8; N]) -> Values {
        assert_eq!(N, ty.size(), "{ty:?} has {} bytes per element", ty.size());
        Values::Numbers { ty, bytes: values.iter().flat_map(|&v| le(v)).collect() }
    }

    fn len(&self) -> usize {
        match self {
            Values::Numbers { ty, bytes } => bytes.len() / ty.size(),
            Values::Strings { values, .. } => values.len(),
            Values::Sequences { sequences, .. } => sequences.len(),
        }
    }

    fn datatype(&self) -> Vec<u8> {
        match self {
            Values::Numbers { ty, .. } => ty.encode(),
            Values::Strings { len, .. } => fixed_string_type(*len),
            Values::Sequences { ty, .. } => {
                // Class 9 (variable-length), type 0 (sequence), then the base type.
                let mut out = vec![0x19, 0, 0, 0];
                out.extend(16u32.to_le_bytes());
                out.extend(ty.encode());
                out
            }
        }
    }
}

fn fixed_string_type(len: usize) -> Vec<u8> {
    // Class 3, padding type 1 (null pad), ASCII.
    let mut out = vec![0x13, 0x01, 0, 0];
    out.extend((len as u32).to_le_bytes());
    out
}

/// A group: named children and string attributes.
#[derive(Clone, Debug, Default)]
pub struct Group {
    children: Vec<(String, Node)>,
    attributes: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
enum Node {
    Group(Group),
    Dataset(Values),
}

impl Group {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a dataset at `path` (`a/b/name`), creating the groups on the way.
    pub fn dataset(&mut self, path: &str, values: Values) -> &mut Self {
        let (parent, name) = self.parent_of(path);
        parent.children.push((name.to_string(), Node::Dataset(values)));
        self
    }

    /// Adds a scalar fixed-length string attribute to this group.
    pub fn attribute(&mut self, name: &str, value: &str) -> &mut Self {
        self.attributes.push((name.to_string(), value.to_string()));
        self
    }

    fn parent_of<'a>(&mut self, path: &'a str) -> (&mut Group, &'a str) {
        let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let name = parts.pop().expect("a dataset path has a name");
        let mut group = self;
        for part in parts {
            let index = match group.children.iter().position(|(n, c)| n == part && matches!(c, Node::Group(_))) {
                Some(i) => i,
                None => {
                    group.children.push((part.to_string(), Node::Group(Group::new())));
                    group.children.len() - 1
                }
            };
            group = match &mut group.children[index].1 {
                Node::Group(g) => g,
                Node::Dataset(_) => unreachable!(),
            };
        }
        (group, name)
    }

    /// The whole file, with `self` as the root group.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut file = vec![0u8; SUPERBLOCK_SIZE];
        let root = write_group(&mut file, self);
        let eof = file.len() as u64;
        let mut superblock = Vec::with_capacity(SUPERBLOCK_SIZE);
        superblock.extend(b"\x89HDF\r\n\x1a\n");
        superblock.extend([2, 8, 8, 0]);
        superblock.extend(0u64.to_le_bytes()); // base address
        superblock.extend(UNDEFINED_ADDRESS.to_le_bytes()); // no superblock extension
        superblock.extend(eof.to_le_bytes());
        superblock.extend(root.to_le_bytes());
        let checksum = lookup3(&superblock, 0);
        superblock.extend(checksum.to_le_bytes());
        file[..SUPERBLOCK_SIZE].copy_from_slice(&superblock);
        file
    }
}

/// A message of an object header: (type, flags, body).
type Message = (u8, u8, Vec<u8>);

fn write_object_header(file: &mut Vec<u8>, messages: &[Message]) -> u64 {
    let address = file.len() as u64;
    let body: usize = messages.iter().map(|(_, _, b)| 4 + b.len()).sum();
    let start = file.len();
    file.extend(b"OHDR");
    // Version 2; flags: the size of chunk 0 is stored in 4 bytes.
    file.extend([2, 0x02]);
    file.extend((body as u32).to_le_bytes());
    for (kind, flags, data) in messages {
        file.push(*kind);
        file.extend((data.len() as u16).to_le_bytes());
        file.push(*flags);
        file.extend(data);
    }
    let checksum = lookup3(&file[start..], 0);
    file.extend(checksum.to_le_bytes());
    address
}

fn write_group(file: &mut Vec<u8>, group: &Group) -> u64 {
    let mut links = Vec::new();
    for (name, child) in &group.children {
        let address = match child {
            Node::Group(g) => write_group(file, g),
            Node::Dataset(values) => write_dataset(file, values),
        };
        // Link message v1: flags 0 = hard link, 1-byte name length, ASCII.
        let mut body = vec![1, 0, name.len() as u8];
        body.extend(name.as_bytes());
        body.extend(address.to_le_bytes());
        links.push(body);
    }
    let mut link_info = vec![0, 0];
    link_info.extend(UNDEFINED_ADDRESS.to_le_bytes()); // no fractal heap: links are compact
    link_info.extend(UNDEFINED_ADDRESS.to_le_bytes());
    let mut messages: Vec<Message> = vec![(0x02, 0, link_info), (0x0A, 0, vec![0, 0])];
    messages.extend(links.into_iter().map(|body| (0x06, 0, body)));
    for (name, value) in &group.attributes {
        messages.push((0x0C, 0, attribute_message(name, value)));
    }
    write_object_header(file, &messages)
}

fn attribute_message(name: &str, value: &str) -> Vec<u8> {
    let datatype = fixed_string_type(value.len().max(1));
    let dataspace = vec![2, 0, 0, 0]; // scalar
    let mut out = vec![3, 0];
    out.extend(((name.len() + 1) as u16).to_le_bytes());
    out.extend((datatype.len() as u16).to_le_bytes());
    out.extend((dataspace.len() as u16).to_le_bytes());
    out.push(0); // ASCII name
    out.extend(name.as_bytes());
    out.push(0);
    out.extend(datatype);
    out.extend(dataspace);
    out.extend(value.as_bytes());
    if value.is_empty() {
        out.push(0);
    }
    out
}

fn write_dataset(file: &mut Vec<u8>, values: &Values) -> u64 {
    let raw = match values {
        Values::Numbers { bytes, .. } => bytes.clone(),
        Values::Strings { len, values } => values
            .iter()
            .flat_map(|v| {
                let mut b = v.as_bytes().to_vec();
                b.resize(*len, 0);
                b
            })
            .collect(),
        Values::Sequences { ty, sequences } => write_sequences(file, *ty, sequences),
    };
    let data_address = if raw.is_empty() { UNDEFINED_ADDRESS } else { file.len() as u64 };
    file.extend(&raw);

    let n = values.len() as u64;
    let mut dataspace = vec![2, 1, 0, 1];
    dataspace.extend(n.to_le_bytes());
    // Fill value v3: space allocated early, fill value never written, default fill.
    let fill_value = vec![3, 0x09];
    let mut layout = vec![3, 1];
    layout.extend(data_address.to_le_bytes());
    layout.extend((raw.len() as u64).to_le_bytes());
    let messages: Vec<Message> =
        vec![(0x01, 0, dataspace), (0x03, 0x01, values.datatype()), (0x05, 0x01, fill_value), (0x08, 0, layout)];
    write_object_header(file, &messages)
}

/// Writes the sequences into global heap collections and returns the dataset's raw data: one
/// 16-byte heap reference per element.
fn write_sequences(file: &mut Vec<u8>, ty: NumberType, sequences: &[Vec<u8>]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(16 * sequences.len());
    let mut start = 0;
    while start < sequences.len() {
        // Take as many non-empty sequences as fit in one collection.
        let (mut end, mut objects, mut bytes) = (start, 0, 16);
        while end < sequences.len() {
            let len = sequences[end].len();
            if len > 0 {
                let needed = 16 + len.next_multiple_of(8);
                if objects == MAX_OBJECTS_PER_COLLECTION || (objects > 0 && bytes + needed > MAX_COLLECTION_BYTES) {
                    break;
                }
                objects += 1;
                bytes += needed;
            }
            end += 1;
        }
        let collection = file.len() as u64;
        let size = bytes.max(MIN_COLLECTION_SIZE);
        file.extend(b"GCOL");
        file.extend([1, 0, 0, 0]);
        file.extend((size as u64).to_le_bytes());
        let mut index = 0u32;
        for seq in &sequences[start..end] {
            raw.extend(((seq.len() / ty.size()) as u32).to_le_bytes());
            if seq.is_empty() {
                raw.extend(0u64.to_le_bytes());
                raw.extend(0u32.to_le_bytes());
                continue;
            }
            index += 1;
            file.extend((index as u16).to_le_bytes());
            file.extend(1u16.to_le_bytes()); // reference count
            file.extend([0; 4]);
            file.extend((seq.len() as u64).to_le_bytes());
            file.extend(seq);
            file.resize(file.len() + (seq.len().next_multiple_of(8) - seq.len()), 0);
            raw.extend(collection.to_le_bytes());
            raw.extend(index.to_le_bytes());
        }
        let free = size - bytes;
        if free >= 16 {
            // Object 0: the free space, its size counting its own header.
            file.extend([0; 8]);
            file.extend((free as u64).to_le_bytes());
            file.resize(file.len() + free - 16, 0);
        } else {
            file.resize(file.len() + free, 0);
        }
        start = end;
    }
    raw
}

/// Bob Jenkins' lookup3 `hashlittle`, the checksum of HDF5 metadata (`H5_checksum_lookup3`).
pub fn lookup3(key: &[u8], init: u32) -> u32 {
    let mut a = 0xdead_beef_u32.wrapping_add(key.len() as u32).wrapping_add(init);
    let (mut b, mut c) = (a, a);
    let word = |k: &[u8]| -> u32 { k.iter().enumerate().fold(0, |w, (i, &byte)| w | (u32::from(byte) << (8 * i))) };
    let mut rest = key;
    while rest.len() > 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        // mix(a, b, c)
        a = a.wrapping_sub(c);
        a ^= c.rotate_left(4);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= a.rotate_left(6);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= b.rotate_left(8);
        b = b.wrapping_add(a);
        a = a.wrapping_sub(c);
        a ^= c.rotate_left(16);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= a.rotate_left(19);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= b.rotate_left(4);
        b = b.wrapping_add(a);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    let mut tail = [0u8; 12];
    tail[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(word(&tail[0..4]));
    b = b.wrapping_add(word(&tail[4..8]));
    c = c.wrapping_add(word(&tail[8..12]));
    // final(a, b, c)
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(24));
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup3_matches_the_published_test_vectors() {
        // From lookup3.c's driver5(): hashlittle("", 0, 0) and the "Four score" line.
        assert_eq!(lookup3(b"", 0), 0xdead_beef);
        assert_eq!(lookup3(b"Four score and seven years ago", 0), 0x1777_0551);
        assert_eq!(lookup3(b"Four score and seven years ago", 1), 0xcd62_8161);
    }
}
