//! One test over a real socket: the server as a client sees it.

use writ_model::Timestamp;

use crate::support::{TestApp, sign, subpoena};

#[tokio::test]
async fn serves_over_tcp_and_shuts_down_gracefully() {
    let t = TestApp::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(writ_server::serve(
        listener,
        t.app.state.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let body = subpoena("us-nypd", "TCP-1", "bob@example.com").to_string();
    let signed = sign(
        "us-nypd",
        &t.key("us-nypd"),
        "POST",
        "/v1/orders",
        body.as_bytes(),
        Timestamp::now().as_second(),
    );
    let mut req = client
        .post(format!("http://{addr}/v1/orders"))
        .body(body.clone());
    for (k, v) in &signed.headers {
        req = req.header(k, v);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["decision"]["outcome"], "approve");
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
