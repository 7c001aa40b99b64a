//! The `neardedup` command-line program: argument parsing and one exit path.
//! All the work is in the library; see `neardedup --help`.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
