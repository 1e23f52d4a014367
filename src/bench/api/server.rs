//! The server under test: this very binary's `serve`, as a child process, so its CPU time
//! and memory are its own in `/proc` and the load generator's are not counted with them.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::crypto::MasterKey;

/// Requests per minute per caller while measuring with the limiter on: it does its work
/// (its cost is part of a request's; a statement on PostgreSQL) but never refuses the load.
const RATE_LIMIT_PER_MINUTE: &str = "1000000000";
/// Longest wait for the server to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Server {
    child: Child,
    pub pid: u32,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Its data folder (and log).
    folder: PathBuf,
}

impl Server {
    /// Starts `serve` on `database_url` at a free port on 127.0.0.1, with the given secrets,
    /// and the request-rate limiter on (set never to refuse) or off.
    pub fn start(
        database_url: &str,
        jwt_secret: &str,
        master: &MasterKey,
        rate_limiter: bool,
    ) -> anyhow::Result<Server> {
        let folder = std::env::temp_dir().join(format!(
            "billbridge-bench-server-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&folder)?;
        let mut command = Command::new(std::env::current_exe().context("finding this program")?);
        command
            .arg("--data-dir")
            .arg(&folder)
            .args([
                "serve",
                "--database-url",
                database_url,
                "--listen",
                "127.0.0.1:0",
            ])
            .env("BILLBRIDGE_JWT_SECRET", jwt_secret)
            .env("BILLBRIDGE_MASTER_KEY", master.to_base64())
            .env(
                "BILLBRIDGE_RATE_LIMIT_PER_MINUTE",
                if rate_limiter {
                    RATE_LIMIT_PER_MINUTE
                } else {
                    "0"
                },
            )
            .env("RUST_LOG", "warn")
            .env_remove("BILLBRIDGE_DATABASE_URL")
            .env_remove("BILLBRIDGE_LISTEN");
        Server::spawn(command, folder, "billbridge is serving ")
    }

    /// Starts `bench plain` (a plain axum JSON handler, the floor any server on this
    /// machine stands on) at a free port on 127.0.0.1.
    pub fn plain() -> anyhow::Result<Server> {
        let folder = std::env::temp_dir().join(format!(
            "billbridge-bench-plain-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&folder)?;
        let mut command = Command::new(std::env::current_exe().context("finding this program")?);
        command.args(["bench", "plain", "--listen", "127.0.0.1:0"]);
        Server::spawn(command, folder, super::plain::SERVING)
    }

    /// Runs `command` (its log in `folder`) until it prints `prefix` and the address it
    /// serves at.
    fn spawn(
        mut command: Command,
        folder: PathBuf,
        prefix: &'static str,
    ) -> anyhow::Result<Server> {
        let log = std::fs::File::create(folder.join("server.log"))?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting the server")?;
        let pid = child.id();
        let stdout = child.stdout.take().context("the server's output")?;
        let (found, address) = mpsc::channel();
        std::thread::spawn(move || {
            // Read every line, so the server never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix(prefix) {
                    let base = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = found.send(base);
                }
            }
        });
        let mut server = Server {
            child,
            pid,
            base: String::new(),
            folder,
        };
        match address.recv_timeout(START_TIMEOUT) {
            Ok(base) => server.base = base,
            Err(_) => {
                let log =
                    std::fs::read_to_string(server.folder.join("server.log")).unwrap_or_default();
                bail!("the server did not start:\n{log}");
            }
        }
        Ok(server)
    }

    /// The value of a counter on `/metrics`, e.g. `billbridge_db_statements_total`.
    pub async fn counter(&self, name: &str) -> anyhow::Result<u64> {
        let text = reqwest::get(format!("{}/metrics", self.base))
            .await?
            .error_for_status()?
            .text()
            .await?;
        text.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == name)
                    .then(|| value.trim().parse::<u64>().ok())
                    .flatten()
            })
            .with_context(|| format!("{name} is not on /metrics"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
