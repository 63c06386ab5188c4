//! SCIM 2.0 provisioning (RFC 7643/7644) as pure rules: filters, PATCH, projection,
//! discovery documents, list responses and ETags, for an identity provider's Users and Groups.
//!
//! Nothing here talks HTTP or SQL: the web layer hands in query strings and bodies, the db
//! layer translates [`Filter`] to SQL and [`MemberChange`] to membership rows.

mod discovery;
mod error;
mod etag;
mod filter;
mod kind;
mod list;
mod patch;
mod path;
mod projection;
mod schema;

pub use discovery::{resource_type, resource_types, schema, schemas, service_provider_config};
pub use error::ScimError;
pub use etag::{etag_of, if_match_ok, if_none_match_hit};
pub use filter::{parse_filter, Attr, CompareOp, Filter, FilterValue, MAX_FILTER_DEPTH, MAX_FILTER_LEN};
pub use kind::{
    ResourceKind, ERROR_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, MEDIA_TYPE, PATCH_OP_SCHEMA, RESOURCE_TYPE_SCHEMA,
    SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA, USER_SCHEMA,
};
pub use list::{list_response, Page, MAX_COUNT};
pub use patch::{
    apply_patch, normalize_resource, parse_patch, split_member_ops, MemberChange, OpKind, Patch, PatchOp,
    MAX_OPERATIONS,
};
pub use path::{parse_path, ElemFilter, PatchPath};
pub use projection::{project, Projection};
pub use schema::{AttrDef, AttrType, Mutability, Returned, Uniqueness};
