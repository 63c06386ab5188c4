//! The `roster` binary as a process: started, signalled and stopped by a test.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `roster serve` process on a free port, with what it printed.
pub struct Roster {
    child: Child,
    pub address: String,
    output: Arc<Mutex<String>>,
    /// `ROSTER_DATA_DIR`, when it runs a private PostgreSQL.
    data_dir: Option<PathBuf>,
}

impl Roster {
    /// [`Roster::serve`] from async code: starts it off the runtime's threads.
    pub async fn start(dir: &Path, args: &[&'static str], env: &[(&'static str, String)]) -> Roster {
        let (dir, args, env) = (dir.to_owned(), args.to_vec(), env.to_vec());
        tokio::task::spawn_blocking(move || Roster::serve(&dir, &args, &env)).await.unwrap()
    }

    /// [`Roster::stop`] from async code: the exit status and everything it printed.
    pub async fn finish(mut self) -> (ExitStatus, String) {
        tokio::task::spawn_blocking(move || (self.stop(), self.output())).await.unwrap()
    }

    /// Starts `roster serve` with `env` and waits until it listens.
    pub fn serve(dir: &Path, args: &[&str], env: &[(&'static str, String)]) -> Roster {
        let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
        command
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            // No .env of the checkout, and none of the caller's Roster settings.
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env_remove("ROSTER_SMTP_URL")
            .env_remove("ROSTER_BASE_URL")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("roster starts");
        let output = Arc::new(Mutex::new(String::new()));
        let (listening, address) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for (pipe, sender) in
            [(Box::new(stdout) as Box<dyn std::io::Read + Send>, Some(listening)), (Box::new(stderr), None)]
        {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let (Some(sender), Some(address)) = (&sender, line.strip_prefix("Roster is listening on ")) {
                        let _ = sender.send(address.to_owned());
                    }
                    output.lock().unwrap().push_str(&(line + "\n"));
                }
            });
        }
        match address.recv_timeout(Duration::from_secs(120)) {
            Ok(address) => {
                let data_dir = env.iter().find(|(name, _)| *name == "ROSTER_DATA_DIR").map(|(_, dir)| dir.into());
                Roster { child, address, output, data_dir }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("roster did not start:\n{}", output.lock().unwrap());
            }
        }
    }

    /// The process id, for what /proc says of it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// Waits (bounded) for the process to end.
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "roster did not stop within {within:?}:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, and the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.wait(Duration::from_secs(60))
    }
}

impl Drop for Roster {
    /// A test that fails midway kills its Roster, and the private PostgreSQL that Roster
    /// would have stopped (immediate shutdown), so none is left behind.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let Some(dir) = &self.data_dir else { return };
        let pid = std::fs::read_to_string(dir.join("postgres/postmaster.pid")).ok();
        if let Some(pid) = pid.as_deref().and_then(|text| text.lines().next()?.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGQUIT);
        }
    }
}

/// A fresh directory under the system's temporary directory.
pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("roster-ops-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
