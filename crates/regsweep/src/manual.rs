//! `regsweep completions SHELL` and `regsweep man`: shell completion scripts
//! (clap_complete) and manual pages (clap_mangen), generated from the same command
//! definition as `--help`, so they never disagree with it.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::CliError;
use crate::exit::Exit;

/// Prints the completion script for `shell` to stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<Exit, CliError> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "regsweep", &mut script);
    crate::output::print(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Success)
}

/// Prints the main manual page to stdout, or writes every command's page into `dir`.
pub fn man(dir: Option<&Path>) -> Result<Exit, CliError> {
    // `help` is not a command with a page of its own (as `generate_to` decides).
    let cmd = Cli::command().disable_help_subcommand(true);
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| CliError::Output {
                what: format!("cannot create the directory {}", dir.display()),
                source,
            })?;
            clap_mangen::generate_to(cmd, dir).map_err(|source| CliError::Output {
                what: format!("cannot write the manual pages into {}", dir.display()),
                source,
            })?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            crate::output::print(&String::from_utf8_lossy(&page))?;
        }
    }
    Ok(Exit::Success)
}
