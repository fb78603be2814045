//! Reads what `cargo test` prints, one line at a time, as it prints it.
//!
//! libtest's plain output, per test binary:
//!
//! ```text
//! running 57 tests
//! test chat::who_answers_the_asker_only ... FAILED
//! test cli::help_names_this_chapter ... ok
//!
//! failures:
//!
//! ---- chat::who_answers_the_asker_only stdout ----
//! (everything the test printed: the harness's transcript)
//!
//! failures:
//!     chat::who_answers_the_asker_only
//!
//! test result: FAILED. 12 passed; 45 failed; ...
//! ```
//!
//! The transcript (tests/harness/src/transcript.rs) ends with `Hint: ...` (optional) and
//! `Read: book/src/PAGE.md, section "TITLE"`.

/// What one line of output told.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// A test binary starts this many tests.
    Running(usize),
    /// A test finished: its name and whether it passed.
    Finished(String, bool),
    /// Nothing the progress bar shows.
    Other,
}

/// One failed test, with what it printed.
#[derive(Debug, Default, Clone)]
pub struct Failure {
    /// As libtest names it: `chat::who_answers_the_asker_only`.
    pub name: String,
    /// What the test printed (the transcript), trimmed.
    pub output: String,
}

impl Failure {
    /// The book page and section its transcript points to: ("ch05-names.md", "Cleanup").
    pub fn read(&self) -> Option<(String, String)> {
        let line = self
            .output
            .lines()
            .find_map(|l| l.trim().strip_prefix("Read: "))?;
        let (path, rest) = line.split_once(", section ")?;
        let page = path.trim().strip_prefix("book/src/").unwrap_or(path.trim());
        let section = rest.trim().trim_matches('"');
        Some((page.to_string(), section.to_string()))
    }
}

/// The whole run: every test's result and every failure's output.
#[derive(Debug, Default)]
pub struct Run {
    /// Tests announced by `running N tests`, over every test binary.
    pub announced: usize,
    /// Every finished test: name and whether it passed.
    pub results: Vec<(String, bool)>,
    /// The failures, in the order libtest printed them.
    pub failures: Vec<Failure>,
    section: Section,
}

#[derive(Debug, Default, PartialEq)]
enum Section {
    #[default]
    Results,
    /// Inside `failures:`, before or inside a `---- NAME stdout ----` block.
    Outputs,
    /// The closing list of names.
    Names,
}

impl Run {
    /// Takes one line of `cargo test`'s standard output.
    pub fn line(&mut self, line: &str) -> Event {
        if let Some(n) = line
            .strip_prefix("running ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .filter(|_| line.ends_with(" test") || line.ends_with(" tests"))
        {
            self.announced += n;
            self.section = Section::Results;
            return Event::Running(n);
        }
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some((name, outcome)) = rest.rsplit_once(" ... ") {
                let passed = match outcome.trim() {
                    "ok" => true,
                    "FAILED" => false,
                    _ => return Event::Other, // ignored, or a benchmark
                };
                self.results.push((name.to_string(), passed));
                return Event::Finished(name.to_string(), passed);
            }
        }
        if line == "failures:" {
            self.section = match self.section {
                Section::Results => Section::Outputs,
                _ => Section::Names,
            };
            return Event::Other;
        }
        if line.starts_with("test result: ") {
            self.section = Section::Results;
            return Event::Other;
        }
        if self.section == Section::Outputs {
            if let Some(name) = line
                .strip_prefix("---- ")
                .and_then(|rest| rest.strip_suffix(" ----"))
                .and_then(|rest| rest.rsplit_once(' ').map(|(name, _)| name))
            {
                self.failures.push(Failure {
                    name: name.to_string(),
                    output: String::new(),
                });
            } else if let Some(failure) = self.failures.last_mut() {
                failure.output.push_str(line);
                failure.output.push('\n');
            }
        }
        Event::Other
    }

    /// Ends the run: trims what the failures printed, and adds a failure without output for
    /// any test reported FAILED whose block was not seen.
    pub fn finish(&mut self) {
        for failure in &mut self.failures {
            failure.output = failure.output.trim_matches('\n').to_string();
        }
        for (name, passed) in &self.results {
            if !passed && !self.failures.iter().any(|f| &f.name == name) {
                self.failures.push(Failure {
                    name: name.clone(),
                    output: String::new(),
                });
            }
        }
    }

    /// Tests that passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|(_, passed)| *passed).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
running 3 tests
test chat::who_answers_the_asker_only ... FAILED
test cli::help_names_this_chapter ... ok
test names::case::case_1_empty ... FAILED

failures:

---- chat::who_answers_the_asker_only stdout ----

ch05 grader, test chat::who_answers_the_asker_only
Expected: alice receives \"online: alice\"
Got:      the connection was closed
Hint: answer /who to the asker only
Read: book/src/ch05-names.md, section \"Protocol state per connection\"

---- names::case::case_1_empty stdout ----
Read: book/src/ch04-mutex.md, section \"Framing\"

failures:
    chat::who_answers_the_asker_only
    names::case::case_1_empty

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s
";

    #[test]
    fn a_run_is_read_into_results_and_failures() {
        let mut run = Run::default();
        let events: Vec<Event> = OUTPUT.lines().map(|l| run.line(l)).collect();
        run.finish();
        assert_eq!(events[0], Event::Running(3));
        assert_eq!(
            events[1],
            Event::Finished("chat::who_answers_the_asker_only".into(), false)
        );
        assert_eq!((run.announced, run.passed(), run.failures.len()), (3, 1, 2));
        let first = &run.failures[0];
        assert!(first.output.starts_with("ch05 grader, test chat::who"));
        assert_eq!(
            first.read(),
            Some((
                "ch05-names.md".into(),
                "Protocol state per connection".into()
            ))
        );
        assert_eq!(run.failures[1].read().unwrap().1, "Framing");
    }

    #[test]
    fn a_failure_without_output_is_still_counted() {
        let mut run = Run::default();
        for line in [
            "running 1 test",
            "test a ... FAILED",
            "",
            "test result: FAILED.",
        ] {
            run.line(line);
        }
        run.finish();
        assert_eq!(run.failures.len(), 1);
        assert_eq!(run.failures[0].read(), None);
    }
}
