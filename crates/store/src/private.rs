//! Files and folders that hold personal data or keys (the SQLite database and its WAL, uploaded
//! files, the key file, audit checkpoints) are readable by the server's own user only: files 0600,
//! folders 0700, whatever the umask.

use std::io::Write;
use std::path::Path;

/// Creates a folder and its missing parents as 0700 (existing folders are left as they are).
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn options() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Writes a whole file as 0600, replacing one that exists.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?
        .write_all(bytes)?;
    restrict(path)
}

/// Creates a new file as 0600; fails if it exists.
pub fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    options().write(true).create_new(true).open(path)?.write_all(bytes)
}

/// Appends to a file, creating it as 0600.
pub fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = options().append(true).create(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_data()
}

/// Makes an existing file or folder private (0600 or 0700); a path that does not exist is fine.
pub fn restrict(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(m) => {
                let mode = if m.is_dir() { 0o700 } else { 0o600 };
                if m.permissions().mode() & 0o777 != mode {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Copies a folder's files into a new private folder, keeping the layout; returns the files and
/// bytes copied. A source that does not exist copies nothing; links are not followed (a backup
/// holding a link to a file elsewhere does not bring that file in).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<(u64, u64)> {
    create_dir_all(to)?;
    let entries = match std::fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(e),
    };
    let (mut files, mut bytes) = (0, 0);
    for entry in entries {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            let (f, b) = copy_tree(&entry.path(), &target)?;
            files += f;
            bytes += b;
        } else {
            bytes += std::fs::copy(entry.path(), &target)?;
            restrict(&target)?;
            files += 1;
        }
    }
    Ok((files, bytes))
}
