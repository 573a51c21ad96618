//! TLS for the synchronous `postgres` client, with rustls and its `ring`
//! provider, following libpq's `sslmode` and `sslrootcert` URL parameters.
//!
//! `postgres::Config` knows only `sslmode=disable`, `prefer` and `require`,
//! and rejects `verify-ca`, `verify-full` and `sslrootcert`. So [`connect_config`]
//! takes both parameters out of the URL, lets `postgres` parse the rest, and
//! builds a rustls connector that checks the server's certificate as libpq
//! would:
//!
//! | `sslmode`                   | TLS                     | certificate checked                    |
//! | --------------------------- | ----------------------- | -------------------------------------- |
//! | `disable`                   | never                   | -                                      |
//! | `allow`, `prefer` (default) | if the server offers it | the chain, if `sslrootcert` is given   |
//! | `require`                   | always                  | the chain, if `sslrootcert` is given   |
//! | `verify-ca`                 | always                  | the chain, against `sslrootcert`       |
//! | `verify-full`               | always                  | the chain and the URL's host name      |
//!
//! Unlike libpq, nothing is read from `~/.postgresql/root.crt`: the verifying
//! modes need an explicit `sslrootcert`, a PEM file of one or more roots. And
//! a `prefer` connection whose TLS handshake fails is not tried again without
//! TLS: `postgres` falls back to plain text only when the server offers no TLS.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use percent_encoding::percent_decode_str;
use postgres::Config;
use postgres::config::SslMode as PgSslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::{
    WebPkiSupportedAlgorithms, ring, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How much TLS a connection insists on, as libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Reads a libpq `sslmode` value. `allow` (plain first, TLS if refused)
    /// is taken as `prefer`, which never uses less TLS than it.
    fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "disable" => Self::Disable,
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => bail!("unknown sslmode {value:?}"),
        })
    }
}

/// Parses a `postgres://` or `postgresql://` URL, with libpq's `sslmode` and
/// `sslrootcert` among its parameters, into the connection settings and the
/// TLS connector to pass to `Config::connect`. A key-value connection string
/// is left to `postgres`, which reads its `sslmode` but knows no verifying
/// mode.
pub fn connect_config(url: &str) -> Result<(Config, MakeRustlsConnect)> {
    let (rest, mode, root) = take_tls_params(url)?;
    let mut config: Config = rest.parse().context("not a valid postgres:// URL")?;
    let mode = match mode {
        Some(mode) => mode,
        None => match config.get_ssl_mode() {
            PgSslMode::Disable => SslMode::Disable,
            PgSslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        },
    };
    config.ssl_mode(match mode {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
    });
    let tls = client_config(mode, root.as_deref().map(Path::new))?;
    Ok((config, MakeRustlsConnect::new(tls)))
}

/// Removes `sslmode` and `sslrootcert` from a URL's parameters, and returns
/// the URL without them and their decoded values. A string that is not a URL
/// comes back as it is.
fn take_tls_params(url: &str) -> Result<(String, Option<SslMode>, Option<String>)> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let Some((base, query)) = url.split_once('?').filter(|_| is_url) else {
        return Ok((url.to_owned(), None, None));
    };
    let (mut mode, mut root, mut kept) = (None, None, Vec::new());
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match &*decode(key)? {
            "sslmode" => mode = Some(SslMode::parse(&decode(value)?)?),
            "sslrootcert" => root = Some(decode(value)?),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, mode, root))
}

/// Undoes a URL's percent-encoding.
fn decode(s: &str) -> Result<String> {
    let decoded = percent_decode_str(s).decode_utf8();
    Ok(decoded.context("URL parameter is not UTF-8")?.into_owned())
}

/// Builds the rustls settings for `mode`, with the roots in `root` if given.
/// As in libpq, a root file makes `prefer` and `require` check the chain too.
fn client_config(mode: SslMode, root: Option<&Path>) -> Result<ClientConfig> {
    let provider = Arc::new(ring::default_provider());
    let roots = match root {
        _ if mode == SslMode::Disable => None,
        Some(path) => Some(load_roots(path)?),
        None if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
            bail!("sslmode verify-ca and verify-full need sslrootcert, a PEM file of roots")
        }
        None => None,
    };
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        (SslMode::VerifyFull, Some(roots)) => {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()?
        }
        (_, roots) => Arc::new(ChainVerifier { roots, algorithms }),
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // PostgreSQL 17 requires this ALPN protocol for `sslnegotiation=direct`;
    // earlier servers ignore it.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(config)
}

/// Reads the PEM certificates in `path` as trusted roots.
fn load_roots(path: &Path) -> Result<RootCertStore> {
    if path.as_os_str() == "system" {
        bail!("sslrootcert=system is not supported");
    }
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read sslrootcert {}", path.display()))?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        bail!("sslrootcert {} holds no usable certificate", path.display());
    }
    Ok(roots)
}

/// Checks the server's certificate chain against `roots` but not the host
/// name it was issued for (`verify-ca`), or, without roots, accepts any
/// certificate (`require`, `prefer`). Either way the handshake signatures are
/// checked, so the server must hold the key of the certificate it shows.
#[derive(Debug)]
struct ChainVerifier {
    roots: Option<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_out_the_tls_parameters() {
        let (rest, mode, root) = take_tls_params(
            "postgres://u@localhost:5432/db?connect_timeout=3&sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u@localhost:5432/db?connect_timeout=3");
        assert_eq!(mode, Some(SslMode::VerifyFull));
        assert_eq!(root.as_deref(), Some("/tmp/ca.pem"));
    }

    #[test]
    fn leaves_other_strings_alone() {
        let (rest, mode, root) = take_tls_params("host=localhost sslmode=require").unwrap();
        assert_eq!(
            (rest.as_str(), mode, root),
            ("host=localhost sslmode=require", None, None)
        );
        let (rest, ..) = take_tls_params("postgres://localhost/db").unwrap();
        assert_eq!(rest, "postgres://localhost/db");
    }

    #[test]
    fn defaults_to_prefer_and_keeps_key_value_modes() {
        let (config, _) = connect_config("postgres://localhost/db").unwrap();
        assert_eq!(config.get_ssl_mode(), PgSslMode::Prefer);
        let (config, _) = connect_config("host=localhost sslmode=disable").unwrap();
        assert_eq!(config.get_ssl_mode(), PgSslMode::Disable);
    }

    #[test]
    fn verifying_modes_need_a_root() {
        assert!(connect_config("postgres://localhost/db?sslmode=verify-ca").is_err());
        assert!(connect_config("postgres://localhost/db?sslmode=bogus").is_err());
    }
}
