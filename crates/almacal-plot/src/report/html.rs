//! The report page: inline CSS, no scripts, no network resources.

use super::gather::{ReportData, StageInfo};
use crate::qa::category;
use std::fmt::Write;

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

const CSS: &str = "
body{font-family:'DejaVu Sans',Arial,sans-serif;margin:24px;color:#222;max-width:1300px}
h1{margin-bottom:4px} h2{margin-top:36px;border-bottom:1px solid #ccc;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:14px}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;color:#fff;font-size:13px;font-weight:bold}
.good{background:#2e7d32} .suboptimal{background:#1565c0} .warning{background:#ef8f00} .error{background:#c62828}
.none{background:#9e9e9e} .ran{color:#2e7d32} .cached{color:#1565c0} .failed{color:#c62828;font-weight:bold} .skipped{color:#777}
.thumbs{display:flex;flex-wrap:wrap;gap:10px} .thumbs figure{margin:0;width:310px} .thumbs img{width:300px;border:1px solid #ccc}
.thumbs figcaption{font-size:11px;color:#555} pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px;max-height:260px}
.meta{color:#555;font-size:14px} .note{color:#c62828}
";

fn badge(score: Option<f64>) -> String {
    match score {
        Some(s) => format!(
            "<span class=\"badge {c}\">{s:.2} {c}</span>",
            c = category(s)
        ),
        None => "<span class=\"badge none\">not scored</span>".into(),
    }
}

fn summary_table(d: &ReportData, o: &mut String) {
    o.push_str("<table><tr><th>stage</th><th>task</th><th>status</th><th>time (s)</th><th>QA</th><th>from metric</th></tr>\n");
    for s in &d.stages {
        let worst = s
            .metrics
            .iter()
            .min_by(|a, b| a.score.total_cmp(&b.score))
            .map_or_else(
                || {
                    if s.status == "failed" {
                        "stage failed".into()
                    } else {
                        String::new()
                    }
                },
                |m| format!("{}: {:.3} {}", m.name, m.value, m.unit),
            );
        let _ = writeln!(
            o,
            "<tr><td><a href=\"#stage-{n}\">{n}</a></td><td>{t}</td><td class=\"{st}\">{st}</td><td class=\"num\">{w:.2}</td><td>{b}</td><td>{m}</td></tr>",
            n = esc(&s.name),
            t = esc(&s.task),
            st = esc(&s.status),
            w = s.wall_s,
            b = badge(s.score),
            m = esc(&worst)
        );
    }
    o.push_str("</table>\n");
}

fn flux_table(d: &ReportData, o: &mut String) {
    o.push_str("<h2 id=\"fluxscale\">Flux scale</h2>\n");
    if d.flux.is_empty() {
        o.push_str("<p class=\"meta\">No fluxscale results in this run.</p>\n");
        return;
    }
    o.push_str("<table><tr><th>field</th><th>spw</th><th>flux density (Jy)</th><th>error (Jy)</th><th>error (%)</th><th>solutions</th></tr>\n");
    for r in &d.flux {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.2}</td><td class=\"num\">{}</td></tr>",
            esc(&r.field),
            esc(&r.spw),
            r.flux_jy,
            r.err_jy,
            100.0 * r.err_jy / r.flux_jy,
            r.nsol
        );
    }
    o.push_str("</table>\n");
}

fn flag_table(d: &ReportData, o: &mut String) {
    o.push_str("<h2 id=\"flags\">Flag summary per stage</h2>\n");
    let rows: Vec<&StageInfo> = d.stages.iter().filter(|s| s.flags.is_some()).collect();
    if rows.is_empty() {
        o.push_str("<p class=\"meta\">No stage reported flag counts.</p>\n");
        return;
    }
    o.push_str("<table><tr><th>stage</th><th>task</th><th>cells flagged</th><th>of cells</th><th>fraction</th></tr>\n");
    for s in rows {
        let Some((f, tot)) = s.flags else { continue };
        let (tot_s, frac) = match tot {
            Some(t) if t > 0.0 => (format!("{t:.0}"), format!("{:.1} %", 100.0 * f / t)),
            _ => ("—".into(), "—".into()),
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{f:.0}</td><td class=\"num\">{tot_s}</td><td class=\"num\">{frac}</td></tr>",
            esc(&s.name),
            esc(&s.task)
        );
    }
    o.push_str("</table>\n");
}

fn stage_section(s: &StageInfo, o: &mut String) {
    let _ = writeln!(
        o,
        "<h2 id=\"stage-{n}\">{n} <span class=\"meta\">({t})</span> {b}</h2>",
        n = esc(&s.name),
        t = esc(&s.task),
        b = badge(s.score)
    );
    let _ = writeln!(
        o,
        "<p class=\"meta\">status <span class=\"{st}\">{st}</span> · {w:.2} s · {r}</p>",
        st = esc(&s.status),
        w = s.wall_s,
        r = esc(&s.reason)
    );
    for n in &s.notes {
        let _ = writeln!(o, "<p class=\"note\">{}</p>", esc(n));
    }
    if !s.metrics.is_empty() {
        o.push_str("<table><tr><th>QA metric</th><th>value</th><th>score</th><th>rule</th></tr>\n");
        for m in &s.metrics {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"num\">{:.3} {}</td><td>{}</td><td>{}</td></tr>",
                esc(&m.name),
                m.value,
                esc(&m.unit),
                badge(Some(m.score)),
                esc(&m.rule)
            );
        }
        o.push_str("</table>\n");
    }
    if !s.products.is_empty() {
        o.push_str("<p>Products: ");
        let links: Vec<String> = s
            .products
            .iter()
            .map(|(k, p)| format!("<a href=\"../{p}\">{p}</a> ({k})", p = esc(p), k = esc(k)))
            .collect();
        o.push_str(&links.join(", "));
        o.push_str("</p>\n");
    }
    if !s.plots.is_empty() {
        o.push_str("<div class=\"thumbs\">\n");
        for p in &s.plots {
            let _ = writeln!(
                o,
                "<figure><a href=\"{h}\"><img src=\"{h}\" alt=\"{c}\" loading=\"lazy\"></a><figcaption>{c}</figcaption></figure>",
                h = esc(&p.href),
                c = esc(&p.caption)
            );
        }
        o.push_str("</div>\n");
    }
    if let Some(p) = &s.params {
        let text = serde_json::to_string_pretty(p).unwrap_or_default();
        let _ = writeln!(
            o,
            "<details><summary>parameters</summary><pre>{}</pre></details>",
            esc(&text)
        );
    }
    if let Some(v) = &s.summary {
        let text = serde_json::to_string_pretty(v).unwrap_or_default();
        let _ = writeln!(
            o,
            "<details><summary>stage summary</summary><pre>{}</pre></details>",
            esc(&text)
        );
    }
}

/// The whole page.
pub fn page(d: &ReportData) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>almacal report: {r}</title><style>{CSS}</style></head><body>\n<h1>almacal run report: {r}</h1>\n",
        r = esc(&d.recipe)
    );
    let count = |st: &str| d.stages.iter().filter(|s| s.status == st).count();
    let _ = writeln!(
        o,
        "<p class=\"meta\">almacal {} · run wall time {:.2} s · {} stages: {} ran, {} cached, {} failed, {} skipped · report plots made in {:.2} s</p>",
        esc(&d.almacal_version),
        d.wall_s,
        d.stages.len(),
        count("ran"),
        count("cached"),
        count("failed"),
        count("skipped"),
        d.plot_s
    );
    o.push_str("<p class=\"meta\">QA scores 0–1: &lt; 0.33 <span class=\"badge error\">error</span> &lt; 0.66 <span class=\"badge warning\">warning</span> &lt; 0.9 <span class=\"badge suboptimal\">suboptimal</span> else <span class=\"badge good\">good</span>; a stage's score is its lowest metric.</p>\n");
    summary_table(d, &mut o);
    flux_table(d, &mut o);
    flag_table(d, &mut o);
    for s in &d.stages {
        stage_section(s, &mut o);
    }
    o.push_str("</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
