//! `cargo lab check`: runs a chapter's grader and tells the one thing to do next.

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use anstream::println;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::book;
use crate::error::{Doing, Error, Result};
use crate::libtest::{Event, Failure, Run};
use crate::progress::Progress;
use crate::style::{BAD, BOLD, DIM, GOOD, NEXT, paint};
use crate::workspace::{Chapter, Workspace};

/// How many other failures are listed one per line before the rest are only counted, so
/// that the report fits one screen.
const LISTED: usize = 15;

/// Grades `chapter`, prints the report, records the result; true when every test passes.
pub fn check(workspace: &Workspace, chapter: &Chapter, all: bool) -> Result<bool> {
    let mut run = run_grader(workspace, chapter)?;
    run.finish();
    let (passed, total) = (run.passed(), run.results.len());
    let mut progress = Progress::load(&workspace.root)?;
    let first_pass = passed == total && total > 0 && !progress.get(chapter).passed;
    progress.update(chapter, |entry| {
        entry.last = Some((passed as u32, total as u32));
        entry.passed |= passed == total && total > 0;
    });
    progress.save()?;

    println!(
        "{} {}",
        paint(BOLD, format!("{}: {}", chapter.id, chapter.title)),
        paint(DIM, format!("({})", chapter.starter()))
    );
    if total == 0 {
        return Err(Error::new(
            format!("grading {}", chapter.id),
            "`cargo test` ran no test",
        )
        .hint(format!(
            "run `cargo test -p {}` to see what it prints",
            chapter.id
        )));
    }
    if passed == total {
        println!("{}", paint(GOOD, format!("All {total} tests pass.")));
        if first_pass {
            congratulate(workspace, chapter);
        }
        return Ok(true);
    }

    let mut failures = run.failures;
    sort_in_book_order(workspace, chapter, &mut failures);
    let first = &failures[0];
    println!();
    if first.output.is_empty() {
        println!("{} {}", paint(BAD, "FAILED"), first.name);
        println!(
            "(it printed nothing; run `cargo test -p {} -- {} --exact`)",
            chapter.id, first.name
        );
    } else {
        println!("{}", first.output);
    }
    let others = &failures[1..];
    if !others.is_empty() {
        println!();
        println!(
            "{}",
            paint(BOLD, "The other failures, in the book's order:")
        );
        let listed = if all {
            others.len()
        } else {
            others.len().min(LISTED)
        };
        for failure in &others[..listed] {
            let section = failure
                .read()
                .map(|(_, section)| format!("  (\"{section}\")"))
                .unwrap_or_default();
            println!(
                "  {} {}{}",
                paint(BAD, "FAILED"),
                failure.name,
                paint(DIM, section)
            );
        }
        if listed < others.len() {
            println!(
                "  {}",
                paint(
                    DIM,
                    format!(
                        "... and {} more (`cargo lab check {} --all` lists every one)",
                        others.len() - listed,
                        chapter.id
                    )
                )
            );
        }
    }
    println!();
    let read = match first.read() {
        Some((page, section)) if page == format!("{}.md", chapter.slug) => {
            format!("read \"{section}\", then ")
        }
        Some((page, section)) => format!("read \"{section}\" (book/src/{page}), then "),
        None => String::new(),
    };
    println!(
        "{} {}",
        paint(BOLD, format!("{passed} of {total} pass.")),
        paint(NEXT, format!("Next: {read}fix {}", first.name))
    );
    println!(
        "{}",
        paint(
            DIM,
            format!(
                "Stuck? `cargo lab hint {id}`. One test alone: `cargo test -p {id} -- {name} --exact`.",
                id = chapter.id,
                name = first.name
            )
        )
    );
    Ok(false)
}

/// Orders failures as the book teaches their sections: the chapter's own page first (on a
/// starter, its new work is what breaks the earlier chapters' tests too), then the other pages
/// in SUMMARY.md's order; within a page, by the position of the section's heading; ties (and
/// failures that name no section) by name.
fn sort_in_book_order(workspace: &Workspace, chapter: &Chapter, failures: &mut [Failure]) {
    let own = format!("{}.md", chapter.slug);
    let mut pages: std::collections::HashMap<String, String> = Default::default();
    let mut key = |failure: &Failure| -> (usize, usize, String) {
        let Some((page, section)) = failure.read() else {
            return (usize::MAX, usize::MAX, failure.name.clone());
        };
        let page_rank = if page == own {
            0
        } else {
            workspace
                .pages
                .iter()
                .position(|p| *p == page)
                .map_or(usize::MAX - 1, |i| i + 1)
        };
        let text = pages.entry(page.clone()).or_insert_with(|| {
            std::fs::read_to_string(workspace.root.join("book/src").join(&page)).unwrap_or_default()
        });
        let line = book::heading_line(text, &section).unwrap_or(usize::MAX);
        (page_rank, line, failure.name.clone())
    };
    let mut keyed: Vec<((usize, usize, String), Failure)> =
        failures.iter().map(|f| (key(f), f.clone())).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    for (slot, (_, failure)) in failures.iter_mut().zip(keyed) {
        *slot = failure;
    }
}

fn congratulate(workspace: &Workspace, chapter: &Chapter) {
    println!(
        "{}",
        paint(
            GOOD,
            format!("{} passes, for the first time. Well done!", chapter.id)
        )
    );
    println!(
        "Compare with the walkthrough: {} (or `cargo lab solution {}`).",
        book::walkthrough(workspace, chapter),
        chapter.id
    );
    match workspace.next_after(chapter) {
        Some(next) => println!(
            "{}",
            paint(
                NEXT,
                format!(
                    "Next: {}, {}; then `cargo lab check {}`.",
                    next.title,
                    next.page(),
                    next.id
                )
            )
        ),
        None => println!("{}", paint(NEXT, "That was the last chapter.")),
    }
}

/// Runs `cargo test -p chNN`, showing a progress bar on a terminal, and reads its output.
fn run_grader(workspace: &Workspace, chapter: &Chapter) -> Result<Run> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let colour = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        "always"
    } else {
        "never"
    };
    let mut child = Command::new(&cargo)
        .args([
            "test",
            "-p",
            &chapter.id,
            "--no-fail-fast",
            "--color",
            colour,
        ])
        .current_dir(&workspace.root)
        // A full transcript for every failure (tests/harness/src/transcript.rs): this tool
        // picks the one to show.
        .env("LAB_FULL_REPORTS", "all")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .doing(|| format!("running `cargo test -p {}`", chapter.id))?;

    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    } else {
        // No bar to draw: one plain line, so a silent first build does not look like a hang.
        eprintln!(
            "building the {} grader and your code, then running it (the first build takes a \
             minute or two)...",
            chapter.id
        );
        ProgressBar::hidden()
    };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
    bar.set_message(format!("building the {} grader and your code", chapter.id));
    bar.enable_steady_tick(Duration::from_millis(120));

    // Cargo's own messages (compiling, and compile errors) are kept for a failed build.
    let stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });

    let mut run = Run::default();
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.doing(|| "reading `cargo test`'s output".into())?;
        match run.line(&line) {
            Event::Running(_) => {
                bar.set_length(run.announced as u64);
                bar.set_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} tests  {wide_msg}")
                        .expect("a valid template"),
                );
            }
            Event::Finished(name, _) => {
                bar.inc(1);
                bar.set_message(name);
            }
            Event::Other => {}
        }
    }
    let status = child
        .wait()
        .doing(|| format!("waiting for `cargo test -p {}`", chapter.id))?;
    bar.finish_and_clear();
    let errors = errors.join().unwrap_or_default();
    if !status.success() && run.announced == 0 {
        let shown: Vec<&str> = errors
            .lines()
            .filter(|l| {
                let l = l.trim_start();
                !(l.starts_with("Compiling ")
                    || l.starts_with("Finished ")
                    || l.starts_with("Running "))
            })
            .collect();
        eprintln!("{}", shown.join("\n"));
        return Err(Error::new(
            format!("building {} for its grader", chapter.starter()),
            format!(
                "`cargo test -p {}` failed before any test ran ({status})",
                chapter.id
            ),
        )
        .hint("fix the first compile error above (cargo's message names the file and line)"));
    }
    Ok(run)
}
