//! The command-line reference in Markdown (docs/reference.md), written from the same clap
//! definitions as `--help` and the man page, so the three cannot disagree. Nothing here
//! depends on the terminal: no wrapping, no colour, no environment values.

use std::fmt::Write;

use clap::{Arg, ArgAction, Command, CommandFactory};

/// The command that rewrites docs/reference.md, named where the file and its test say so.
pub const REGENERATE: &str = "scripts/docs.sh";

/// Every command and flag of the CLI as one Markdown page.
pub fn reference_markdown() -> String {
    let mut cli = super::Cli::command();
    cli.build();
    let mut out = String::new();
    out.push_str("# Command-line reference\n\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the command definitions by {REGENERATE}; edit the help texts in \
         src/commands/ instead. -->\n"
    );
    out.push_str(
        "The same text as `integration-cli help COMMAND` and `integration-cli man`. \
         The global options work with every command.\n\n",
    );
    for sub in visible_subcommands(&cli) {
        let _ = writeln!(out, "- [`{}`](#{})", full_name(sub), anchor(sub));
    }
    out.push('\n');
    write_command(&mut out, &cli, true);
    for sub in visible_subcommands(&cli) {
        write_command(&mut out, sub, false);
    }
    out
}

/// The subcommands a user can type, without clap's own `help`.
fn visible_subcommands(command: &Command) -> impl Iterator<Item = &Command> {
    command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// `integration-cli oauth2`: the name as typed (set on each subcommand by `build`).
fn full_name(command: &Command) -> String {
    command
        .get_bin_name()
        .unwrap_or(command.get_name())
        .to_string()
}

/// The heading's anchor as GitHub makes it: lower case, spaces to dashes.
fn anchor(command: &Command) -> String {
    full_name(command).to_lowercase().replace(' ', "-")
}

/// One command's section: what it does, its usage, its arguments, its examples. The top
/// level lists the global options; each subcommand lists only its own.
fn write_command(out: &mut String, command: &Command, top: bool) {
    let _ = writeln!(out, "## `{}`\n", full_name(command));
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        let _ = writeln!(out, "{}\n", prose(&about.to_string()));
    }
    let usage = command.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    let _ = writeln!(out, "```text\n{usage}\n```\n");
    if top {
        out.push_str("**Commands:**\n\n");
        for sub in visible_subcommands(command) {
            let about = sub.get_about().map(|a| prose(&a.to_string()));
            let about = about.unwrap_or_default();
            let _ = writeln!(out, "- [`{}`](#{}): {about}", sub.get_name(), anchor(sub));
        }
        out.push('\n');
    }
    let positionals: Vec<&Arg> = own_args(command, top)
        .filter(|a| a.is_positional())
        .collect();
    let options: Vec<&Arg> = own_args(command, top)
        .filter(|a| !a.is_positional())
        .collect();
    write_args(out, "Arguments", &positionals);
    write_args(
        out,
        if top { "Global options" } else { "Options" },
        &options,
    );
    if let Some(after) = command.get_after_long_help().or(command.get_after_help()) {
        let _ = writeln!(out, "```text\n{}\n```\n", after.to_string().trim_end());
    }
}

/// The arguments to list under a command: not hidden, and (below the top level) neither the
/// global ones, listed once at the top, nor `--help` and `--version`, which every command has.
fn own_args(command: &Command, top: bool) -> impl Iterator<Item = &Arg> {
    command.get_arguments().filter(move |a| {
        let builtin = matches!(a.get_action(), ArgAction::Help | ArgAction::Version);
        !a.is_hide_set() && (top || !(a.is_global_set() || builtin))
    })
}

fn write_args(out: &mut String, title: &str, args: &[&Arg]) {
    if args.is_empty() {
        return;
    }
    let _ = writeln!(out, "**{title}:**\n");
    for arg in args {
        let _ = writeln!(out, "- {}", arg_line(arg));
    }
    out.push('\n');
}

/// `` `-t`, `--test-account <NAME>`: help… *Default:* `development`. *Environment:* … ``
fn arg_line(arg: &Arg) -> String {
    let mut line = format!("{}:", arg_name(arg));
    if let Some(help) = arg.get_long_help().or(arg.get_help()) {
        // A paragraph break in a list item stays inside the item when indented.
        let help = prose(help.to_string().trim_end()).replace("\n\n", "\n\n  ");
        let stop = if help.ends_with('.') { "" } else { "." };
        let _ = write!(line, " {help}{stop}");
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if !values.is_empty() && !matches!(arg.get_action(), ArgAction::SetTrue) {
        let _ = write!(line, " *Values:* {}.", values.join(", "));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| format!("`{}`", v.to_string_lossy()))
        .collect();
    if !defaults.is_empty() && !matches!(arg.get_action(), ArgAction::SetTrue) {
        let _ = write!(line, " *Default:* {}.", defaults.join(", "));
    }
    if let Some(env) = arg.get_env().filter(|_| !arg.is_hide_env_set()) {
        let _ = write!(line, " *Environment:* `{}`.", env.to_string_lossy());
    }
    line
}

/// How the argument is typed: `<SHELL>`, or `` `-a`, `--authorization <NAME>` `` with its aliases.
fn arg_name(arg: &Arg) -> String {
    let value = arg
        .get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|n| format!("<{n}>"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| format!("<{}>", arg.get_id().as_str().to_uppercase()));
    if arg.is_positional() {
        return format!("`{value}`");
    }
    let takes_value = arg.get_action().takes_values();
    let mut names = Vec::new();
    if let Some(short) = arg.get_short() {
        names.push(format!("`-{short}`"));
    }
    let longs = arg
        .get_long()
        .into_iter()
        .chain(arg.get_visible_aliases().into_iter().flatten());
    for long in longs {
        match takes_value {
            true => names.push(format!("`--{long} {value}`")),
            false => names.push(format!("`--{long}`")),
        }
    }
    names.join(", ")
}

/// Help text as Markdown prose: outside `code spans`, a `<placeholder>` or a `*` is shown as
/// typed rather than taken for HTML or emphasis.
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        match i % 2 {
            0 => out.push_str(&part.replace('<', "&lt;").replace('*', "\\*")),
            _ => out.push_str(part),
        }
    }
    out
}
