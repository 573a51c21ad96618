//! The `tessera-host` binary.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match tessera_host::cli::run(tessera_host::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
