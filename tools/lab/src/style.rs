//! Colours, shown only on a terminal and never when `NO_COLOR` is set (anstream decides).

use anstyle::{AnsiColor, Style};

/// Section headers and the chapter in focus.
pub const BOLD: Style = Style::new().bold();
/// Something that passes.
pub const GOOD: Style = AnsiColor::Green.on_default().bold();
/// Something that fails.
pub const BAD: Style = AnsiColor::Red.on_default().bold();
/// The one next step.
pub const NEXT: Style = AnsiColor::Cyan.on_default().bold();
/// Secondary text: paths, counts.
pub const DIM: Style = Style::new().dimmed();

/// `text` in `style` (anstream strips the codes where colours are off).
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}
