//! Frames from a pcap or pcapng file, through the capture reader `weir decode` uses, lent without a copy.

use std::path::{Path, PathBuf};

use weir_flow::codes::direction;

use super::{Packet, Read, frame};
use crate::capture::CaptureError;
use crate::capture::file::FrameSource;

/// A capture file being read frame by frame.
#[derive(Debug)]
pub struct FileInput {
    path: PathBuf,
    source: FrameSource,
    /// Frames read so far, to number the next one in error messages.
    frames: u64,
}

impl FileInput {
    /// Opens a pcap or pcapng file; a pcap whose link type Weir does not read is refused here.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let source = FrameSource::open(path)?;
        Ok(Self {
            path: path.to_owned(),
            source,
            frames: 0,
        })
    }

    /// The next frame; [`Read::End`] at the end of the file. A capture cut short in the middle of a frame
    /// is an error after the frames before it.
    pub fn read(&mut self) -> Result<Read<'_>, CaptureError> {
        let Some((info, data)) = self.source.read_frame(&self.path, self.frames + 1)? else {
            return Ok(Read::End);
        };
        self.frames += 1;
        // pcapng files can describe interfaces of link types Weir does not read.
        let Ok(link) = info.link else {
            return Ok(Read::UnsupportedLink);
        };
        let direction = match info.direction {
            direction::UNKNOWN => frame::direction(link, data),
            known => known,
        };
        Ok(Read::Frame(Packet {
            ts_ns: info.time,
            data,
            wire_len: info.wire_len,
            link,
            direction,
        }))
    }
}
