//! The certificate of authenticity of a case's package, as HTML and PDF
//! (`GET /v1/cases/{id}/certificate`, `GET /portal/cases/{id}/certificate`,
//! `GET /console/cases/{id}/certificate`; docs/http.md, "Certificates of
//! authenticity"). Its wording is the configured template
//! ([`CertificateTemplate`]); its facts are the certificate's row: the
//! package's SHA-256, each file's SHA-256 and record count, the custodian,
//! the place and the date.

use writ_gateway::certificate::{CertificateTemplate, CertifiedFile};
use writ_store::CertificateRow;

use super::letter::{Block, Letter, Section, when_second};

/// What a certificate is about, beside its row.
pub(crate) struct About<'a> {
    pub case: &'a str,
    pub reference: &'a str,
    pub agency: &'a str,
}

/// The certificate as a document.
pub(crate) fn document(
    about: &About<'_>,
    cert: &CertificateRow,
    template: &CertificateTemplate,
    provider: &str,
) -> Letter {
    let fill = |t: &str| CertificateTemplate::fill(t, provider, cert);
    let files: Vec<CertifiedFile> = serde_json::from_str(&cert.files).unwrap_or_default();
    let records: u64 = files.iter().map(|f| f.records).sum();
    let signed = when_second(cert.signed_at);
    let date = signed.split(' ').next().unwrap_or_default().to_owned();
    let mut statements = vec![Block::Para(fill(&template.opening))];
    statements.extend(
        template
            .statements
            .iter()
            .enumerate()
            .map(|(i, s)| Block::Para(format!("{}. {}", i + 1, fill(s)))),
    );
    statements.push(Block::Para(fill(&template.scope)));
    let declaration = if cert.inside_us {
        &template.inside_us
    } else {
        &template.outside_us
    };
    Letter {
        title: fill(&template.title),
        facts: vec![
            ("Legal process", format!("reference {}", about.reference)),
            ("Requesting agency", about.agency.to_owned()),
            ("Our case", about.case.to_owned()),
            ("Package", format!("package {}", cert.generation)),
        ],
        sections: vec![
            Section {
                id: "declaration",
                heading: "Declaration",
                blocks: statements,
            },
            Section {
                id: "records",
                heading: "Records certified",
                blocks: vec![
                    Block::Para(format!(
                        "{} files, {records} records. Each SHA-256 is computed over the file's plaintext bytes as produced; the package file that carried them, as downloaded, has the SHA-256 below.",
                        files.len()
                    )),
                    Block::Table {
                        head: vec!["File", "SHA-256", "Records"],
                        rows: files
                            .iter()
                            .map(|f| vec![f.path.clone(), f.sha256.clone(), f.records.to_string()])
                            .collect(),
                    },
                    Block::Para(format!("Package {} (age file):", cert.generation)),
                    Block::Code(cert.package_sha256.clone()),
                ],
            },
            Section {
                id: "signature",
                heading: "Signature",
                blocks: vec![
                    Block::Para(fill(declaration)),
                    Block::Para(format!("Executed on {date} at {}.", cert.place)),
                    Block::Code(format!("/s/ {}", cert.custodian)),
                    Block::Para(format!(
                        "{}, {}, {provider}. Signed in {provider}'s records system by user `{}` at {signed}.",
                        cert.custodian, cert.custodian_title, cert.signed_by
                    )),
                ],
            },
        ],
    }
}

/// The certificate as a response: PDF when `as_pdf`, else HTML.
pub(crate) fn response(
    state: &crate::AppState,
    about: &About<'_>,
    cert: &CertificateRow,
    as_pdf: bool,
) -> axum::response::Response {
    let config = &state.inner.config;
    let doc = document(about, cert, &config.certificate, &config.provider);
    super::letter::serve(
        &doc,
        &format!("{}-certificate-{}", about.case, cert.generation),
        as_pdf,
    )
}
