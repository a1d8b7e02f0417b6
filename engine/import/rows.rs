//! Converted rows in one text buffer: row `i`, cell `j` is a slice of it. An import
//! holds every row until it can sort them, so this keeps a million rows of twenty cells
//! at one allocation per growth step instead of twenty million strings.

#[derive(Debug, Clone, Default)]
pub struct RowBuf {
    width: usize,
    text: String,
    /// End offset of every cell, row after row.
    ends: Vec<usize>,
}

impl RowBuf {
    pub fn new(width: usize) -> Self {
        RowBuf {
            width,
            text: String::new(),
            ends: Vec::new(),
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// Append the next cell of the current row.
    pub fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }

    /// Close the current row (checks it got exactly `width` cells).
    pub fn end_row(&mut self) {
        debug_assert_eq!(self.ends.len() % self.width.max(1), 0, "ragged row");
    }

    pub fn rows(&self) -> usize {
        self.ends.len().checked_div(self.width).unwrap_or(0)
    }

    pub fn cell(&self, row: usize, col: usize) -> &str {
        let i = row * self.width + col;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    pub fn row(&self, row: usize) -> impl Iterator<Item = &str> + '_ {
        (0..self.width).map(move |c| self.cell(row, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_come_back() {
        let mut b = RowBuf::new(2);
        for (a, c) in [("L1", "Привет"), ("", "x")] {
            b.push(a);
            b.push(c);
            b.end_row();
        }
        assert_eq!(b.rows(), 2);
        assert_eq!(b.cell(0, 1), "Привет");
        assert_eq!(b.row(1).collect::<Vec<_>>(), ["", "x"]);
    }
}
