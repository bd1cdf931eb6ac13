//! Colour for what we print, decided per stream as clap decides it, so errors, warnings and
//! hints stand out on a terminal and stay plain text in a pipe or a log.

/// Colour for one output stream, decided as clap decides it (anstream): never when
/// `NO_COLOR` is set (no-color.org), always when `CLICOLOR_FORCE` is, otherwise only on a
/// terminal that supports it (not `TERM=dumb`).
#[derive(Debug, Clone, Copy)]
pub struct Paint(bool);

impl Paint {
    pub fn for_stdout() -> Paint {
        Paint::decide(anstream::AutoStream::choice(&std::io::stdout()))
    }

    pub fn for_stderr() -> Paint {
        Paint::decide(anstream::AutoStream::choice(&std::io::stderr()))
    }

    fn decide(choice: anstream::ColorChoice) -> Paint {
        Paint(!matches!(choice, anstream::ColorChoice::Never))
    }

    fn wrap(self, style: anstyle::Style, text: &str) -> String {
        if self.0 {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn bold(color: anstyle::AnsiColor) -> anstyle::Style {
        anstyle::Style::new().bold().fg_color(Some(color.into()))
    }

    pub fn error(self, text: &str) -> String {
        self.wrap(Self::bold(anstyle::AnsiColor::Red), text)
    }

    pub fn warning(self, text: &str) -> String {
        self.wrap(Self::bold(anstyle::AnsiColor::Yellow), text)
    }

    pub fn hint(self, text: &str) -> String {
        self.wrap(
            anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Cyan.into())),
            text,
        )
    }

    pub fn success(self, text: &str) -> String {
        self.wrap(Self::bold(anstyle::AnsiColor::Green), text)
    }
}
