//! `cargo lab` run as the learner runs it, on a scratch lab: a tiny workspace with the real
//! layout (chapters/, tests/chNN, book/src) and a fake grader that prints transcripts in the
//! harness's format, in a temporary git repository. Never the real checkout.

use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;
use predicates::str::contains;

/// A scratch lab in a temporary directory, committed to a fresh git repository.
struct Scratch {
    dir: tempfile::TempDir,
}

const GRADER: &str = r#"
fn fail(test: &str, expected: &str, section: &str) -> ! {
    println!("ch01 grader, test {test}");
    println!("Steps:\n   1. A: sent \"x\"");
    println!("Expected: {expected}\nGot:      {}", ch01_echo::answer());
    println!("Hint: look at answer()");
    println!("Read: book/src/ch01-echo.md, section \"{section}\"");
    panic!("ch01 grader: expected {expected}");
}

#[test]
fn the_server_starts() {}

#[test]
fn answer_is_42() {
    if ch01_echo::answer() != 42 {
        fail("answer_is_42", "42", "Second");
    }
}

#[test]
fn answer_is_even() {
    if ch01_echo::answer() % 2 != 0 {
        fail("answer_is_even", "an even answer", "First");
    }
}
"#;

const PAGE: &str = "# Chapter 1: an echo server\n\n## First\n\ntext\n\n## Second\n\ntext\n\n## Hints\n\n<details>\n<summary>Hint 1: from the page</summary>\n\nThe page's hint.\n\n</details>\n\n## Walkthrough\n\nThe answer.\n";

const HINTS: &str = "<!-- hints for chapter 1 -->\n\n<details>\n<summary>Hint 1: the concept</summary>\n\nThink of a number.\n\n</details>\n\n<details>\n<summary>Hint 2: the documentation</summary>\n\nRead about integers.\n\n</details>\n\n<details>\n<summary>Hint 3: near-code</summary>\n\n```rust\n42\n```\n\n</details>\n";

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let scratch = Scratch { dir };
        scratch.write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"chapters/*\", \"tests/*\"]\n",
        );
        for (slug, answer) in [("ch01-echo", 1), ("ch02-threads", 0)] {
            scratch.write(
                &format!("chapters/{slug}/Cargo.toml"),
                &format!("[package]\nname = \"{slug}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
            );
            scratch.write(
                &format!("chapters/{slug}/src/lib.rs"),
                &format!("pub fn answer() -> u32 {{\n    {answer}\n}}\n"),
            );
        }
        scratch.write(
            "tests/ch01/Cargo.toml",
            "[package]\nname = \"ch01\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nch01-echo = { path = \"../../chapters/ch01-echo\" }\n",
        );
        scratch.write("tests/ch01/src/lib.rs", "");
        scratch.write("tests/ch01/tests/grade.rs", GRADER);
        scratch.write(
            "book/src/SUMMARY.md",
            "# Summary\n\n- [Chapter 1: an echo server](ch01-echo.md)\n- [Chapter 2: a thread per client](ch02-threads.md)\n",
        );
        scratch.write("book/src/ch01-echo.md", PAGE);
        scratch.write("book/src/ch02-threads.md", "# Chapter 2\n");
        scratch.write(".gitignore", "/target\n/.lab-progress.toml\n");
        scratch.git(&["init", "-q"]);
        scratch.git(&["add", "-A"]);
        scratch.git(&["commit", "-qm", "the starters"]);
        scratch
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().expect("a file in a directory")).expect("mkdir");
        std::fs::write(path, text).expect("writing a scratch file");
    }

    fn git(&self, args: &[&str]) {
        let status = Command::new("git")
            .args([
                "-c",
                "user.name=Lab",
                "-c",
                "user.email=lab@example.invalid",
            ])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(self.path())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?} failed");
    }

    /// `cargo lab ARGS`, run from a subdirectory (it must find the root itself).
    fn lab(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("lab").expect("the lab binary is built");
        cmd.args(args)
            .current_dir(self.path().join("chapters"))
            .env("NO_COLOR", "1")
            // Its own target directory: cargo's fingerprints do not tell two scratch labs'
            // same-named packages apart (a shared one ran another lab's grader). The fake
            // graders have no dependencies, so each builds in about a second.
            .env_remove("CARGO_TARGET_DIR");
        cmd
    }
}

#[test]
fn every_command_has_help() {
    let scratch = Scratch::new();
    for command in ["list", "check", "watch", "hint", "reset", "solution"] {
        scratch
            .lab(&[command, "--help"])
            .assert()
            .success()
            .stdout(contains("Usage: cargo lab"));
    }
}

#[test]
fn list_shows_every_chapter_and_the_one_next_step() {
    let scratch = Scratch::new();
    scratch
        .lab(&[])
        .assert()
        .success()
        .stdout(contains("ch01  Chapter 1: an echo server"))
        .stdout(contains("ch02  Chapter 2: a thread per client"))
        .stdout(contains("not started"))
        .stdout(contains("Next: read book/src/ch01-echo.md"));
}

#[test]
fn check_shows_the_first_failure_in_the_books_order_and_one_line_for_the_others() {
    let scratch = Scratch::new();
    scratch
        .lab(&["check", "ch01"])
        .assert()
        .code(1)
        // "First" comes before "Second" in the page, though answer_is_42 sorts first by name.
        .stdout(contains("ch01 grader, test answer_is_even\n"))
        .stdout(contains("Expected: an even answer"))
        .stdout(contains("ch01 grader, test answer_is_42").not())
        .stdout(contains("  FAILED answer_is_42  (\"Second\")"))
        .stdout(contains(
            "1 of 3 pass. Next: read \"First\", then fix answer_is_even",
        ));
    scratch
        .lab(&["list"])
        .assert()
        .success()
        .stdout(contains("1 of 3 passing"));
}

#[test]
fn check_passes_after_the_fix_and_congratulates_only_the_first_time() {
    let scratch = Scratch::new();
    scratch.write(
        "chapters/ch01-echo/src/lib.rs",
        "pub fn answer() -> u32 {\n    42\n}\n",
    );
    scratch
        .lab(&["check"])
        .assert()
        .success()
        .stdout(contains("All 3 tests pass."))
        .stdout(contains("ch01 passes, for the first time"))
        .stdout(contains("book/src/ch01-echo.md, section \"Walkthrough\""))
        .stdout(contains("Next: Chapter 2: a thread per client"));
    scratch
        .lab(&["check", "1"])
        .assert()
        .success()
        .stdout(contains("for the first time").not());
    scratch
        .lab(&["list"])
        .assert()
        .success()
        .stdout(contains("passed"))
        .stdout(contains("> ch02"));
}

#[test]
fn check_reports_a_compile_error_as_an_error() {
    let scratch = Scratch::new();
    scratch.write(
        "chapters/ch01-echo/src/lib.rs",
        "pub fn answer() -> u32 {\n    \"x\"\n}\n",
    );
    scratch
        .lab(&["check", "ch01"])
        .assert()
        .code(1)
        .stderr(contains("mismatched types"))
        .stderr(contains(
            "error: building chapters/ch01-echo for its grader:",
        ))
        .stderr(contains("hint: fix the first compile error above"));
}

#[test]
fn hint_shows_one_more_hint_each_time_then_stays_on_the_last() {
    let scratch = Scratch::new();
    scratch.write("book/src/hints/ch01.md", HINTS);
    let expect = [
        ("Hint 1: the concept", "Hint 1 of 3"),
        ("Hint 2: the documentation", "Hint 2 of 3"),
        ("Hint 3: near-code", "That was the last hint"),
        ("Hint 3: near-code", "That was the last hint"),
    ];
    for (title, footer) in expect {
        scratch
            .lab(&["hint", "ch01"])
            .assert()
            .success()
            .stdout(contains(title))
            .stdout(contains(footer));
    }
    scratch
        .lab(&["hint", "ch01", "--again"])
        .assert()
        .success()
        .stdout(contains("Hint 1: the concept"));
}

#[test]
fn hint_falls_back_to_the_hints_section_of_the_page() {
    let scratch = Scratch::new();
    scratch
        .lab(&["hint"])
        .assert()
        .success()
        .stdout(contains("Hint 1: from the page"))
        .stdout(contains("The page's hint."));
}

#[test]
fn reset_refuses_to_discard_uncommitted_work_and_names_it_then_force_restores() {
    let scratch = Scratch::new();
    scratch.write(
        "chapters/ch01-echo/src/lib.rs",
        "pub fn answer() -> u32 {\n    7\n}\n",
    );
    scratch.write("chapters/ch01-echo/src/extra.rs", "// mine\n");
    scratch
        .lab(&["reset", "ch01"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: resetting chapters/ch01-echo: it would discard",
        ))
        .stderr(contains("src/lib.rs"))
        .stderr(contains("src/extra.rs"))
        .stderr(contains("--force"));
    let lib = scratch.path().join("chapters/ch01-echo/src/lib.rs");
    assert!(std::fs::read_to_string(&lib).unwrap().contains('7'));
    scratch
        .lab(&["reset", "ch01", "--force"])
        .assert()
        .success()
        .stdout(contains("Restored chapters/ch01-echo"));
    assert!(std::fs::read_to_string(&lib).unwrap().contains('1'));
    assert!(
        !scratch
            .path()
            .join("chapters/ch01-echo/src/extra.rs")
            .exists()
    );
}

#[test]
fn solution_waits_for_a_pass_unless_anyway() {
    let scratch = Scratch::new();
    scratch
        .lab(&["solution", "ch01"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: showing ch01's walkthrough: the chapter has not passed yet",
        ))
        .stderr(contains("hint:"));
    scratch
        .lab(&["solution", "ch01", "--anyway"])
        .assert()
        .success()
        .stdout(contains("book/src/ch01-echo.md, section \"Walkthrough\""))
        .stdout(contains("cargo run -p ch01-echo-solution"));
}

#[test]
fn an_unknown_chapter_is_an_error_naming_the_known_ones() {
    let scratch = Scratch::new();
    scratch
        .lab(&["hint", "ch09"])
        .assert()
        .code(1)
        .stderr(contains("error: finding chapter \"ch09\": no such chapter"))
        .stderr(contains("hint: name one of ch01, ch02"));
}

#[test]
fn outside_the_lab_it_says_where_to_run() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    Command::cargo_bin("lab")
        .expect("the lab binary is built")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .assert()
        .code(1)
        .stderr(contains("error: finding the lab:"))
        .stderr(contains("hint: run `cargo lab` from the lab's directory"));
}
