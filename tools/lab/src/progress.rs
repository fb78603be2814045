//! The learner's progress, kept in `.lab-progress.toml` at the root of the checkout.
//!
//! The file is gitignored, so a `git pull` or a rebuild never touches it, and deleting it only
//! forgets. It is a small TOML subset that this module writes and reads back:
//!
//! ```toml
//! [ch05]
//! passing = 12
//! tests = 57
//! passed = false
//! hints = 2
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Doing, Result};
use crate::workspace::{Chapter, Workspace};

/// The progress file's name, at the root of the checkout.
pub const FILE: &str = ".lab-progress.toml";

/// What the tool remembers of one chapter.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Entry {
    /// The last check's result: tests passing, and tests in all (None: never checked).
    pub last: Option<(u32, u32)>,
    /// Whether the chapter has passed its grader at least once.
    pub passed: bool,
    /// How many hints `cargo lab hint` has shown.
    pub hints: u32,
}

/// Where a chapter stands, for `cargo lab list`.
#[derive(Debug, PartialEq)]
pub enum State {
    NotStarted,
    Passing {
        passing: u32,
        tests: u32,
    },
    Passed,
    /// Passed once, then reset: not checked since.
    PassedThenReset,
}

/// Every chapter's [`Entry`], by chapter id.
pub struct Progress {
    path: PathBuf,
    entries: BTreeMap<String, Entry>,
}

impl Progress {
    /// Reads the progress file of the checkout at `root` (none yet: nothing done).
    pub fn load(root: &Path) -> Result<Progress> {
        let path = root.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(err).doing(|| format!("reading {}", path.display())),
        };
        Ok(Progress {
            path,
            entries: parse(&text),
        })
    }

    /// Writes the progress file back.
    pub fn save(&self) -> Result<()> {
        std::fs::write(&self.path, render(&self.entries))
            .doing(|| format!("saving your progress to {}", self.path.display()))
    }

    /// The entry of `chapter`.
    pub fn get(&self, chapter: &Chapter) -> Entry {
        self.entries.get(&chapter.id).cloned().unwrap_or_default()
    }

    /// Changes the entry of `chapter`.
    pub fn update(&mut self, chapter: &Chapter, change: impl FnOnce(&mut Entry)) {
        change(self.entries.entry(chapter.id.clone()).or_default());
    }

    /// Where `chapter` stands.
    pub fn state(&self, chapter: &Chapter) -> State {
        let entry = self.get(chapter);
        match entry.last {
            Some((passing, tests)) if passing == tests && tests > 0 => State::Passed,
            Some((passing, tests)) => State::Passing { passing, tests },
            None if entry.passed => State::PassedThenReset,
            None => State::NotStarted,
        }
    }

    /// The chapter to work on: the first that has not passed yet (or the last one).
    pub fn current<'w>(&self, workspace: &'w Workspace) -> &'w Chapter {
        workspace
            .chapters
            .iter()
            .find(|chapter| !self.get(chapter).passed)
            .unwrap_or_else(|| {
                workspace
                    .chapters
                    .last()
                    .expect("Workspace::at checks there is one")
            })
    }
}

fn parse(text: &str) -> BTreeMap<String, Entry> {
    let mut entries = BTreeMap::new();
    let mut current: Option<String> = None;
    let (mut passing, mut tests) = (BTreeMap::new(), BTreeMap::new());
    for line in text.lines().map(str::trim) {
        if let Some(id) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(id.trim().to_string());
            entries
                .entry(id.trim().to_string())
                .or_insert_with(Entry::default);
            continue;
        }
        let (Some(id), Some((key, value))) = (&current, line.split_once('=')) else {
            continue;
        };
        let entry: &mut Entry = entries.entry(id.clone()).or_default();
        let value = value.trim();
        match key.trim() {
            "passing" => _ = value.parse::<u32>().map(|n| passing.insert(id.clone(), n)),
            "tests" => _ = value.parse::<u32>().map(|n| tests.insert(id.clone(), n)),
            "passed" => entry.passed = value == "true",
            "hints" => entry.hints = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    for (id, entry) in entries.iter_mut() {
        if let (Some(p), Some(t)) = (passing.get(id), tests.get(id)) {
            entry.last = Some((*p, *t));
        }
    }
    entries
}

fn render(entries: &BTreeMap<String, Entry>) -> String {
    let mut out = String::from(
        "# cargo lab's record of your progress (not in git; deleting it only forgets).\n",
    );
    for (id, entry) in entries {
        let _ = writeln!(out, "\n[{id}]");
        if let Some((passing, tests)) = entry.last {
            let _ = writeln!(out, "passing = {passing}\ntests = {tests}");
        }
        let _ = writeln!(out, "passed = {}\nhints = {}", entry.passed, entry.hints);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_survives_a_round_trip() {
        let mut entries = BTreeMap::new();
        entries.insert(
            "ch01".to_string(),
            Entry {
                last: Some((12, 12)),
                passed: true,
                hints: 1,
            },
        );
        entries.insert(
            "ch02".to_string(),
            Entry {
                last: None,
                passed: false,
                hints: 3,
            },
        );
        assert_eq!(parse(&render(&entries)), entries);
    }

    #[test]
    fn a_damaged_file_only_forgets() {
        let entries = parse("[ch01]\npassing = many\ntests = 3\npassed = true\nnonsense\n");
        assert_eq!(entries["ch01"].last, None);
        assert!(entries["ch01"].passed);
    }
}
