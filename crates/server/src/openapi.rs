//! The OpenAPI document, generated from the handlers' annotations. A test compares it with the
//! committed `openapi.json` so that API changes are reviewed.

use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "Hongji API", description = "Grassroots Party organization management. Errors are `{\"error\":{\"code\",\"message\",\"fields\"}}`; authenticate with `Authorization: Bearer <token>` from /api/v1/auth/login or an API token."),
    paths(
        api::accounts::login, api::accounts::logout, api::accounts::me, api::accounts::change_password, api::accounts::list_tokens, api::accounts::create_token, api::accounts::revoke_token,
        api::orgs::list_orgs, api::orgs::create_org, api::orgs::get_org, api::orgs::update_org, api::orgs::dissolve_org, api::orgs::list_officers,
        api::orgs::set_officer, api::orgs::remove_officer, api::orgs::org_history,
        api::members::list_members, api::members::create_member, api::members::get_member, api::members::update_member, api::members::reveal_member,
        api::members::member_history, api::members::export_csv, api::members::export_xlsx, api::members::import_members,
        api::users::list_users, api::users::create_user, api::users::add_grant, api::users::revoke_grant, api::users::reset_password,
        api::users::unlock_user, api::users::disable_user, api::users::enable_user, api::audit::audit_log,
        api::life::create_meeting, api::life::list_meetings, api::life::get_meeting, api::life::update_meeting, api::life::get_attendance,
        api::life::put_attendance, api::life::check_in, api::life::org_compliance, api::life::org_overdue, api::life::org_absence_flags,
        api::life::org_life_settings, api::life::org_ledger, api::life::org_terms, api::life::member_life, api::inbox::my_notices, api::inbox::read_notice, api::corrections::propose_correction, api::life::add_attachment, api::life::list_attachments, api::life::download_attachment, api::activities::create_activity, api::activities::list_activities, api::activities::get_activity,
        api::activities::sign_up, api::activities::activity_signups, api::activities::activity_attendance,
        api::dues::calculate_dues, api::dues::set_profile, api::dues::member_dues, api::dues::excuse,
        api::dues::record_payment, api::dues::reverse_payment, api::dues::org_dues, api::dues::org_arrears,
        api::dues::org_book, api::dues::org_payments, api::dues::org_workbook, api::dues::publish_statement,
        api::dues::statements, api::dues::import_bases,
        api::transfers::create_transfer, api::transfers::list_transfers, api::transfers::get_transfer,
        api::transfers::accept_transfer, api::transfers::reject_transfer, api::transfers::transfer_receipt,
        api::reviews::pending_reviews, api::reviews::get_review, api::reviews::approve_review,
        api::reviews::return_review, api::reviews::set_chain, api::reviews::get_chain,
        api::transfers::get_validity, api::transfers::set_validity, api::transfers::register_incoming,
        api::transfers::list_incoming, api::mobile::register_mobile, api::mobile::list_mobile,
        api::mobile::end_mobile,
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
