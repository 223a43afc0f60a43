//! Spreadsheets in and out (XLSX and CSV, UTF-8 or GB18030): the member roster and the dues files.
//! Pure reading and writing of bytes, used by the API, the pages and the command line alike.

pub mod dues;
pub mod members;
pub mod study;
