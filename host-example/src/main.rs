//! The `tessera-host` binary.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match tessera_host::cli::run(tessera_host::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // `scan`: 1 when it found tokens, 2 when it could not finish.
        Err(error) if error.is::<tessera_host::client::Found>() => {
            eprintln!("{error}");
            std::process::ExitCode::from(1)
        }
        Err(error) if error.is::<tessera_host::client::ScanFailed>() => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
