//! The terminal: the one writer of stdout and stderr (cmctl's IOStreams). `cli::run` makes a
//! [`Term`] from `--color` and hands it to every command's `run(args, &term)`; nothing else
//! in the binary prints.
//!
//! A closed stdout (the reader went away, as with `| head -1`) is not an error: the rest of
//! the output is dropped quietly, as ripgrep and other Unix tools do, and the run ends with the
//! exit code its work earned. A closed stderr is ignored (the exit code still tells). No
//! `print!` means no panic on a closed pipe, so no panic hook has to guess from panic text.

use crate::core::spec::{Style, Warnings};
use crate::error::Error;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// `--diagnostics`: how the spec's diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DiagnosticsFormat {
    /// The human form on a terminal, the short form otherwise (logs, CI).
    Auto,
    /// A box with the source line and the hint.
    Human,
    /// One line each, `file:line:col: [warning: ]field: message`, then its hint.
    Short,
}

pub(crate) struct Term {
    color_out: bool,
    diagnostics: Style,
    err_is_terminal: bool,
    /// Set once stdout is found closed: later writes are skipped.
    out_closed: AtomicBool,
}

impl Term {
    /// The terminal as `--color` says: auto (on a terminal, unless NO_COLOR is set;
    /// CLICOLOR_FORCE forces it), always or never — anstream's rules, as clap's help uses.
    pub(crate) fn new(choice: clap::ColorChoice, diagnostics: DiagnosticsFormat) -> Term {
        match choice {
            clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
            clap::ColorChoice::Always => anstream::ColorChoice::AlwaysAnsi,
            clap::ColorChoice::Never => anstream::ColorChoice::Never,
        }
        .write_global();
        let colored = |choice| choice != anstream::ColorChoice::Never;
        let color_err = colored(anstream::AutoStream::choice(&std::io::stderr()));
        let err_is_terminal = std::io::stderr().is_terminal();
        let short = match diagnostics {
            DiagnosticsFormat::Auto => !err_is_terminal,
            DiagnosticsFormat::Human => false,
            DiagnosticsFormat::Short => true,
        };
        Term {
            color_out: colored(anstream::AutoStream::choice(&std::io::stdout())),
            diagnostics: if short {
                Style::Short
            } else {
                Style::Human { color: color_err }
            },
            err_is_terminal,
            out_closed: AtomicBool::new(false),
        }
    }

    /// A terminal that never colours (hidden subcommands, the clap error path).
    pub(crate) fn plain() -> Term {
        Term {
            color_out: false,
            diagnostics: Style::Short,
            err_is_terminal: false,
            out_closed: AtomicBool::new(false),
        }
    }

    /// Whether what goes to stdout may carry colour.
    pub(crate) fn color_out(&self) -> bool {
        self.color_out
    }

    /// Whether stderr is a terminal (a progress line may redraw itself there).
    pub(crate) fn err_is_terminal(&self) -> bool {
        self.err_is_terminal
    }

    /// Writes to stdout. A closed stdout is not an error (see the module docs); any other
    /// write error is exit 3.
    pub(crate) fn out(&self, text: impl AsRef<[u8]>) -> Result<(), Error> {
        if self.out_closed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_ref()).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.out_closed.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => Err(Error::environment_from(
                format!("cannot write to stdout: {e}"),
                e,
            )),
        }
    }

    /// Writes to stdout when the output must arrive (`operator init`'s shares): a closed or
    /// failing stdout is the caller's error, never a quiet end.
    pub(crate) fn out_or_fail(&self, text: impl AsRef<[u8]>) -> Result<(), std::io::Error> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_ref()).and_then(|()| out.flush())
    }

    /// Writes a line (a newline is added) to stdout.
    pub(crate) fn outln(&self, line: impl AsRef<str>) -> Result<(), Error> {
        self.out(format!("{}\n", line.as_ref()))
    }

    /// Writes to stderr, ignoring a closed stderr (the exit code still tells the outcome).
    pub(crate) fn err(&self, text: impl AsRef<str>) {
        let _ = std::io::stderr().lock().write_all(text.as_ref().as_bytes());
    }

    /// The spec's warnings, each once, in the `--diagnostics` form (`generate`, whose job is
    /// to show the spec's consequences).
    pub(crate) fn warnings(&self, warnings: &Warnings) {
        if !warnings.is_empty() {
            self.err(warnings.render_as(self.diagnostics));
        }
    }

    /// The spec's warnings as one line (every command but `generate`: the warnings are not
    /// what they are about, and would bury their own output).
    pub(crate) fn warnings_summary(&self, warnings: &Warnings) {
        if !warnings.is_empty() {
            self.err(warnings.summary());
        }
    }

    /// How a run that failed ends, printed once at the exit boundary: the message (and hint)
    /// on stderr and, when the command was asked for JSON, the same failure as a JSON object
    /// on stdout (`{"ok": false, "error": {...}}`), so a CI job that parses stdout always gets
    /// JSON.
    pub(crate) fn fail(&self, e: &Error, json: bool) {
        if json {
            self.fail_json(e);
        }
        let mut msg = e.render(self.diagnostics);
        if !msg.ends_with('\n') {
            msg.push('\n');
        }
        self.err(msg);
    }

    /// A failure as the JSON object on stdout (`{"ok": false, "error": {...}}`): the one
    /// printer of JSON errors, for [`Term::fail`] and for the command lines clap rejects.
    pub(crate) fn fail_json(&self, e: &Error) {
        let text = serde_json::to_string_pretty(&e.to_json()).expect("a JSON value") + "\n";
        let _ = self.out(text);
    }
}
