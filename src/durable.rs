//! Files written to survive a crash, with their pages sent to the disk while
//! they are written rather than all at the end.
//!
//! Every output file, checkpoint and index is synced before it is renamed into
//! place. A plain `sync_all` at the end waits for every page the file has
//! dirtied: for the two gigabytes a paragraph run over 1 GB writes, about half a
//! second of a disk doing nothing before. A [`DurableFile`] asks the kernel to
//! start writing each [`WRITEBACK_CHUNK`] back as soon as it is complete
//! (`sync_file_range` with `SYNC_FILE_RANGE_WRITE` on Linux; elsewhere a no-op),
//! so the disk works while the file is still being produced and the final sync
//! waits for little more than the last chunk. The request only starts writing;
//! durability still rests on [`DurableFile::sync`], which reports any error.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Bytes written between two requests to start writing back.
pub const WRITEBACK_CHUNK: u64 = 8 << 20;

/// A file being written, whose completed chunks are sent to the disk as they
/// fill.
#[derive(Debug)]
pub struct DurableFile {
    file: File,
    /// Bytes written so far.
    written: u64,
    /// Where the bytes not yet handed to the disk start.
    handed_over: u64,
}

impl DurableFile {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> io::Result<DurableFile> {
        File::create(path).map(|file| DurableFile {
            file,
            written: 0,
            handed_over: 0,
        })
    }

    /// Waits until every byte written is on the disk, then gives the file back.
    pub fn sync(self) -> io::Result<File> {
        self.file.sync_all()?;
        Ok(self.file)
    }
}

impl Write for DurableFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Never past the end of the current chunk, so chunks are handed over
        // whole whatever sizes the caller writes.
        let room = WRITEBACK_CHUNK - (self.written - self.handed_over);
        let take = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let wrote = self.file.write(&buf[..take])?;
        self.written += wrote as u64;
        if self.written - self.handed_over >= WRITEBACK_CHUNK {
            start_writeback(
                &self.file,
                self.handed_over,
                self.written - self.handed_over,
            );
            self.handed_over = self.written;
        }
        Ok(wrote)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Asks the kernel to start writing `len` bytes of `file` from `offset` to
/// the disk, without waiting. Failure is ignored: this is only a hint, and the
/// final sync reports any real error.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: the descriptor is open for as long as `file` is borrowed, and the
    // call reads no memory of ours.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_arrives_in_order_across_chunks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out");
        let mut file = DurableFile::create(&path).expect("create");
        // Writes of awkward sizes that straddle chunk ends, and one larger than
        // a chunk.
        let mut expected = Vec::new();
        let sizes = [
            1usize,
            4095,
            3 << 20,
            7 << 20,
            (WRITEBACK_CHUNK as usize) * 2 + 17,
            5,
        ];
        for (i, size) in sizes.into_iter().enumerate() {
            let piece: Vec<u8> = (0..size).map(|j| (i * 31 + j * 7) as u8).collect();
            file.write_all(&piece).expect("write");
            expected.extend_from_slice(&piece);
        }
        assert_eq!(file.written, expected.len() as u64);
        // Whole chunks were handed over, the tail was not.
        assert_eq!(file.handed_over % WRITEBACK_CHUNK, 0);
        assert!(file.handed_over >= 2 * WRITEBACK_CHUNK);
        assert!(file.written - file.handed_over < WRITEBACK_CHUNK);
        file.sync().expect("sync");
        assert_eq!(std::fs::read(&path).expect("read"), expected);
    }

    #[test]
    fn a_single_write_stops_at_the_chunk_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut file = DurableFile::create(&dir.path().join("out")).expect("create");
        file.write_all(&[1; 10]).expect("write");
        let big = vec![2u8; WRITEBACK_CHUNK as usize];
        let wrote = file.write(&big).expect("write");
        assert_eq!(wrote as u64, WRITEBACK_CHUNK - 10);
        assert_eq!(file.handed_over, WRITEBACK_CHUNK);
    }
}
