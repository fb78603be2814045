//! `cargo lab`: the learner's companion to the chat lab.
//!
//! - `cargo lab` / `cargo lab list`: every chapter, where it stands, and the one next step;
//! - `cargo lab check [chNN]`: runs the chapter's grader (`cargo test -p chNN`) and shows the
//!   first failure in the book's order in full, the others in a line each;
//! - `cargo lab watch [chNN]`: the same, again after every save;
//! - `cargo lab hint [chNN]`: the next graduated hint (book/src/hints/chNN.md);
//! - `cargo lab reset chNN`: the starter as last committed, never discarding work silently;
//! - `cargo lab solution chNN`: where the walkthrough is, once the chapter passes.
//!
//! Modules: [`workspace`] finds the checkout and its chapters, [`progress`] keeps
//! `.lab-progress.toml`, [`libtest`] reads `cargo test`'s output, [`book`] reads sections and
//! hints, and one module per command that needs more than a few lines.

mod book;
mod check;
mod error;
mod libtest;
mod progress;
mod reset;
mod style;
mod watch;
mod workspace;

use std::process::ExitCode;

use anstream::{eprintln, println};
use clap::{Parser, Subcommand};

use error::{Error, Result};
use progress::{Progress, State};
use style::{BAD, BOLD, DIM, GOOD, NEXT, paint};
use workspace::{Chapter, Workspace};

/// The chat lab's companion: your chapters, their graders, hints and walkthroughs.
///
/// Run it from anywhere in the lab's checkout. Without a command it lists the chapters.
/// `cargo test -p chNN` still grades a chapter the plain way.
#[derive(Parser)]
#[command(name = "cargo lab", version, bin_name = "cargo lab")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Lists every chapter with where it stands, and the one next step (the default).
    List,
    /// Grades a chapter: the first failure in full, the others in a line each.
    ///
    /// Runs `cargo test -p chNN` with a progress bar, then shows the failure that comes first
    /// in the book's order of sections. Exits with status 0 only when every test passes.
    Check {
        /// The chapter (`ch05`, `5` or `ch05-names`); default: the one you are on.
        chapter: Option<String>,
        /// Lists every other failure, however many.
        #[arg(long)]
        all: bool,
    },
    /// Checks again every time a file of the chapter is saved (q and Enter, or Ctrl-C, quits).
    Watch {
        /// The chapter (`ch05`, `5` or `ch05-names`); default: the one you are on.
        chapter: Option<String>,
    },
    /// Shows the chapter's next hint: the concept first, then documentation, then near-code.
    Hint {
        /// The chapter (`ch05`, `5` or `ch05-names`); default: the one you are on.
        chapter: Option<String>,
        /// Starts the hints over from the first.
        #[arg(long)]
        again: bool,
    },
    /// Restores a chapter's starter as last committed in git.
    ///
    /// Refuses to discard work that is not committed, and lists it, unless --force.
    Reset {
        /// The chapter to restore (`ch05`, `5` or `ch05-names`).
        chapter: String,
        /// Discards uncommitted changes and new files in the chapter's directory.
        #[arg(long)]
        force: bool,
    },
    /// Says where to read a chapter's walkthrough, once the chapter passes.
    Solution {
        /// The chapter (`ch05`, `5` or `ch05-names`).
        chapter: String,
        /// Shows where it is even though the chapter has not passed yet.
        #[arg(long)]
        anyway: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::List)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            report(&err);
            ExitCode::FAILURE
        }
    }
}

/// Prints an error as `error: <doing what>: <cause>`, and its hint.
pub(crate) fn report(err: &Error) {
    eprintln!("{} {}: {}", paint(BAD, "error:"), err.doing, err.cause);
    if let Some(hint) = &err.hint {
        eprintln!("{} {hint}", paint(BOLD, "hint:"));
    }
}

/// Runs one command; false when it ran but what it checked fails.
fn run(command: Command) -> Result<bool> {
    let workspace = Workspace::find()?;
    let progress = Progress::load(&workspace.root)?;
    let pick = |arg: Option<String>| -> Result<Chapter> {
        match arg {
            Some(arg) => workspace.chapter(&arg).cloned(),
            None => Ok(progress.current(&workspace).clone()),
        }
    };
    match command {
        Command::List => list(&workspace, &progress),
        Command::Check { chapter, all } => check::check(&workspace, &pick(chapter)?, all),
        Command::Watch { chapter } => watch::watch(&workspace, &pick(chapter)?).map(|()| true),
        Command::Hint { chapter, again } => {
            let chapter = pick(chapter)?;
            hint(&workspace, progress, &chapter, again)
        }
        Command::Reset { chapter, force } => {
            reset::reset(&workspace, workspace.chapter(&chapter)?, force).map(|()| true)
        }
        Command::Solution { chapter, anyway } => {
            solution(&workspace, &progress, workspace.chapter(&chapter)?, anyway)
        }
    }
}

fn list(workspace: &Workspace, progress: &Progress) -> Result<bool> {
    let current = progress.current(workspace);
    let width = workspace
        .chapters
        .iter()
        .map(|c| c.title.len())
        .max()
        .unwrap_or(0);
    println!("{}", paint(BOLD, "The chat lab"));
    for chapter in &workspace.chapters {
        let state = match progress.state(chapter) {
            State::NotStarted => paint(DIM, "not started"),
            State::Passing { passing, tests } => {
                paint(BAD, format!("{passing} of {tests} passing"))
            }
            State::Passed => paint(GOOD, "passed"),
            State::PassedThenReset => paint(DIM, "passed once, reset since"),
        };
        let marker = if chapter.id == current.id { ">" } else { " " };
        println!("{marker} {}  {:width$}  {state}", chapter.id, chapter.title);
    }
    println!();
    let next = match progress.state(current) {
        State::Passed | State::PassedThenReset => {
            "every chapter passes. Read the walkthroughs: `cargo lab solution chNN`.".into()
        }
        State::NotStarted => format!(
            "read {} (start with \"Your task\"), edit {}, then `cargo lab check {}`.",
            current.page(),
            current.starter(),
            current.id
        ),
        State::Passing { .. } => format!(
            "`cargo lab check {id}` (or `cargo lab watch {id}`); stuck? `cargo lab hint {id}`.",
            id = current.id
        ),
    };
    println!("{}", paint(NEXT, format!("Next: {next}")));
    Ok(true)
}

fn hint(
    workspace: &Workspace,
    mut progress: Progress,
    chapter: &Chapter,
    again: bool,
) -> Result<bool> {
    let (hints, source) = book::hints(&workspace.root, chapter)?;
    let shown = if again {
        0
    } else {
        progress.get(chapter).hints as usize
    };
    let index = shown.min(hints.len() - 1);
    let hint = &hints[index];
    println!("{}", paint(BOLD, &hint.title));
    println!();
    println!("{}", hint.body);
    println!();
    if index + 1 < hints.len() {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "Hint {} of {}. The next one: `cargo lab hint {}`. (From {source}.)",
                    index + 1,
                    hints.len(),
                    chapter.id
                )
            )
        );
    } else {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "That was the last hint ({} of {}); `--again` starts over. (From {source}.)",
                    index + 1,
                    hints.len()
                )
            )
        );
    }
    progress.update(chapter, |entry| entry.hints = (index + 1) as u32);
    progress.save()?;
    Ok(true)
}

fn solution(
    workspace: &Workspace,
    progress: &Progress,
    chapter: &Chapter,
    anyway: bool,
) -> Result<bool> {
    if !progress.get(chapter).passed && !anyway {
        return Err(Error::new(
            format!("showing {}'s walkthrough", chapter.id),
            "the chapter has not passed yet, and the walkthrough gives the answer away",
        )
        .hint(format!(
            "pass it first (`cargo lab check {id}`; stuck? `cargo lab hint {id}`), or add --anyway",
            id = chapter.id
        )));
    }
    println!(
        "{}",
        paint(BOLD, format!("{}: {}", chapter.id, chapter.title))
    );
    println!("The walkthrough: {}", book::walkthrough(workspace, chapter));
    println!(
        "The reference code: solutions/{} (run it: `cargo run -p {}-solution`)",
        chapter.slug, chapter.slug
    );
    Ok(true)
}
