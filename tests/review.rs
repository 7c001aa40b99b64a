//! End-to-end tests of `neardedup review`: a dedup run, then its review page, read
//! as text and, where Chromium is installed, rendered by a real headless browser.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::Value;

fn dataset(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets")
        .join(path)
}

fn neardedup() -> Command {
    Command::cargo_bin("neardedup").expect("binary built")
}

/// The seed article's body paragraphs (each appears twice in the file).
fn body_paragraphs() -> Vec<&'static str> {
    let lines: Vec<&str> = include_str!("../datasets/korean-news-article.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 18, "lead, 8 body paragraphs twice, byline");
    lines[1..9].to_vec()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Reviews the run in `out` and checks the summary line: the seed article's eight
/// duplicates, each shown beside its kept unit.
fn review_shows_eight_pairs(out: &Path) {
    neardedup()
        .arg("review")
        .arg(out)
        .assert()
        .success()
        .stderr(contains("8 of 8 duplicate-to-kept pairs shown"));
}

/// Settings well below the default threshold, so that pages have several
/// similarity bands to show.
const LOW_THRESHOLD: [&str; 4] = ["--threshold", "0.3", "--ngram", "3"];

/// Runs paragraph dedup of `input` (a copy of the seed article unless given)
/// into `dir/out` and returns the output folder.
fn dedup_paragraphs(dir: &Path, input: &Path) -> PathBuf {
    let out = dir.join("out");
    neardedup()
        .args(["dedup", "--unit", "paragraph"])
        .args(LOW_THRESHOLD)
        .args(["--quiet", "--out"])
        .arg(&out)
        .arg(input)
        .assert()
        .success();
    out
}

fn assert_self_contained(html: &str) {
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
        "src=\"//",
        "href=\"//",
    ] {
        assert!(!html.contains(external), "page loads {external}...");
    }
    assert!(html.contains("Content-Security-Policy"));
}

#[test]
fn review_of_the_seed_article_shows_the_eight_pairs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dedup_paragraphs(dir.path(), &dataset("korean-news-article.txt"));
    review_shows_eight_pairs(&out);
    let page = out.join("review.html");
    let html = std::fs::read_to_string(&page).expect("review.html written");
    assert_self_contained(&html);
    assert!(
        !html.contains("data-review-ready=\"true\""),
        "only the page's script sets the ready marker"
    );
    for paragraph in body_paragraphs() {
        let escaped = escape(paragraph);
        assert_eq!(
            html.matches(&escaped).count(),
            2,
            "each body paragraph shown left and right, escaped: {paragraph}"
        );
    }
    assert!(html.contains("1.0 (exact)"), "the band of exact copies");
    assert_eq!(html.matches("<article class=\"pair\"").count(), 8);
    assert!(
        !html.contains("class=\"chg chg-"),
        "exact copies have no highlighted words"
    );
    for summary in [
        "minhash",
        "paragraph",
        "duplicates removed",
        "Cluster sizes",
    ] {
        assert!(html.contains(summary), "summary shows {summary}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .expect("read out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // Same seed, same page; --out puts it elsewhere.
    let again = dir.path().join("again.html");
    neardedup()
        .arg("review")
        .arg(&out)
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&again).expect("again"), html);
}

#[test]
fn review_of_a_jsonl_corpus_highlights_changed_words_in_several_bands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    neardedup()
        .args(["dedup", "--id-field", "id"])
        .args(LOW_THRESHOLD)
        .args(["--quiet", "--out"])
        .arg(&out)
        .arg(dataset("labelled/article/corpus.jsonl"))
        .assert()
        .success();
    let page = dir.path().join("page.html");
    neardedup()
        .arg("review")
        .arg(&out)
        .args(["--sample", "2", "--seed", "9", "--out"])
        .arg(&page)
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).expect("page");
    assert_self_contained(&html);
    let bands = html.matches("<section class=\"band\"").count();
    assert!(bands >= 3, "pairs from several similarity bands ({bands})");
    let pairs = html.matches("<article class=\"pair\"").count();
    assert!(
        pairs <= 2 * bands && pairs >= bands,
        "{pairs} pairs in {bands} bands"
    );
    assert!(html.contains("class=\"chg chg-l\""), "removed words marked");
    assert!(html.contains("class=\"chg chg-r\""), "added words marked");
    assert!(html.contains("doc-"), "ids shown");
}

#[test]
fn a_distributed_run_reviews_like_a_single_process_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dataset("labelled/article/corpus.jsonl");
    let single = dir.path().join("single");
    let parts = dir.path().join("parts");
    for (out, extra) in [
        (&single, &[][..]),
        (
            &parts,
            &["--processes", "1", "--process", "0", "--workers", "2"][..],
        ),
    ] {
        neardedup()
            .args(["dedup", "--id-field", "id", "--quiet"])
            .args(extra)
            .arg("--out")
            .arg(out)
            .arg(&corpus)
            .assert()
            .success();
        neardedup()
            .arg("review")
            .arg(out)
            .args(["--sample", "3"])
            .assert()
            .success();
    }
    assert!(parts.join("clusters-00001-of-00002.jsonl").exists());
    let page = |out: &Path| {
        std::fs::read_to_string(out.join("review.html"))
            .expect("page")
            .replace(&out.display().to_string(), "RUN")
    };
    assert_eq!(page(&parts), page(&single));
}

#[test]
fn kept_units_named_in_clusters_are_preferred_over_edges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dedup_paragraphs(dir.path(), &dataset("korean-news-article.txt"));
    // Each duplicate names its kept unit; give every one similarity 0.75 and drop
    // pairs.jsonl, so the page can only have taken its pairs from `kept`.
    let path = out.join("clusters.jsonl");
    let lines: Vec<Value> = std::fs::read_to_string(&path)
        .expect("clusters")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let mut rewritten = String::new();
    for line in &lines {
        let mut line = line.clone();
        if line["duplicate"] == true {
            let kept = &lines[line["cluster"].as_u64().expect("label") as usize];
            line["kept"] = serde_json::json!({"id": kept["id"], "para": kept["para"]});
            line["similarity"] = serde_json::json!(0.75);
        }
        rewritten.push_str(&line.to_string());
        rewritten.push('\n');
    }
    std::fs::write(&path, rewritten).expect("rewrite");
    std::fs::remove_file(out.join("pairs.jsonl")).expect("pairs no longer needed");
    review_shows_eight_pairs(&out);
    let html = std::fs::read_to_string(out.join("review.html")).expect("page");
    assert!(html.contains("Similarity [0.70, 0.80)"));
    assert!(html.contains("kept unit · id"));
    assert_eq!(html.matches("<article class=\"pair\"").count(), 8);
}

#[test]
fn bad_run_folders_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    neardedup()
        .arg("review")
        .arg(dir.path().join("missing"))
        .assert()
        .failure()
        .code(1)
        .stderr(contains("neardedup: error:"))
        .stderr(contains("missing"));
    neardedup()
        .arg("review")
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(contains("no report.json"));
}

#[test]
fn a_changed_or_missing_input_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("article.txt");
    std::fs::copy(dataset("korean-news-article.txt"), &input).expect("copy");
    let out = dedup_paragraphs(dir.path(), &input);
    let mut bytes = std::fs::read(&input).expect("read");
    bytes.extend_from_slice("추가 문단\n".as_bytes());
    std::fs::write(&input, &bytes).expect("append");
    neardedup()
        .arg("review")
        .arg(&out)
        .assert()
        .failure()
        .code(1)
        .stderr(contains("article.txt"))
        .stderr(contains("input changed since the run"));
    std::fs::remove_file(&input).expect("remove");
    neardedup()
        .arg("review")
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("article.txt"))
        .stderr(contains("input of the run is gone"));
    assert!(!out.join("review.html").exists());
}

/// The Chromium binary, if installed.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Renders `page` in headless Chromium and returns the DOM after scripts ran.
fn dump_dom(browser: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let output = StdCommand::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("DOM is UTF-8")
}

#[test]
fn the_page_renders_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        assert!(
            !on_ci(),
            "CI is set but Chromium is not installed: .ci/run installs it \
             (apt-get install chromium)"
        );
        eprintln!(
            "skipped: Chromium not installed (apt-get install chromium); set CI=true to require it"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dedup_paragraphs(dir.path(), &dataset("korean-news-article.txt"));
    neardedup().arg("review").arg(&out).assert().success();
    let page = std::fs::canonicalize(out.join("review.html")).expect("page");
    let dom = dump_dom(&browser, &page);
    assert!(
        dom.contains("data-review-ready=\"true\""),
        "the page script finished: {}",
        &dom[..dom.len().min(2000)]
    );
    assert!(
        !dom.contains("<pre id=\"review-error\""),
        "no script error: {dom}"
    );
    assert_eq!(dom.matches("<article class=\"pair\"").count(), 8);
    for paragraph in body_paragraphs() {
        // A serialised DOM escapes only `&`, `<` and `>` in text.
        let serialised = paragraph
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(dom.contains(&serialised), "{paragraph}");
    }
    // The script's own additions are there: band links and per-pair counts.
    assert!(dom.contains("href=\"#band-7\""), "band navigation built");
    assert_eq!(dom.matches("texts identical</span>").count(), 8);
}
