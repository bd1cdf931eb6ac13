//! `integration-cli completions`: a completion script for a shell.

use super::Global;
use crate::error::Result;

/// Print a shell completion script
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
        integration-cli completions bash \\\n    \
        > ~/.local/share/bash-completion/completions/integration-cli\n  \
        integration-cli completions zsh > \"${fpath[1]}/_integration-cli\"\n  \
        integration-cli completions fish \\\n    \
        > ~/.config/fish/completions/integration-cli.fish")]
pub struct Args {
    /// bash, zsh, fish, powershell or elvish
    pub shell: clap_complete::Shell,
}

impl Args {
    pub fn exec(self, _: Global) -> Result<()> {
        use clap::CommandFactory;
        let mut command = super::Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, "integration-cli", &mut script);
        use std::io::Write;
        std::io::stdout().write_all(&script).map_err(|e| {
            crate::error::RunError::Output(format!("cannot write to stdout: {e}")).into()
        })
    }
}
