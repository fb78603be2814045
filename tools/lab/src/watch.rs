//! `cargo lab watch`: checks the chapter again each time one of its files is saved.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

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

    let mut seen = snapshot(&dir);
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
        // Building the chapter opens its files, and the watcher reports that too: only a
        // change of a file's size or modification time counts as a save.
        loop {
            match woken.recv() {
                Ok(Wake::Saved) => {
                    let now = snapshot(&dir);
                    if now != seen {
                        seen = now;
                        break;
                    }
                }
                Ok(Wake::Quit) | Err(_) => return Ok(()),
            }
        }
    }
}

/// Every file under `dir` with its size and modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => pending.push(path),
                Ok(meta) if is_source(&path) => {
                    files.push((path, meta.len(), meta.modified().ok()))
                }
                _ => {}
            }
        }
    }
    files.sort();
    files
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
