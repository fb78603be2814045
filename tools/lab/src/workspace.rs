//! The checkout: its root, its chapters, and the book's order of pages.

use std::path::{Path, PathBuf};

use crate::error::{Doing, Error, Result};

/// One chapter: its starter, grader and book page share the `chNN` prefix.
#[derive(Debug, Clone)]
pub struct Chapter {
    /// `ch05`: the grader's package, as in `cargo test -p ch05`.
    pub id: String,
    /// 5.
    pub number: u32,
    /// `ch05-names`: the starter's package and directory, and the book page's name.
    pub slug: String,
    /// The book's title for it, such as "Chapter 5: usernames and exit".
    pub title: String,
}

impl Chapter {
    /// The learner's starter, relative to the root: `chapters/ch05-names`.
    pub fn starter(&self) -> String {
        format!("chapters/{}", self.slug)
    }

    /// The chapter's book page, relative to the root.
    pub fn page(&self) -> String {
        format!("book/src/{}.md", self.slug)
    }
}

/// The lab's checkout.
pub struct Workspace {
    /// The directory holding the workspace's Cargo.toml, `chapters/` and `book/`.
    pub root: PathBuf,
    /// Every chapter, in order.
    pub chapters: Vec<Chapter>,
    /// The book's pages in reading order (paths relative to book/src), from SUMMARY.md.
    pub pages: Vec<String>,
}

impl Workspace {
    /// Finds the checkout that holds the current directory.
    pub fn find() -> Result<Workspace> {
        let cwd = std::env::current_dir().doing(|| "finding the current directory".into())?;
        let root = cwd
            .ancestors()
            .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("chapters").is_dir())
            .ok_or_else(|| {
                Error::new(
                    "finding the lab",
                    format!("{} is not inside the chat lab's checkout", cwd.display()),
                )
                .hint("run `cargo lab` from the lab's directory (the one with chapters/ and book/)")
            })?;
        Workspace::at(root)
    }

    /// Reads the checkout at `root`.
    pub fn at(root: &Path) -> Result<Workspace> {
        let summary = std::fs::read_to_string(root.join("book/src/SUMMARY.md")).unwrap_or_default();
        let links = summary_links(&summary);
        let mut chapters = Vec::new();
        let dir = root.join("chapters");
        let entries = std::fs::read_dir(&dir).doing(|| format!("listing {}", dir.display()))?;
        for entry in entries.flatten() {
            let slug = entry.file_name().to_string_lossy().into_owned();
            let Some(number) = chapter_number(&slug) else {
                continue;
            };
            let title = links
                .iter()
                .find(|(_, target)| *target == format!("{slug}.md"))
                .map_or_else(|| format!("Chapter {number}"), |(title, _)| title.clone());
            chapters.push(Chapter {
                id: slug[..4].to_string(),
                number,
                slug,
                title,
            });
        }
        chapters.sort_by_key(|chapter| chapter.number);
        if chapters.is_empty() {
            return Err(Error::new(
                "listing the chapters",
                format!("{} holds no chNN-* directory", dir.display()),
            ));
        }
        Ok(Workspace {
            root: root.to_path_buf(),
            chapters,
            pages: links.into_iter().map(|(_, target)| target).collect(),
        })
    }

    /// The chapter that `arg` names: `ch05`, `5`, `05` or `ch05-names`.
    pub fn chapter(&self, arg: &str) -> Result<&Chapter> {
        let trimmed = arg.trim_end_matches(['/', '\\']);
        let name = trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed);
        let digits = name.strip_prefix("ch").unwrap_or(name);
        let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
        let found = digits
            .parse::<u32>()
            .ok()
            .and_then(|number| self.chapters.iter().find(|ch| ch.number == number));
        found.ok_or_else(|| {
            let known: Vec<&str> = self.chapters.iter().map(|ch| ch.id.as_str()).collect();
            Error::new(
                format!("finding chapter {arg:?}"),
                "no such chapter in chapters/",
            )
            .hint(format!("name one of {}", known.join(", ")))
        })
    }

    /// The chapter after `chapter`, if any.
    pub fn next_after(&self, chapter: &Chapter) -> Option<&Chapter> {
        self.chapters.iter().find(|ch| ch.number > chapter.number)
    }
}

/// `ch05-names` -> 5; anything else -> None.
fn chapter_number(slug: &str) -> Option<u32> {
    let rest = slug.strip_prefix("ch")?;
    let digits = rest.get(..2)?;
    if !digits.chars().all(|c| c.is_ascii_digit()) || !rest[2..].starts_with('-') {
        return None;
    }
    digits.parse().ok()
}

/// The `[title](target.md)` links of SUMMARY.md, in order.
pub fn summary_links(summary: &str) -> Vec<(String, String)> {
    let mut links = Vec::new();
    for line in summary.lines() {
        let Some(open) = line.find('[') else { continue };
        let Some(close) = line[open..].find("](").map(|i| open + i) else {
            continue;
        };
        let Some(end) = line[close..].find(')').map(|i| close + i) else {
            continue;
        };
        let target = &line[close + 2..end];
        if target.ends_with(".md") {
            links.push((line[open + 1..close].to_string(), target.to_string()));
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_numbers_come_from_the_directory_names() {
        assert_eq!(chapter_number("ch05-names"), Some(5));
        assert_eq!(chapter_number("ch12-async"), Some(12));
        assert_eq!(chapter_number("ch05"), None);
        assert_eq!(chapter_number("notes"), None);
    }

    #[test]
    fn summary_links_keep_the_reading_order() {
        let summary = "# Summary\n\n[Introduction](introduction.md)\n- [Chapter 1: an echo server](ch01-echo.md)\n- [Walkthrough](walkthroughs/ch01.md)\n";
        let links = summary_links(summary);
        assert_eq!(links.len(), 3);
        assert_eq!(
            links[1],
            ("Chapter 1: an echo server".into(), "ch01-echo.md".into())
        );
        assert_eq!(links[2].1, "walkthroughs/ch01.md");
    }
}
