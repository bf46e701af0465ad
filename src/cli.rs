//! What both binaries share around their arguments and outputs: one-line
//! argument errors, checks on output paths, atomic writes (issue 13, items
//! 4 and 5). No mathematics here.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Parses the command line. `--help` and `--version` print as usual (exit
/// 0); any argument error becomes one line on stderr, `NAME: <what is
/// wrong> (see NAME --help)`, and exit status 2.
pub fn parse_args<T: clap::Parser>(name: &str) -> Result<T, ExitCode> {
    parse_from(name, std::env::args_os())
}

/// [`parse_args`] on given arguments (the first is the program name).
pub fn parse_from<T, I, S>(name: &str, args: I) -> Result<T, ExitCode>
where
    T: clap::Parser,
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    use clap::error::ErrorKind;
    match T::try_parse_from(args) {
        Ok(t) => Ok(t),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            let _ = e.print();
            Err(if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(e) => {
            eprintln!("{name}: {} (see {name} --help)", one_line(&e.to_string()));
            Err(ExitCode::from(2))
        }
    }
}

/// The first non-empty line of a clap error, without its `error: ` prefix
/// and with clap's quoting tips dropped.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "the following required arguments were not provided:" lists them next.
    match (first.ends_with(':'), lines.next()) {
        (true, Some(next)) => format!("{first} {next}"),
        _ => first.to_string(),
    }
}

/// `--time-limit S`: a positive, finite number of seconds that fits a
/// `Duration` (1e300 s does not).
pub fn time_limit_arg(t: Option<f64>) -> Result<Option<Duration>, String> {
    match t {
        Some(t) if !(t.is_finite() && t > 0.0) => Err(format!(
            "--time-limit: must be a positive number of seconds, got {t}"
        )),
        Some(t) => Duration::try_from_secs_f64(t)
            .map(Some)
            .map_err(|_| format!("--time-limit: {t} seconds is out of range")),
        None => Ok(None),
    }
}

/// Refuses an output path that names one of the inputs (the same file by
/// device and inode, whatever the spelling or links).
pub fn refuse_overwriting_inputs(out: &Path, inputs: &[&Path]) -> Result<(), String> {
    for input in inputs {
        if same_file(out, input) {
            return Err(format!(
                "{}: is the input file {}; refusing to overwrite it (give another --out)",
                out.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Checks, before any work, that `out` can be written: not a folder, its
/// folder exists.
pub fn check_output_path(out: &Path) -> Result<(), String> {
    if out.is_dir() {
        return Err(format!(
            "{}: is a directory (give a file path with --out)",
            out.display()
        ));
    }
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(format!(
                "{}: the folder {} does not exist",
                out.display(),
                dir.display()
            ));
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// flushed to disk, then renamed over `path`. A write cut short (disk full,
/// a file-size limit) leaves `path` as it was and no temporary file behind.
/// A new file gets mode 0644; a replaced one keeps its mode.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".hvcert-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| err(&e))?;
    let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    let unchanged = |e: std::io::Error| format!("{}: {e} (nothing written)", path.display());
    tmp.as_file_mut().write_all(bytes).map_err(unchanged)?;
    tmp.as_file().sync_all().map_err(unchanged)?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
        .map_err(|e| err(&e))?;
    tmp.persist(path).map_err(|e| err(&e.error))?;
    Ok(())
}

/// A write past `ulimit -f` raises SIGXFSZ, whose default action kills the
/// process mid-write (leaving the temporary file). Ignored, the write fails
/// with an error instead, which [`write_atomically`] reports and cleans up.
pub fn ignore_file_size_signal() {
    // SAFETY: setting a signal's disposition to SIG_IGN is async-safe and
    // has no other effect on this process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// `--threads N`: sizes the global thread pool (default: all cores).
pub fn threads_arg(n: Option<usize>) -> Result<(), String> {
    if let Some(n) = n {
        if n == 0 || n > 1024 {
            return Err(format!("--threads: must be in 1..=1024, got {n}"));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| format!("--threads: {e}"))?;
    }
    Ok(())
}

/// `12,345,678`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_become_one_line() {
        let text = "error: unexpected argument '--x' found\n\n  tip: to pass '--x' as a value, use '-- --x'\n\nUsage: certify --net <NET>\n\nFor more information, try '--help'.\n";
        assert_eq!(one_line(text), "unexpected argument '--x' found");
        let missing = "error: the following required arguments were not provided:\n  --net <NET>\n\nUsage: certify --net <NET>\n";
        assert_eq!(
            one_line(missing),
            "the following required arguments were not provided: --net <NET>"
        );
    }

    #[test]
    fn atomic_write_replaces_and_keeps_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        write_atomically(&p, b"one").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomically(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Nothing else is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(refuse_overwriting_inputs(&p, &[&p]).is_err());
        assert!(refuse_overwriting_inputs(&p, &[&dir.path().join("other")]).is_ok());
    }
}
