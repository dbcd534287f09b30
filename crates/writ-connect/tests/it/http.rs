use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use writ_connect::Connector;
use writ_connect::http::HttpConnector;
use writ_model::Category;

use crate::range;

/// Serves one request with `status` and `body`, and reports the request line.
fn serve_once(status: &str, body: &'static str) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    let status = status.to_owned();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut auth = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.to_ascii_lowercase().starts_with("authorization:") {
                auth = line.trim().to_owned();
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        tx.send(format!("{} {auth}", request_line.trim())).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    });
    (base, rx)
}

#[test]
fn streams_records_with_the_range_and_token() {
    let body = "{\"at\":\"2026-02-01T00:00:00Z\",\"from\":\"x\"}\n{\"at\":\"2026-03-01T00:00:00Z\",\"from\":\"y\"}\n{\"@end\":{\"records\":2}}\n";
    let (base, seen) = serve_once("200 OK", body);
    let http = HttpConnector::new(&base, Some("s3cret".into()));
    let r = range("2026-01-01T00:00:00Z", "2026-06-30T00:00:00Z");
    let records: Vec<_> = http
        .records("alice@example.com", Category::Traffic, Some(r))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].data.value().unwrap()["from"], "y");
    assert_eq!(records[0].at.unwrap().to_string(), "2026-02-01T00:00:00Z");
    let request = seen.recv().unwrap();
    assert!(
        request.starts_with(
            "GET /accounts/alice%40example.com/traffic?from=2026-01-01T00%3A00%3A00Z&to=2026-06-30T00%3A00%3A00Z HTTP/1.1"
        ),
        "{request}"
    );
    assert!(request.ends_with("Bearer s3cret"), "{request}");
}

#[test]
fn a_stream_without_its_trailer_is_an_error() {
    let (base, _seen) = serve_once("200 OK", "{\"at\":\"2026-02-01T00:00:00Z\"}\n");
    let results: Vec<_> = HttpConnector::new(&base, None)
        .records("alice", Category::Traffic, None)
        .unwrap()
        .collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert!(
        results[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("trailer")
    );
}

#[test]
fn a_wrong_count_is_an_error_and_404_is_no_data_and_500_fails() {
    let (base, _seen) = serve_once("200 OK", "{\"at\":null}\n{\"@end\":{\"records\":5}}\n");
    let results: Vec<_> = HttpConnector::new(&base, None)
        .records("alice", Category::Subscriber, None)
        .unwrap()
        .collect();
    assert!(results.last().unwrap().is_err());

    let (base, _seen) = serve_once("404 Not Found", "");
    assert_eq!(
        HttpConnector::new(&base, None)
            .records("nobody", Category::Traffic, None)
            .unwrap()
            .count(),
        0
    );
    let (base, _seen) = serve_once("500 Internal Server Error", "oops");
    assert!(
        HttpConnector::new(&base, None)
            .records("a", Category::Traffic, None)
            .is_err()
    );
}

/// A provider's line goes into the package as it was sent (without the
/// whitespace around it), not parsed and written again.
#[test]
fn records_are_kept_as_the_provider_sent_them() {
    let body = "  {\"from\": \"x\", \"at\":\"2026-02-01T00:00:00Z\",  \"n\": 1.50}\r\n{\"@end\":{\"records\":1}, \"note\": \"not a trailer\"}\n{\"@end\":{\"records\":2}}\n";
    let (base, _seen) = serve_once("200 OK", body);
    let records: Vec<_> = HttpConnector::new(&base, None)
        .records("alice@example.com", Category::Subscriber, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].data.as_str(),
        "{\"from\": \"x\", \"at\":\"2026-02-01T00:00:00Z\",  \"n\": 1.50}"
    );
    assert_eq!(records[0].at.unwrap().to_string(), "2026-02-01T00:00:00Z");
    // An object with `@end` and more is a record, not the trailer.
    assert_eq!(records[1].data.value().unwrap()["note"], "not a trailer");
}

#[test]
fn lines_that_are_not_one_json_object_are_refused() {
    for (body, expected) in [
        ("[1, 2]\n{\"@end\":{\"records\":0}}\n", "not an object"),
        ("{\"at\": 5}\n{\"@end\":{\"records\":1}}\n", "not a time"),
        (
            "{\"a\": 1} x\n{\"@end\":{\"records\":1}}\n",
            "trailing characters",
        ),
        ("{\"a\": \n", "EOF"),
        (
            "{\"@end\": null}\n",
            "the trailer gives no count of records (`records`), 0 were received",
        ),
        (
            "{\"a\": 1}\n{\"@end\":{\"records\":3}}\n",
            "the trailer announces 3 records, 1 were received",
        ),
        (
            "{\"at\":\"2026-02-01T00:00:00Z\",\"at\":\"2027-02-01T00:00:00Z\"}\n{\"@end\":{\"records\":1}}\n",
            "duplicate field `at`",
        ),
    ] {
        let (base, _seen) = serve_once("200 OK", body);
        let error = HttpConnector::new(&base, None)
            .records("alice@example.com", Category::Traffic, None)
            .unwrap()
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("{body:?} was taken"));
        assert!(error.to_string().contains(expected), "{body:?}: {error}");
    }
}

#[test]
fn a_json_line_is_one_object_on_one_line() {
    use writ_connect::Json;
    assert_eq!(
        Json::line(" {\"a\": [1, 2]}\r\n").unwrap().as_str(),
        "{\"a\": [1, 2]}"
    );
    for bad in [
        "[1]",
        "\"text\"",
        "{\"a\":\n1}",
        "{\"a\": 1} {}",
        "{\"a\":",
        "",
    ] {
        assert!(Json::line(bad).is_err(), "{bad:?}");
    }
    let of = Json::of(&serde_json::json!({"body": "two\nlines"})).unwrap();
    assert_eq!(of.as_str(), "{\"body\":\"two\\nlines\"}");
    assert_eq!(of.value().unwrap()["body"], "two\nlines");
}
