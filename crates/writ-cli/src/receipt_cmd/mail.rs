//! `writ receipt extract NOTICE.eml`: the `receipt.json` attachment of a
//! user notice, decoded from its MIME part (base64 or quoted-printable), so
//! that nobody has to copy it out of the raw message by hand.

use base64::Engine as _;

/// A MIME entity: its headers (names lower-cased, folded lines joined) and
/// its raw body.
struct Part<'a> {
    headers: Vec<(String, String)>,
    body: &'a str,
}

impl Part<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter of a header (`boundary`, `filename`, `name`), unquoted.
    fn param(&self, header: &str, name: &str) -> Option<String> {
        self.header(header)?.split(';').skip(1).find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().trim_matches('"').to_owned())
        })
    }

    fn media_type(&self) -> String {
        self.header("content-type")
            .and_then(|v| v.split(';').next())
            .unwrap_or("text/plain")
            .trim()
            .to_ascii_lowercase()
    }
}

fn parse(text: &str) -> Part<'_> {
    let (head, body) = match text.find("\r\n\r\n") {
        Some(i) => (&text[..i], &text[i + 4..]),
        None => match text.find("\n\n") {
            Some(i) => (&text[..i], &text[i + 2..]),
            None => (text, ""),
        },
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    Part { headers, body }
}

/// The parts of a multipart body.
fn children<'a>(part: &Part<'a>, boundary: &str) -> Vec<Part<'a>> {
    let delimiter = format!("--{boundary}");
    let mut out = Vec::new();
    let mut rest = part.body;
    // Skip the preamble.
    let Some(start) = rest.find(&delimiter) else {
        return out;
    };
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with("--") {
            break;
        }
        let rest_line = rest.find('\n').map_or("", |i| &rest[i + 1..]);
        let end = rest_line.find(&delimiter).unwrap_or(rest_line.len());
        let mut chunk = &rest_line[..end];
        chunk = chunk.strip_suffix('\n').unwrap_or(chunk);
        chunk = chunk.strip_suffix('\r').unwrap_or(chunk);
        out.push(parse(chunk));
        if end >= rest_line.len() {
            break;
        }
        rest = &rest_line[end + delimiter.len()..];
    }
    out
}

/// Decodes quoted-printable text (RFC 2045, 6.7).
fn quoted_printable(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let lines: Vec<&str> = text.split('\n').collect();
    for (n, line) in lines.iter().enumerate() {
        let line = line
            .strip_suffix('\r')
            .unwrap_or(line)
            .trim_end_matches([' ', '\t']);
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len() + 1
                && let Some(b) = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        if !soft && n + 1 < lines.len() {
            out.push(b'\n');
        }
    }
    out
}

fn decode(part: &Part<'_>) -> Result<Vec<u8>, String> {
    let encoding = part
        .header("content-transfer-encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "base64" => {
            let clean: String = part
                .body
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map_err(|e| format!("the receipt's base64 is damaged: {e}"))
        }
        "quoted-printable" => Ok(quoted_printable(part.body)),
        _ => Ok(part.body.as_bytes().to_vec()),
    }
}

/// The receipt part: named `receipt.json`, or failing that the first
/// `application/json` part.
fn find<'a>(part: Part<'a>, depth: usize) -> Vec<Part<'a>> {
    if part.media_type().starts_with("multipart/") && depth < 8 {
        match part.param("content-type", "boundary") {
            Some(b) => children(&part, &b)
                .into_iter()
                .flat_map(|c| find(c, depth + 1))
                .collect(),
            None => Vec::new(),
        }
    } else {
        vec![part]
    }
}

/// The receipt's JSON from a notice e-mail, pretty-printed.
pub fn extract(message: &str) -> Result<String, String> {
    let leaves = find(parse(message), 0);
    let named = |p: &Part<'_>| {
        p.param("content-disposition", "filename")
            .or_else(|| p.param("content-type", "name"))
            .is_some_and(|n| n == "receipt.json")
    };
    let part = match leaves.iter().position(named) {
        Some(i) => &leaves[i],
        None => leaves
            .iter()
            .find(|p| p.media_type() == "application/json")
            .ok_or("no receipt.json attachment in this message")?,
    };
    let bytes = decode(part)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the attached receipt.json is not JSON: {e}"))?;
    serde_json::to_string_pretty(&value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(encoding: &str, body: &str) -> String {
        format!(
            "From: Writ <notices@writ.example>\r\nTo: alice@example.com\r\nSubject: A notice\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n boundary=\"XYZ\"\r\n\r\n\
             --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello=\r\n\r\n\
             --XYZ\r\nContent-Disposition: attachment; filename=\"receipt.json\"\r\n\
             Content-Type: application/json\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n\
             {body}\r\n--XYZ--\r\n"
        )
    }

    #[test]
    fn quoted_printable_receipts_decode() {
        let body =
            "{\"case\":\"c-1\",\"note\":\"caf=C3=A9 =3D ok\",\"entries\":[{\"index\":=\r\n3}]}";
        let json = extract(&message("quoted-printable", body)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["case"], "c-1");
        assert_eq!(v["note"], "café = ok");
        assert_eq!(v["entries"][0]["index"], 3);
    }

    #[test]
    fn base64_receipts_decode() {
        let b = base64::engine::general_purpose::STANDARD.encode(br#"{"case":"c-2"}"#);
        let (a, z) = b.split_at(8);
        let json = extract(&message("base64", &format!("{a}\r\n{z}"))).unwrap();
        assert!(json.contains("\"c-2\""), "{json}");
    }

    #[test]
    fn a_message_without_receipt_is_refused() {
        let e = extract("Subject: x\r\n\r\nhello\r\n").unwrap_err();
        assert!(e.contains("no receipt.json"), "{e}");
    }
}
