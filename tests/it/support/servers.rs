//! Real servers for the configure tests: OpenBao's `bao` in dev mode and PostgreSQL, both on
//! 127.0.0.1 with free ports, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Finds a test dependency: the env var, then python's scripts dir, then PATH. Missing under CI
/// is a failure (the test command installs it); elsewhere the caller skips.
pub fn find_tool(env: &str, name: &str) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(p.into());
    }
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join(name));
    if let Some(s) = scripts.filter(|s| s.exists()) {
        return Some(s);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|c| c.exists())
    })
}

pub fn require(tool: Option<PathBuf>, what: &str) -> Option<PathBuf> {
    if tool.is_none() {
        if std::env::var("CI").is_ok() {
            panic!("{what} is missing: run the README's test command (scripts/test.sh), which installs it");
        }
        eprintln!("skipped: {what} is missing (scripts/test-deps.sh installs it)");
    }
    tool
}

pub struct Bao {
    child: Child,
    pub addr: String,
    pub token: String,
    /// The dev server's own HOME: `bao server -dev` writes the root token to
    /// `$HOME/.vault-token`, which must never be the developer's.
    pub home: tempfile::TempDir,
}

impl Bao {
    pub fn start() -> Option<Bao> {
        Bao::start_with(None)
    }

    /// A dev server that also reads `config` (e.g. a second, TLS listener; the dev listener
    /// stays plain HTTP for the tests' own calls).
    pub fn start_with(config: Option<&Path>) -> Option<Bao> {
        let bin = require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)")?;
        let port = free_port();
        let token = "root-token-for-tests".to_string();
        let home = tempfile::tempdir().expect("a HOME for bao");
        let mut command = Command::new(bin);
        command.args([
            "server",
            "-dev",
            &format!("-dev-listen-address=127.0.0.1:{port}"),
            &format!("-dev-root-token-id={token}"),
        ]);
        if let Some(config) = config {
            command.arg(format!("-config={}", config.display()));
        }
        let child = command
            .env("HOME", home.path())
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bao");
        wait_for_port(port, "bao");
        let bao = Bao {
            child,
            addr: format!("http://127.0.0.1:{port}"),
            token,
            home,
        };
        // Wait until unsealed and serving.
        let start = Instant::now();
        while bao.api("GET", "sys/health", None).0 != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "bao did not become healthy"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(bao)
    }

    /// A raw API call with a token (the root token by default): (status, body).
    pub fn api_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        // A dev server on a loaded two-core machine now and then drops a connection: a few
        // tries, so that a test fails on what Vault answered, not on the machine's load.
        let mut tries = 0;
        let resp = loop {
            let req = ureq::http::Request::builder()
                .method(method)
                .uri(format!("{}/v1/{path}", self.addr))
                .header("X-Vault-Token", token)
                // Vault takes a PATCH only as a JSON merge patch.
                .header(
                    "Content-Type",
                    if method == "PATCH" {
                        "application/merge-patch+json"
                    } else {
                        "application/json"
                    },
                )
                .body(body.clone())
                .unwrap();
            match agent.run(req) {
                Ok(resp) => break resp,
                Err(e) if tries < 5 => {
                    tries += 1;
                    eprintln!("bao request {method} {path}: {e}; trying again");
                    std::thread::sleep(Duration::from_millis(200 * tries));
                }
                Err(e) => panic!("bao request {method} {path}: {e}"),
            }
        };
        let status = resp.status().as_u16();
        let text = resp.into_body().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    pub fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        self.api_as(&self.token, method, path, body)
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Postgres {
    data: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    pub password: String,
}

impl Postgres {
    /// initdb + postgres on 127.0.0.1 with password (scram) auth for the `postgres` superuser.
    /// PostgreSQL refuses to run as root: as root, it runs as the `postgres` system user.
    pub fn start() -> Option<Postgres> {
        let bin = require(
            std::env::var("PG_BIN_DIR")
                .ok()
                .map(PathBuf::from)
                .or_else(|| {
                    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                        .ok()?
                        .flatten()
                        .map(|e| e.path().join("bin"))
                        .collect();
                    dirs.sort();
                    dirs.pop()
                }),
            "PostgreSQL (initdb)",
        )?;
        let data = tempfile::tempdir().unwrap();
        let password = "pg-admin-password-for-tests".to_string();
        let pwfile = data.path().join("pw");
        std::fs::write(&pwfile, &password).unwrap();
        let pgdata = data.path().join("pgdata");
        let as_root = unsafe { libc::geteuid() } == 0;
        let run = |args: &[&str]| {
            let mut cmd = if as_root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]);
                c
            } else {
                Command::new(args[0])
            };
            if as_root {
                cmd.args(args);
            } else {
                cmd.args(&args[1..]);
            }
            cmd
        };
        if as_root {
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(data.path())
                .status()
                .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let initdb = bin.join("initdb");
        let out = run(&[
            initdb.to_str().unwrap(),
            "-D",
            pgdata.to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            "--pwfile",
            pwfile.to_str().unwrap(),
        ])
        .output()
        .expect("initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let postgres = bin.join("postgres");
        let pg_ctl = bin.join("pg_ctl");
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            data.path().display()
        );
        let out = run(&[
            pg_ctl.to_str().unwrap(),
            "-D",
            pgdata.to_str().unwrap(),
            "-o",
            &opts,
            "-l",
            data.path().join("log").to_str().unwrap(),
            "-w",
            "start",
        ])
        .output()
        .expect("pg_ctl start");
        let _ = postgres;
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(data.path().join("log")).unwrap_or_default()
        );
        wait_for_port(port, "postgres");
        Some(Postgres {
            data,
            bin,
            port,
            password,
        })
    }

    /// Runs `psql -c sql` as `user` with `password`; true when it connects and succeeds.
    pub fn login(&self, user: &str, password: &str, sql: &str) -> bool {
        let psql = if self.bin.join("psql").exists() {
            self.bin.join("psql")
        } else {
            PathBuf::from("psql")
        };
        Command::new(psql)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                user,
                "-d",
                "postgres",
                "-tAc",
                sql,
            ])
            .env("PGPASSWORD", password)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let pgdata = self.data.path().join("pgdata");
        let as_root = unsafe { libc::geteuid() } == 0;
        let mut cmd = if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        let _ = cmd
            .arg("-D")
            .arg(&pgdata)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// A real OpenBao HA cluster: `bao server` processes (not dev mode) with integrated raft
/// storage and a config file each, on 127.0.0.1 with free ports, every node joining the first
/// (`retry_join`), as the chart's StatefulSet runs them. They start sealed and uninitialised.
pub struct BaoCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub nodes: Vec<BaoNode>,
}

pub struct BaoNode {
    child: Option<Child>,
    /// The node id, as the pod's name (`vault-0`).
    pub name: String,
    pub api_port: u16,
    config: PathBuf,
}

impl BaoCluster {
    pub fn start(size: usize) -> Option<BaoCluster> {
        BaoCluster::start_with(size, "")
    }

    /// With `extra` appended to every node's config (e.g. an auto-unseal `seal` stanza).
    pub fn start_with(size: usize, extra: &str) -> Option<BaoCluster> {
        let bin = require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)")?;
        let dir = tempfile::tempdir().unwrap();
        let ports: Vec<(u16, u16)> = (0..size).map(|_| (free_port(), free_port())).collect();
        let leader = format!("http://127.0.0.1:{}", ports[0].0);
        let mut nodes = Vec::new();
        for (i, (api, cluster)) in ports.into_iter().enumerate() {
            let name = format!("vault-{i}");
            let data = dir.path().join(&name);
            std::fs::create_dir_all(&data).unwrap();
            let config = dir.path().join(format!("{name}.hcl"));
            std::fs::write(
                &config,
                format!(
                    r#"storage "raft" {{
  path    = "{data}"
  node_id = "{name}"
  retry_join {{
    leader_api_addr = "{leader}"
  }}
}}
listener "tcp" {{
  address         = "127.0.0.1:{api}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable     = true
}}
api_addr      = "http://127.0.0.1:{api}"
cluster_addr  = "http://127.0.0.1:{cluster}"
disable_mlock = true
{extra}"#,
                    data = data.display()
                ),
            )
            .unwrap();
            nodes.push(BaoNode {
                child: None,
                name,
                api_port: api,
                config,
            });
        }
        let mut c = BaoCluster { dir, bin, nodes };
        for i in 0..size {
            c.start_node(i);
        }
        Some(c)
    }

    fn start_node(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let log =
            std::fs::File::create(self.dir.path().join(format!("{}.log", node.name))).unwrap();
        let child = Command::new(&self.bin)
            .arg("server")
            .arg(format!("-config={}", node.config.display()))
            .env("HOME", self.dir.path())
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start bao server");
        node.child = Some(child);
        wait_for_port(node.api_port, "bao server");
    }

    /// The address the pod proxy forwards node `i`'s port 8200 to.
    pub fn backend(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.nodes[i].api_port)
    }

    /// Stops node `i` hard (as a pod killed by its node) and starts it again: it comes back
    /// sealed.
    pub fn restart(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.start_node(i);
    }

    /// A raw, unauthenticated or token call to node `i`: (status, body).
    pub fn api(
        &self,
        i: usize,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, Vec<u8>) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("http://{}/v1/{path}", self.backend(i)));
        if let Some(t) = token {
            req = req.header("X-Vault-Token", t);
        }
        let req = req
            .body(body.map(|b| b.to_string()).unwrap_or_default())
            .unwrap();
        let resp = agent.run(req).expect("bao request");
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap_or_default();
        (status, bytes)
    }

    /// Waits (bounded) until `check` holds.
    pub fn wait_until(&self, what: &str, mut check: impl FnMut(&BaoCluster) -> bool) {
        let start = Instant::now();
        while !check(self) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting until {what}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for BaoCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
