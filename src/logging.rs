//! Where and how ikerd writes its log: to standard error, as tracing's usual lines, or, when
//! standard error is a stream into the systemd journal, as sd-daemon(3) lines: a `<N>`
//! priority prefix (3 error, 4 warning, 6 info, 7 debug) on every line and no timestamp, which
//! the journal adds itself.
//!
//! systemd says it connected standard error to the journal by setting `JOURNAL_STREAM` to the
//! device and inode numbers of that stream (systemd.exec(5)); a stderr redirected elsewhere by
//! a shell keeps the variable but not the stream, so both are compared.

use std::fmt;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Whether `journal_stream` (the value of `JOURNAL_STREAM`, `DEVICE:INODE` in decimal) names
/// the stream with these device and inode numbers.
pub fn is_journal_stream(journal_stream: Option<&str>, stream: Option<(u64, u64)>) -> bool {
    let (Some(value), Some((dev, ino))) = (journal_stream, stream) else {
        return false;
    };
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    d.parse::<u64>() == Ok(dev) && i.parse::<u64>() == Ok(ino)
}

/// Whether this process's standard error goes to the journal.
pub fn stderr_is_journal() -> bool {
    let stream = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata().ok())
        .map(|m| (m.dev(), m.ino()));
    let value = std::env::var("JOURNAL_STREAM").ok();
    is_journal_stream(value.as_deref(), stream)
}

/// The sd-daemon(3) priority of a level.
pub fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// tracing's events as journal lines: `<N>message`, each line of a message prefixed (the
/// journal takes every line as an entry of its own), no timestamp, no level word.
#[derive(Debug, Clone, Copy, Default)]
pub struct JournalFormat;

impl<S, N> FormatEvent<S, N> for JournalFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut text = String::new();
        ctx.format_fields(Writer::new(&mut text), event)?;
        let n = priority(*event.metadata().level());
        for line in text.lines() {
            writeln!(writer, "<{n}>{line}")?;
        }
        Ok(())
    }
}

/// Sets up the process's log at `level`: journal lines when standard error is the journal,
/// otherwise tracing's lines with timestamps (coloured on a terminal).
pub fn init(level: Level) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr);
    if stderr_is_journal() {
        builder.event_format(JournalFormat).init();
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .init();
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn the_journal_is_recognised_by_device_and_inode() {
        assert!(is_journal_stream(Some("8:1234"), Some((8, 1234))));
        assert!(is_journal_stream(Some("8:1234\n"), Some((8, 1234))));
        // Inherited by a shell that sent stderr elsewhere: another stream.
        assert!(!is_journal_stream(Some("8:1234"), Some((8, 1235))));
        assert!(!is_journal_stream(Some("9:1234"), Some((8, 1234))));
        for junk in ["", ":", "8", "8:", ":1234", "x:y", "8:1234:5", "-8:1234"] {
            assert!(!is_journal_stream(Some(junk), Some((8, 1234))), "{junk}");
        }
        assert!(!is_journal_stream(None, Some((8, 1234))));
        assert!(!is_journal_stream(Some("8:1234"), None));
    }

    #[test]
    fn this_test_runs_outside_the_journal() {
        // Run by cargo, stderr is a pipe or terminal: with JOURNAL_STREAM naming some other
        // stream (or unset), the usual format is kept.
        assert!(!is_journal_stream(Some("0:0"), None));
        let dev_ino = std::fs::metadata("/").map(|m| (m.dev(), m.ino())).ok();
        assert!(!is_journal_stream(Some("1:1"), dev_ino));
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn journal_lines_carry_the_priority_and_no_timestamp() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::DEBUG)
            .with_writer(move || writer.clone())
            .event_format(JournalFormat)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!("moon[1]: cannot reach the kernel");
            tracing::warn!("moon[1]: IKE SA down: Timeout");
            tracing::info!("moon[1]: IKE SA established");
            tracing::debug!("kernel event");
            tracing::trace!("not at this level");
            tracing::warn!("two\nlines");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "<3>moon[1]: cannot reach the kernel\n\
             <4>moon[1]: IKE SA down: Timeout\n\
             <6>moon[1]: IKE SA established\n\
             <7>kernel event\n\
             <4>two\n\
             <4>lines\n"
        );
    }
}
