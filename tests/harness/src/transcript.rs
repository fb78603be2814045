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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::output::{OutputLog, Source};
use crate::{Chapter, Conn};

/// Names the likely cause of a line a connection received that the test did not expect (see
/// [`crate::Lab::on_unexpected_line`]).
pub(crate) type LineCheck = Arc<dyn Fn(&Conn, &str) -> Option<String> + Send + Sync>;

/// Chooses a hint from what the processes printed (see [`crate::Lab::hint_from_output`]).
pub(crate) type OutputCheck = Arc<dyn Fn(&Printed<'_>) -> Option<String> + Send + Sync>;

/// What the processes of a failing test printed, for choosing its hint.
pub struct Printed<'a> {
    outputs: &'a [(String, Vec<(Source, String)>)],
}

impl Printed<'_> {
    /// The lines the process named `process` ("server") printed on `source`, in order.
    pub fn lines(&self, process: &str, source: Source) -> Vec<&str> {
        self.outputs
            .iter()
            .filter(|(name, _)| name == process)
            .flat_map(|(_, lines)| lines.iter())
            .filter(|(src, _)| *src == source)
            .map(|(_, line)| line.as_str())
            .collect()
    }
}

/// How many steps a report shows; a flood test would otherwise print thousands.
const MAX_STEPS: usize = 80;

/// How many failing tests of one test process get the full report; the others get a short
/// one (what was expected, what arrived, the section to read), so that a starter's run, where
/// most tests fail for one reason, ends on a readable screen. `LAB_FULL_REPORTS` overrides it
/// (`all` for every one: `cargo lab check` sets it and picks the report to show).
/// Under nextest each test is a process of its own, so every failure is reported in full.
const FULL_REPORTS: usize = 3;

/// Full reports printed so far by this process.
static FULL_REPORTS_PRINTED: AtomicUsize = AtomicUsize::new(0);

fn full_reports_allowed() -> usize {
    match std::env::var("LAB_FULL_REPORTS") {
        Ok(value) if value == "all" => usize::MAX,
        Ok(value) => value.parse().unwrap_or(FULL_REPORTS),
        Err(_) => FULL_REPORTS,
    }
}

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
    /// Recognises an unexpected line's likely cause; what it said, once a line was recognised.
    line_check: Option<LineCheck>,
    diagnosis: Option<String>,
    /// Chooses the hint from the processes' output when the test fails.
    output_check: Option<OutputCheck>,
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

    pub(crate) fn set_line_check(&self, check: LineCheck) {
        self.state().line_check = Some(check);
    }

    pub(crate) fn set_output_check(&self, check: OutputCheck) {
        self.state().output_check = Some(check);
    }

    /// Runs the line check on a line `conn` received unexpectedly; a cause it recognises
    /// becomes the failure's hint.
    pub(crate) fn recognise(&self, conn: &Conn, line: &str) {
        let check = self.state().line_check.clone();
        // Called without the state's lock: the check may read the connection.
        if let Some(diagnosis) = check.and_then(|check| check(conn, line)) {
            self.state().diagnosis = Some(diagnosis);
        }
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
            } else if FULL_REPORTS_PRINTED.fetch_add(1, Ordering::Relaxed) < full_reports_allowed()
            {
                self.report(&state, expected, got)
            } else {
                self.short_report(&state, expected, got)
            }
        };
        eprintln!("{report}");
        std::panic::resume_unwind(Box::new(format!(
            "{} grader: expected {expected}",
            self.chapter.id
        )));
    }

    /// The report of a failure after the first few: no steps, no output.
    fn short_report(&self, state: &State, expected: &str, got: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Expected: {expected}");
        let _ = writeln!(out, "Got:      {got}");
        let _ = writeln!(
            out,
            "Read: book/src/{}.md, section \"{}\"",
            state.page, state.section
        );
        let _ = writeln!(
            out,
            "(in full: cargo test -p {} -- {} --exact)",
            self.chapter.id, self.test
        );
        out
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
        let printed: Vec<(String, Vec<(Source, String)>)> = state
            .outputs
            .iter()
            .map(|(name, log)| (name.clone(), fold_backtraces(log.snapshot())))
            .collect();
        for ((name, log), (_, lines)) in state.outputs.iter().zip(&printed) {
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
        // The most specific hint wins: a recognised line, then the output's, then the test's.
        let from_output = state
            .output_check
            .as_ref()
            .and_then(|check| check(&Printed { outputs: &printed }));
        let hint = state
            .diagnosis
            .clone()
            .or(from_output)
            .or_else(|| state.hint.clone());
        if let Some(hint) = &hint {
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
