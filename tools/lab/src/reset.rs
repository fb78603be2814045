//! `cargo lab reset`: restores a starter with git, never discarding work silently.

use std::process::Command;

use anstream::println;

use crate::error::{Doing, Error, Result};
use crate::progress::Progress;
use crate::style::{GOOD, paint};
use crate::workspace::{Chapter, Workspace};

/// Restores `chapters/chNN-*` as last committed; refuses to discard uncommitted work unless
/// `force`, naming what would be lost.
pub fn reset(workspace: &Workspace, chapter: &Chapter, force: bool) -> Result<()> {
    let dir = chapter.starter();
    let doing = || format!("resetting {dir}");
    let status = git(
        workspace,
        &["status", "--porcelain", "--untracked-files=all", "--", &dir],
    )
    .map_err(|err| Error::new(doing(), err.cause).hint(err.hint.unwrap_or_default()))?;
    let changed: Vec<&str> = status.lines().filter(|l| !l.trim().is_empty()).collect();
    if !changed.is_empty() && !force {
        let list: Vec<String> = changed.iter().map(|l| format!("  {l}")).collect();
        return Err(Error::new(
            doing(),
            format!(
                "it would discard work that is not committed:\n{}",
                list.join("\n")
            ),
        )
        .hint(format!(
            "commit it first (`git add {dir} && git commit`), or discard it: `cargo lab reset {} --force`",
            chapter.id
        )));
    }
    git(workspace, &["checkout", "HEAD", "--", &dir])
        .map_err(|err| Error::new(doing(), err.cause))?;
    // Files the learner added are not in the starter: `git clean` removes them (force only,
    // as they were listed above otherwise).
    git(workspace, &["clean", "-fdq", "--", &dir]).map_err(|err| Error::new(doing(), err.cause))?;

    let mut progress = Progress::load(&workspace.root)?;
    progress.update(chapter, |entry| entry.last = None);
    progress.save()?;
    if changed.is_empty() {
        println!("{dir} already matched the last commit; nothing to discard.");
    } else {
        println!(
            "{}",
            paint(
                GOOD,
                format!("Restored {dir} as last committed; discarded:")
            )
        );
        for line in changed {
            println!("  {line}");
        }
    }
    println!(
        "Your commits are untouched: what you committed stays in git's history (`git log -- {dir}`)."
    );
    Ok(())
}

/// Runs git in the checkout and returns what it printed.
fn git(workspace: &Workspace, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(&workspace.root)
        .output()
        .map_err(|err| {
            Error::new("running git", err).hint("install git, or check that it is on your PATH")
        })?;
    if !output.status.success() {
        return Err(Error::new(
            format!("running git {}", args.join(" ")),
            String::from_utf8_lossy(&output.stderr).trim(),
        ));
    }
    String::from_utf8(output.stdout).doing(|| "reading git's output".into())
}
