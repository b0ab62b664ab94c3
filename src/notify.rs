//! `check --notify URL`: a short message to a chat tool's incoming webhook when a run finds
//! something new — counts by severity, the new findings (linked into the HTML report when its
//! address is given) — in the shape Slack or Microsoft Teams (workflow webhooks, an Adaptive
//! Card) accept. Posting is best effort: a failure is the caller's warning, never a failed run,
//! and the webhook's address (a secret) is never printed whole.

use serde_json::{json, Value};

use crate::finding::Severity;
use crate::history::RunFinding;
use crate::report::Report;

/// The chat tool's message shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Slack,
    Teams,
}

/// New findings listed in a message at most.
const LISTED: usize = 10;

/// The run's new open findings at or above the report's failing level: from the history's
/// "new" list when a history has an earlier run, else every open finding at or above it
/// (without a history, or on its first run, every finding is new). Worst first.
pub fn new_findings(report: &Report) -> Vec<RunFinding> {
    let mut out: Vec<RunFinding> = match report.history.as_ref().filter(|h| h.previous.is_some()) {
        Some(h) => h
            .new
            .iter()
            .filter(|f| f.severity >= report.fail_on)
            .cloned()
            .collect(),
        None => report
            .failing()
            .map(|e| RunFinding {
                id: e.finding.id.clone(),
                severity: e.finding.severity,
                message: e.finding.message.clone(),
            })
            .collect(),
    };
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    out
}

/// The message: a title with the verdict and what is new, the open counts by severity, the
/// new findings (at most ten, linked to `report_url#finding` when given).
pub fn message(report: &Report, format: Format, report_url: Option<&str>) -> Value {
    let new = new_findings(report);
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = report.count_open(*s);
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let title = format!(
        "pgparity: {} vs {} — {}, {} new at or above {}",
        report.left.name,
        report.right.name,
        if report.failed() { "FAIL" } else { "pass" },
        new.len(),
        report.fail_on
    );
    let open = if counts.is_empty() {
        "nothing open".to_string()
    } else {
        format!("open: {}", counts.join(", "))
    };
    let link = |id: &str| {
        report_url.map(|u| {
            format!(
                "{}#{}",
                u.split('#').next().unwrap_or(u),
                crate::report::html::anchor(id)
            )
        })
    };
    let more = new.len().saturating_sub(LISTED);
    match format {
        Format::Slack => {
            let lines: Vec<String> = new
                .iter()
                .take(LISTED)
                .map(|f| {
                    let id = match link(&f.id) {
                        Some(u) => format!("<{u}|{}>", slack_escape(&f.id)),
                        None => format!("`{}`", slack_escape(&f.id)),
                    };
                    format!("• *{}* {id} {}", f.severity, slack_escape(&f.message))
                })
                .chain((more > 0).then(|| format!("• … {more} more")))
                .collect();
            let mut blocks = vec![
                json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
                json!({"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(&open)}}),
            ];
            if !lines.is_empty() {
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}}));
            }
            if let Some(u) = report_url {
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("<{u}|Open the report>")}}));
            }
            json!({"text": format!("{title}; {open}"), "blocks": blocks})
        }
        Format::Teams => {
            let lines: Vec<String> = new
                .iter()
                .take(LISTED)
                .map(|f| {
                    let id = match link(&f.id) {
                        Some(u) => format!("[{}]({u})", f.id),
                        None => format!("`{}`", f.id),
                    };
                    format!("- **{}** {id} {}", f.severity, f.message)
                })
                .chain((more > 0).then(|| format!("- … {more} more")))
                .collect();
            let mut body = vec![
                json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": title, "wrap": true}),
                json!({"type": "TextBlock", "text": open, "wrap": true}),
            ];
            if !lines.is_empty() {
                body.push(json!({"type": "TextBlock", "text": lines.join("\n"), "wrap": true}));
            }
            let mut card = json!({
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            });
            if let Some(u) = report_url {
                card["actions"] =
                    json!([{"type": "Action.OpenUrl", "title": "Open the report", "url": u}]);
            }
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": card,
                }],
            })
        }
    }
}

/// Slack's mrkdwn escapes: `&`, `<`, `>`.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Where a webhook lives, for messages: its scheme and host, never the path (the secret).
pub fn shown(url: &str) -> String {
    let rest = url.split_once("://");
    match rest {
        Some((scheme, r)) => format!(
            "{scheme}://{}",
            r.split(['/', '?', '#']).next().unwrap_or("")
        ),
        None => "(not a URL)".into(),
    }
}

/// Posts `body` as JSON to `url` (10 s at most). The error names the host only.
pub fn post(url: &str, body: &Value) -> Result<(), String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("{} is not an http(s) URL", shown(url)));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .map_err(|e| {
            format!(
                "the post to {} failed: {}",
                shown(url),
                strip_url(&e.to_string(), url)
            )
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{} answered {}", shown(url), status));
    }
    Ok(())
}

/// An error text with the full URL (a secret) replaced by its host.
fn strip_url(text: &str, url: &str) -> String {
    text.replace(url, &shown(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhooks_secret_path_is_never_shown() {
        assert_eq!(
            shown("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com"
        );
        assert_eq!(shown("http://127.0.0.1:9/x?token=1"), "http://127.0.0.1:9");
        assert_eq!(shown("hooks"), "(not a URL)");
        let e = post("ftp://h/secret", &json!({})).unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
