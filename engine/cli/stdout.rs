//! Standard output for every command. `print!` panics when the reader has gone away
//! (`marqa check | head`); a closed pipe is not the command's failure, so what was left
//! unread is dropped and the command still ends with its own exit code.

use std::io::{self, Write};

/// Write `text` to standard output as it is (callers add the line ends they want).
pub fn emit(text: &str) {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        // A full disk behind `> file` and the like: say so, like `print!` would, but
        // without a panic's backtrace text.
        Err(e) => eprintln!("marqa: cannot write to standard output: {e}"),
    }
}

/// `print!` that survives a closed pipe (see [`emit`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::stdout::emit(&format!($($arg)*))
    };
}

/// `println!` that survives a closed pipe (see [`emit`]).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::stdout::emit(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
