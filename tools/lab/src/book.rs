//! What the tool reads from the book: where a section sits, the hints, the walkthrough.

use std::path::Path;

use crate::error::{Doing, Error, Result};
use crate::workspace::{Chapter, Workspace};

/// The line of the heading titled `section` in the markdown `page`, outside code blocks.
pub fn heading_line(page: &str, section: &str) -> Option<usize> {
    let mut fenced = false;
    for (number, line) in page.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced || !trimmed.starts_with('#') {
            continue;
        }
        let title = trimmed.trim_start_matches('#');
        if title.starts_with(' ') && title.trim() == section {
            return Some(number);
        }
    }
    None
}

/// The text under the heading titled `section`, up to the next heading of its level or above.
fn section_text<'p>(page: &'p str, section: &str) -> Option<&'p str> {
    let start = heading_line(page, section)?;
    let lines: Vec<&str> = page.lines().collect();
    let level = lines[start]
        .trim_start()
        .chars()
        .take_while(|&c| c == '#')
        .count();
    let mut fenced = false;
    let mut end = lines.len();
    for (number, line) in lines.iter().enumerate().skip(start + 1) {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
        }
        let hashes = trimmed.chars().take_while(|&c| c == '#').count();
        if !fenced && hashes > 0 && hashes <= level && trimmed[hashes..].starts_with(' ') {
            end = number;
            break;
        }
    }
    // Byte offsets of the first and last line kept, within `page`.
    let offset = |line: usize| -> usize { lines[..line].iter().map(|l| l.len() + 1).sum() };
    let (from, to) = (offset(start + 1), offset(end).min(page.len()));
    page.get(from..to)
}

/// One graduated hint.
#[derive(Debug, PartialEq)]
pub struct Hint {
    /// Its `<summary>`, such as "Hint 1: where does the state live?".
    pub title: String,
    /// Its markdown body.
    pub body: String,
}

/// The `<details><summary>TITLE</summary> BODY </details>` blocks of `text`, in order.
pub fn parse_hints(text: &str) -> Vec<Hint> {
    let mut hints = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("<details>") {
        let block = &rest[open + "<details>".len()..];
        let close = block.find("</details>").unwrap_or(block.len());
        let inner = &block[..close];
        let (title, body) = match (inner.find("<summary>"), inner.find("</summary>")) {
            (Some(a), Some(b)) if a < b => (
                inner[a + "<summary>".len()..b].trim().to_string(),
                inner[b + "</summary>".len()..].trim().to_string(),
            ),
            _ => (
                format!("Hint {}", hints.len() + 1),
                inner.trim().to_string(),
            ),
        };
        hints.push(Hint { title, body });
        rest = &block[(close + "</details>".len()).min(block.len())..];
    }
    hints
}

/// The hints of `chapter`, and the file they came from (relative to the root).
///
/// They live in `book/src/hints/chNN.md`, which the chapter's page includes: the book and
/// this tool read the same file. A checkout from before that file existed keeps them under
/// the page's `## Hints` heading.
pub fn hints(root: &Path, chapter: &Chapter) -> Result<(Vec<Hint>, String)> {
    let file = format!("book/src/hints/{}.md", chapter.id);
    if let Ok(text) = std::fs::read_to_string(root.join(&file)) {
        return Ok((parse_hints(&text), file));
    }
    let page = chapter.page();
    let text =
        std::fs::read_to_string(root.join(&page)).doing(|| format!("reading {page} for hints"))?;
    let hints = section_text(&text, "Hints")
        .map(parse_hints)
        .unwrap_or_default();
    if hints.is_empty() {
        return Err(Error::new(
            format!("reading {}'s hints", chapter.id),
            format!("neither {file} nor the \"Hints\" section of {page} holds any"),
        )
        .hint(format!("read {page} itself")));
    }
    Ok((hints, format!("{page}, section \"Hints\"")))
}

/// Where to read `chapter`'s walkthrough: its own page if the book has one, else the
/// chapter page's "Walkthrough" section.
pub fn walkthrough(workspace: &Workspace, chapter: &Chapter) -> String {
    let own = workspace.pages.iter().find(|page| {
        page.to_ascii_lowercase().contains("walkthrough")
            && (page.contains(&chapter.slug) || page.contains(&format!("{}.", chapter.id)))
    });
    if let Some(page) = own {
        return format!("book/src/{page}");
    }
    let page = chapter.page();
    let text = std::fs::read_to_string(workspace.root.join(&page)).unwrap_or_default();
    if heading_line(&text, "Walkthrough").is_some() {
        format!("{page}, section \"Walkthrough\"")
    } else {
        format!(
            "{page}, and the reference code in solutions/{}",
            chapter.slug
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# Chapter 5\n\n## Protocol state\n\ntext\n\n```python\n# Usage: not a heading\n```\n\n### Detail\n\n## Hints\n\n<details>\n<summary>Hint 1: concept</summary>\n\nThe idea.\n\n</details>\n\n<details>\n<summary>Hint 2: docs</summary>\n\n```rust\n## not a heading\n```\n\n</details>\n\n## Walkthrough\n\n<details>\n<summary>Not a hint</summary>\n</details>\n";

    #[test]
    fn headings_are_found_outside_code_blocks() {
        assert_eq!(heading_line(PAGE, "Protocol state"), Some(2));
        assert_eq!(heading_line(PAGE, "Detail"), Some(10));
        assert_eq!(heading_line(PAGE, "Usage: not a heading"), None);
    }

    #[test]
    fn hints_are_the_details_blocks_under_the_hints_heading() {
        let hints = parse_hints(section_text(PAGE, "Hints").unwrap());
        assert_eq!(hints.len(), 2);
        assert_eq!(hints[0].title, "Hint 1: concept");
        assert_eq!(hints[0].body, "The idea.");
        assert!(hints[1].body.contains("## not a heading"));
    }
}
