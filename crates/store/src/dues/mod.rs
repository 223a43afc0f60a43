//! Party dues (党费收缴): each member's yearly base and category (年初核定), the monthly ledger,
//! payments recorded by the branch with reversing entries for corrections, arrears, reports and the
//! yearly statement a branch publishes to its members. The rules themselves are in
//! `domain::dues`; this room keeps the books.
//!
//! The ledger has one row per member and month owed, written when a base is set (for the months
//! already begun) and by the monthly job (for each new month). A month's row keeps the
//! organization the member belonged to then, so a transfer leaves old months with the old branch.

pub mod bases;
pub mod bases_import;
pub mod ledger;
pub mod member;
pub mod payers;
pub mod payments;
pub mod reports;
pub mod sheet;
pub mod statements;
pub mod totals;
