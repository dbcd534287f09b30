//! An order being written in the portal's form, kept between visits: the
//! form's fields as they were last sent and the signed document uploaded
//! with them (docs/http.md, `/portal/orders/new`). One draft per agency,
//! kept beside the attachments (`drafts/<hash of the agency id>/`), until
//! the order is submitted or the draft discarded. A draft is nobody's
//! order: nothing in it is decided, logged or counted.

use serde::{Deserialize, Serialize};

use crate::attachments::MAX_BYTES;
use crate::{Gateway, GatewayError, Result};

/// The document uploaded with a draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftDocument {
    pub name: String,
    pub media_type: String,
    pub sha256: String,
    pub size: u64,
}

/// A saved draft.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// The form's fields (name, value), in the order they were sent.
    pub fields: Vec<(String, String)>,
    pub document: Option<DraftDocument>,
    /// When it was saved (seconds since the epoch).
    pub saved_at: i64,
}

/// What the document of a draft may be: a PDF or an image of the signed
/// order, as a scanner or a camera makes it.
pub const DOCUMENT_TYPES: &[(&str, &[u8])] = &[
    ("application/pdf", b"%PDF-"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/tiff", b"II*\x00"),
    ("image/tiff", b"MM\x00*"),
];

/// The media type of a document, read from its first bytes (what the
/// browser claims is not trusted); `None` for anything else.
pub fn document_type(bytes: &[u8]) -> Option<&'static str> {
    DOCUMENT_TYPES
        .iter()
        .find(|(_, magic)| bytes.starts_with(magic))
        .map(|(t, _)| *t)
}

/// A document's name as kept: the last part of what the browser sent,
/// without control characters, or `document` when nothing is left.
pub fn document_name(sent: &str) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last.chars().filter(|c| !c.is_control()).take(120).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        "document".to_owned()
    } else {
        clean.to_owned()
    }
}

/// Checks an uploaded document and describes it.
pub fn check_document(sent_name: &str, bytes: &[u8]) -> Result<DraftDocument> {
    let bad = |message: String| {
        GatewayError::Input(writ_model::InputError {
            file: String::new(),
            path: "document".into(),
            message,
        })
    };
    if bytes.is_empty() {
        return Err(bad("the document is empty".into()));
    }
    if bytes.len() as u64 > MAX_BYTES {
        return Err(bad(format!(
            "the document has {} bytes; at most {MAX_BYTES} bytes (25 MiB) are accepted",
            bytes.len()
        )));
    }
    let Some(media_type) = document_type(bytes) else {
        return Err(bad(
            "the document must be a PDF or an image (PNG, JPEG or TIFF)".into(),
        ));
    };
    Ok(DraftDocument {
        name: document_name(sent_name),
        media_type: media_type.to_owned(),
        sha256: crate::canonical::sha256_hex(bytes),
        size: bytes.len() as u64,
    })
}

fn folder(agency: &str) -> String {
    format!("drafts/{}", crate::canonical::sha256_hex(agency.as_bytes()))
}

fn internal(e: writ_objects::StorageError) -> GatewayError {
    GatewayError::Internal(format!("drafts: {e}"))
}

impl Gateway {
    /// The agency's saved draft, if any.
    pub async fn draft(&self, agency: &str) -> Result<Option<Draft>> {
        let storage = self.attachment_storage()?;
        let Some(bytes) = storage
            .get(format!("{}/form.json", folder(agency)))
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_slice(&bytes)?))
    }

    /// The bytes of the draft's document, if it has one.
    pub async fn draft_document(&self, agency: &str) -> Result<Option<(DraftDocument, Vec<u8>)>> {
        let Some(Draft {
            document: Some(d), ..
        }) = self.draft(agency).await?
        else {
            return Ok(None);
        };
        let storage = self.attachment_storage()?;
        let bytes = storage
            .get(format!("{}/{}", folder(agency), d.sha256))
            .await
            .map_err(internal)?;
        Ok(bytes
            .filter(|b| crate::canonical::sha256_hex(b) == d.sha256)
            .map(|b| (d, b)))
    }

    /// Saves the agency's draft: `fields` replace the saved ones; a new
    /// document (already checked by [`check_document`]) replaces the old,
    /// `keep_document` false drops it, and otherwise the saved one stays.
    /// The document is written before the fields that name it.
    pub async fn save_draft(
        &self,
        agency: &str,
        fields: Vec<(String, String)>,
        document: Option<(DraftDocument, &[u8])>,
        keep_document: bool,
    ) -> Result<Draft> {
        let storage = self.attachment_storage()?;
        let old = self.draft(agency).await?;
        let document = match document {
            Some((d, bytes)) => {
                storage
                    .put(format!("{}/{}", folder(agency), d.sha256), bytes.to_vec())
                    .await
                    .map_err(internal)?;
                Some(d)
            }
            None if keep_document => old.as_ref().and_then(|o| o.document.clone()),
            None => None,
        };
        let draft = Draft {
            fields,
            document,
            saved_at: crate::stored_now().as_second(),
        };
        storage
            .put(
                format!("{}/form.json", folder(agency)),
                serde_json::to_vec(&draft)?,
            )
            .await
            .map_err(internal)?;
        // A replaced document is no longer named by the draft.
        if let Some(old) = old.and_then(|o| o.document)
            && draft.document.as_ref() != Some(&old)
        {
            storage
                .delete(format!("{}/{}", folder(agency), old.sha256))
                .await
                .map_err(internal)?;
        }
        Ok(draft)
    }

    /// Forgets the agency's draft (after its order was submitted, or when
    /// the officer discards it).
    pub async fn discard_draft(&self, agency: &str) -> Result<()> {
        let storage = self.attachment_storage()?;
        let old = self.draft(agency).await?;
        storage
            .delete(format!("{}/form.json", folder(agency)))
            .await
            .map_err(internal)?;
        if let Some(d) = old.and_then(|o| o.document) {
            storage
                .delete(format!("{}/{}", folder(agency), d.sha256))
                .await
                .map_err(internal)?;
        }
        Ok(())
    }
}
