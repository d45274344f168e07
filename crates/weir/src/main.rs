//! `weir`: network flow collector, exporter and analyser.

mod capture;

fn main() {}
