//! The OpenAPI document, generated from the handlers' annotations as the API registers them. A test compares it with the
//! committed `openapi.json` so that API changes are reviewed.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hongji API",
        description = "Grassroots Party organization management. Errors are `{\"error\":{\"code\",\"message\",\"fields\"}}`; authenticate with `Authorization: Bearer <token>` from /api/v1/auth/login or an API token."
    ),
    components(schemas(crate::error::ErrorBody))
)]
pub struct ApiDoc;

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

/// What any operation may answer besides its success, in the error format: documented on every
/// operation (those an operation lists itself keep their own description).
struct ErrorAnswers;

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let answers = [
            ("401", "not signed in, or the session ended"),
            ("403", "signed in, but the caller's grants do not allow this (audited)"),
            (
                "404",
                "absent, or outside the caller's scope: the two are not told apart (audited)",
            ),
            (
                "409",
                "refused by a rule or by the record's state; the code names which",
            ),
            ("413", "the request body is too large"),
            ("415", "the request body is not JSON"),
            ("422", "the input is invalid: every bad field is named in `fields`"),
            ("429", "too many requests"),
            (
                "500",
                "the server failed; the `x-request-id` header names the request in the log",
            ),
        ];
        for item in doc.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for (status, description) in answers {
                    op.responses.responses.entry(status.to_string()).or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            )
                            .build()
                            .into()
                    });
                }
            }
        }
    }
}

/// Fields a create must give that the same type leaves optional in its patch (members, meetings
/// and organizations are created and patched with one input type; a member arriving from outside
/// is created from the member's input too): the create's request schema is
/// the type with these required. The validators (`MemberInput::validate`, `life::meetings`,
/// `orgs`) answer `required` for each when it is missing.
const REQUIRED_ON_CREATE: [(&str, &[&str]); 4] = [
    ("create_member", &["org_id", "name", "gender", "id_number", "joined_on"]),
    ("register_incoming", &["name", "gender", "id_number", "joined_on"]),
    ("create_meeting", &["org_id", "title", "starts_at", "ends_at"]),
    ("create_org", &["name", "kind", "established_on"]),
];

struct RequiredOnCreate;

impl utoipa::Modify for RequiredOnCreate {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder};
        for item in doc.paths.paths.values_mut() {
            let Some(op) = item.post.as_mut() else { continue };
            let Some((_, fields)) = REQUIRED_ON_CREATE
                .iter()
                .find(|(id, _)| op.operation_id.as_deref() == Some(*id))
            else {
                continue;
            };
            let Some(content) = op
                .request_body
                .as_mut()
                .and_then(|b| b.content.get_mut("application/json"))
            else {
                continue;
            };
            let required = fields.iter().fold(ObjectBuilder::new(), |o, f| o.required(*f));
            let whole = AllOfBuilder::new()
                .item(content.schema.take().expect("a body schema"))
                .item(required);
            content.schema = Some(whole.into());
        }
    }
}

/// The finished document: the paths the API registered, with what every operation may answer.
pub fn finish(mut doc: utoipa::openapi::OpenApi) -> serde_json::Value {
    use utoipa::Modify;
    // After the routes are merged: the modifiers of `ApiDoc` would see no paths yet.
    BearerAuth.modify(&mut doc);
    ErrorAnswers.modify(&mut doc);
    RequiredOnCreate.modify(&mut doc);
    let mut doc = serde_json::to_value(doc).expect("the OpenAPI document serializes");
    blank_and_null(&mut doc);
    doc
}

/// Blank and null, as the validators read them: a field or parameter an operation requires is
/// never null or blank (the validators answer `required` to both, as to a missing value), and an
/// optional query parameter may be blank, which is the same as leaving it out (`?year=`, as a form
/// sends it). The `Option` fields' schemas take null and blank (`domain::schema`); here both are
/// taken out of those that are required, and blank is added to optional query parameters.
fn blank_and_null(value: &mut serde_json::Value) {
    use serde_json::{json, Value};
    let blank = json!({"type": "string", "maxLength": 0});
    let required = |schema: &mut Value| {
        if let Some(Value::Array(items)) = schema.get_mut("anyOf") {
            items.retain(|i| *i != blank);
            if items.len() == 1 {
                *schema = items.remove(0);
            }
        }
        if let Some(Value::Array(types)) = schema.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                schema["type"] = only;
            }
        }
        if let Some(Value::Array(values)) = schema.get_mut("enum") {
            values.retain(|v| !v.is_null());
        }
    };
    match value {
        Value::Object(map) => {
            let names: Vec<String> = match map.get("required") {
                Some(Value::Array(names)) => names.iter().filter_map(|n| n.as_str().map(String::from)).collect(),
                _ => Vec::new(),
            };
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                for name in &names {
                    if let Some(p) = properties.get_mut(name) {
                        required(p);
                    }
                }
            }
            // A parameter: `in`, `required` and `schema` side by side.
            if map.get("in").is_some() && map.get("name").is_some_and(Value::is_string) {
                let is_required = map.get("required") == Some(&Value::Bool(true));
                let in_query = map.get("in") == Some(&json!("query"));
                if let Some(schema) = map.get_mut("schema") {
                    if is_required {
                        required(schema);
                    } else if in_query && schema.get("anyOf").is_none() {
                        *schema = json!({"anyOf": [schema.take(), blank.clone()]});
                    }
                }
            }
            map.values_mut().for_each(blank_and_null);
        }
        Value::Array(items) => items.iter_mut().for_each(blank_and_null),
        _ => {}
    }
}

pub fn document() -> serde_json::Value {
    finish(crate::api::documented().split_for_parts().1)
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
