//! Reading what the user pastes while a login waits (`--paste`): lines of text, bounded, so
//! an endless or binary input ends the reading with a reason instead of filling memory.

/// A line pasted while a login waits, or why reading stopped (a line too long, not text).
pub type Pasted = std::result::Result<String, String>;
pub type PasteLines = tokio::sync::mpsc::UnboundedReceiver<Pasted>;

/// The longest pasted line taken: an address with its code and state is a few hundred bytes,
/// and `--paste < /dev/zero` must end at once, not allocate until the process dies.
pub const MAX_PASTE: usize = 64 * 1024;

/// Feeds `send` the lines of `input`, each at most `MAX_PASTE` bytes, until it ends, a line
/// is too long or not text (said once, then reading stops), or `send` says stop.
pub fn read_lines(mut input: impl std::io::BufRead, send: impl Fn(Pasted) -> bool) {
    use std::io::{BufRead, Read};
    loop {
        let mut line = Vec::new();
        let read = (&mut input)
            .take(MAX_PASTE as u64 + 1)
            .read_until(b'\n', &mut line);
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let ended = line.ends_with(b"\n");
        if !ended && line.len() > MAX_PASTE {
            send(Err(format!(
                "a pasted line is longer than {} KiB, so it is no address or code",
                MAX_PASTE / 1024
            )));
            return;
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        let sent = match String::from_utf8(line) {
            Ok(text) => send(Ok(text)),
            Err(_) => {
                send(Err("the pasted text is not UTF-8".into()));
                return;
            }
        };
        if !sent {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn lines_of(input: impl std::io::BufRead) -> Vec<Pasted> {
        let got = Mutex::new(Vec::new());
        read_lines(input, |p| {
            got.lock().unwrap().push(p);
            true
        });
        got.into_inner().unwrap()
    }

    #[test]
    fn pasted_lines_are_read_one_by_one() {
        let got = lines_of(std::io::Cursor::new("first\r\nsecond\nlast"));
        assert_eq!(
            got,
            [Ok("first".into()), Ok("second".into()), Ok("last".into())]
        );
    }

    #[test]
    fn an_endless_line_ends_the_reading_at_the_cap() {
        // /dev/zero: no newline, ever.
        let got = lines_of(std::io::BufReader::new(std::io::repeat(0)));
        assert_eq!(got.len(), 1);
        assert!(
            got[0].as_ref().unwrap_err().contains("longer than 64 KiB"),
            "{got:?}"
        );
        let exactly = format!("{}\n", "a".repeat(MAX_PASTE));
        assert_eq!(lines_of(std::io::Cursor::new(exactly)).len(), 1);
    }
}
