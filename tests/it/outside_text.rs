//! Outside text (condition messages and events from the API server) reaches the terminal
//! escaped and bounded: an ESC sequence can neither forge an `ok` row nor erase a failing one,
//! and a huge message is cut with a marker; JSON stays valid JSON, bounded the same way.

use crate::support::cluster_state;
use crate::support::common::*;
use crate::support::fake_apiserver::FakeApiServer;
use serde_json::json;

#[test]
fn condition_messages_cannot_drive_the_terminal_or_flood_it() {
    let fake = FakeApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("example.yaml");
    cluster_state::synced(&fake, &spec);
    let kubeconfig = fake.write_kubeconfig(dir.path(), "homelab");
    // Erase the line, go up, and print a fake "ok" row; then a megabyte of text.
    let forged = "denied\u{1b}[2K\r\u{1b}[1Aok   VaultPKISecret app/webapp-tls synced";
    let huge = "x".repeat(1024 * 1024);
    fake.modify("VaultPKISecret", "app", "webapp-tls", |o| {
        o["status"]["conditions"][1] = json!({"type": "SecretSynced", "status": "False", "reason": "VaultClientError", "message": forged, "lastTransitionTime": "2026-11-22T00:00:00Z"});
    });
    cluster_state::warning_event(
        &fake,
        "VaultPKISecret",
        "app",
        "webapp-tls",
        "VaultClientError",
        &huge,
    );
    let o = verify(&spec, &kubeconfig, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}') && !out.contains('\r'), "{out}");
    // The message is there, its control characters shown escaped.
    assert!(out.contains("denied\\u{1b}[2K\\r\\u{1b}[1Aok"), "{out}");
    assert!(out.len() < 64 * 1024, "bounded: {} bytes", out.len());
    let (code, v) = verify_json(&spec, &kubeconfig, &[]);
    assert_eq!(code, Some(1));
    let text = serde_json::to_string(&v).unwrap();
    assert!(text.len() < 64 * 1024, "bounded: {} bytes", text.len());
    if text.contains("x".repeat(100).as_str()) {
        assert!(text.contains("more bytes cut]"), "the cut is marked");
    }
}
