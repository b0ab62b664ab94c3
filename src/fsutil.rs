//! Output files: a regular file (or a path that does not exist yet) is written to a temporary
//! file in the same folder and renamed into place, so a failed run never leaves a half-written
//! file behind. Anything else is written through, never replaced: `-` is standard output, a
//! character device (`/dev/null`), a named pipe or a socket is opened and written; a symbolic
//! link is followed and its final target replaced atomically (the link stays a link). A new
//! file gets the mode the umask allows (0666 minus the umask), an existing file keeps its own.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path`: atomically for regular files, through for devices, pipes and `-`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

/// Writes what `fill` writes to `path`, the way [`write_atomically`] does, without holding the
/// whole output in memory (a snapshot of 20,000 tables streams straight to its file).
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    // Called once, whichever way the file is written.
    let mut fill = Some(fill);
    let mut buffered = |sink: &mut dyn Write| -> std::io::Result<()> {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, sink);
        (fill.take().expect("the output is written once"))(&mut w)?;
        w.flush()
    };
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        return buffered(&mut out).map_err(|e| Error::write_io(path, e));
    }
    let target = follow_links(path).map_err(|e| Error::write_io(path, e))?;
    let existing = match std::fs::metadata(&target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::write_io(path, e)),
    };
    if let Some(m) = &existing {
        if m.is_dir() {
            return Err(Error::write(path, "it is a folder; hint: name a file"));
        }
        if !m.is_file() {
            // A device, pipe or socket: write through, never replace it.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(|e| Error::write_io(path, e))?;
            return buffered(&mut f).map_err(|e| Error::write_io(path, e));
        }
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::write(
            path,
            format!("folder {} does not exist", dir.display()),
        ));
    }
    let mode = existing.as_ref().map(|m| m.permissions().mode() & 0o7777);
    // An unnamed file first (O_TMPFILE): a run killed while writing leaves nothing behind.
    if let Some(done) = write_unnamed(dir, &target, mode, &mut buffered) {
        return done.map_err(|e| Error::write_io(path, e));
    }
    // open(2) applies the umask to 0666, as for any file a program creates.
    let mut tmp = tempfile::Builder::new()
        .prefix(".pgparity-")
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| Error::write_io(path, e))?;
    if let Some(m) = &existing {
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(
                m.permissions().mode() & 0o7777,
            ))
            .map_err(|e| Error::write_io(path, e))?;
    }
    buffered(tmp.as_file_mut()).map_err(|e| Error::write_io(path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::write_io(path, e))?;
    tmp.persist(&target)
        .map_err(|e| Error::write(path, e.error))?;
    Ok(())
}

/// Writes through an unnamed file in `dir` (Linux's `O_TMPFILE`): nothing has a name until
/// the content is complete and on disk, then the file is linked as `target` (a new file), or
/// under a temporary name renamed over `target` (an existing file: the one moment a temporary
/// name exists, a few microseconds). A run killed
/// while writing leaves no file at all. `None` where the filesystem has no unnamed files
/// (the caller then writes a named temporary file).
fn write_unnamed(
    dir: &Path,
    target: &Path,
    mode: Option<u32>,
    fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Option<std::io::Result<()>> {
    use nix::fcntl::{open, AtFlags, OFlag, AT_FDCWD};
    use nix::sys::stat::Mode;
    // The file is linked through /proc (no privilege needed): without it, a named file.
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    let fd = open(
        dir,
        OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        // open(2) applies the umask to 0666, as for any file a program creates.
        Mode::from_bits_truncate(0o666),
    )
    .ok()?;
    let mut file = std::fs::File::from(fd);
    let done = (|| {
        if let Some(mode) = mode {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        fill(&mut file)?;
        file.sync_all()?;
        crate::pause::at("output:written");
        use std::os::fd::AsRawFd;
        let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
        // A new file is linked under its own name: complete from the moment it has one.
        match nix::unistd::linkat(
            AT_FDCWD,
            proc_path.as_str(),
            AT_FDCWD,
            target,
            AtFlags::AT_SYMLINK_FOLLOW,
        ) {
            Ok(()) => return Ok(()),
            Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(e.into()),
        }
        // An existing file is replaced: linked under a temporary name, renamed over it.
        let named = dir.join(format!(
            ".pgparity-{}-{:x}.tmp",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        nix::unistd::linkat(
            AT_FDCWD,
            proc_path.as_str(),
            AT_FDCWD,
            &named,
            AtFlags::AT_SYMLINK_FOLLOW,
        )
        .map_err(std::io::Error::from)?;
        std::fs::rename(&named, target).inspect_err(|_| {
            let _ = std::fs::remove_file(&named);
        })
    })();
    Some(done)
}

/// The path a chain of symbolic links ends at (the path itself when it is not a link); a
/// dangling link gives its would-be target, which is then created.
fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = if to.is_absolute() {
                    to
                } else {
                    p.parent().unwrap_or(Path::new(".")).join(to)
                };
            }
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Parses JSON of any nesting depth (plans of 100-way joins nest a few hundred levels), growing
/// the stack on the heap rather than overflowing it.
pub fn deep_json(bytes: &[u8]) -> serde_json::Result<serde_json::Value> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let value = serde_json::Value::deserialize(serde_stacker::Deserializer::new(&mut de))?;
    de.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::{mknod, umask, Mode, SFlag};

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    // Issue 16: a run killed while writing its output must leave no file at all: while the
    // content is written, the folder holds nothing with a name.
    #[test]
    fn nothing_has_a_name_until_the_output_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.json");
        write_with(&out, |w| {
            w.write_all(b"{\"half\": ")?;
            let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert!(names.is_empty(), "named while being written: {names:?}");
            w.write_all(b"true}")
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"half\": true}");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the output: {names:?}");
    }

    // Issue 10: `--output /dev/null` as root replaced the machine's /dev/null with a 0600 file,
    // a pipe was replaced, a symlink replaced, and every file was 0600 whatever the umask.
    #[test]
    fn output_files_respect_what_is_there() {
        let dir = tempfile::tempdir().unwrap();

        // A new file: 0666 minus the umask; an existing file keeps its mode.
        let old = umask(Mode::from_bits_truncate(0o027));
        let new = dir.path().join("new.txt");
        let made = write_atomically(&new, b"one");
        umask(old);
        made.unwrap();
        assert_eq!(mode(&new), 0o640);
        std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o604)).unwrap();
        write_atomically(&new, b"two").unwrap();
        assert_eq!(
            (mode(&new), std::fs::read(&new).unwrap()),
            (0o604, b"two".to_vec())
        );

        // A symbolic link stays a link; its target is replaced.
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink("new.txt", &link).unwrap();
        write_atomically(&link, b"three").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&new).unwrap(), b"three");
        // A dangling link creates its target.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("made-by-link.txt", &dangling).unwrap();
        write_atomically(&dangling, b"four").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("made-by-link.txt")).unwrap(),
            b"four"
        );

        // A named pipe is written through, not replaced.
        let fifo = dir.path().join("pipe");
        nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o600)).unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(&fifo).unwrap())
        };
        write_atomically(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &std::fs::symlink_metadata(&fifo).unwrap().file_type()
        ));

        // A character device is written through: a private null device where we may make one
        // (root), else the machine's /dev/null (which a non-root user could not replace anyway).
        let null = dir.path().join("null");
        let device = if mknod(
            &null,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(1, 3),
        )
        .is_ok()
        {
            null
        } else {
            PathBuf::from("/dev/null")
        };
        let before = mode(&device);
        write_atomically(&device, b"gone").unwrap();
        let ft = std::fs::symlink_metadata(&device).unwrap().file_type();
        assert!(
            std::os::unix::fs::FileTypeExt::is_char_device(&ft),
            "{device:?} was replaced"
        );
        assert_eq!(mode(&device), before);

        // A folder is refused, and nothing is left behind in any case.
        assert!(write_atomically(dir.path(), b"x").is_err());
        let stray: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".pgparity-"))
            .collect();
        assert!(stray.is_empty(), "{stray:?}");
    }
}
