//! Throwaway PostgreSQL servers for the tests: Debian's postgresql-15 binaries (`pg_config
//! --bindir`, or `/usr/lib/postgresql/*/bin`), `initdb` into a temporary directory and
//! `pg_ctl` on a free 127.0.0.1 port, run as `nobody` when the tests run as root (PostgreSQL
//! refuses root). Stopped and deleted when dropped. Without the binaries, the tests that need
//! one fail and say so: install `postgresql-15` (`.ci/run` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// A running server.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

fn binaries() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let from_pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_owned()));
        let candidates = from_pg_config.into_iter().chain(
            std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path().join("bin")),
        );
        candidates.into_iter().find(|dir| dir.join("initdb").exists()).unwrap_or_else(|| {
            panic!("these tests need a PostgreSQL server: no initdb found (apt-get install postgresql-15)")
        })
    })
    .clone()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// `program args`, as `nobody` when we are root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "nobody", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn checked(output: std::io::Result<Output>, what: &str) {
    let output = output.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
}

impl Postgres {
    /// A new server with a database `authn` its user `authn` owns (trust authentication, on
    /// 127.0.0.1 only).
    pub fn start() -> Postgres {
        let bin = binaries();
        let dir = tempfile::Builder::new().prefix("authn-pg").tempdir().unwrap();
        if is_root() {
            checked(Command::new("chown").args(["nobody:nogroup"]).arg(dir.path()).output(), "chown");
        }
        checked(
            as_server_user(&bin.join("initdb"))
                .arg("-D")
                .arg(dir.path().join("data"))
                .args(["-U", "authn", "--auth=trust", "-E", "UTF8", "--no-instructions"])
                .output(),
            "initdb",
        );
        let server = Postgres { dir, bin, port: crate::idp::free_port() };
        server.start_again();
        let createdb = Command::new(server.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &server.port.to_string(), "-U", "authn", "authn"])
            .output();
        checked(createdb, "createdb");
        server
    }

    /// The URL of the `authn` database.
    pub fn url(&self) -> String {
        format!("postgres://authn@127.0.0.1:{}/authn", self.port)
    }

    /// A fresh, empty database on this server, and its URL.
    pub fn database(&self, name: &str) -> String {
        for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
            self.psql(&sql);
        }
        format!("postgres://authn@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs SQL with psql against the `authn` database; its output.
    pub fn psql(&self, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "authn", "-d", "authn", "-At", "-c", sql])
            .output()
            .unwrap();
        assert!(output.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Stops the server (`pg_ctl stop -m fast`): connections are cut, the port refuses.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]);
    }

    /// Starts it again on the same port and data.
    pub fn start_again(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        self.pg_ctl(&["-l", &log.display().to_string(), "-o", &options, "start"]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        checked(
            as_server_user(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .arg("-w")
                .args(args)
                .stdout(Stdio::null())
                .output(),
            "pg_ctl",
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_server_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
