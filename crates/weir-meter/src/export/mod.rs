//! Export datagrams.
