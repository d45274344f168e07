//! Template state shared by NetFlow v9 and IPFIX.

use crate::stats::Counters;

/// Templates, options data and pending data of one domain.
#[derive(Debug, Default)]
pub struct TemplateCache {}

impl TemplateCache {
    /// Drops pending data received before `before`.
    pub(crate) fn expire(&mut self, _before: u64, _counters: &mut Counters) {}
}
