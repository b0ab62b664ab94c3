//! A fleet as one self-contained HTML page: the verdict, a matrix (rows: differences, columns:
//! targets farthest first, cells: the severity there), sortable by any column and filterable
//! by text, severity, category and status; then the targets ranked and each difference in
//! words. No network: a Content-Security-Policy allows only its own inline style and its one
//! script, by hash.

use std::fmt::Write;

use base64::Engine as _;
use sha2::Digest as _;

use super::super::escape::esc;
use super::FleetReport;
use crate::finding::Severity;

const CSS: &str = r#"
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a202c;margin:0;padding:16px 20px}
h1{font-size:21px;margin:0 0 4px} h2{font-size:17px;border-bottom:2px solid #e2e8f0;padding-bottom:4px;margin-top:28px}
.verdict{font-size:15px;font-weight:700;padding:5px 10px;border-radius:4px;display:inline-block;margin:6px 0}
.pass{background:#c6f6d5;color:#22543d}.fail{background:#fed7d7;color:#822727}
.bar{display:flex;gap:10px;flex-wrap:wrap;align-items:center;margin:10px 0;position:sticky;top:0;background:#fff;padding:6px 0;z-index:3}
.bar input[type=search]{width:22em;padding:3px 6px} .bar label{font-size:13px}
.wrap{overflow:auto;max-height:80vh;border:1px solid #e2e8f0}
table.m{border-collapse:separate;border-spacing:0;font-size:12px}
table.m th,table.m td{border-bottom:1px solid #edf2f7;padding:0;height:18px}
table.m thead th{position:sticky;top:0;background:#f7fafc;z-index:2;vertical-align:bottom;cursor:pointer;user-select:none}
table.m th.t{width:16px;min-width:16px;max-width:16px}
table.m th.t span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;display:inline-block;max-height:130px;overflow:hidden;text-overflow:ellipsis;padding:4px 0;font-weight:500}
table.m .id{position:sticky;left:0;background:#fff;z-index:1;width:380px;min-width:380px;max-width:380px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding:0 8px;font-family:ui-monospace,Menlo,Consolas,monospace}
table.m thead .id{z-index:3;background:#f7fafc;font-family:inherit}
table.m .n{position:sticky;left:380px;background:#fff;z-index:1;text-align:right;padding:0 6px;min-width:44px}
table.m thead .n{z-index:3;background:#f7fafc}
td.c{width:16px;min-width:16px;text-align:center}
td.c i{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:middle}
.s4 i,.sev.critical{background:#742a2a}.s3 i,.sev.high{background:#c53030}.s2 i,.sev.medium{background:#dd6b20}.s1 i,.sev.low{background:#d69e2e}.s0 i,.sev.info{background:#a0aec0}
td.acc i{background:#fff!important;outline:2px solid #68d391;outline-offset:-2px}
.sev{display:inline-block;border-radius:3px;padding:0 5px;color:#fff;font-size:11px;font-weight:600}
th.sorted{background:#e2e8f0!important}
table.l{border-collapse:collapse;width:100%} table.l th,table.l td{border-bottom:1px solid #e2e8f0;padding:4px 6px;text-align:left;vertical-align:top}
.muted{color:#4a5568;font-size:13px} .legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin:0 3px 0 10px;vertical-align:middle}
.card{border:1px solid #e2e8f0;border-radius:6px;padding:8px 12px;margin:10px 0}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
@media print{.bar{display:none}.wrap{max-height:none;overflow:visible}}
"#;

/// Sorting (click a column: by that target's severity, the count, or the name; again to
/// reverse) and filtering (text, least severity, category, open only); a link may carry them
/// (`#q=orders&sev=3&cat=schema&open=1&sort=-5`: column 5, descending).
const SCRIPT: &str = r#"
(function(){
document.body.classList.add('js');
var t=document.getElementById('m');if(!t)return;var body=t.tBodies[0];var rows=[].slice.call(body.rows);var heads=t.tHead.rows[0].cells;
var q=document.getElementById('q'),sv=document.getElementById('sv'),ct=document.getElementById('ct'),op=document.getElementById('op'),shown=document.getElementById('shown');
function val(r,k){var c=r.cells[k];var v=c.getAttribute('data-v');return v===null?c.textContent.toLowerCase():+v;}
var last=-1,dir=1;
function sortBy(k,d){dir=d;last=k;
 [].forEach.call(heads,function(x){x.classList.remove('sorted');});heads[k].classList.add('sorted');
 rows.sort(function(a,b){var x=val(a,k),y=val(b,k);return (x<y?-1:x>y?1:0)*dir;});
 rows.forEach(function(r){body.appendChild(r);});}
[].forEach.call(heads,function(h,k){h.addEventListener('click',function(){sortBy(k,(last===k)?-dir:(k===0?1:-1));});});
function filter(){var s=q.value.toLowerCase(),min=+sv.value,c=ct.value,o=op.checked,n=0;
 rows.forEach(function(r){var ok=(!s||r.getAttribute('data-text').indexOf(s)>=0)&&(+r.getAttribute('data-sev')>=min)&&(!c||r.getAttribute('data-cat')===c)&&(!o||+r.getAttribute('data-open')>0);
 r.style.display=ok?'':'none';if(ok)n++;});shown.textContent=n;}
[q,sv,ct,op].forEach(function(e){e.addEventListener('input',filter);e.addEventListener('change',filter);});
var h={};location.hash.replace(/^#/,'').split('&').forEach(function(p){var kv=p.split('=');if(kv[0])h[kv[0]]=decodeURIComponent(kv[1]||'');});
if(h.q)q.value=h.q;if(h.sev)sv.value=h.sev;if(h.cat)ct.value=h.cat;if(h.open)op.checked=true;
filter();
if(h.sort){var k=Math.abs(+h.sort);if(heads[k])sortBy(k,+h.sort<0||h.sort==='-0'?-1:1);}
})();
"#;

fn level(s: Severity) -> usize {
    match s {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// The script's hash as a CSP source (`'sha256-…'`).
fn script_hash() -> String {
    let digest = sha2::Sha256::digest(SCRIPT.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

pub fn render(r: &FleetReport) -> String {
    let title = format!(
        "pgparity fleet: {} targets against {}",
        r.targets.len(),
        r.reference.name
    );
    let mut o = String::with_capacity(64 * 1024 + r.differences.len() * r.targets.len() * 12);
    let _ = write!(
        o,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src {}; img-src data:"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{CSS}</style></head><body>"#,
        script_hash(),
        esc(&title)
    );
    let failing = r.targets.iter().filter(|t| t.failing > 0).count();
    let _ = write!(
        o,
        r#"<h1>{}</h1><div class="muted">reference <b>{}</b>: PostgreSQL {}, database {}, captured {}{}</div>"#,
        esc(&title),
        esc(&r.reference.name),
        esc(&r.reference.server_version),
        esc(&r.reference.database),
        esc(&r.reference.captured_at),
        r.shard
            .as_deref()
            .map(|s| format!("; shard {}", esc(s)))
            .unwrap_or_default()
    );
    let _ = write!(
        o,
        r#"<div class="verdict {}">{}</div> <span class="muted">{} differences · {failing} of {} targets failing at {} · {} not compared</span>"#,
        if r.failed() { "fail" } else { "pass" },
        if r.failed() { "FAIL" } else { "PASS" },
        r.differences.len(),
        r.targets.len(),
        r.fail_on,
        r.unreachable()
    );

    // The matrix.
    let mut cats: Vec<&str> = r.differences.iter().map(|d| d.category.name()).collect();
    cats.sort();
    cats.dedup();
    let _ = write!(
        o,
        r#"<h2>Matrix</h2><div class="bar"><input type="search" id="q" placeholder="filter differences (id, object, message)" aria-label="filter"><label>at least <select id="sv"><option value="0">info</option><option value="1">low</option><option value="2">medium</option><option value="3">high</option><option value="4">critical</option></select></label><label>category <select id="ct"><option value="">any</option>"#
    );
    for c in &cats {
        let _ = write!(o, r#"<option>{c}</option>"#);
    }
    let _ = write!(
        o,
        r#"</select></label><label><input type="checkbox" id="op"> open only</label><span class="muted"><span id="shown">{}</span> of {} shown</span><span class="legend muted"><i class="sev critical"></i>critical<i class="sev high"></i>high<i class="sev medium"></i>medium<i class="sev low"></i>low<i class="sev info"></i>info<i style="outline:2px solid #68d391;outline-offset:-2px"></i>accepted</span></div>"#,
        r.differences.len(),
        r.differences.len()
    );
    let _ = write!(
        o,
        r#"<div class="wrap"><table class="m" id="m"><thead><tr><th class="id">difference</th><th class="n" title="targets where it is open">targets</th>"#
    );
    for t in &r.targets {
        let _ = write!(
            o,
            r#"<th class="t" title="{}"><span>{}</span></th>"#,
            esc(&t.name),
            esc(&t.name)
        );
    }
    o.push_str("</tr></thead><tbody>");
    let col: std::collections::HashMap<&str, usize> = r
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    let mut row: Vec<Option<&super::Cell>> = vec![None; r.targets.len()];
    for d in &r.differences {
        row.iter_mut().for_each(|c| *c = None);
        for c in &d.cells {
            if let Some(i) = col.get(c.target.as_str()) {
                row[*i] = Some(c);
            }
        }
        let text = format!("{} {} {}", d.id, d.object, d.message).to_lowercase();
        let _ = write!(
            o,
            r#"<tr data-sev="{}" data-cat="{}" data-open="{}" data-text="{}"><td class="id" title="{}"><span class="sev {}">{}</span> {}</td><td class="n" data-v="{}">{}</td>"#,
            level(d.severity),
            d.category.name(),
            d.open,
            esc(&text),
            esc(&format!(
                "{}\n{}\nwhy: {}\nhint: {}",
                d.id, d.message, d.why, d.hint
            )),
            d.severity,
            d.severity,
            esc(&d.id),
            d.open,
            d.open
        );
        for (i, c) in row.iter().enumerate() {
            match c {
                None => o.push_str(r#"<td class="c" data-v="-1"></td>"#),
                Some(c) => {
                    let open = c.status.is_open();
                    let _ = write!(
                        o,
                        r#"<td class="c s{}{}" data-v="{}" title="{}: {} ({}) — {}"><i></i></td>"#,
                        level(c.severity),
                        if open { "" } else { " acc" },
                        if open { level(c.severity) as f64 } else { -0.5 },
                        esc(&r.targets[i].name),
                        c.severity,
                        c.status_word(),
                        esc(c.message.as_deref().unwrap_or(&d.message))
                    );
                }
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table></div>");

    // The targets, ranked.
    let _ = write!(
        o,
        r#"<h2>Targets, farthest from the reference first</h2><table class="l"><thead><tr><th>target</th><th>server</th><th>critical</th><th>high</th><th>medium</th><th>low</th><th>info</th><th>accepted</th><th>note</th></tr></thead><tbody>"#
    );
    for t in &r.targets {
        let server = t
            .side
            .as_ref()
            .map(|s| format!("{} · {}", s.server_version, s.target))
            .unwrap_or_default();
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"muted\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.name),
            esc(&server),
            t.open[0],
            t.open[1],
            t.open[2],
            t.open[3],
            t.open[4],
            t.accepted,
            esc(&t
                .error
                .clone()
                .unwrap_or_else(|| t.problems.join("; ")))
        );
    }
    o.push_str("</tbody></table>");

    // Each difference in words.
    o.push_str("<h2>Differences</h2>");
    for d in &r.differences {
        let _ = write!(
            o,
            r#"<div class="card"><span class="sev {}">{}</span> <code>{}</code><div>{}</div><div class="muted">{}</div><div class="muted">why: {}</div><div class="muted"><i>hint: {}</i></div></div>"#,
            d.severity,
            d.severity,
            esc(&d.id),
            esc(&d.message),
            esc(&r.spread(d, 50)),
            esc(&d.why),
            esc(&d.hint)
        );
    }
    if !r.unused_acceptances.is_empty() {
        let _ = write!(
            o,
            r#"<h2>Acceptances that matched nothing</h2><p><code>{}</code></p>"#,
            esc(&r.unused_acceptances.join(", "))
        );
    }
    let _ = writeln!(o, "<script>{SCRIPT}</script></body></html>");
    o
}
