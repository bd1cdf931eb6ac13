//! `integration-cli man`: the manual page, rendered by clap_mangen from the same
//! definitions as `--help`; `--markdown` prints docs/reference.md from them instead.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::Global;
use crate::error::{FileError, Result, RunError};
use crate::ui::to_stderr;

/// Print the manual page (roff), for man(1)
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print the manual page for the whole CLI (every command and flag, as in \
        --help) in roff, for man(1). Installed from npm or with cargo binstall, the binary \
        has no man page of its own: write it where man looks, as below (from npm, \
        npx integration-cli-rs man). With --out, one page \
        per command (integration-cli.1, integration-cli-oauth2.1, ...) is written into the \
        folder instead.",
    after_help = "Examples:\n  \
        # read it now\n  \
        integration-cli man | man -l -\n  \
        # install it, for man integration-cli\n  \
        integration-cli man > ~/.local/share/man/man1/integration-cli.1\n  \
        # one page per command\n  \
        integration-cli man --out ~/.local/share/man/man1\n  \
        # the Markdown reference (scripts/docs.sh writes docs/reference.md so)\n  \
        integration-cli man --markdown > docs/reference.md"
)]
pub struct Args {
    /// Write one page per command into this folder (made if missing) instead of stdout
    #[arg(long, value_name = "DIR", conflicts_with = "markdown")]
    pub out: Option<PathBuf>,

    /// Print the Markdown reference (docs/reference.md) instead of the roff page
    #[arg(long)]
    pub markdown: bool,
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        if let Some(dir) = &self.out {
            let written = write_pages(dir)?;
            if !global.quiet {
                to_stderr(&format!("wrote {written} pages into {}", dir.display()));
            }
            return Ok(());
        }
        let text = match self.markdown {
            true => super::reference::reference_markdown().into_bytes(),
            false => whole_page(),
        };
        std::io::stdout()
            .write_all(&text)
            .map_err(|e| RunError::Output(format!("cannot write to stdout: {e}")).into())
    }
}

/// One page for the CLI: its own sections, then each command's (its synopsis, description,
/// options and examples as subsections), then the examples and exit codes, then the version.
fn whole_page() -> Vec<u8> {
    let mut cli = super::Cli::command().disable_help_subcommand(true);
    cli.build();
    let man = clap_mangen::Man::new(cli.clone());
    let mut page = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut page);
    let _ = man.render_name_section(&mut page);
    let _ = man.render_synopsis_section(&mut page);
    let _ = man.render_description_section(&mut page);
    let _ = man.render_options_section(&mut page);
    let _ = man.render_subcommands_section(&mut page);
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        page.extend(command_section(sub));
    }
    let _ = man.render_extra_section(&mut page);
    let _ = man.render_version_section(&mut page);
    examples(page)
}

/// A command's part of the whole page: a section named after it, its own sections demoted to
/// subsections, and the global options left to the top of the page.
fn command_section(sub: &clap::Command) -> Vec<u8> {
    let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_string();
    let sub = sub
        .clone()
        .mut_args(|a| if a.is_global_set() { a.hide(true) } else { a });
    let man = clap_mangen::Man::new(sub.clone());
    let mut body = Vec::new();
    let _ = man.render_synopsis_section(&mut body);
    let _ = man.render_description_section(&mut body);
    let _ = man.render_options_section(&mut body);
    if sub.get_after_long_help().is_some() || sub.get_after_help().is_some() {
        let _ = man.render_extra_section(&mut body);
    }
    let body = String::from_utf8(examples(body)).unwrap_or_default();
    let body = body.replace("\n.SH ", "\n.SS ");
    let body = body
        .strip_prefix(".SH ")
        .map_or(body.clone(), |b| format!(".SS {b}"));
    format!(".SH \"{}\"\n{body}", name.to_uppercase()).into_bytes()
}

/// clap_mangen heads the after-help text EXTRA; ours is the examples (and the exit codes).
fn examples(page: Vec<u8>) -> Vec<u8> {
    String::from_utf8_lossy(&page)
        .replace("\n.SH EXTRA\n", "\n.SH EXAMPLES\n")
        .into_bytes()
}

/// `--out DIR`: integration-cli.1 and one page per command; how many were written.
fn write_pages(dir: &Path) -> Result<usize> {
    let io = |action, source| FileError::Io {
        action,
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create", e))?;
    clap_mangen::generate_to(super::Cli::command(), dir).map_err(|e| io("write pages into", e))?;
    let commands = super::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .count();
    Ok(commands + 1)
}
