//! A minimal log on standard error: a timestamp, a level and a message.
//! Callers never pass a token value; at most its public id.

use std::fmt::Arguments;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn line(level: &str, message: Arguments<'_>) {
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "-".into());
    eprintln!("{now} {level} {message}");
}

/// Something worth knowing.
pub fn info(message: Arguments<'_>) {
    line("INFO", message);
}

/// Something that went wrong but was handled.
pub fn warn(message: Arguments<'_>) {
    line("WARN", message);
}
