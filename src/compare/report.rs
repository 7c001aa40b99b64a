//! `compare.md` and `compare.json`: one row per run, and the notes that say what
//! each column measures.

use std::fmt::Write as _;

use super::run::RunResult;

/// What was compared, and every run's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// The corpus inputs as given.
    pub corpus: Vec<String>,
    /// The truth file.
    pub truth: String,
    /// `article` or `paragraph`.
    pub unit: String,
    /// Input bytes.
    pub input_bytes: u64,
    /// Worker threads.
    pub threads: usize,
    /// One entry per run, in grid order.
    pub runs: Vec<RunResult>,
    /// Plot files written (relative to the output folder).
    pub plots: Vec<String>,
    /// Why plots are missing, if they are.
    pub plot_note: Option<String>,
}

fn opt(value: Option<f64>) -> String {
    value.map_or("–".into(), |v| format!("{v:.3}"))
}

/// The markdown table row of one run.
pub fn table_row(r: &RunResult) -> String {
    let lsh = r.lsh.map_or("–".into(), |(b, rows)| format!("{b}×{rows}"));
    let rss = r.peak_rss_bytes.map_or("–".into(), |b| {
        format!("{:.1}", b as f64 / (1024.0 * 1024.0))
    });
    format!(
        "| {} | {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {} | {} | {:.1} | {:.3} | {} |",
        r.run,
        r.algo,
        r.settings,
        lsh,
        r.eval.precision,
        r.eval.recall,
        r.eval.f1,
        r.eval.ari,
        opt(r.recall_05_07),
        opt(r.recall_ge_09),
        r.sketch_mb_per_s,
        r.total_seconds,
        rss
    )
}

/// The whole `compare.md`.
pub fn markdown(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# neardedup compare\n");
    let _ = writeln!(
        out,
        "Corpus {} ({} bytes), truth {}, unit {}, {} thread(s), {} run(s).\n",
        summary.corpus.join(", "),
        summary.input_bytes,
        summary.truth,
        summary.unit,
        summary.threads,
        summary.runs.len()
    );
    if let Some(first) = summary.runs.first() {
        let e = &first.eval;
        let _ = writeln!(
            out,
            "Truth: {} units in {} clusters, {} true pairs; (original, derived) pairs \
             with true Jaccard in [0.5, 0.7): {}, >= 0.9: {}.\n",
            e.units,
            e.truth_clusters,
            e.pairs.together_in_truth,
            e.buckets.buckets[5].pairs + e.buckets.buckets[6].pairs,
            e.buckets.from_bucket(9).pairs
        );
    }
    out.push_str(
        "| run | algo | settings | LSH b×r | P | R | F1 | ARI | R J0.5–0.7 | R J≥0.9 | sketch MB/s | seconds | peak RSS MiB |\n\
         | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in &summary.runs {
        out.push_str(&table_row(r));
        out.push('\n');
    }
    out.push_str(
        "\n- **P, R, F1**: pair precision, recall and F1 over all pairs of units placed \
         together (star clusters around kept units, or connected components of the \
         verified edges for runs marked `components`); **ARI**: \
         adjusted Rand index.\n\
         - **R J0.5–0.7**, **R J≥0.9**: share of the truth's (original, derived) pairs, \
         by their true word-5-gram Jaccard, whose two units share a predicted cluster.\n\
         - **sketch MB/s**: input bytes / seconds of the read+sketch stage; **seconds**: \
         wall time of the whole in-process pipeline run (scoring excluded).\n\
         - **peak RSS**: the process's resident-memory high-water mark during the run, \
         reset before each run through `/proc/self/clear_refs`; it includes what stays \
         resident between runs (truth, mapped corpus, earlier results).",
    );
    if summary.runs.iter().any(|r| !r.peak_rss_reset) {
        out.push_str(" The reset was refused here, so the figures are running process-wide peaks.");
    }
    out.push_str(
        "\n- **S-curve** (MinHash): for each (original, derived) truth pair, the exact \
         Jaccard of the two shingle sets under the run's shingling and whether their \
         signatures share an LSH band; points are bin rates with ±2σ binomial error \
         bars, the line is `1 - (1 - s^r)^b`.\n",
    );
    if !summary.plots.is_empty() {
        out.push_str("\n## Plots\n\n");
        for p in summary.plots.iter().filter(|p| p.ends_with(".svg")) {
            let _ = writeln!(out, "![{p}]({p})\n");
        }
    }
    if let Some(note) = &summary.plot_note {
        let _ = writeln!(out, "\nPlots: {note}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::run::run_one;
    use crate::corpus::{Corpus, CorpusOptions};
    use crate::eval::load_truth;
    use crate::pipeline::{Algo, DedupConfig};

    /// A tiny corpus: `a` and its exact copy `a2`, and an unrelated `b`.
    fn tiny() -> (tempfile::TempDir, Corpus, crate::eval::Truth) {
        let dir = tempfile::tempdir().expect("temp dir");
        let corpus = dir.path().join("corpus.jsonl");
        let truth = dir.path().join("truth.jsonl");
        let a = "the quick brown fox jumps over the lazy dog near the river bank today";
        let b = "완전히 다른 문장으로 이루어진 한국어 단락은 어떤 것과도 겹치지 않는다 정말로";
        std::fs::write(
            &corpus,
            format!(
                "{{\"id\":\"a\",\"text\":\"{a}\"}}\n{{\"id\":\"a2\",\"text\":\"{a}\"}}\n{{\"id\":\"b\",\"text\":\"{b}\"}}\n"
            ),
        )
        .expect("write corpus");
        std::fs::write(
            &truth,
            "{\"id\":\"a\",\"cluster\":\"a\",\"jaccard\":1.0,\"edit\":\"original\"}\n\
             {\"id\":\"a2\",\"cluster\":\"a\",\"jaccard\":1.0,\"edit\":\"copy\"}\n\
             {\"id\":\"b\",\"cluster\":\"b\",\"jaccard\":1.0,\"edit\":\"original\"}\n",
        )
        .expect("write truth");
        let options = CorpusOptions {
            id_field: Some("id".into()),
            ..CorpusOptions::default()
        };
        let corpus = Corpus::open(&[corpus], options).expect("open corpus");
        let truth = load_truth(&truth).expect("load truth");
        (dir, corpus, truth)
    }

    #[test]
    fn rows_carry_algorithm_settings_and_scores() {
        let (_dir, corpus, truth) = tiny();
        let exact = DedupConfig {
            algo: Algo::Exact,
            ..DedupConfig::default()
        };
        let r = run_one(&corpus, &truth, &exact, 1).expect("exact run");
        let row = table_row(&r);
        assert!(
            row.starts_with(
                "| 1 | exact | normalised text | – | 1.0000 | 1.0000 | 1.0000 | 1.0000 | – | 1.000 |"
            ),
            "{row}"
        );
        let minhash = DedupConfig::default();
        let r = run_one(&corpus, &truth, &minhash, 2).expect("minhash run");
        let row = table_row(&r);
        assert!(
            row.starts_with("| 2 | minhash | t=0.9 k=128 word-4 verify=exact | 7×18 | 1.0000 | 1.0000 | 1.0000 | 1.0000 | – | 1.000 |"),
            "{row}"
        );
        // One truth pair (a, a2), identical: it shares every band.
        let collided: u64 = r.scurve.iter().map(|p| p.collided).sum();
        let pairs: u64 = r.scurve.iter().map(|p| p.pairs).sum();
        assert_eq!((pairs, collided), (1, 1));
        let cells = row.split('|').count();
        let summary = Summary {
            corpus: vec!["corpus.jsonl".into()],
            truth: "truth.jsonl".into(),
            unit: "article".into(),
            input_bytes: r.input_bytes,
            threads: 1,
            runs: vec![r],
            plots: vec!["time.svg".into(), "time.png".into()],
            plot_note: None,
        };
        let md = markdown(&summary);
        let header = md
            .lines()
            .find(|l| l.starts_with("| run |"))
            .expect("table header");
        assert_eq!(header.split('|').count(), cells);
        assert!(md.contains("![time.svg](time.svg)"));
        assert!(!md.contains("time.png)"));
    }
}
