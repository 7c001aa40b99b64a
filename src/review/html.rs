//! The review page: one self-contained HTML file.
//!
//! Everything is inline (CSS, a small script, bar charts as sized `div`s) and a
//! Content-Security-Policy forbids loading anything else, so the page opens the
//! same from a laptop, a mail attachment or a machine without network. All text
//! from the corpus and the run is escaped. Pairs are rendered in the HTML itself;
//! the script only adds navigation and per-pair counts, and marks the page
//! `data-review-ready="true"` when done (errors are written into the page as
//! `#review-error`), which is what the browser test looks for.

use std::fmt::Write as _;

use super::diff::{diff, Piece};
use super::run::{Pair, PairSource, Run, UnitRef};
use super::sample::Band;

/// Characters of each text shown (and diffed); longer texts are cut with a note,
/// so a page of a few hundred pairs stays a few megabytes at most.
pub const MAX_SHOWN_CHARS: usize = 3_000;

/// One sampled pair and what is shown of it.
#[derive(Debug)]
pub struct ShownPair<'a> {
    /// The pair.
    pub pair: &'a Pair,
    /// Left text (`None` when the unit is not in the run's inputs).
    pub left: Option<&'a str>,
    /// Right text.
    pub right: Option<&'a str>,
}

/// One band with its sampled pairs.
#[derive(Debug)]
pub struct ShownBand<'a> {
    /// The band.
    pub band: Band,
    /// Pairs of the run in the band.
    pub total: usize,
    /// The sample shown.
    pub pairs: Vec<ShownPair<'a>>,
}

/// What the page is asked to show besides the run.
#[derive(Debug)]
pub struct PageOptions {
    /// Pairs drawn per band.
    pub sample: usize,
    /// Seed of the draw.
    pub seed: u64,
}

/// Renders the whole page.
pub fn render(run: &Run, bands: &[ShownBand<'_>], options: &PageOptions) -> String {
    let mut out = String::with_capacity(64 << 10);
    let title = format!("neardedup review: {}", run.dir.display());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n<script>{ERROR_SCRIPT}</script>\n\
         </head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    summary(&mut out, run);
    cluster_histogram(&mut out, run);
    similarity_histogram(&mut out, run);
    pairs(&mut out, run, bands, options);
    let _ = write!(out, "<script>{PAGE_SCRIPT}</script>\n</body>\n</html>\n");
    out
}

fn summary(out: &mut String, run: &Run) {
    let r = &run.report;
    let p = &r.parameters;
    let unit = match p.unit {
        crate::pipeline::UnitKind::Article => "article".to_string(),
        crate::pipeline::UnitKind::Paragraph => format!(
            "paragraph (separator: {}, min. {} chars)",
            match p.para_sep {
                crate::corpus::ParaSep::Line => "line",
                crate::corpus::ParaSep::Blank => "blank line",
            },
            p.min_para_chars
        ),
    };
    let c = &r.counts;
    let removed = if c.units == 0 {
        0.0
    } else {
        100.0 * c.duplicate_units as f64 / c.units as f64
    };
    let rows: [(&str, String); 9] = [
        ("algorithm", p.algo.clone()),
        ("threshold", format!("{}", p.threshold)),
        ("unit", unit),
        ("records", group(c.records)),
        ("units", group(c.units)),
        (
            "clusters",
            format!(
                "{} ({} with duplicates)",
                group(c.clusters),
                group(c.duplicate_clusters)
            ),
        ),
        (
            "duplicates removed",
            format!(
                "{} units ({removed:.1}% of units, {:.1}% of unit bytes)",
                group(c.duplicate_units),
                100.0 * r.duplicate_bytes_fraction
            ),
        ),
        ("verified duplicate edges", group(c.edges)),
        (
            "inputs",
            r.inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"kv\">\n");
    for (name, value) in rows {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name),
            escape(&value)
        );
    }
    out.push_str("</table>\n</section>\n");
}

/// Cluster-size buckets: sizes 1 to 9 alone, then wider ranges.
const SIZE_BUCKETS: [(u32, u32); 14] = [
    (1, 1),
    (2, 2),
    (3, 3),
    (4, 4),
    (5, 5),
    (6, 6),
    (7, 7),
    (8, 8),
    (9, 9),
    (10, 19),
    (20, 49),
    (50, 99),
    (100, 999),
    (1000, u32::MAX),
];

fn cluster_histogram(out: &mut String, run: &Run) {
    let mut clusters = [0u64; SIZE_BUCKETS.len()];
    let mut units = [0u64; SIZE_BUCKETS.len()];
    for &size in run.cluster_sizes.values() {
        let b = SIZE_BUCKETS
            .iter()
            .position(|&(lo, hi)| size >= lo && size <= hi)
            .unwrap_or(SIZE_BUCKETS.len() - 1);
        clusters[b] += 1;
        units[b] += u64::from(size);
    }
    let last = clusters.iter().rposition(|&c| c > 0).unwrap_or(0);
    let rows: Vec<(String, u64, String)> = (0..=last)
        .map(|b| {
            let (lo, hi) = SIZE_BUCKETS[b];
            let label = match (lo, hi) {
                (lo, hi) if lo == hi => lo.to_string(),
                (lo, u32::MAX) => format!("{lo}+"),
                (lo, hi) => format!("{lo}–{hi}"),
            };
            (label, clusters[b], format!("{} units", group(units[b])))
        })
        .collect();
    out.push_str(
        "<section id=\"cluster-sizes\">\n<h2>Cluster sizes</h2>\n\
         <p class=\"note\">Clusters by number of units (singletons are units with no \
         duplicate).</p>\n",
    );
    bars(out, "size", "clusters", &rows);
    out.push_str("</section>\n");
}

fn similarity_histogram(out: &mut String, run: &Run) {
    let what = match run.source {
        PairSource::KeptUnit => "of each duplicate to the unit kept in its place",
        PairSource::Edges => "of the verified duplicate edges (pairs.jsonl)",
    };
    let _ = write!(
        out,
        "<section id=\"similarity\">\n<h2>Similarity</h2>\n<p class=\"note\">Similarity {}: \
         {} pairs.</p>\n",
        escape(what),
        group(run.pairs.len() as u64)
    );
    if run.pairs.is_empty() {
        out.push_str("<p>No duplicate pairs.</p>\n</section>\n");
        return;
    }
    // Twentieths from the lowest one present, and exact copies apart.
    const BINS: usize = 20;
    let mut counts = [0u64; BINS + 1];
    for pair in &run.pairs {
        let s = pair.similarity;
        let bin = if s >= 1.0 {
            BINS
        } else {
            ((s.max(0.0) * BINS as f32) as usize).min(BINS - 1)
        };
        counts[bin] += 1;
    }
    let first = counts
        .iter()
        .position(|&c| c > 0)
        .unwrap_or(0)
        .min(BINS - 1);
    let rows: Vec<(String, u64, String)> = (first..=BINS)
        .map(|b| {
            let label = if b == BINS {
                "1.0".to_string()
            } else {
                format!(
                    "{:.2}–{:.2}",
                    b as f64 / BINS as f64,
                    (b + 1) as f64 / BINS as f64
                )
            };
            (label, counts[b], String::new())
        })
        .collect();
    bars(out, "similarity", "pairs", &rows);
    out.push_str("</section>\n");
}

/// A table of horizontal bars: label, bar, count, extra.
fn bars(out: &mut String, label: &str, count: &str, rows: &[(String, u64, String)]) {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let _ = writeln!(
        out,
        "<table class=\"bars\"><tr><th>{}</th><th></th><th>{}</th><th></th></tr>",
        escape(label),
        escape(count)
    );
    for (name, value, extra) in rows {
        // Sized by the square root so that a few large bins do not flatten the rest.
        let width = if *value == 0 {
            0.0
        } else {
            (0.5 + 99.5 * (*value as f64).sqrt() / (max as f64).sqrt()).min(100.0)
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"label\">{}</td><td class=\"track\"><div class=\"bar\" \
             style=\"width:{width:.1}%\"></div></td><td class=\"count\">{}</td>\
             <td class=\"extra\">{}</td></tr>",
            escape(name),
            group(*value),
            escape(extra)
        );
    }
    out.push_str("</table>\n");
}

fn pairs(out: &mut String, run: &Run, bands: &[ShownBand<'_>], options: &PageOptions) {
    let (left_name, right_name) = match run.source {
        PairSource::KeptUnit => ("kept unit", "duplicate"),
        PairSource::Edges => ("earlier unit", "later unit"),
    };
    let shown: usize = bands.iter().map(|b| b.pairs.len()).sum();
    let _ = write!(
        out,
        "<section id=\"pairs\">\n<h2>Sampled pairs</h2>\n<p class=\"note\">Up to {} pairs \
         per similarity band (seed {}), {} in all. Left: the {}; right: the {}. Words that \
         differ are <span class=\"chg-l\">highlighted</span> on the left and \
         <span class=\"chg-r\">highlighted</span> on the right. Texts longer than {} \
         characters are cut.</p>\n<nav id=\"band-nav\"></nav>\n",
        options.sample,
        options.seed,
        shown,
        left_name,
        right_name,
        group(MAX_SHOWN_CHARS as u64)
    );
    for (b, shown_band) in bands.iter().enumerate() {
        if shown_band.total == 0 {
            continue;
        }
        let label = shown_band.band.label();
        let _ = write!(
            out,
            "<section class=\"band\" id=\"band-{b}\" data-label=\"{}\" data-total=\"{}\">\n\
             <h3>Similarity {} <span class=\"note\">{} pairs, {} shown</span></h3>\n",
            escape(&label),
            shown_band.total,
            escape(&label),
            group(shown_band.total as u64),
            shown_band.pairs.len()
        );
        for (k, shown) in shown_band.pairs.iter().enumerate() {
            pair(
                out,
                run,
                &format!("pair-{b}-{k}"),
                shown,
                (left_name, right_name),
            );
        }
        out.push_str("</section>\n");
    }
    out.push_str("</section>\n");
}

fn pair(out: &mut String, run: &Run, id: &str, shown: &ShownPair<'_>, names: (&str, &str)) {
    let p = shown.pair;
    let _ = write!(
        out,
        "<article class=\"pair\" id=\"{id}\" data-similarity=\"{:.4}\">\n\
         <div class=\"meta\">similarity <b>{:.3}</b> · cluster of {} units</div>\n\
         <div class=\"sides\">\n",
        p.similarity,
        p.similarity,
        group(u64::from(run.cluster_size(&p.right)))
    );
    let (left, left_note) = cap(shown.left);
    let (right, right_note) = cap(shown.right);
    let d = diff(left.unwrap_or(""), right.unwrap_or(""));
    side(
        out,
        run,
        "left",
        names.0,
        &p.left,
        left.map(|_| &d.left[..]),
        left_note,
    );
    side(
        out,
        run,
        "right",
        names.1,
        &p.right,
        right.map(|_| &d.right[..]),
        right_note,
    );
    out.push_str("</div>\n</article>\n");
}

fn side(
    out: &mut String,
    run: &Run,
    class: &str,
    name: &str,
    unit: &UnitRef,
    pieces: Option<&[Piece<'_>]>,
    note: Option<String>,
) {
    let role = match run.is_kept(unit) {
        Some(true) => "kept",
        Some(false) => "duplicate",
        None => "not in this run's inputs",
    };
    let para = unit
        .para
        .map(|p| format!(" <span class=\"para\">¶ {p}</span>"))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<div class=\"side {class}\">\n<div class=\"who\">{} · id <code>{}</code>{para} \
         <span class=\"role\">({})</span></div>\n<div class=\"text\">",
        escape(name),
        escape(&unit.id_text()),
        escape(role)
    );
    let highlight = if class == "left" { "chg-l" } else { "chg-r" };
    match pieces {
        None => out.push_str("<i>text not available: this unit is not in the run's inputs</i>"),
        Some(pieces) => {
            let mut open = false;
            for piece in pieces {
                if piece.changed != open {
                    out.push_str(if piece.changed {
                        "<span class=\"chg "
                    } else {
                        "</span>"
                    });
                    if piece.changed {
                        out.push_str(highlight);
                        out.push_str("\">");
                    }
                    open = piece.changed;
                }
                out.push_str(&escape(piece.text));
            }
            if open {
                out.push_str("</span>");
            }
        }
    }
    out.push_str("</div>\n");
    if let Some(note) = note {
        let _ = writeln!(out, "<div class=\"note cut\">{}</div>", escape(&note));
    }
    out.push_str("</div>\n");
}

/// The first [`MAX_SHOWN_CHARS`] characters of `text`, and a note when cut.
fn cap(text: Option<&str>) -> (Option<&str>, Option<String>) {
    let Some(text) = text else {
        return (None, None);
    };
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        None => (Some(text), None),
        Some((end, _)) => (
            Some(&text[..end]),
            Some(format!(
                "showing the first {} of {} characters",
                group(MAX_SHOWN_CHARS as u64),
                group(text.chars().count() as u64)
            )),
        ),
    }
}

/// `text` with the five HTML-significant characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` as `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const STYLE: &str = r##"
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; color: #1d1d1f; background: #fff; line-height: 1.45; }
h1 { font-size: 1.4em; word-break: break-all; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.6em; }
h3 { font-size: 1.05em; margin: 1.4em 0 .5em; }
.note { color: #666; font-size: .9em; font-weight: normal; }
table.kv th { text-align: left; padding: .15em 1em .15em 0; color: #444; font-weight: 600; vertical-align: top; }
table.kv td { word-break: break-all; }
table.bars { border-collapse: collapse; width: 100%; max-width: 900px; }
table.bars th { text-align: left; font-weight: 600; color: #444; font-size: .9em; }
table.bars td { padding: 1px .5em 1px 0; font-size: .9em; }
table.bars td.label { white-space: nowrap; width: 7em; font-variant-numeric: tabular-nums; }
table.bars td.track { width: 70%; }
table.bars td.count { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.bars td.extra { color: #666; white-space: nowrap; }
.bar { background: #4a7fc1; height: 1em; min-width: 0; }
#band-nav a { display: inline-block; margin: 0 .6em .3em 0; padding: .1em .5em; border: 1px solid #c9d6e8; border-radius: 3px; text-decoration: none; color: #24528f; font-size: .9em; }
.pair { border: 1px solid #ddd; border-radius: 4px; margin: 0 0 1em; padding: .5em .7em; }
.pair:target, .pair.current { border-color: #4a7fc1; box-shadow: 0 0 0 2px #c9d6e8; }
.meta { font-size: .9em; color: #444; margin-bottom: .4em; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: .8em; }
.who { font-size: .85em; color: #444; margin-bottom: .3em; word-break: break-all; }
.who code { background: #f3f3f3; padding: 0 .25em; }
.role { color: #777; }
.text { white-space: pre-wrap; word-break: break-word; background: #fafafa; border: 1px solid #eee; padding: .4em .5em; font-size: .95em; }
.chg { border-radius: 2px; }
.chg-l { background: #ffd7d5; text-decoration: line-through; text-decoration-color: #c0392b; }
.chg-r { background: #c8f0cf; }
.counts { color: #666; font-size: .85em; margin-left: .5em; }
#review-error { color: #b00; white-space: pre-wrap; }
"##;

/// Records script errors in the page, before anything else runs.
const ERROR_SCRIPT: &str = r##"
window.onerror = function (message, source, line, column) {
  var box = document.createElement("pre");
  box.id = "review-error";
  box.textContent = "script error: " + message + " (line " + line + ":" + column + ")";
  (document.body || document.documentElement).appendChild(box);
  return false;
};
"##;

/// Band navigation, per-pair counts of changed words, j/k to move between pairs,
/// then the ready marker.
const PAGE_SCRIPT: &str = r##"
(function () {
  "use strict";
  var nav = document.getElementById("band-nav");
  var bands = document.querySelectorAll("section.band");
  for (var i = 0; i < bands.length; i++) {
    var link = document.createElement("a");
    link.href = "#" + bands[i].id;
    link.textContent = bands[i].getAttribute("data-label") + " (" + bands[i].getAttribute("data-total") + ")";
    nav.appendChild(link);
  }
  var pairs = document.querySelectorAll("article.pair");
  for (var k = 0; k < pairs.length; k++) {
    var left = pairs[k].querySelectorAll(".left .chg").length;
    var right = pairs[k].querySelectorAll(".right .chg").length;
    var span = document.createElement("span");
    span.className = "counts";
    span.textContent = left + right === 0 ? "· texts identical" : "· " + left + " changed passage(s) left, " + right + " right";
    pairs[k].querySelector(".meta").appendChild(span);
  }
  var current = -1;
  document.addEventListener("keydown", function (event) {
    if (event.target && /INPUT|TEXTAREA/.test(event.target.tagName)) return;
    if (event.key !== "j" && event.key !== "k") return;
    if (!pairs.length) return;
    if (current >= 0) pairs[current].classList.remove("current");
    current = event.key === "j" ? Math.min(current + 1, pairs.length - 1) : Math.max(current - 1, 0);
    pairs[current].classList.add("current");
    pairs[current].scrollIntoView({ block: "start" });
  });
  document.documentElement.setAttribute("data-review-ready", "true");
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<b>\"A&B\"</b> 'x' 한국어"),
            "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt; &#39;x&#39; 한국어"
        );
    }

    #[test]
    fn caps_long_texts_on_a_character_boundary() {
        let long = "가".repeat(MAX_SHOWN_CHARS + 10);
        let (shown, note) = cap(Some(&long));
        assert_eq!(shown.expect("text").chars().count(), MAX_SHOWN_CHARS);
        assert_eq!(
            note.as_deref(),
            Some("showing the first 3,000 of 3,010 characters")
        );
        assert_eq!(cap(Some("짧다")), (Some("짧다"), None));
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }
}
