//! PostgreSQL clusters a test starts and stops on its own: a primary, and streaming
//! replicas of it made the way an operator makes them (`pg_basebackup -R`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::scratch_dir;

/// A PostgreSQL cluster the test starts in a directory of its own, on a TCP port of
/// its own; run as `postgres` when the test runs as root (initdb refuses root).
pub struct OwnPostgres {
    bin: PathBuf,
    data: PathBuf,
    home: PathBuf,
    port: u16,
    owner: Option<nix::unistd::User>,
}

impl OwnPostgres {
    /// A new cluster (initdb), started.
    pub fn start() -> OwnPostgres {
        let cluster = OwnPostgres::unstarted();
        cluster.run("initdb", &["-D", cluster.data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
        cluster.pg_ctl_start();
        cluster
    }

    /// A streaming replica of `primary`, copied from it with `pg_basebackup -R` (which
    /// writes `standby.signal` and `primary_conninfo`), started and answering reads.
    pub fn replica_of(primary: &OwnPostgres) -> OwnPostgres {
        let replica = OwnPostgres::unstarted();
        let port = primary.port.to_string();
        let data = replica.data.to_str().unwrap();
        replica.run(
            "pg_basebackup",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D", data, "-R", "-X", "stream", "-c", "fast"],
        );
        replica.pg_ctl_start();
        replica
    }

    /// A directory and a port for a cluster, owned by `postgres` when run as root.
    fn unstarted() -> OwnPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server programs under /usr/lib/postgresql")
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|bin| bin.join("initdb").exists())
            .max()
            .expect("an initdb");
        let home = scratch_dir();
        let owner =
            nix::unistd::geteuid().is_root().then(|| nix::unistd::User::from_name("postgres").unwrap().unwrap());
        if let Some(owner) = &owner {
            nix::unistd::chown(&home, Some(owner.uid), Some(owner.gid)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        OwnPostgres { bin, data: home.join("data"), home, port, owner }
    }

    /// Runs one statement on `database` with psql, as the cluster's owner.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let port = self.port.to_string();
        let args = ["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", database, "-XAtq", "-c", sql];
        let mut command = Command::new("psql");
        let out = command.args(args).output().unwrap();
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = match &self.owner {
            Some(owner) => {
                let mut c = Command::new("runuser");
                c.args(["-u", &owner.name, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        let out = command.args(args).current_dir(&self.home).output().unwrap();
        assert!(out.status.success(), "{program:?} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn pg_ctl_start(&self) {
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k {}", self.port, self.home.display());
        let log = self.home.join("log");
        self.run(
            "pg_ctl",
            &["start", "-w", "-D", self.data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &options],
        );
    }

    pub fn stop(&self) {
        self.run("pg_ctl", &["stop", "-w", "-m", "fast", "-D", self.data.to_str().unwrap()]);
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable", self.port)
    }

    /// The postmaster and every process it started.
    pub fn processes(&self) -> Vec<Pid> {
        let pid_file = std::fs::read_to_string(self.data.join("postmaster.pid")).unwrap();
        let postmaster: i32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
        let mut pids = vec![Pid::from_raw(postmaster)];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // pid (comm) state ppid ...: the fields after the last ')'.
            let after = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
            let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse::<i32>().ok());
            if ppid == Some(postmaster) {
                pids.push(Pid::from_raw(entry.file_name().to_str().unwrap().parse().unwrap()));
            }
        }
        pids
    }

    /// Every process of the server stops where it is (SIGSTOP): connections stay
    /// open and nothing answers.
    pub fn freeze(&self) -> Vec<Pid> {
        let pids = self.processes();
        for pid in &pids {
            let _ = kill(*pid, Signal::SIGSTOP);
        }
        pids
    }

    pub fn thaw(pids: &[Pid]) {
        for pid in pids {
            let _ = kill(*pid, Signal::SIGCONT);
        }
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        // A cluster the test stopped has no postmaster left to stop.
        if self.data.join("postmaster.pid").exists() {
            if let Ok(pids) = std::panic::catch_unwind(|| self.processes()) {
                OwnPostgres::thaw(&pids);
                let _ = kill(pids[0], Signal::SIGQUIT);
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        let _ = std::fs::remove_dir_all(&self.home);
    }
}
