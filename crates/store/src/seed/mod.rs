//! Bulk loaders for the demo and the benchmark: many rows at once, in chunks, for the command
//! line acting as the operator (the caller must hold the whole tree). Not part of the scoped API
//! that the server uses.

pub mod dues;
pub mod meetings;
pub mod study;
