//! vmsim traces: records, readers and writers for each format.
#![deny(missing_docs)]
