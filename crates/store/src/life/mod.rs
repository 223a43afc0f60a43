//! Organizational life (组织生活): 三会一课 and the other meetings, who attends, optional check-in,
//! each organization's settings, compliance against the regulations, absence flags, the ledger,
//! committee terms, a member's year and meeting attachments.

pub mod absence;
pub mod attachments;
pub mod attendance;
pub mod checkin;
pub mod compliance;
pub mod ledger;
pub mod meetings;
pub mod settings;
pub mod terms;
pub mod year;
