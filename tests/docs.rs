//! The documentation that comes from the command definitions: docs/reference.md must be what
//! the code generates (so it cannot drift from `--help`), and `man` must render every command.

use std::path::Path;
use std::process::Command;

use clap::CommandFactory;
use integration_cli::commands::{Cli, REGENERATE, reference_markdown};

const BIN: &str = env!("CARGO_BIN_EXE_integration-cli");

/// The commands a user can type, as `--help` lists them.
fn commands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

#[test]
fn checked_in_reference_is_what_the_command_definitions_generate() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = reference_markdown();
    if checked_in == generated {
        return;
    }
    let (line, (have, want)) = checked_in
        .lines()
        .chain(std::iter::repeat(""))
        .zip(generated.lines().chain(std::iter::repeat("")))
        .enumerate()
        .find(|(_, (have, want))| have != want)
        .expect("the files differ, so some line does");
    panic!(
        "docs/reference.md is out of date with the help texts in src/commands/; \
         regenerate it with {REGENERATE} and commit it.\n\
         first difference, line {}:\n  checked in: {have}\n  generated:  {want}",
        line + 1
    );
}

#[test]
fn reference_has_a_section_and_the_options_of_every_command() {
    let reference = reference_markdown();
    for name in commands() {
        let heading = format!("## `integration-cli {name}`");
        assert!(reference.contains(&heading), "no {heading}");
    }
    for flag in [
        "`--reauth`",
        "`-t`, `--test-account <NAME>`",
        "*Environment:* `UNITO_CA_FILE`",
    ] {
        assert!(reference.contains(flag), "no {flag}");
    }
}

#[test]
fn man_markdown_prints_the_reference() {
    let out = Command::new(BIN)
        .args(["man", "--markdown"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), reference_markdown());
}

#[test]
fn man_prints_one_roff_page_with_a_section_for_every_command() {
    let out = Command::new(BIN).arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH integration-cli 1"), "{page}");
    for name in commands() {
        let section = format!(".SH \"INTEGRATION-CLI {}\"", name.to_uppercase());
        assert!(page.contains(&section), "no {section}");
    }
    assert!(page.contains(".SH EXAMPLES") && !page.contains("EXTRA"));
    assert!(
        page.contains("\\-\\-test\\-account"),
        "the options are in it"
    );
}

#[test]
fn man_out_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let out = Command::new(BIN)
        .args(["man", "--out"])
        .arg(&pages)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(pages.join("integration-cli.1").is_file());
    for name in commands() {
        let page = pages.join(format!("integration-cli-{name}.1"));
        assert!(page.is_file(), "no {}", page.display());
    }
}
