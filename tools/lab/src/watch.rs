//! `cargo lab watch`: checks the chapter again each time one of its files is saved.

use std::io::BufRead;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use anstream::println;
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};

use crate::check;
use crate::error::{Doing, Result};
use crate::style::{DIM, paint};
use crate::workspace::{Chapter, Workspace};

enum Wake {
    Saved,
    Quit,
}

/// Runs `check` now and after every save in `chapters/chNN-*`, until `q` or Ctrl-C.
pub fn watch(workspace: &Workspace, chapter: &Chapter) -> Result<()> {
    let (wake, woken) = mpsc::channel();
    let saved = wake.clone();
    // Editors write a file in bursts (a temporary file, a rename); one check per burst.
    let mut debouncer = new_debouncer(
        Duration::from_millis(300),
        move |events: DebounceEventResult| {
            if let Ok(events) = events {
                if events.iter().any(|event| is_source(&event.path)) {
                    let _ = saved.send(Wake::Saved);
                }
            }
        },
    )
    .doing(|| "starting to watch for saved files".into())?;
    let dir = workspace.root.join(chapter.starter());
    debouncer
        .watcher()
        .watch(&dir, RecursiveMode::Recursive)
        .doing(|| format!("watching {}", dir.display()))?;

    // `q` then Enter quits; so does the end of input. Ctrl-C ends the process (and the
    // grader's run with it) as for any command.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(line) if line.trim().eq_ignore_ascii_case("q") => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = wake.send(Wake::Quit);
    });

    loop {
        clear_screen();
        // A failing build is reported like a failing test: the learner fixes it and saves.
        if let Err(err) = check::check(workspace, chapter, false) {
            crate::report(&err);
        }
        println!();
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "Watching {}: save a file to check again. q and Enter (or Ctrl-C) quits.",
                    chapter.starter()
                )
            )
        );
        match woken.recv() {
            Ok(Wake::Saved) => {
                // Saves made while the grader ran are covered by the run about to start.
                while let Ok(Wake::Saved) = woken.try_recv() {}
            }
            Ok(Wake::Quit) | Err(_) => return Ok(()),
        }
    }
}

/// Whether a change to `path` is worth a new check: not an editor's backup or swap file.
fn is_source(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let backup = name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp");
    !backup && !path.components().any(|c| c.as_os_str() == "target")
}

/// Clears the terminal between runs (nothing to clear when output goes elsewhere).
fn clear_screen() {
    // `console` (indicatif's terminal layer) also knows the Windows console.
    let term = console::Term::stdout();
    if term.is_term() {
        let _ = term.clear_screen();
    }
}
