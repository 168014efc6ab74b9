//! Notification rendering: golden files for each outcome and each protocol (email text, Chatbot
//! JSON, machine JSON), produced from real engine runs on the modelled world (virtual time makes
//! them deterministic); subject edge cases; escaping of hostile text; the Chatbot body checked
//! against its documented shape; size bounds.
//!
//! `UPDATE_GOLDEN=1 cargo test --test tests notify_render::` rewrites the files; review the diff.

use crate::support;

use self_deployer::notify::render::{self, RenderSettings, chatbot, messages, subject};
use self_deployer::report::Report;
use serde_json::{Value, json};
use std::path::PathBuf;
use support::IntoReport;
use support::world::{Answer, Scan, World, image_uri};
use support::{config, engine, one_target, push};

fn settings() -> RenderSettings {
    RenderSettings {
        deployer_function: Some("self-deployer-prod".into()),
    }
}

async fn scenario(name: &str) -> Report {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.ecr_image("api", 'a', Some("v1"));
    let e = engine(&w, config(one_target()));
    match name {
        "deployed" => e.handle(&push("api", 'b', Some("sha-abc123"))).await.report(),
        "failed_smoke_test" => {
            w.answer('b', Answer {
                payload: r#"{"statusCode":500,"body":"<!channel> *boom* @here `rm -rf`"}"#.into(),
                function_error: None,
                log: "START RequestId: 1\nTraceback: KeyError 'DATABASE_URL' <https://evil.example|click>\nEND RequestId: 1\n".into(),
            });
            e.handle(&push("api", 'b', Some("sha-abc123"))).await.report()
        }
        "already_live" => e.handle(&push("api", 'a', Some("v1"))).await.report(),
        "skipped" => e.handle(&push("web", 'b', Some("v2"))).await.report(),
        "rolled_back" => {
            e.handle(&push("api", 'b', Some("sha-abc123"))).await.report();
            e.handle(&json!({"action": "rollback", "function": "api-dev", "reason": "errors *spiking* <!here>"}))
                .await
                .report()
        }
        "rollback_failed" => e
            .handle(&json!({"action": "rollback", "function": "api-dev", "version": "9"}))
            .await
            .report(),
        "would_deploy" => e
            .handle(&json!({"action": "deploy", "function": "api-dev", "image_uri": image_uri("api", 'c'), "dry_run": true}))
            .await
            .report(),
        "failed_image_checks" => {
            w.scan("api", 'b', Scan::complete(&[("LOW", 4), ("HIGH", 5), ("CRITICAL", 12)]));
            let checks = json!({"max_findings": {"CRITICAL": 0, "HIGH": 3}, "require_scan": true});
            engine(&w, config(json!([{"repository": "api", "functions": ["api-dev"], "image_checks": checks}])))
                .handle(&push("api", 'b', Some("sha-abc123")))
                .await
                .report()
        }
        other => panic!("no scenario {other}"),
    }
}

const SCENARIOS: &[&str] = &[
    "deployed",
    "failed_smoke_test",
    "already_live",
    "skipped",
    "rolled_back",
    "rollback_failed",
    "would_deploy",
    "failed_image_checks",
];

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} differs from what is rendered now",
        path.display()
    );
}

#[tokio::test]
async fn every_outcome_renders_as_its_golden_files() {
    for name in SCENARIOS {
        let report = scenario(name).await;
        let ms = messages(&report, &settings());
        assert_eq!(
            ms.len(),
            report.deployments.len().max(1),
            "{name}: one message per function"
        );
        let m = &ms[0];
        golden(&format!("{name}.subject.txt"), &format!("{}\n", m.subject));
        golden(&format!("{name}.email.txt"), &m.text);
        golden(
            &format!("{name}.chatbot.json"),
            &format!("{}\n", serde_json::to_string_pretty(&m.chatbot).unwrap()),
        );
        golden(
            &format!("{name}.machine.json"),
            &format!("{}\n", serde_json::to_string_pretty(&m.machine).unwrap()),
        );
        // The SNS body carries every protocol, and the machine body is the report for this function.
        let body: Value = serde_json::from_str(&m.sns_json()).unwrap();
        for proto in ["default", "email", "https", "sqs", "lambda", "email-json"] {
            assert!(body[proto].is_string(), "{name}: no {proto} body");
        }
        let sqs: Value = serde_json::from_str(body["sqs"].as_str().unwrap()).unwrap();
        assert_eq!(sqs, m.machine);
        assert_eq!(sqs["outcome"], m.outcome.as_str());
        check_chatbot_shape(&m.chatbot);
    }
}

/// The documented shape of an AWS Chatbot custom notification.
fn check_chatbot_shape(c: &Value) {
    let obj = c.as_object().expect("an object");
    for k in obj.keys() {
        assert!(
            ["version", "source", "id", "content", "metadata"].contains(&k.as_str()),
            "unknown key {k}"
        );
    }
    assert_eq!(c["version"], "1.0");
    assert_eq!(c["source"], "custom");
    let content = c["content"].as_object().expect("content");
    for k in content.keys() {
        assert!(
            ["textType", "title", "description", "nextSteps", "keywords"].contains(&k.as_str()),
            "unknown content key {k}"
        );
    }
    assert_eq!(content["textType"], "client-markdown");
    let description = content["description"]
        .as_str()
        .expect("description is required");
    assert!(!description.is_empty() && description.chars().count() <= 8000);
    assert!(
        content["title"]
            .as_str()
            .is_some_and(|t| t.chars().count() <= 250)
    );
    assert!(
        content["nextSteps"]
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    );
    assert!(
        content["keywords"]
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    );
    let meta = c["metadata"].as_object().expect("metadata");
    for k in meta.keys() {
        assert!(
            [
                "threadId",
                "summary",
                "eventType",
                "relatedResources",
                "additionalContext"
            ]
            .contains(&k.as_str()),
            "unknown metadata key {k}"
        );
    }
    assert!(
        meta["summary"].is_string()
            && meta["eventType"].is_string()
            && meta["threadId"].is_string()
    );
    assert!(
        meta["relatedResources"]
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    );
    assert!(meta["additionalContext"].is_object());
}

#[tokio::test]
async fn hostile_text_is_escaped_for_slack_and_stripped_for_mail() {
    let report = scenario("failed_smoke_test").await;
    let c = chatbot(&report, report.deployments.first(), &settings());
    let desc = c["content"]["description"].as_str().unwrap();
    assert!(!desc.contains("<https://evil"), "links are defused: {desc}");
    assert!(desc.contains("&lt;https://evil.example|click&gt;"));
    let rb = scenario("rolled_back").await;
    let c = chatbot(&rb, rb.deployments.first(), &settings());
    let desc = c["content"]["description"].as_str().unwrap();
    assert!(desc.contains("errors ∗spiking∗ &lt;!here&gt;"), "{desc}");
    let text = render::text(&report, report.deployments.first(), &settings());
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "no control characters in mail"
    );
}

#[tokio::test]
async fn subjects_stay_ascii_single_line_and_within_100_characters() {
    let long_fn = "f".repeat(64);
    let long_tag = "t".repeat(128);
    let w = World::new();
    w.live_function(&long_fn, "api", 'a');
    let report = engine(
        &w,
        config(json!([{"repository": "api", "functions": [long_fn]}])),
    )
    .handle(&push("api", 'b', Some(&long_tag)))
    .await
    .report();
    let s = subject(&report, report.deployments.first());
    assert_eq!(s.len(), 100);
    assert!(s.starts_with(&format!("DEPLOYED {long_fn} v2 (ttt")));
    assert!(s.ends_with("..."));
    assert!(s.is_ascii() && !s.contains('\n'));
    // Untagged pushes are labelled by their digest.
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let t = json!([{"repository": "api", "functions": ["api-dev"], "allow_untagged": true}]);
    let report = engine(&w, config(t))
        .handle(&push("api", 'b', None))
        .await
        .report();
    assert_eq!(
        subject(&report, report.deployments.first()),
        "DEPLOYED api-dev v2 (sha256:bbbbbbbbbbbb)"
    );
}

#[tokio::test]
async fn a_worst_case_message_stays_far_below_the_sns_limit() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.answer(
        'b',
        Answer {
            payload: format!(r#"{{"statusCode":500,"body":"{}"}}"#, "<&>".repeat(100_000)),
            function_error: None,
            log: "<!channel> ".repeat(100_000),
        },
    );
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some(&"t".repeat(128))))
        .await
        .report();
    let m = &messages(&report, &settings())[0];
    let size = m.sns_json().len() + m.subject.len();
    assert!(size < 64 * 1024, "{size} bytes");
}

#[tokio::test]
async fn bidi_controls_in_a_reason_never_reach_mail_or_slack() {
    let mut r = scenario("failed_smoke_test").await;
    let evil = "rolled back to v1\u{202E}2v\u{2066} ok\u{2069}";
    r.reason = Some(evil.into());
    r.deployments[0].reason = Some(evil.into());
    let d = Some(&r.deployments[0]);
    let bidi = |s: &str| {
        s.chars()
            .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    };
    let text = render::text(&r, d, &settings());
    assert!(!bidi(&text), "{text}");
    assert!(text.contains("rolled back to v12v ok"), "{text}");
    let slack = chatbot(&r, d, &settings()).to_string();
    assert!(!bidi(&slack), "{slack}");
    assert!(!bidi(&subject(&r, d)));
}
