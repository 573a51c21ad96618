//! TLS to PostgreSQL through the real binary, against a real server that
//! refuses plain TCP and holds a certificate this test makes (with
//! `openssl`): libpq's `sslmode` values and `sslrootcert`, as users write
//! them in `--db` URLs.
//!
//! Needs PostgreSQL; `scripts/test-postgres.sh` runs it with `--ignored`.

mod common;

use std::path::Path;

use common::pg::PgCluster;
use common::{Server, add_user_db, basic, cli_db, create, openssl, temp_dir};

/// A certificate authority (`NAME.pem`, `NAME.key`).
fn authority(dir: &Path, name: &str) {
    let subject = format!("/CN={name}");
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &subject,
            "-keyout",
            &key,
            "-out",
            &pem,
        ],
    );
}

/// A server certificate for `localhost` only (`server.pem`, `server.key`),
/// signed by the authority `ca`.
fn server_certificate(dir: &Path) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
}

/// Whether `user add` can reach the database at `url` (it connects,
/// migrates and writes).
fn reaches(url: &str, name: &str) -> Result<(), String> {
    let out = cli_db(url, &["user", "add", name], "long-enough\n");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn the_host_speaks_tls_to_postgres_as_sslmode_says() {
    let certs = temp_dir("pg-certs");
    authority(&certs, "ca");
    authority(&certs, "other-ca");
    server_certificate(&certs);
    let cluster = PgCluster::start_tls("tls", &certs.join("server.pem"), &certs.join("server.key"));
    cluster.database("tls");
    let port = cluster.port();
    let root = certs.join("ca.pem");
    let other = certs.join("other-ca.pem");
    let url = |host: &str, query: &str| format!("postgres://postgres@{host}:{port}/tls?{query}");
    let verify_full = url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", root.display()),
    );

    // verify-full with the right root and host name: the whole service
    // works over it, and PostgreSQL sees only TLS connections.
    add_user_db(&verify_full, "ann", "ann-password", true);
    let server = Server::start_db(&verify_full);
    let ann = basic("ann", "ann-password");
    create(
        &server,
        &ann,
        r#"{"name":"over-tls","scope":{"preset":"read"}}"#,
    );
    let listed = server.send("GET", "/api/usertokens", Some(&ann), None);
    assert_eq!(listed.json()[0]["name"], "over-tls");
    let row = cluster
        .admin()
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'tls'",
            &[],
        )
        .unwrap();
    let (encrypted, plain): (i64, i64) = (row.get(0), row.get(1));
    assert!(
        encrypted > 0 && plain == 0,
        "{encrypted} TLS, {plain} plain"
    );
    drop(server);

    // A root that did not sign the server's certificate: refused.
    let wrong_root = url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", other.display()),
    );
    let error = reaches(&wrong_root, "u1").unwrap_err();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    // The certificate names localhost, not 127.0.0.1: verify-full refuses,
    // verify-ca (the chain only) accepts.
    let by_address = |mode: &str| {
        url(
            "127.0.0.1",
            &format!("sslmode={mode}&sslrootcert={}", root.display()),
        )
    };
    let error = reaches(&by_address("verify-full"), "u2").unwrap_err();
    assert!(error.contains("127.0.0.1"), "{error}");
    reaches(&by_address("verify-ca"), "u3").unwrap();
    // require encrypts without checking; disable is refused by a server
    // that takes TLS only; prefer (libpq's default) uses TLS when offered.
    reaches(&url("127.0.0.1", "sslmode=require"), "u4").unwrap();
    assert!(reaches(&url("127.0.0.1", "sslmode=disable"), "u5").is_err());
    reaches(&url("127.0.0.1", "sslmode=prefer"), "u6").unwrap();
    reaches(&format!("postgres://postgres@127.0.0.1:{port}/tls"), "u7").unwrap();
    // require with a root file checks the chain, as libpq does.
    let require_wrong = url(
        "localhost",
        &format!("sslmode=require&sslrootcert={}", other.display()),
    );
    assert!(reaches(&require_wrong, "u8").is_err());
    // Mistakes are named.
    let error = reaches(&url("localhost", "sslmode=verify-all"), "u9").unwrap_err();
    assert!(error.contains("sslmode"), "{error}");
    let error = reaches(&url("localhost", "sslmode=verify-full"), "u10").unwrap_err();
    assert!(error.contains("sslrootcert"), "{error}");
    // What was refused wrote nothing.
    let mut tls = cluster_client(&cluster);
    let names: Vec<String> = tls
        .query("SELECT name FROM users ORDER BY name", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(names, ["ann", "u3", "u4", "u6", "u7"]);
}

/// A connection to the test database through the Unix socket.
fn cluster_client(cluster: &PgCluster) -> postgres::Client {
    let socket = format!(
        "host={} port={} user=postgres dbname=tls",
        cluster.dir().display(),
        cluster.port()
    );
    postgres::Client::connect(&socket, postgres::NoTls).expect("connect")
}
