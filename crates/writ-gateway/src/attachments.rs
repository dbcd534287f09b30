//! The documents an order announces in its `attachments` (the warrant as a
//! PDF, a scanned subpoena): the agency uploads each one's bytes after the
//! order, and they are kept beside the case (docs/formats.md,
//! "Attachments"; docs/http.md, `PUT /v1/cases/{id}/attachments/{name}`).
//!
//! The order fixes each attachment's size and SHA-256, and the order is
//! signed, so only those bytes are ever stored under that name: an upload
//! of any other bytes is refused and stores nothing, and the announced
//! bytes are accepted whenever they come, again and again (the same object
//! is written). Objects are named by case and hash, so a stored attachment
//! never changes.

use std::sync::Arc;

use writ_model::order::Attachment;
use writ_objects::ObjectStorage;
use writ_store::Case;

use crate::auth::User;
use crate::lifecycle::may_review;
use crate::{Gateway, GatewayError, Result};

/// The largest attachment accepted, in bytes: the most an order may announce.
pub const MAX_BYTES: u64 = writ_model::order::MAX_ATTACHMENT_BYTES;

/// An announced attachment and whether its bytes have arrived.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AttachmentView {
    pub name: String,
    pub media_type: String,
    pub sha256: String,
    pub size: u64,
    /// The bytes have been uploaded and checked.
    pub received: bool,
}

/// The answer to an upload.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Uploaded {
    pub case: String,
    pub attachment: AttachmentView,
    /// False when these bytes were already stored (a repeated upload).
    pub created: bool,
}

fn object(case: &str, a: &Attachment) -> String {
    format!("{case}/{}", a.sha256)
}

fn mismatch(name: &str, message: String) -> GatewayError {
    GatewayError::Input(writ_model::InputError {
        file: String::new(),
        path: format!("attachments[{name}]"),
        message,
    })
}

impl Gateway {
    /// Where attachments are kept; set once when the server starts. Without
    /// it, uploads are refused as not served here.
    pub fn set_attachments(&self, storage: Arc<dyn ObjectStorage>) {
        let _ = self.inner.attachments.set(storage);
    }

    pub(crate) fn attachment_storage(&self) -> Result<&Arc<dyn ObjectStorage>> {
        self.inner
            .attachments
            .get()
            .ok_or_else(|| GatewayError::NotFound("attachments (not kept by this server)".into()))
    }

    /// Stores the bytes of the attachment `name` of `agency`'s case
    /// `case_id`, if they are the announced ones: its size, then its
    /// SHA-256. Another agency's case is not found, like any of its cases.
    pub async fn put_attachment(
        &self,
        agency: &str,
        case_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<Uploaded> {
        let not_found = || GatewayError::NotFound(format!("case `{case_id}`"));
        let case = self
            .store()
            .load_case(case_id)
            .await?
            .ok_or_else(not_found)?;
        if case.signer != agency {
            return Err(not_found());
        }
        let announced = case
            .order
            .attachments
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| {
                GatewayError::NotFound(format!(
                    "attachment `{name}` (the order of case `{case_id}` does not announce it)"
                ))
            })?;
        if announced.size > MAX_BYTES {
            return Err(mismatch(
                name,
                format!(
                    "the order announces {} bytes; attachments are limited to {MAX_BYTES} bytes",
                    announced.size
                ),
            ));
        }
        let size = bytes.len() as u64;
        if size != announced.size {
            return Err(mismatch(
                name,
                format!(
                    "{size} bytes were sent; the order announces {} bytes",
                    announced.size
                ),
            ));
        }
        let sha256 = crate::canonical::sha256_hex(bytes);
        if sha256 != announced.sha256 {
            return Err(mismatch(
                name,
                format!(
                    "the bytes sent have SHA-256 {sha256}; the order announces {}",
                    announced.sha256
                ),
            ));
        }
        let storage = self.attachment_storage()?;
        let path = object(&case.id, announced);
        let internal =
            |e: writ_objects::StorageError| GatewayError::Internal(format!("attachments: {e}"));
        let created = storage.get(path.clone()).await.map_err(internal)?.is_none();
        if created {
            storage.put(path, bytes.to_vec()).await.map_err(internal)?;
        }
        Ok(Uploaded {
            case: case.id.clone(),
            attachment: view(announced, true),
            created,
        })
    }

    /// The attachments of one of `agency`'s own cases (the portal's case
    /// page); another agency's case is not found.
    pub async fn agency_attachments(
        &self,
        agency: &str,
        case_id: &str,
    ) -> Result<Vec<AttachmentView>> {
        let case = self
            .store()
            .load_case(case_id)
            .await?
            .filter(|c| c.signer == agency)
            .ok_or_else(|| GatewayError::NotFound(format!("case `{case_id}`")))?;
        self.attachments_of(&case).await
    }

    /// A case's announced attachments, each saying whether it has arrived.
    pub async fn attachments_of(&self, case: &Case) -> Result<Vec<AttachmentView>> {
        let Ok(storage) = self.attachment_storage() else {
            return Ok(case
                .order
                .attachments
                .iter()
                .map(|a| view(a, false))
                .collect());
        };
        let mut views = Vec::with_capacity(case.order.attachments.len());
        for a in &case.order.attachments {
            let received = storage
                .get_stream(object(&case.id, a))
                .await
                .map_err(|e| GatewayError::Internal(format!("attachments: {e}")))?
                .is_some_and(|r| r.size == a.size);
            views.push(view(a, received));
        }
        Ok(views)
    }

    /// An attachment's bytes, for the provider's reviewers.
    pub async fn attachment_for_review(
        &self,
        user: &User,
        case_id: &str,
        name: &str,
    ) -> Result<(AttachmentView, Vec<u8>)> {
        may_review(user)?;
        let case = self.case(case_id).await?;
        let announced = case
            .order
            .attachments
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| GatewayError::NotFound(format!("attachment `{name}`")))?;
        let bytes = self
            .attachment_storage()?
            .get(object(&case.id, announced))
            .await
            .map_err(|e| GatewayError::Internal(format!("attachments: {e}")))?
            .ok_or_else(|| {
                GatewayError::NotFound(format!("attachment `{name}` (not uploaded yet)"))
            })?;
        Ok((view(announced, true), bytes))
    }
}

fn view(a: &Attachment, received: bool) -> AttachmentView {
    AttachmentView {
        name: a.name.clone(),
        media_type: a.media_type.clone(),
        sha256: a.sha256.clone(),
        size: a.size,
        received,
    }
}
