//! The OpenAPI document, generated from the handlers' annotations. A test compares it with the
//! committed `openapi.json` so that API changes are reviewed.

use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "Hongji API", description = "Grassroots Party organization management. Errors are `{\"error\":{\"code\",\"message\",\"fields\"}}`; authenticate with `Authorization: Bearer <token>` from /api/v1/auth/login or an API token."),
    paths(
        api::login, api::logout, api::me, api::change_password, api::list_tokens, api::create_token, api::revoke_token,
        api::list_orgs, api::create_org, api::get_org, api::update_org, api::dissolve_org, api::list_officers,
        api::set_officer, api::remove_officer, api::org_history,
        api::list_members, api::create_member, api::get_member, api::update_member, api::reveal_member,
        api::member_history, api::export_csv, api::export_xlsx, api::import_members,
        api::list_users, api::create_user, api::add_grant, api::revoke_grant, api::reset_password,
        api::unlock_user, api::disable_user, api::enable_user, api::audit_log,
        api::create_meeting, api::list_meetings, api::get_meeting, api::update_meeting, api::get_attendance,
        api::put_attendance, api::check_in, api::org_compliance, api::org_overdue, api::org_absence_flags,
        api::org_life_settings, api::org_ledger, api::org_terms, api::member_life, api::my_notices, api::read_notice, api::propose_correction, api::add_attachment, api::list_attachments, api::download_attachment, api::create_activity, api::list_activities, api::get_activity,
        api::sign_up, api::activity_signups, api::activity_attendance,
        api::dues::calculate_dues, api::dues::set_profile, api::dues::member_dues, api::dues::excuse,
        api::dues::record_payment, api::dues::reverse_payment, api::dues::org_dues, api::dues::org_arrears,
        api::dues::org_book, api::dues::org_payments, api::dues::org_workbook, api::dues::publish_statement,
        api::dues::statements, api::dues::import_bases,
        api::transfers::create_transfer, api::transfers::list_transfers, api::transfers::get_transfer,
        api::transfers::accept_transfer, api::transfers::reject_transfer, api::transfers::transfer_receipt,
        api::transfers::pending_reviews, api::transfers::get_review, api::transfers::approve_review,
        api::transfers::return_review, api::transfers::set_chain, api::transfers::get_chain,
        api::transfers::get_validity, api::transfers::set_validity, api::transfers::register_incoming,
        api::transfers::list_incoming, api::transfers::register_mobile, api::transfers::list_mobile,
        api::transfers::end_mobile,
        api::notices::create_notice, api::notices::list_notices, api::notices::get_notice,
        api::development::apply, api::development::board, api::development::get_file,
        api::development::record_step, api::development::record_vote, api::development::add_document,
        api::development::list_documents, api::development::download_document,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        doc.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes")
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json");
        let current = serde_json::to_string_pretty(&super::document()).unwrap() + "\n";
        if std::env::var_os("HONGJI_UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &current).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == current,
            "openapi.json is out of date: run HONGJI_UPDATE_OPENAPI=1 cargo test -p server openapi"
        );
    }
}
