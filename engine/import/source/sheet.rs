//! Spreadsheets through calamine: `.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`. Cells keep
//! their types (numbers, dates, booleans); merged regions (a merged header over several
//! columns, a date merged down a block of rows) read as their top-left value everywhere.

use std::collections::HashMap;
use std::path::Path;

use calamine::{open_workbook_auto, CellErrorType, Data, Reader, Sheets};
use jiff::civil::DateTime;

use super::{CellRef, Grid, GridData};
use crate::diag::Diagnostic;
use crate::import::mapping::{ReadOptions, SheetRef};
use crate::import::text::norm;

pub fn read(path: &Path, opts: &ReadOptions) -> Result<Grid, Diagnostic> {
    let mut wb = open_workbook_auto(path).map_err(|e| {
        Diagnostic::new("E-IMPORT-READ", format!("cannot read the spreadsheet: {e}"))
            .in_file(path)
            .help("check the file opens in a spreadsheet program; save it as .xlsx or export CSV if it does not")
    })?;
    let names = wb.sheet_names();
    let name = match &opts.sheet {
        None => names.first().cloned(),
        Some(SheetRef::Name(n)) => names.iter().find(|s| norm(s) == norm(n)).cloned(),
        Some(SheetRef::Index(i)) => names.get(i.saturating_sub(1)).cloned(),
    };
    let Some(name) = name else {
        return Err(Diagnostic::new(
            "E-IMPORT-SHEET",
            match &opts.sheet {
                Some(SheetRef::Name(n)) => format!("no sheet named «{n}»"),
                Some(SheetRef::Index(i)) => format!("no sheet number {i}"),
                None => "the workbook has no sheets".into(),
            },
        )
        .in_file(path)
        .help(format!("sheets in this workbook: {}", names.join(", "))));
    };
    let range = wb.worksheet_range(&name).map_err(|e| {
        Diagnostic::new("E-IMPORT-READ", format!("cannot read sheet «{name}»: {e}")).in_file(path)
    })?;
    let regions = match &mut wb {
        Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        Sheets::Xls(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        // .xlsb and .ods: calamine does not report merged regions; their covered cells
        // simply read as empty.
        _ => Vec::new(),
    };
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let mut merged = HashMap::new();
    for m in regions {
        let (r1, c1) = m.start;
        let (r2, c2) = m.end;
        if r1 < row0 || c1 < col0 {
            continue;
        }
        let top = ((r1 - row0) as usize, (c1 - col0) as usize);
        for r in r1..=r2 {
            for c in c1..=c2 {
                if (r, c) != (r1, c1) {
                    merged.insert(((r - row0) as usize, (c - col0) as usize), top);
                }
            }
        }
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("sheet")
        .to_ascii_lowercase();
    Ok(Grid {
        file: path.to_path_buf(),
        described: format!("{ext}, sheet «{name}»"),
        fixed_header: None,
        data: GridData::Sheet {
            range,
            merged,
            first_row: row0 as u64 + 1,
            first_col: col0 as usize,
        },
    })
}

pub(super) fn cell(d: Option<&Data>) -> CellRef<'_> {
    match d {
        None | Some(Data::Empty) => CellRef::Empty,
        Some(Data::Int(v)) => CellRef::Int(*v),
        Some(Data::Float(f)) => CellRef::Float(*f),
        Some(Data::String(s)) => CellRef::Text(s),
        Some(Data::Bool(b)) => CellRef::Bool(*b),
        Some(Data::DateTimeIso(s)) | Some(Data::DurationIso(s)) => CellRef::Text(s),
        Some(Data::DateTime(x)) => {
            if x.is_duration() {
                return CellRef::Duration(x.as_f64() * 86_400.0);
            }
            let (y, mo, d, h, mi, s, ms) = x.to_ymd_hms_milli();
            match DateTime::new(y as i16, mo as i8, d as i8, h as i8, mi as i8, s as i8, 0) {
                Ok(dt) => {
                    // Excel stores times as day fractions: 09:15 may read back as 09:14:59.999.
                    let dt = if ms >= 500 {
                        dt.checked_add(jiff::Span::new().seconds(1)).unwrap_or(dt)
                    } else {
                        dt
                    };
                    CellRef::DateTime(dt, x.as_f64())
                }
                Err(_) => CellRef::Error("#DATE"),
            }
        }
        Some(Data::Error(e)) => CellRef::Error(match e {
            CellErrorType::Div0 => "#DIV/0!",
            CellErrorType::NA => "#N/A",
            CellErrorType::Name => "#NAME?",
            CellErrorType::Null => "#NULL!",
            CellErrorType::Num => "#NUM!",
            CellErrorType::Ref => "#REF!",
            CellErrorType::Value => "#VALUE!",
            CellErrorType::GettingData => "#GETTING_DATA",
        }),
    }
}
