//! The record of one test: numbered steps, and the failure report built from them.
//!
//! A failing expectation panics with a report in this shape, so the learner sees the whole
//! conversation rather than a bare `assertion failed`:
//!
//! ```text
//! ch01 grader, test echoes_lines_in_order
//! Steps:
//!    1. server: started `ch01-graded --addr 127.0.0.1:0`, listening on 127.0.0.1:40155
//!    2. A: connected to 127.0.0.1:40155
//!    3. A: sent "first"
//! Expected: A receives "first"
//! Got:      nothing within 5000 ms
//! server output so far:
//!    | listening on 127.0.0.1:40155
//! Read: book/src/ch01-echo.md, section "Framing lines"
//! ```

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use crate::Chapter;
use crate::output::{OutputLog, Source};

/// How many steps a report shows; a flood test would otherwise print thousands.
const MAX_STEPS: usize = 80;

/// The steps of one test, the processes whose output belongs in its report, and the book
/// section its failures point to.
pub struct Transcript {
    chapter: &'static Chapter,
    test: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    steps: Vec<String>,
    /// Steps dropped from the front to stay within [`MAX_STEPS`].
    omitted: usize,
    /// The book page (without `.md`) and section that failures point to.
    page: &'static str,
    section: String,
    hint: Option<String>,
    /// The output logs of the processes started in this test, by name.
    outputs: Vec<(String, Arc<OutputLog>)>,
    /// Whether a full report was printed already: when many threads of one test fail (fifty
    /// clients, say), the first report says it all and the others get one line each.
    reported: bool,
}

impl Transcript {
    pub(crate) fn new(chapter: &'static Chapter, page: &'static str, section: &str) -> Transcript {
        // libtest and nextest both run a test on a thread named after it.
        let test = std::thread::current()
            .name()
            .unwrap_or("(unnamed test)")
            .to_string();
        Transcript {
            chapter,
            test,
            state: Mutex::new(State {
                page,
                section: section.to_string(),
                ..State::default()
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while reporting must not hide the report: the data is plain text.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn chapter(&self) -> &'static Chapter {
        self.chapter
    }

    pub(crate) fn set_section(&self, section: &str) {
        self.state().section = section.to_string();
    }

    pub(crate) fn set_page(&self, page: &'static str, section: &str) {
        let mut state = self.state();
        state.page = page;
        state.section = section.to_string();
    }

    pub(crate) fn set_hint(&self, hint: &str) {
        self.state().hint = Some(hint.to_string());
    }

    /// Appends a numbered step.
    pub fn step(&self, text: String) {
        let mut state = self.state();
        state.steps.push(text);
        if state.steps.len() > MAX_STEPS {
            state.steps.remove(0);
            state.omitted += 1;
        }
    }

    pub(crate) fn attach_output(&self, name: &str, log: Arc<OutputLog>) {
        self.state().outputs.push((name.to_string(), log));
    }

    /// Fails the test with the full report.
    ///
    /// The report goes to standard error (libtest and nextest show it under the failed test)
    /// and the test unwinds with `resume_unwind`, which skips the panic hook: a backtrace of
    /// the harness would only bury the transcript.
    pub fn fail(&self, expected: &str, got: &str) -> ! {
        let logs: Vec<Arc<OutputLog>> = self
            .state()
            .outputs
            .iter()
            .map(|(_, log)| log.clone())
            .collect();
        // A process that is dying (a learner's `todo!()`, say) may still be writing its last
        // words; give its output a moment to arrive so the report shows them.
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
        for log in &logs {
            log.wait_closed(deadline);
        }
        let report = {
            let mut state = self.state();
            if std::mem::replace(&mut state.reported, true) {
                format!("(and also) expected {expected}; got {got}")
            } else {
                self.report(&state, expected, got)
            }
        };
        eprintln!("{report}");
        std::panic::resume_unwind(Box::new(format!(
            "{} grader: expected {expected}",
            self.chapter.id
        )));
    }

    fn report(&self, state: &State, expected: &str, got: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\n{} grader, test {}", self.chapter.id, self.test);
        let _ = writeln!(out, "Steps:");
        if state.omitted > 0 {
            let _ = writeln!(out, "   ({} earlier steps not shown)", state.omitted);
        }
        for (i, step) in state.steps.iter().enumerate() {
            let _ = writeln!(out, "  {:>2}. {step}", i + 1 + state.omitted);
        }
        let _ = writeln!(out, "Expected: {expected}");
        let _ = writeln!(out, "Got:      {got}");
        for (name, log) in &state.outputs {
            let lines = fold_backtraces(log.snapshot());
            let ended = if log.is_closed() {
                " (the process has ended)"
            } else {
                ""
            };
            let _ = writeln!(out, "{name} output so far{ended}:");
            if lines.is_empty() {
                let _ = writeln!(out, "   (nothing)");
            }
            let skip = lines.len().saturating_sub(40);
            if skip > 0 {
                let _ = writeln!(out, "   ({skip} earlier lines not shown)");
            }
            for (source, line) in &lines[skip..] {
                let _ = writeln!(out, "   {} {line}", source.marker());
            }
        }
        if let Some(hint) = &state.hint {
            let _ = writeln!(out, "Hint: {hint}");
        }
        let _ = writeln!(
            out,
            "Read: book/src/{}.md, section \"{}\"",
            state.page, state.section
        );
        out
    }
}

/// Replaces the frames of each `stack backtrace:` in a process's output with one line saying
/// how many there were. A panic in a function that cannot unwind (a signal handler, say) prints
/// its backtrace whatever `RUST_BACKTRACE` says: some 70 lines, which would push the panic's
/// message out of the last 40 lines a report shows. The message is what the learner needs.
fn fold_backtraces(lines: Vec<(Source, String)>) -> Vec<(Source, String)> {
    let is_frame = |line: &str| {
        let line = line.trim_start();
        line.starts_with("at ")
            || line
                .split_once(':')
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut out = Vec::with_capacity(lines.len());
    let mut in_backtrace = false;
    let mut folded = 0;
    for (source, line) in lines {
        if in_backtrace && is_frame(&line) {
            folded += 1;
            continue;
        }
        if folded > 0 {
            out.push((source, format!("({folded} lines of backtrace not shown)")));
            folded = 0;
        }
        in_backtrace = line.trim() == "stack backtrace:";
        out.push((source, line));
    }
    if folded > 0 {
        out.push((
            Source::Stderr,
            format!("({folded} lines of backtrace not shown)"),
        ));
    }
    out
}

/// Shows a line the way a report quotes it: escapes visible, long lines shortened.
pub fn quote(text: &str) -> String {
    const MAX: usize = 120;
    // Debug formatting escapes control characters, quotes and backslashes, but not an
    // apostrophe (as `escape_debug` would): "username can't be empty" reads as typed.
    let debug = format!("{text:?}");
    let escaped = &debug[1..debug.len() - 1];
    if escaped.chars().count() > MAX {
        let head: String = escaped.chars().take(MAX).collect();
        format!("\"{head}\"... ({} bytes)", text.len())
    } else {
        format!("\"{escaped}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forced_backtrace_is_folded_and_the_panic_message_kept() {
        let mut lines = vec![
            (Source::Stdout, "listening on 127.0.0.1:1".to_string()),
            (Source::Stderr, "RefCell already borrowed".to_string()),
            (Source::Stderr, "stack backtrace:".to_string()),
        ];
        for n in 0..70 {
            lines.push((Source::Stderr, format!("  {n}:     0x55 - frame{n}")));
            lines.push((
                Source::Stderr,
                "                at src/lib.rs:1:1".to_string(),
            ));
        }
        lines.push((
            Source::Stderr,
            "thread caused non-unwinding panic. aborting.".to_string(),
        ));
        let folded: Vec<String> = fold_backtraces(lines).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            folded,
            [
                "listening on 127.0.0.1:1",
                "RefCell already borrowed",
                "stack backtrace:",
                "(140 lines of backtrace not shown)",
                "thread caused non-unwinding panic. aborting.",
            ]
        );
    }
}
