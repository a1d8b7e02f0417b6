//! Typed columns. Every cell is parsed once, at load, into one of these; metrics and
//! rules read them without parsing again. Nulls are sentinels inside the vectors (no
//! `Option` per cell) so a column of a million timestamps is 8 MB, not 16.

use super::spec::ColType;

/// Null marker for `i64` columns (timestamps, money, ints).
pub const NULL_I64: i64 = i64::MIN;
/// Null marker for date columns.
pub const NULL_DATE: i32 = i32::MIN;
/// Money is stored in ten-thousandths of the currency unit: exact sums to the kopeck.
pub const MONEY_SCALE: i64 = 10_000;

/// Strings of one column in a single buffer: row `i` is `bytes[offset(i)..offset(i + 1)]`.
/// The empty string is null ("empty cell = null").
///
/// Offsets take 4 bytes while the column's text is at most `NARROW_MAX` bytes (4 GiB: every
/// column of a real snapshot) and 8 bytes past that. An 8-byte offset is as big as a short id;
/// at scale 500 (~17 M string cells) 4-byte ones should be ~68 MB fewer fresh pages to fault
/// in (an estimate from the cell count; at scale 50 the peak RSS of `validate` fell 134 ->
/// 121 MB). The switch is one conversion when the text grows past `NARROW_MAX`; `get` pays a
/// branch that always goes the same way. `NARROW_MAX` is a parameter only so tests can cross
/// the switch with a few bytes instead of 4 GiB.
#[derive(Debug, Clone)]
pub struct StrColumn<const NARROW_MAX: usize = { u32::MAX as usize }> {
    bytes: String,
    offsets: Offsets,
}

/// `len + 1` end offsets into `StrColumn::bytes`, the first 0.
#[derive(Debug, Clone)]
enum Offsets {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl<const NARROW_MAX: usize> Default for StrColumn<NARROW_MAX> {
    fn default() -> Self {
        Self::new()
    }
}

/// Equal text in equal rows, whatever the width of the offsets.
impl<const NARROW_MAX: usize> PartialEq for StrColumn<NARROW_MAX> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
            && self.len() == other.len()
            && (0..=self.len()).all(|i| self.offset(i) == other.offset(i))
    }
}

impl<const NARROW_MAX: usize> StrColumn<NARROW_MAX> {
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty column with room for `rows` cells of `bytes` bytes of text in all.
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        // A `NARROW_MAX` past u32 would truncate offsets; checked when the type is built.
        const { assert!(NARROW_MAX <= u32::MAX as usize) };
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        StrColumn {
            bytes: String::with_capacity(bytes),
            offsets: Offsets::Narrow(offsets),
        }
    }

    #[inline]
    pub fn push(&mut self, s: &str) {
        self.bytes.push_str(s);
        let end = self.bytes.len();
        match &mut self.offsets {
            Offsets::Narrow(o) if end <= NARROW_MAX => o.push(end as u32),
            _ => self.push_wide(end),
        }
    }

    /// `push` past `NARROW_MAX` bytes: out of line, so the loader's inlined `push` is the
    /// narrow case only.
    #[cold]
    #[inline(never)]
    fn push_wide(&mut self, end: usize) {
        self.wide().push(end as u64);
    }

    pub fn len(&self) -> usize {
        match &self.offsets {
            Offsets::Narrow(o) => o.len() - 1,
            Offsets::Wide(o) => o.len() - 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append another column's rows (a shard parsed in parallel). Narrow stays narrow while
    /// the joined text fits; otherwise this column widens and takes the shard's offsets
    /// (narrow or wide) shifted by its own length.
    pub fn append(&mut self, other: &Self) {
        let base = self.bytes.len();
        self.bytes.push_str(&other.bytes);
        if let (Offsets::Narrow(a), Offsets::Narrow(b)) = (&mut self.offsets, &other.offsets) {
            if self.bytes.len() <= NARROW_MAX {
                let base = base as u32;
                a.extend(b[1..].iter().map(|&o| o + base));
                return;
            }
        }
        let base = base as u64;
        let a = self.wide();
        match &other.offsets {
            Offsets::Narrow(b) => a.extend(b[1..].iter().map(|&o| o as u64 + base)),
            Offsets::Wide(b) => a.extend(b[1..].iter().map(|&o| o + base)),
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let (start, end) = match &self.offsets {
            Offsets::Narrow(o) => (o[i] as usize, o[i + 1] as usize),
            Offsets::Wide(o) => (o[i] as usize, o[i + 1] as usize),
        };
        let s = &self.bytes[start..end];
        (!s.is_empty()).then_some(s)
    }

    /// Remove every row, keeping the allocations (a column that went wide stays wide).
    pub fn clear(&mut self) {
        self.bytes.clear();
        match &mut self.offsets {
            Offsets::Narrow(o) => o.truncate(1),
            Offsets::Wide(o) => o.truncate(1),
        }
    }

    /// Where row `i`'s text starts (`i == len()`: where the text ends).
    fn offset(&self, i: usize) -> usize {
        match &self.offsets {
            Offsets::Narrow(o) => o[i] as usize,
            Offsets::Wide(o) => o[i] as usize,
        }
    }

    /// The 8-byte offsets, converting the 4-byte ones the first time the text outgrows them.
    fn wide(&mut self) -> &mut Vec<u64> {
        if let Offsets::Narrow(o) = &self.offsets {
            self.offsets = Offsets::Wide(o.iter().map(|&o| o as u64).collect());
        }
        match &mut self.offsets {
            Offsets::Wide(o) => o,
            Offsets::Narrow(_) => unreachable!("converted above"),
        }
    }
}

/// Dictionary-encoded strings for columns with few distinct values (channel, stage, owner).
/// Code 0 is null; `dict[code - 1]` is the value.
#[derive(Debug, Clone, Default)]
pub struct CatColumn {
    pub codes: Vec<u32>,
    pub dict: Vec<Box<str>>,
    /// Codes by the hash of their value's `Ends`.
    lookup: hashbrown::HashTable<u32>,
    /// A direct-mapped table in front of `lookup`, indexed by the top bits of a value's hash:
    /// the `Ends` and code of the first value that hashed to the slot (code 0: none). Up to
    /// 16 bytes a value is its `Ends`, so a look-up of a short value is three word compares,
    /// no probing and no byte compare; longer values compare their middle too. Dictionaries
    /// hold a few dozen values, so nearly every value has a slot of its own.
    memo: Vec<(Ends, u32)>,
}

/// Slots of `CatColumn::memo` (the top `MEMO_BITS` bits of the hash).
const MEMO_BITS: u32 = 6;

impl PartialEq for CatColumn {
    fn eq(&self, other: &Self) -> bool {
        self.codes == other.codes && self.dict == other.dict
    }
}

impl CatColumn {
    /// A column of `rows` nulls.
    pub fn nulls(rows: usize) -> Self {
        CatColumn {
            codes: vec![0; rows],
            ..Default::default()
        }
    }
    pub fn push(&mut self, s: &str) {
        let code = self.code_for(s);
        self.codes.push(code);
    }
    /// The code of `s`, adding it to the dictionary if new. The empty string is null (0).
    pub fn code_for(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        if let Some(c) = self.find(s) {
            return c;
        }
        self.dict.push(s.into());
        let c = self.dict.len() as u32;
        let dict = &self.dict;
        let ends = Ends::of(s.as_bytes());
        let hash = ends.hash();
        self.lookup.insert_unique(hash, c, |&c| {
            Ends::of(dict[c as usize - 1].as_bytes()).hash()
        });
        if self.memo.is_empty() {
            self.memo = vec![(Ends::default(), 0); 1 << MEMO_BITS];
        }
        let slot = &mut self.memo[(hash >> (64 - MEMO_BITS)) as usize];
        if slot.1 == 0 {
            *slot = (ends, c);
        }
        c
    }
    /// Append another dictionary column, re-coding its values into this dictionary.
    pub fn append(&mut self, other: &CatColumn) {
        let recode: Vec<u32> = std::iter::once(0)
            .chain(other.dict.iter().map(|v| self.code_for(v)))
            .collect();
        self.codes
            .extend(other.codes.iter().map(|&c| recode[c as usize]));
    }
    /// The code of `s` if it occurs in the column.
    pub fn find(&self, s: &str) -> Option<u32> {
        let s = s.as_bytes();
        let ends = Ends::of(s);
        let hash = ends.hash();
        if let Some(&(seen, c)) = self.memo.get((hash >> (64 - MEMO_BITS)) as usize) {
            let same =
                |c: u32| s.len() <= 16 || same_bytes(self.dict[c as usize - 1].as_bytes(), s);
            if c != 0 && seen == ends && same(c) {
                return Some(c);
            }
        }
        self.lookup
            .find(hash, |&c| {
                same_bytes(self.dict[c as usize - 1].as_bytes(), s)
            })
            .copied()
    }
    /// Empty the column, keeping its allocations.
    pub fn clear(&mut self) {
        self.codes.clear();
        self.dict.clear();
        self.lookup.clear();
        self.memo.fill((Ends::default(), 0));
    }
    pub fn get(&self, i: usize) -> Option<&str> {
        self.value(self.codes[i])
    }
    pub fn value(&self, code: u32) -> Option<&str> {
        (code != 0).then(|| &*self.dict[code as usize - 1])
    }
    pub fn len(&self) -> usize {
        self.codes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

/// A value's length and its first and last eight bytes (first and last four below eight
/// bytes; below four, its bytes in one word): the whole value up to 16 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Ends {
    len: u64,
    head: u64,
    tail: u64,
}

impl Ends {
    fn of(s: &[u8]) -> Ends {
        let n = s.len();
        let (head, tail) = if n >= 8 {
            (word(s, 0), word(s, n - 8))
        } else if n >= 4 {
            (half_word(s, 0), half_word(s, n - 4))
        } else {
            // Byte by byte: a partial copy into a word would stall the load that reads it.
            (s.iter().fold(0, |w, &b| w << 8 | b as u64), 0)
        };
        Ends {
            len: n as u64,
            head,
            tail,
        }
    }

    /// A category value's hash from its `Ends`: constant time for the long Cyrillic values
    /// of CRM exports (statuses, reasons, regions), and values of one column rarely share
    /// all three. Equal hashes are told apart by `same_bytes`.
    fn hash(self) -> u64 {
        let x = self.head.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ self.tail.rotate_left(29)
            ^ (self.len << 56);
        let m = (x as u128).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        (m as u64) ^ ((m >> 64) as u64)
    }
}

fn word(s: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"))
}

fn half_word(s: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes")) as u64
}

/// Byte equality of two short strings, eight bytes per compare (no call into libc's memcmp,
/// which costs more than the compare itself for a dictionary value).
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let mut at = 0;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Ids and free text (and every unknown column).
    Str(StrColumn),
    Cat(CatColumn),
    /// Unix seconds (UTC); `NULL_I64` for null.
    Time(Vec<i64>),
    /// Days since 1970-01-01; `NULL_DATE` for null.
    Date(Vec<i32>),
    /// Ten-thousandths of the currency unit; `NULL_I64` for null.
    Money(Vec<i64>),
    /// `NULL_I64` for null.
    Int(Vec<i64>),
    /// NaN for null (NaN is never accepted as input).
    Num(Vec<f64>),
    /// 0 false, 1 true, 2 null.
    Bool(Vec<u8>),
}

/// One column of a loaded table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// The declared type, or `Text` for a column the spec does not know (kept as is).
    pub ty: ColType,
    /// False for columns not in the spec ("unknown columns are kept").
    pub known: bool,
    pub data: ColumnData,
}

impl Column {
    pub fn new(name: &str, ty: ColType, known: bool) -> Self {
        let data = match ty {
            ColType::Id | ColType::Text => ColumnData::Str(StrColumn::new()),
            ColType::Category => ColumnData::Cat(CatColumn::default()),
            ColType::Timestamp => ColumnData::Time(Vec::new()),
            ColType::Date => ColumnData::Date(Vec::new()),
            ColType::Money => ColumnData::Money(Vec::new()),
            ColType::Int => ColumnData::Int(Vec::new()),
            ColType::Number => ColumnData::Num(Vec::new()),
            ColType::Bool => ColumnData::Bool(Vec::new()),
        };
        Column {
            name: name.to_string(),
            ty,
            known,
            data,
        }
    }

    /// An empty column of the same name and type with room for `rows` cells (text
    /// columns: as many bytes per row as this one holds on average), so a shard parsed in
    /// parallel fills without reallocating.
    pub fn empty_like(&self, rows: usize) -> Column {
        let data = match &self.data {
            ColumnData::Str(c) => {
                let per_row = if c.is_empty() {
                    16
                } else {
                    c.bytes.len() / c.len() + 1
                };
                ColumnData::Str(StrColumn::with_capacity(rows, per_row * rows))
            }
            ColumnData::Cat(_) => ColumnData::Cat(CatColumn {
                codes: Vec::with_capacity(rows),
                ..CatColumn::default()
            }),
            ColumnData::Time(_) => ColumnData::Time(Vec::with_capacity(rows)),
            ColumnData::Date(_) => ColumnData::Date(Vec::with_capacity(rows)),
            ColumnData::Money(_) => ColumnData::Money(Vec::with_capacity(rows)),
            ColumnData::Int(_) => ColumnData::Int(Vec::with_capacity(rows)),
            ColumnData::Num(_) => ColumnData::Num(Vec::with_capacity(rows)),
            ColumnData::Bool(_) => ColumnData::Bool(Vec::with_capacity(rows)),
        };
        Column {
            name: self.name.clone(),
            ty: self.ty,
            known: self.known,
            data,
        }
    }

    /// Remove every cell, keeping the allocations (a shard reused for the next batch).
    pub fn clear(&mut self) {
        match &mut self.data {
            ColumnData::Str(c) => c.clear(),
            ColumnData::Cat(c) => c.clear(),
            ColumnData::Time(v) | ColumnData::Money(v) | ColumnData::Int(v) => v.clear(),
            ColumnData::Date(v) => v.clear(),
            ColumnData::Num(v) => v.clear(),
            ColumnData::Bool(v) => v.clear(),
        }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Str(c) => c.len(),
            ColumnData::Cat(c) => c.len(),
            ColumnData::Time(v) | ColumnData::Money(v) | ColumnData::Int(v) => v.len(),
            ColumnData::Date(v) => v.len(),
            ColumnData::Num(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append another column of the same type (a shard parsed in parallel).
    pub fn append(&mut self, other: &Column) {
        match (&mut self.data, &other.data) {
            (ColumnData::Str(a), ColumnData::Str(b)) => a.append(b),
            (ColumnData::Cat(a), ColumnData::Cat(b)) => a.append(b),
            (ColumnData::Time(a), ColumnData::Time(b))
            | (ColumnData::Money(a), ColumnData::Money(b))
            | (ColumnData::Int(a), ColumnData::Int(b)) => a.extend_from_slice(b),
            (ColumnData::Date(a), ColumnData::Date(b)) => a.extend_from_slice(b),
            (ColumnData::Num(a), ColumnData::Num(b)) => a.extend_from_slice(b),
            (ColumnData::Bool(a), ColumnData::Bool(b)) => a.extend_from_slice(b),
            _ => panic!("appending a column of another type: shards are built from the same spec"),
        }
    }

    pub fn is_null(&self, i: usize) -> bool {
        match &self.data {
            ColumnData::Str(c) => c.get(i).is_none(),
            ColumnData::Cat(c) => c.codes[i] == 0,
            ColumnData::Time(v) | ColumnData::Money(v) | ColumnData::Int(v) => v[i] == NULL_I64,
            ColumnData::Date(v) => v[i] == NULL_DATE,
            ColumnData::Num(v) => v[i].is_nan(),
            ColumnData::Bool(v) => v[i] == 2,
        }
    }

    /// The text of a string or category cell.
    pub fn str(&self, i: usize) -> Option<&str> {
        match &self.data {
            ColumnData::Str(c) => c.get(i),
            ColumnData::Cat(c) => c.get(i),
            _ => None,
        }
    }

    /// Timestamps (unix seconds), dates are not included.
    pub fn times(&self) -> Option<&[i64]> {
        match &self.data {
            ColumnData::Time(v) => Some(v),
            _ => None,
        }
    }
    pub fn dates(&self) -> Option<&[i32]> {
        match &self.data {
            ColumnData::Date(v) => Some(v),
            _ => None,
        }
    }
    /// Money in ten-thousandths (see `MONEY_SCALE`).
    pub fn money(&self) -> Option<&[i64]> {
        match &self.data {
            ColumnData::Money(v) => Some(v),
            _ => None,
        }
    }
    pub fn ints(&self) -> Option<&[i64]> {
        match &self.data {
            ColumnData::Int(v) => Some(v),
            _ => None,
        }
    }
    pub fn nums(&self) -> Option<&[f64]> {
        match &self.data {
            ColumnData::Num(v) => Some(v),
            _ => None,
        }
    }
    pub fn bools(&self) -> Option<&[u8]> {
        match &self.data {
            ColumnData::Bool(v) => Some(v),
            _ => None,
        }
    }
    pub fn cats(&self) -> Option<&CatColumn> {
        match &self.data {
            ColumnData::Cat(c) => Some(c),
            _ => None,
        }
    }

    /// Any cell as a number, for generic consumers (scripts, row checks): money in currency
    /// units, timestamps in unix seconds, dates in days since 1970-01-01, bools as 0/1.
    pub fn f64(&self, i: usize) -> Option<f64> {
        match &self.data {
            ColumnData::Time(v) | ColumnData::Int(v) => (v[i] != NULL_I64).then(|| v[i] as f64),
            ColumnData::Money(v) => (v[i] != NULL_I64).then(|| v[i] as f64 / MONEY_SCALE as f64),
            ColumnData::Date(v) => (v[i] != NULL_DATE).then(|| v[i] as f64),
            ColumnData::Num(v) => (!v[i].is_nan()).then_some(v[i]),
            ColumnData::Bool(v) => (v[i] != 2).then(|| v[i] as f64),
            ColumnData::Str(_) | ColumnData::Cat(_) => None,
        }
    }
}

/// A money amount in ten-thousandths rendered as a plain decimal ("12500.5").
pub fn format_money(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let (whole, frac) = (a / MONEY_SCALE as u64, a % MONEY_SCALE as u64);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let f = format!("{frac:04}");
        format!("{sign}{whole}.{}", f.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_column_treats_empty_as_null() {
        let mut c: StrColumn = StrColumn::new();
        c.push("a");
        c.push("");
        c.push("Привет");
        assert_eq!(
            (c.get(0), c.get(1), c.get(2)),
            (Some("a"), None, Some("Привет"))
        );
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn cat_column_shares_codes() {
        let mut c = CatColumn::default();
        for s in ["yandex", "", "google", "yandex"] {
            c.push(s);
        }
        assert_eq!(c.codes, vec![1, 0, 2, 1]);
        assert_eq!(c.get(3), Some("yandex"));
        assert_eq!(c.get(1), None);
    }

    proptest::proptest! {
        /// Codes are equal exactly when values are, and `find` knows only what was pushed:
        /// values that share their length and ends but differ in the middle (past 16 bytes),
        /// short values that are their ends, more values than the memo has slots.
        #[test]
        fn category_codes_follow_the_values(
            values in proptest::collection::vec("(ab|ба|x){0,12}", 1..300),
            probes in proptest::collection::vec("(ab|ба|x){0,12}", 0..50),
        ) {
            let mut c = CatColumn::default();
            for v in &values {
                c.push(v);
            }
            for (i, v) in values.iter().enumerate() {
                proptest::prop_assert_eq!(c.get(i).unwrap_or(""), v.as_str());
                for (j, w) in values.iter().enumerate() {
                    proptest::prop_assert_eq!(c.codes[i] == c.codes[j], v == w);
                }
            }
            for p in &probes {
                let found = c.find(p).and_then(|code| c.value(code));
                let pushed = !p.is_empty() && values.contains(p);
                proptest::prop_assert_eq!(found, pushed.then_some(p.as_str()));
            }
        }
    }

    #[test]
    fn appended_shards_keep_values() {
        let mut a = Column::new("channel", ColType::Category, true);
        let mut b = Column::new("channel", ColType::Category, true);
        if let (ColumnData::Cat(x), ColumnData::Cat(y)) = (&mut a.data, &mut b.data) {
            x.push("seo");
            y.push("");
            y.push("email");
            y.push("seo");
        }
        a.append(&b);
        let values: Vec<_> = (0..4).map(|i| a.str(i)).collect();
        assert_eq!(values, [Some("seo"), None, Some("email"), Some("seo")]);

        let mut s: StrColumn = StrColumn::new();
        s.push("a");
        let mut t = StrColumn::new();
        t.push("");
        t.push("bc");
        s.append(&t);
        assert_eq!(
            (s.get(0), s.get(1), s.get(2), s.len()),
            (Some("a"), None, Some("bc"), 3)
        );
    }

    /// A column whose offsets go wide past 10 bytes of text: the 4 GiB switch, small.
    type Tiny = StrColumn<10>;

    fn is_wide<const N: usize>(c: &StrColumn<N>) -> bool {
        matches!(c.offsets, Offsets::Wide(_))
    }

    fn rows<const N: usize>(c: &StrColumn<N>) -> Vec<Option<&str>> {
        (0..c.len()).map(|i| c.get(i)).collect()
    }

    #[test]
    fn str_offsets_widen_when_the_text_outgrows_them() {
        let mut c = Tiny::new();
        for s in ["abc", "", "defg", "hij"] {
            c.push(s);
        }
        // Exactly NARROW_MAX bytes still fit the narrow offsets.
        assert_eq!((c.bytes.len(), is_wide(&c)), (10, false));
        c.push("k");
        assert!(is_wide(&c));
        c.push("Привет");
        assert_eq!(
            rows(&c),
            [
                Some("abc"),
                None,
                Some("defg"),
                Some("hij"),
                Some("k"),
                Some("Привет")
            ]
        );
        assert_eq!(c.len(), 6);
        c.clear();
        assert_eq!((c.len(), rows(&c)), (0, vec![]));
        c.push("x");
        assert_eq!(rows(&c), [Some("x")]);
    }

    #[test]
    fn str_shards_append_across_the_switch() {
        let column = |cells: &[&str]| {
            let mut c = Tiny::new();
            cells.iter().for_each(|s| c.push(s));
            c
        };
        let (small, other) = (["ab", "", "c"], ["de", "fgh"]);
        let big = ["0123456", "", "789ab"];
        // narrow + narrow that still fits, narrow + narrow that does not, narrow + wide,
        // wide + narrow, wide + wide: each reads back the concatenated rows.
        for (left, right, wide_after) in [
            (&small[..], &other[..], false),
            (&big[..1], &other[..], true),
            (&small[..], &big[..], true),
            (&big[..], &small[..], true),
            (&big[..], &big[..], true),
        ] {
            let mut a = column(left);
            let b = column(right);
            assert_eq!(is_wide(&b), b.bytes.len() > 10);
            a.append(&b);
            let expected: Vec<Option<&str>> = left
                .iter()
                .chain(right)
                .map(|s| (!s.is_empty()).then_some(*s))
                .collect();
            assert_eq!(rows(&a), expected, "{left:?} + {right:?}");
            assert_eq!(is_wide(&a), wide_after, "{left:?} + {right:?}");
            // The same rows pushed one by one compare equal, whatever the offsets' width.
            let mut pushed = Tiny::new();
            left.iter().chain(right).for_each(|s| pushed.push(s));
            assert_eq!(a, pushed);
        }
        // An empty shard changes nothing; shards of a real-sized column stay narrow.
        let mut a = column(&small);
        a.append(&Tiny::new());
        assert_eq!(a, column(&small));
        let mut real: StrColumn = StrColumn::new();
        real.push("lead-1");
        real.append(&real.clone());
        assert_eq!(rows(&real), [Some("lead-1"), Some("lead-1")]);
        assert!(!is_wide(&real));
    }

    #[test]
    fn str_equality_is_by_rows() {
        let mut narrow = Tiny::new();
        narrow.push("ab");
        let mut wide = Tiny::new();
        wide.push("0123456789a");
        wide.clear();
        wide.push("ab");
        assert!(is_wide(&wide) && !is_wide(&narrow));
        assert_eq!(narrow, wide);
        let mut split = Tiny::new();
        split.push("a");
        split.push("b");
        assert_ne!(narrow, split, "the same text cut into other rows");
    }

    proptest::proptest! {
        /// Any sequence of pushes and shard appends reads back what a Vec of strings holds.
        #[test]
        fn str_column_matches_a_vec(
            shards in proptest::collection::vec(
                proptest::collection::vec("[a-zé]{0,4}", 0..6), 1..6),
        ) {
            let mut column = StrColumn::<16>::new();
            let mut model: Vec<String> = Vec::new();
            for (n, shard) in shards.iter().enumerate() {
                if n % 2 == 0 {
                    shard.iter().for_each(|s| column.push(s));
                } else {
                    let mut part = StrColumn::<16>::new();
                    shard.iter().for_each(|s| part.push(s));
                    column.append(&part);
                }
                model.extend(shard.iter().cloned());
            }
            let expected: Vec<Option<&str>> =
                model.iter().map(|s| (!s.is_empty()).then_some(s.as_str())).collect();
            proptest::prop_assert_eq!(rows(&column), expected);
            proptest::prop_assert_eq!(is_wide(&column), column.bytes.len() > 16);
        }
    }

    #[test]
    fn money_formats_exactly() {
        assert_eq!(format_money(125_005_000), "12500.5");
        assert_eq!(format_money(-10_000), "-1");
        assert_eq!(format_money(1), "0.0001");
    }
}
