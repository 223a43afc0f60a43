//! The parts of the `hongji` command that tests and benchmarks also use: the demo, the scale
//! generator and its people, and the benchmark.

pub mod bench;
pub mod demo;
pub mod generate;
pub mod people;
