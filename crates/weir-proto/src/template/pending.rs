//! Data sets waiting for their template.
//!
//! RFC 7011 (section 8) and RFC 3954 (section 9) let data arrive before its template: in the same datagram
//! after a later template set, or from an exporter whose template datagram was lost or reordered. Such sets
//! are copied here with what is needed to decode them later, decoded when their template arrives, and
//! dropped when they waited longer than the hold time or would take the domain over its byte cap.

use std::collections::VecDeque;

use crate::template::SetCx;

/// One held data set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Held {
    /// The template id the set needs.
    pub template_id: u16,
    /// Offset of the set's records in their datagram, for errors found later.
    pub offset: usize,
    /// The header context of the datagram that carried it.
    pub cx: SetCx,
    /// The set's records, copied.
    pub bytes: Box<[u8]>,
}

/// The held sets of one domain, oldest first, with their total size.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Pending {
    sets: VecDeque<Held>,
    bytes: usize,
}

impl Pending {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Sets held.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether `len` more bytes stay within `cap`; checked before the set is copied.
    pub fn fits(&self, len: usize, cap: usize) -> bool {
        self.bytes.saturating_add(len) <= cap
    }

    /// Holds a set (the caller has checked that it [`fits`](Self::fits)).
    pub fn hold(&mut self, held: Held) {
        self.bytes += held.bytes.len();
        self.sets.push_back(held);
    }

    /// Takes out every set waiting for `template_id`, oldest first.
    pub fn take(&mut self, template_id: u16) -> Vec<Held> {
        if !self.sets.iter().any(|h| h.template_id == template_id) {
            return Vec::new();
        }
        let mut matching = Vec::new();
        let mut rest = VecDeque::with_capacity(self.sets.len());
        for h in self.sets.drain(..) {
            if h.template_id == template_id {
                matching.push(h);
            } else {
                rest.push_back(h);
            }
        }
        self.sets = rest;
        self.bytes = self.sets.iter().map(|h| h.bytes.len()).sum();
        matching
    }

    /// Drops the sets received before `before` (nanoseconds since the epoch); returns how many.
    pub fn expire(&mut self, before: u64) -> usize {
        let n = self.sets.len();
        self.sets.retain(|h| h.cx.received >= before);
        self.bytes = self.sets.iter().map(|h| h.bytes.len()).sum();
        n - self.sets.len()
    }
}
