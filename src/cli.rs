//! Command-line interface: flags, help text, and dispatch to one module per subcommand.

use crate::commands;
use crate::error::{Error, Exit};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Wire HashiCorp Vault into Kubernetes the GitOps way.
///
/// One short spec (see `kubectl vault init`) becomes the whole Flux tree for Vault and the
/// Vault Secrets Operator, a Git commit of it, a check that the cluster synced every Secret,
/// and the matching Vault configuration.
///
/// Exit codes: 0 ok, 1 a check failed, 2 usage or spec error (nothing written),
/// 3 environment (cluster, Vault or Git unreachable or forbidden).
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-vault",
    bin_name = "kubectl vault",
    version,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a commented starter spec (the homelab example) to stdout.
    ///
    /// Example: kubectl vault init > vault.yaml
    Init(commands::init::InitArgs),
    /// Render the Flux tree for a spec: to stdout as multi-document YAML, or into a folder.
    ///
    /// Examples:
    ///   kubectl vault generate -f vault.yaml                 # every object to stdout
    ///   kubectl vault generate -f vault.yaml --out ./gitops  # the tree, written into a folder
    #[command(verbatim_doc_comment)]
    Generate(commands::generate::GenerateArgs),
    /// Generate into the GitOps repository and make one commit (optionally push).
    ///
    /// Unrelated changes and untracked files are never staged, committed or reverted; files the
    /// tool did not generate are never touched; hand edits of generated files stop the run.
    ///
    /// Examples:
    ///   kubectl vault commit -f vault.yaml --repo ./fleet                 # generate and commit
    ///   kubectl vault commit -f vault.yaml --repo ./fleet --dry-run       # show the diff only
    ///   kubectl vault commit -f vault.yaml --repo ./fleet --push          # commit and push
    #[command(verbatim_doc_comment)]
    Commit(commands::commit::CommitArgs),
    /// Check in the cluster that Flux applied the commit and VSO synced every declared Secret.
    ///
    /// Lists each kind once (a constant number of API requests) and reports, per secret, the
    /// first broken link: Flux, VaultConnection, VaultAuth, the CR, its sync, the Secret.
    /// Values are never shown: key names only.
    ///
    /// Examples:
    ///   kubectl vault verify -f vault.yaml                         # current kubeconfig context
    ///   kubectl vault verify -f vault.yaml --context prod --revision 3f9c2a7 --wait --timeout 5m
    ///   kubectl vault verify -f vault.yaml -o json                 # for CI
    #[command(verbatim_doc_comment)]
    Verify(commands::verify::VerifyArgs),
    /// Apply the Vault side the spec implies: engines, kubernetes auth, least-privilege
    /// policies and roles. Reads VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT, VAULT_NAMESPACE and
    /// VAULT_SKIP_VERIFY as the vault CLI does; a second run changes nothing.
    ///
    /// Examples:
    ///   kubectl vault configure -f vault.yaml --dry-run     # the plan: create / update / already as wanted
    ///   kubectl vault configure -f vault.yaml               # apply to $VAULT_ADDR with $VAULT_TOKEN
    ///   kubectl vault configure -f vault.yaml --script      # the equivalent vault CLI commands
    #[command(verbatim_doc_comment)]
    Configure(commands::configure::ConfigureArgs),
    /// Find plaintext secrets in a Git repository: its work tree and every commit of every ref.
    ///
    /// Kubernetes Secrets with data, Vault/OpenBao tokens, private keys, AWS access keys, URLs
    /// with a password, high-entropy values under credential-like keys, unencrypted values in
    /// SOPS files. Reports file, line, commits, key names and a fingerprint per finding —
    /// never the value. Exit 1 when anything is found (not allow-listed).
    ///
    /// Examples:
    ///   kubectl vault scan --repo ./fleet                    # work tree and full history
    ///   kubectl vault scan --repo ./fleet -o json --exit-code
    ///   kubectl vault scan --repo ./fleet --allow reviewed.txt
    #[command(verbatim_doc_comment)]
    Scan(commands::scan::ScanArgs),
    /// Move a live Secret into Vault kv and behind the operator, without downtime.
    ///
    /// Reads the Secret from the cluster, writes its keys to Vault with check-and-set (an
    /// existing version refuses, exit 1, unless --force), and adds the secret to the spec with
    /// `adopt: true` (the VaultStaticSecret gets `destination.overwrite: true`, so VSO takes
    /// the existing Secret over). Values are never printed, logged or written to a file.
    ///
    /// Example:
    ///   kubectl vault import -f vault.yaml --from-secret payments/payments-config \
    ///       --to kv:secret/payments/config
    #[command(verbatim_doc_comment)]
    Import(commands::import::ImportArgs),
    /// Runs a kubeconfig exec credential plugin with a time limit (verify runs plugins
    /// through this; not for direct use).
    #[command(name = "__exec-credential", hide = true)]
    ExecCredential(ExecCredentialArgs),
}

/// The hidden `__exec-credential` subcommand.
#[derive(Debug, Args)]
pub struct ExecCredentialArgs {
    /// Stop the plugin after this many milliseconds.
    #[arg(long)]
    pub timeout_ms: u64,
    /// The plugin and its arguments (after `--`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

/// Flags every spec-reading command shares.
#[derive(Debug, Clone, Args)]
pub struct SpecArgs {
    /// The spec file (apiVersion: kubectl-vault/v1alpha1, kind: VaultStack).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "SPEC",
        default_value = "vault.yaml"
    )]
    pub file: PathBuf,
    /// Treat warnings (TLS off, skipTLSVerify, an even raft replica count, refreshAfter under
    /// 5s, ...) as errors.
    #[arg(long)]
    pub strict: bool,
    /// Override templates from this folder (same relative names as the built-in ones, e.g.
    /// vso/vaultauth.yaml.j2); templates not found there stay built in.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// With a fleet spec (kind: VaultFleet): only this cluster. `verify` and
    /// `configure --script` work on one cluster and need it; `generate`, `commit` and
    /// `configure` take every cluster without it.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
}

impl SpecArgs {
    pub fn options(&self) -> crate::pipeline::Options {
        crate::pipeline::Options {
            strict: self.strict,
            templates_dir: self.templates.clone(),
            cluster: self.cluster.clone(),
        }
    }
}

/// Parses the command line and runs the subcommand.
/// Runs the command; `Ok` carries the exit status (a failed check whose report is printed
/// is `Exit::CheckFailed`, not an error).
pub fn run(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Command::Init(args) => commands::init::run(args).map(|()| Exit::Ok),
        Command::Generate(args) => commands::generate::run(args).map(|()| Exit::Ok),
        Command::Commit(args) => commands::commit::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Configure(args) => commands::configure::run(args).map(|()| Exit::Ok),
        Command::Scan(args) => commands::scan::run(args),
        Command::Import(args) => commands::import::run(args),
        Command::ExecCredential(args) => {
            let code = crate::edge::kube::run_exec_credential(
                std::time::Duration::from_millis(args.timeout_ms),
                &args.command,
            );
            std::process::exit(code.into())
        }
    }
}

/// Writes to stdout. A closed stdout (the reader went away, as with `| head -1`) is not an
/// error: the rest of the output is dropped quietly, as ripgrep and other Unix tools do, and
/// the run ends with the exit code its work earned. Other write errors are exit 3.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::environment_from(
            format!("cannot write to stdout: {e}"),
            e,
        )),
    }
}

/// Writes to stderr, ignoring a closed stderr (the exit code still tells the outcome).
pub fn write_stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Makes a closed stdout or stderr end the run quietly wherever `print!`/`eprint!` meets it
/// (they panic on a write error): exit 0 for stdout (the reader stopped reading, as with
/// `| head -1`), 1 for stderr (the outcome could not be reported). Other panics keep the
/// default report.
pub fn quiet_on_closed_pipes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if payload.contains("Broken pipe") || payload.contains("os error 32") {
            if payload.starts_with("failed printing to stdout") {
                std::process::exit(0);
            }
            if payload.starts_with("failed printing to stderr") {
                std::process::exit(1);
            }
        }
        default(info)
    }));
}
