//! Routing table file.
