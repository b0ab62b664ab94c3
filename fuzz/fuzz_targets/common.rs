//! What every target asserts of an error: one non-empty line.

pub fn one_line(e: &impl std::fmt::Display) {
    let text = e.to_string();
    assert!(!text.trim().is_empty(), "an empty error");
    assert!(
        !text.trim_end().contains('\n'),
        "a multi-line error: {text}"
    );
}

/// Writes `bytes` to a file of its own and runs `read` on it (not every target reads files).
#[allow(dead_code)]
pub fn with_file<T>(name: &str, bytes: &[u8], read: impl FnOnce(&std::path::Path) -> T) -> T {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    read(&path)
}
