//! Lock poisoning: one connection's panic must not take the room down.
//!
//! A panic while a thread holds the list's lock poisons it, and with `.lock().unwrap()` every
//! later `lock()` panics too: the next broadcast, and the panicking thread's own
//! `Drop for Membership` while it unwinds, which aborts the whole server. No client can make
//! a correct server panic while it holds a lock, and the room's pub API offers no way to poison
//! its private lock from outside, so a black-box test never sees this. This test reads the
//! chapter's source instead: every `lock()` must deal with poisoning rather than unwrap it.

use std::path::{Path, PathBuf};

use harness::Lab;

use super::CH;

/// These behaviours are taught in chapter 4.
const PAGE: &str = "ch04-mutex";

/// The graded chapter's sources: the learner's, or with `--features solution` the reference.
fn sources() -> PathBuf {
    let chapter = if cfg!(feature = "solution") {
        "solutions/ch04-mutex/src"
    } else {
        "chapters/ch04-mutex/src"
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(chapter)
}

/// The places in `text` where a `lock()` result is unwrapped (`.unwrap()` or `.expect(..)`),
/// as 1-based line numbers. Comments are skipped; spaces and line breaks between the calls are
/// allowed, as `rustfmt` puts them.
fn unwrapped_locks(text: &str) -> Vec<usize> {
    let code: Vec<String> = text
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => line[..at].to_string(),
            None => line.to_string(),
        })
        .collect();
    let joined = code.join("\n");
    let squeezed: String = joined
        .chars()
        .filter(|c| !c.is_whitespace() || *c == '\n')
        .collect();
    let mut found = Vec::new();
    for (at, _) in squeezed.match_indices(".lock()") {
        let rest: String = squeezed[at + ".lock()".len()..]
            .chars()
            .filter(|c| *c != '\n')
            .take(".unwrap(".len())
            .collect();
        if rest.starts_with(".unwrap(") || rest.starts_with(".expect(") {
            found.push(squeezed[..at].matches('\n').count() + 1);
        }
    }
    found
}

#[test]
fn no_lock_is_unwrapped_so_one_panic_cannot_take_the_room_down() {
    let lab = Lab::at(&CH, PAGE, "Lock poisoning");
    lab.hint(
        "a lock whose holder panicked is poisoned, and `.lock().unwrap()` turns that one panic \
         into a panic in every thread that takes the lock next, even in `Drop for Membership` \
         while the first panic unwinds, which aborts the whole server. Every change to the list \
         is a single push or retain, so the list is still whole: take the guard anyway \
         (`PoisonError::into_inner`)",
    );
    let dir = sources();
    let dir = dir.canonicalize().unwrap_or(dir);
    lab.step(format!(
        "test: reads the chapter's sources in {} (no client can make a correct server panic \
         while it holds a lock, so this is checked in the code)",
        dir.display()
    ));
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) => lab.fail(
            &format!("the chapter's sources in {}", dir.display()),
            &format!("they cannot be read: {err}"),
        ),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    let mut places = Vec::new();
    let mut locks = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        // The room's list is locked in room.rs (`io::stdout().lock()` elsewhere is no Mutex).
        if file.file_name().is_some_and(|name| name == "room.rs") {
            locks += text.matches(".lock()").count();
        }
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        places.extend(
            unwrapped_locks(&text)
                .into_iter()
                .map(|line| format!("src/{name}:{line}")),
        );
    }
    if locks == 0 {
        lab.fail(
            "the room's list is locked somewhere (`Room::members`), surviving a poisoned lock",
            "no `.lock()` in src/room.rs: the room is not written yet",
        );
    }
    if !places.is_empty() {
        lab.fail(
            "no `lock()` is unwrapped (`.unwrap()`, `.expect(..)`): each one survives a poisoned \
             lock",
            &format!(
                "`.lock().unwrap()` or `.expect(..)` at {}",
                places.join(", ")
            ),
        );
    }
    lab.step(format!(
        "test: {} source files, {locks} `lock()` calls in src/room.rs, none unwrapped",
        files.len()
    ));
}
