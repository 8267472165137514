//! Starts and stops a real OCI registry (the CNCF Distribution server, Debian package
//! `docker-registry`) on a free loopback port, with deletes enabled.
//!
//! Used by the emulator, the demo, the benchmarks and the tests. It owns the child
//! process and its data directory: both are gone when the handle is dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use url::Url;

/// Where to look for the registry binary, in order, after `$REGSWEEP_REGISTRY_BIN`:
/// the copy `scripts/ensure-registry.sh` unpacks into this checkout (no system
/// service), then the system's.
const CANDIDATES: &[&str] = &[
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/tools/docker-registry/usr/bin/docker-registry"
    ),
    "docker-registry",
    "/usr/bin/docker-registry",
    "registry",
];

/// Why the registry could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "cannot find the OCI registry server `docker-registry`\n  \
         The test bed runs the CNCF Distribution server on 127.0.0.1.\n  \
         help: run scripts/ensure-registry.sh (it unpacks one into target/tools/), or set REGSWEEP_REGISTRY_BIN to its path"
    )]
    NotInstalled,
    #[error("cannot start the OCI registry `{bin}`: {source}")]
    Spawn {
        bin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the OCI registry did not answer on {addr} within {waited:?}; its log:\n{log}")]
    NotReady {
        addr: SocketAddr,
        waited: Duration,
        log: String,
    },
    #[error("cannot prepare the registry's directory: {0}")]
    Io(#[from] std::io::Error),
}

/// A running Distribution server. Killed, and its storage removed, on drop.
pub struct LocalRegistry {
    child: Child,
    url: Url,
    addr: SocketAddr,
    /// Held so the storage is removed on drop.
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for LocalRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRegistry")
            .field("url", &self.url.as_str())
            .finish()
    }
}

fn find_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("REGSWEEP_REGISTRY_BIN") {
        return Some(PathBuf::from(p));
    }
    for c in CANDIDATES {
        let p = Path::new(c);
        if p.is_absolute() {
            if p.exists() {
                return Some(p.to_path_buf());
            }
        } else if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let full = dir.join(c);
                if full.is_file() {
                    return Some(full);
                }
            }
        }
    }
    None
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl LocalRegistry {
    /// Whether the registry binary can be found (for a clear error before starting).
    pub fn is_installed() -> bool {
        find_binary().is_some()
    }

    /// Starts a fresh registry with empty storage on a free 127.0.0.1 port and waits
    /// until it answers.
    pub fn start() -> Result<Self, RegistryError> {
        let bin = find_binary().ok_or(RegistryError::NotInstalled)?;
        let dir = tempfile::Builder::new()
            .prefix("regsweep-registry-")
            .tempdir()?;
        // A port picked then released can be taken by someone else before the
        // registry binds it; retry a few times.
        let mut last_err = None;
        for _ in 0..5 {
            let port = free_port()?;
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let config = dir.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: {addr}\n",
                    dir.path().join("data").display()
                ),
            )?;
            let log_path = dir.path().join("registry.log");
            let log = std::fs::File::create(&log_path)?;
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone()?))
                .stderr(Stdio::from(log))
                .spawn()
                .map_err(|source| RegistryError::Spawn {
                    bin: bin.display().to_string(),
                    source,
                })?;
            let mut child = child;
            match wait_ready(&mut child, addr, &log_path, Duration::from_secs(15)) {
                Ok(()) => {
                    let url = Url::parse(&format!("http://{addr}")).expect("valid loopback url");
                    return Ok(LocalRegistry {
                        child,
                        url,
                        addr,
                        _dir: dir,
                    });
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    /// The registry's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn wait_ready(
    child: &mut Child,
    addr: SocketAddr,
    log_path: &Path,
    limit: Duration,
) -> Result<(), RegistryError> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(RegistryError::NotReady {
        addr,
        waited: start.elapsed(),
        log: std::fs::read_to_string(log_path).unwrap_or_default(),
    })
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_answers_and_stops() {
        let reg =
            LocalRegistry::start().expect("registry starts (apt-get install docker-registry)");
        let addr = reg.addr();
        assert!(TcpStream::connect(addr).is_ok());
        drop(reg);
        std::thread::sleep(Duration::from_millis(100));
        assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
    }
}
