//! The twelve aggregation caches.
