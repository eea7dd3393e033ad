//! Command-line interface: flags, help text, and dispatch to one module per subcommand.

use crate::commands;
use crate::commands::args::Output;
use crate::error::{Error, Exit};
use crate::term::{DiagnosticsFormat, Term};
use clap::{Args, Parser, Subcommand};

/// Wire HashiCorp Vault into Kubernetes the GitOps way.
///
/// One short spec (see `kubectl vault init`) becomes the whole Flux tree for Vault and the
/// Vault Secrets Operator, a Git commit of it, a check that the cluster synced every Secret,
/// and the matching Vault configuration.
///
/// Exit codes: 0 ok, 1 a check failed, 2 usage or spec error (nothing written),
/// 3 environment (cluster, Vault or Git unreachable or forbidden), 70 internal error (a bug
/// in kubectl-vault, e.g. its self-check of the rendered output failed: please report it).
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-vault",
    bin_name = "kubectl vault",
    version,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE
    /// forces it), always or never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        help_heading = "Global options"
    )]
    pub(crate) color: clap::ColorChoice,
    /// How the spec's diagnostics are printed: auto (human on a terminal, short otherwise),
    /// human (a box with the source line) or short (one `file:line:col:` line each).
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        default_value = "auto",
        help_heading = "Global options"
    )]
    pub(crate) diagnostics: DiagnosticsFormat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a commented starter spec to stdout (clean under --strict: edit its names).
    ///
    /// Its first line is a yaml-language-server modeline: editors that read it (VS Code's
    /// YAML extension, Neovim, ...) complete and check the spec against its JSON Schema
    /// (see `kubectl vault schema`).
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
    ///   kubectl vault verify -f vault.yaml              # in the current kubeconfig context
    ///   kubectl vault verify -f vault.yaml -o json      # for CI
    ///   kubectl vault verify -f vault.yaml --context prod --revision 3f9c2a7 --wait
    ///   kubectl vault verify -f fleet.yaml              # each cluster in its own context
    ///   kubectl vault verify -f fleet.yaml --context staging=kind-staging
    #[command(verbatim_doc_comment)]
    Verify(commands::verify::VerifyArgs),
    /// Apply the Vault side the spec implies: engines, kubernetes auth, least-privilege
    /// policies and roles. Reads VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT, VAULT_NAMESPACE and
    /// VAULT_SKIP_VERIFY as the vault CLI does; a second run changes nothing.
    ///
    /// Examples:
    ///   kubectl vault configure -f vault.yaml --dry-run     # the plan: what would change
    ///   kubectl vault configure -f vault.yaml               # apply to $VAULT_ADDR with $VAULT_TOKEN
    ///   kubectl vault configure -f vault.yaml --script      # the equivalent vault CLI commands
    #[command(verbatim_doc_comment)]
    Configure(commands::configure::ConfigureArgs),
    /// Day 2: status, init, unseal and raft snapshots of the Vault pods the tree deploys,
    /// each reached through the Kubernetes API server's pod proxy (no port-forward).
    ///
    /// Examples:
    ///   kubectl vault operator status -f vault.yaml
    ///   kubectl vault operator init -f vault.yaml --pgp-keys a.asc,b.asc,c.asc --key-shares 3
    ///   kubectl vault operator unseal -f vault.yaml     # shares from a hidden prompt or stdin
    ///   VAULT_TOKEN=… kubectl vault operator snapshot save backup.snap -f vault.yaml
    #[command(verbatim_doc_comment)]
    Operator(commands::operator::OperatorArgs),
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
    /// Print the spec's JSON Schema (VaultStack and VaultFleet) for editors and CI.
    ///
    /// `kubectl vault init` starts the spec with a yaml-language-server modeline that points
    /// at this schema; the repository ships it as schema/vault-spec.schema.json.
    ///
    /// Examples:
    ///   kubectl vault schema > vault-spec.schema.json
    ///   # then, first line of vault.yaml: # yaml-language-server: $schema=./vault-spec.schema.json
    #[command(verbatim_doc_comment)]
    Schema(commands::schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell) for kubectl-vault.
    ///
    /// For `kubectl vault <TAB>`, kubectl (1.26+) asks the `kubectl_complete-vault` script
    /// shipped in the repository (completion/), which must be on PATH (docs: install.md).
    ///
    /// Examples:
    ///   source <(kubectl vault completion bash)
    ///   kubectl vault completion zsh > "${fpath[1]}/_kubectl-vault"
    ///   kubectl vault completion fish > ~/.config/fish/completions/kubectl-vault.fish
    #[command(verbatim_doc_comment)]
    Completion(commands::completion::CompletionArgs),
    /// Prints completion candidates for the words after `kubectl vault` (the last one is
    /// the word being completed), in the format kubectl's plugin completion reads.
    #[command(name = "__complete", hide = true)]
    Complete(commands::completion::CompleteArgs),
    /// Runs a kubeconfig exec credential plugin with a time limit (verify runs plugins
    /// through this; not for direct use).
    #[command(name = "__exec-credential", hide = true)]
    ExecCredential(ExecCredentialArgs),
}

/// The hidden `__exec-credential` subcommand.
#[derive(Debug, Args)]
pub(crate) struct ExecCredentialArgs {
    /// Stop the plugin after this many milliseconds.
    #[arg(long)]
    pub(crate) timeout_ms: u64,
    /// The plugin and its arguments (after `--`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub(crate) command: Vec<String>,
}

/// The whole run: parse the command line, run the subcommand on the terminal `--color` asks
/// for, and end it — a failure printed once, here, as text on stderr and (asked for `-o json`)
/// as a JSON object on stdout.
pub fn main() -> std::process::ExitCode {
    let cli = parse();
    let term = Term::new(cli.color, cli.diagnostics);
    let json = cli.command.wants_json();
    let exit = match run(cli, &term) {
        Ok(exit) => exit,
        // A closed stdout met below the terminal (e.g. by a child's copy) ends quietly.
        Err(e) if e.is_broken_pipe() => Exit::Ok,
        Err(e) => {
            term.fail(&e, json);
            e.exit()
        }
    };
    std::process::ExitCode::from(exit.code())
}

/// Runs the command; `Ok` carries the exit status (a failed check whose report is printed
/// is `Exit::CheckFailed`, not an error).
pub(crate) fn run(cli: Cli, term: &Term) -> Result<Exit, Error> {
    match cli.command {
        Command::Init(args) => commands::init::run(args, term).map(|()| Exit::Ok),
        Command::Generate(args) => commands::generate::run(args, term).map(|()| Exit::Ok),
        Command::Commit(args) => commands::commit::run(args, term),
        Command::Verify(args) => commands::verify::run(args, term),
        Command::Configure(args) => commands::configure::run(args, term).map(|()| Exit::Ok),
        Command::Schema(args) => commands::schema::run(args, term).map(|()| Exit::Ok),
        Command::Completion(args) => commands::completion::run(args, term).map(|()| Exit::Ok),
        Command::Complete(args) => commands::completion::complete(args, term).map(|()| Exit::Ok),
        Command::Operator(args) => commands::operator::run(args, term),
        Command::Scan(args) => commands::scan::run(args, term),
        Command::Import(args) => commands::import::run(args, term),
        Command::ExecCredential(args) => {
            let code = crate::edge::kube::run_exec_credential(
                std::time::Duration::from_millis(args.timeout_ms),
                &args.command,
                term,
            );
            std::process::exit(code.into())
        }
    }
}

impl Command {
    /// Whether the command was asked for JSON (`-o json`): its failures are JSON too.
    fn wants_json(&self) -> bool {
        use commands::operator::OperatorCommand as Op;
        let output = match self {
            Command::Verify(a) => Some(a.output.output),
            Command::Scan(a) => return a.wants_json(),
            Command::Operator(a) => match &a.command {
                Op::Status(a) => Some(a.output.output),
                Op::Init(a) => Some(a.output.output),
                Op::Unseal(a) => Some(a.output.output),
                Op::Snapshot(_) => None,
            },
            _ => None,
        };
        output == Some(Output::Json)
    }
}

/// Parses the command line; clap's own help and usage errors are coloured as `--color` says
/// (read before parsing, since clap prints them while it parses).
pub fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    // `__complete WORDS…` takes every word as it is, flags included (`--color <TAB>`).
    let mut raw = std::env::args_os().skip(1);
    if raw.next().is_some_and(|a| a == "__complete") {
        return Cli {
            command: Command::Complete(commands::completion::CompleteArgs {
                words: raw.collect(),
            }),
            color: clap::ColorChoice::Never,
            diagnostics: DiagnosticsFormat::Short,
        };
    }
    let color = color_flag(std::env::args_os().skip(1));
    let matches = Cli::command()
        .color(color)
        .try_get_matches()
        .unwrap_or_else(|e| usage_exit(e));
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| usage_exit(e))
}

/// Ends the run on a command line clap rejects (exit 2, its message on stderr). Asked for
/// JSON (`-o json`), the caller gets the same JSON error object on stdout as from any other
/// failure, so a CI job that parses stdout always gets JSON.
fn usage_exit(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let asked_json = json_flag(std::env::args_os().skip(1));
    if asked_json && !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let message = e.render().to_string();
        let message = message.trim_start_matches("error: ").trim_end();
        Term::plain().fail_json(&Error::usage(message));
    }
    e.exit()
}

/// Whether `args` (before a `--`) ask for JSON output: `-o json`, `-ojson`, `-o=json`,
/// `--output json`, `--output=json`.
fn json_flag(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let mut args = args.map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = args.next() {
        if a == "--" {
            break;
        }
        let value = match a.as_str() {
            "-o" | "--output" => args.next(),
            _ => a
                .strip_prefix("--output=")
                .or_else(|| a.strip_prefix("-o="))
                .or_else(|| a.strip_prefix("-o"))
                .map(str::to_string),
        };
        if value.as_deref() == Some("json") {
            return true;
        }
    }
    false
}

/// The `--color` value among `args` (before a `--`), `auto` when absent or not a valid value.
fn color_flag(args: impl Iterator<Item = std::ffi::OsString>) -> clap::ColorChoice {
    use clap::ValueEnum;
    let mut args = args.map(|a| a.to_string_lossy().into_owned());
    let mut found = None;
    while let Some(a) = args.next() {
        if a == "--" {
            break;
        }
        let value = match a.strip_prefix("--color") {
            Some("") => args.next(),
            Some(v) => v.strip_prefix('=').map(str::to_string),
            None => None,
        };
        if let Some(v) = value {
            found = clap::ColorChoice::from_str(&v, false).ok();
        }
    }
    found.unwrap_or(clap::ColorChoice::Auto)
}
