//! Scoring predicted clusters against a ground truth.
//!
//! Input: a truth ([`load_truth`], e.g. the generator's `truth.jsonl`) and
//! predictions ([`load_predictions`], the CLI's `clusters.jsonl`), both keyed by
//! unit: `(id, para)` with `para` only for paragraph units. [`evaluate`] turns
//! them into two labelings of the truth's units and reports:
//! - pair precision, recall and F1 and the adjusted Rand index, from the
//!   contingency table ([`metrics`]), never by listing pairs;
//! - recall of the truth's (original, derived) pairs per true-Jaccard bucket
//!   ([`pairs`]).
//!
//! Units in the truth with no prediction count as predicted singletons. A predicted
//! unit the truth does not know is an error: it means the two files describe
//! different corpora (or different unit levels).

mod load;
pub mod metrics;
pub mod pairs;

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::error::{Error, Result};
pub use load::{load_predictions, load_truth, render_id, Predictions, Truth, TruthUnit, UnitKey};
pub use metrics::PairCounts;
pub use pairs::{Bucket, JaccardBuckets};

/// The `edit` label that marks a cluster's original.
pub const ORIGINAL: &str = "original";

/// Everything [`evaluate`] measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Units in the truth.
    pub units: u64,
    /// Distinct true clusters.
    pub truth_clusters: u64,
    /// Distinct predicted clusters over the truth's units (missing units counted as
    /// singletons).
    pub predicted_clusters: u64,
    /// Truth units without a prediction.
    pub missing_predictions: u64,
    /// The pair counts behind the figures below.
    pub pairs: PairCounts,
    /// Pair precision.
    pub precision: f64,
    /// Pair recall.
    pub recall: f64,
    /// Pair F1.
    pub f1: f64,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Recall of (original, derived) pairs by true Jaccard.
    pub buckets: JaccardBuckets,
    /// Truth units whose pair with their cluster's original is not in
    /// `buckets`: the truth gives no `jaccard` for them.
    pub units_without_jaccard: u64,
}

impl Report {
    /// A printable summary: the headline figures, then the bucket table.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "units {}  true clusters {}  predicted clusters {}  missing {}",
            self.units, self.truth_clusters, self.predicted_clusters, self.missing_predictions
        );
        let _ = writeln!(
            out,
            "pair precision {:.4}  recall {:.4}  F1 {:.4}  ARI {:.4}  (true pairs {}, predicted pairs {}, both {})",
            self.precision,
            self.recall,
            self.f1,
            self.ari,
            self.pairs.together_in_truth,
            self.pairs.together_in_prediction,
            self.pairs.together_in_both
        );
        if self.units_without_jaccard > 0 {
            let _ = writeln!(
                out,
                "recall by Jaccard leaves out {} unit(s): the truth gives no jaccard for them",
                self.units_without_jaccard
            );
        }
        out.push_str(&self.buckets.table());
        out
    }
}

/// Scores `predictions` against `truth`.
///
/// Each truth cluster's original, the anchor of its (original, derived) pairs, is
/// the unit labelled `original`, or else the unit whose name (`id`, or `id#para`)
/// equals the cluster's name. A cluster with neither, or with two `original`s, is
/// an error naming the truth file and line.
pub fn evaluate(truth: &Truth, predictions: &Predictions) -> Result<Report> {
    // Predicted units the truth does not know.
    let mut unknown: Vec<(u64, &UnitKey)> = predictions
        .iter()
        .filter(|(key, _)| truth.position(key).is_none())
        .map(|(key, p)| (p.line, key))
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        let (line, key) = unknown[0];
        return Err(Error::at_line(
            predictions.path(),
            line,
            format!(
                "{} predicted unit(s) are not in the truth {} (first: {key})",
                unknown.len(),
                truth.path().display()
            ),
        ));
    }

    let units = truth.units();
    let mut cluster_labels: HashMap<&str, u64> = HashMap::new();
    let truth_labels: Vec<u64> = units
        .iter()
        .map(|u| {
            let next = cluster_labels.len() as u64;
            *cluster_labels.entry(u.cluster.as_str()).or_insert(next)
        })
        .collect();

    let mut predicted_dense: HashMap<u64, u64> = HashMap::new();
    let mut missing = 0u64;
    let mut predicted_labels: Vec<Option<u64>> = Vec::with_capacity(units.len());
    for unit in units {
        predicted_labels.push(predictions.get(&unit.key).map(|p| {
            let next = predicted_dense.len() as u64;
            *predicted_dense.entry(p.cluster).or_insert(next)
        }));
    }
    let mut next_singleton = predicted_dense.len() as u64;
    let predicted_labels: Vec<u64> = predicted_labels
        .into_iter()
        .map(|label| {
            label.unwrap_or_else(|| {
                missing += 1;
                next_singleton += 1;
                next_singleton - 1
            })
        })
        .collect();

    let anchors = anchors(truth, &cluster_labels, &truth_labels)?;
    let mut buckets = JaccardBuckets::default();
    let mut units_without_jaccard = 0;
    for (i, unit) in units.iter().enumerate() {
        let anchor = anchors[truth_labels[i] as usize];
        if anchor == i {
            continue;
        }
        match unit.jaccard {
            Some(jaccard) => buckets.add(jaccard, predicted_labels[i] == predicted_labels[anchor]),
            None => units_without_jaccard += 1,
        }
    }

    let pairs = PairCounts::from_labels(&truth_labels, &predicted_labels);
    Ok(Report {
        units: units.len() as u64,
        truth_clusters: cluster_labels.len() as u64,
        predicted_clusters: next_singleton,
        missing_predictions: missing,
        pairs,
        precision: pairs.precision(),
        recall: pairs.recall(),
        f1: pairs.f1(),
        ari: pairs.adjusted_rand_index(),
        buckets,
        units_without_jaccard,
    })
}

/// The anchor unit (index into the truth's units) of every cluster label: the
/// unit labelled "original", else the unit named like the cluster, else (for a
/// truth without Jaccard values, whose anchors only matter for counting) the
/// cluster's first unit.
fn anchors(
    truth: &Truth,
    cluster_labels: &HashMap<&str, u64>,
    truth_labels: &[u64],
) -> Result<Vec<usize>> {
    let units = truth.units();
    let mut by_edit: Vec<Option<usize>> = vec![None; cluster_labels.len()];
    let mut by_name: Vec<Option<usize>> = vec![None; cluster_labels.len()];
    for (i, unit) in units.iter().enumerate() {
        let label = truth_labels[i] as usize;
        if unit.edit == ORIGINAL {
            if let Some(first) = by_edit[label] {
                return Err(Error::at_line(
                    truth.path(),
                    truth.line(i),
                    format!(
                        "cluster {:?} has a second original (the first is on line {})",
                        unit.cluster,
                        truth.line(first)
                    ),
                ));
            }
            by_edit[label] = Some(i);
        }
        if unit.key.to_string() == unit.cluster {
            by_name[label] = Some(i);
        }
    }
    let mut first_unit: Vec<Option<usize>> = vec![None; cluster_labels.len()];
    let mut has_jaccard = vec![false; cluster_labels.len()];
    for (i, unit) in units.iter().enumerate() {
        let label = truth_labels[i] as usize;
        first_unit[label].get_or_insert(i);
        has_jaccard[label] |= unit.jaccard.is_some();
    }
    let mut out = Vec::with_capacity(by_edit.len());
    for (label, (edit, name)) in by_edit.into_iter().zip(by_name).enumerate() {
        let first = first_unit[label].unwrap_or(0);
        match edit.or(name) {
            Some(anchor) => out.push(anchor),
            None if !has_jaccard[label] => out.push(first),
            None => {
                return Err(Error::at_line(
                    truth.path(),
                    truth.line(first),
                    format!(
                        "cluster {:?} has no original (no unit labelled \"original\" or named like the cluster)",
                        units[first].cluster
                    ),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::TruthRow;

    fn row(id: &str, para: Option<u32>, cluster: &str, jaccard: f64, edit: &str) -> TruthRow {
        TruthRow {
            id: id.into(),
            para,
            cluster: cluster.into(),
            jaccard,
            edit: edit.into(),
        }
    }

    fn key(id: &str) -> UnitKey {
        UnitKey {
            id: id.into(),
            para: None,
        }
    }

    #[test]
    fn hand_computed_article_example() {
        // Truth: cluster a = {a, a1 (J .95), a2 (J .45)}, cluster b = {b, b1 (J .92)},
        // c alone.
        let truth = Truth::from_rows(
            "truth",
            &[
                row("a", None, "a", 1.0, "original"),
                row("a1", None, "a", 0.95, "exact"),
                row("a2", None, "a", 0.45, "substitute:0.1"),
                row("b", None, "b", 1.0, "original"),
                row("b1", None, "b", 0.92, "noise"),
                row("c", None, "c", 1.0, "original"),
            ],
        )
        .expect("valid truth");
        // Predicted: {a, a1, b1} {b} {c, a2 missing -> singleton}.
        let predictions = Predictions::from_pairs(
            "clusters",
            [
                (key("a"), 1),
                (key("a1"), 1),
                (key("b1"), 1),
                (key("b"), 2),
                (key("c"), 3),
            ],
        )
        .expect("valid predictions");
        let report = evaluate(&truth, &predictions).expect("evaluates");
        // True pairs: C(3) + C(2) = 3 + 1 = 4. Predicted pairs: C(3) = 3
        // ({a,a1},{a,b1},{a1,b1}); true among them: {a,a1} only = 1.
        assert_eq!(report.pairs.together_in_truth, 4);
        assert_eq!(report.pairs.together_in_prediction, 3);
        assert_eq!(report.pairs.together_in_both, 1);
        assert!((report.precision - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(report.recall, 0.25);
        // F1 = 2·(1/3)(1/4)/((1/3)+(1/4)) = (1/6)/(7/12) = 2/7.
        assert!((report.f1 - 2.0 / 7.0).abs() < 1e-12);
        // n = 6, N = 15, expected = 4·3/15 = 0.8, max = 3.5:
        // ARI = (1 - 0.8) / (3.5 - 0.8) = 0.2 / 2.7 = 2/27.
        assert!((report.ari - 2.0 / 27.0).abs() < 1e-12);
        assert_eq!(report.missing_predictions, 1);
        assert_eq!(report.truth_clusters, 3);
        // Predicted clusters: 1, 2, 3 and the singleton for a2.
        assert_eq!(report.predicted_clusters, 4);
        // Buckets: a1 (0.95, found), b1 (0.92, not found: b1 is with a), a2 (0.45, missing).
        assert_eq!(report.buckets.buckets[9], Bucket { pairs: 2, found: 1 });
        assert_eq!(report.buckets.buckets[4], Bucket { pairs: 1, found: 0 });
        assert_eq!(report.buckets.from_bucket(0).pairs, 3);
        assert!(
            report.summary().contains("pair precision 0.3333"),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn paragraph_units_anchor_on_the_original_paragraph() {
        // d1#0 is an original; d1#2 repeats it exactly (within the article); d2#1
        // repeats it edited (across articles). Cluster names follow "id#para".
        let truth = Truth::from_rows(
            "truth",
            &[
                row("d1", Some(0), "d1#0", 1.0, "original"),
                row("d1", Some(1), "d1#1", 1.0, "original"),
                row("d1", Some(2), "d1#0", 1.0, "exact"),
                row("d2", Some(0), "d2#0", 1.0, "original"),
                row("d2", Some(1), "d1#0", 0.6, "substitute:0.05"),
            ],
        )
        .expect("valid truth");
        let k = |id: &str, p: u32| UnitKey {
            id: id.into(),
            para: Some(p),
        };
        let predictions = Predictions::from_pairs(
            "clusters",
            [
                (k("d1", 0), 0),
                (k("d1", 1), 1),
                (k("d1", 2), 0),
                (k("d2", 0), 2),
                (k("d2", 1), 3),
            ],
        )
        .expect("valid predictions");
        let report = evaluate(&truth, &predictions).expect("evaluates");
        // True pairs: C(3) = 3 in d1#0's cluster; predicted pairs: {d1#0, d1#2} = 1, true.
        assert_eq!(
            (
                report.pairs.together_in_both,
                report.pairs.together_in_truth
            ),
            (1, 3)
        );
        assert_eq!(report.precision, 1.0);
        assert!((report.recall - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(report.buckets.buckets[9], Bucket { pairs: 1, found: 1 });
        assert_eq!(report.buckets.buckets[6], Bucket { pairs: 1, found: 0 });
    }

    #[test]
    fn unknown_predicted_units_are_an_error_naming_the_line() {
        let truth = Truth::from_rows("truth.jsonl", &[row("a", None, "a", 1.0, "original")])
            .expect("valid");
        let predictions = Predictions::from_pairs(
            "clusters.jsonl",
            [
                (key("a"), 0),
                (
                    UnitKey {
                        id: "a".into(),
                        para: Some(0),
                    },
                    0,
                ),
                (key("zz"), 0),
            ],
        )
        .expect("valid");
        let err = evaluate(&truth, &predictions).expect_err("unknown units");
        let text = err.to_string();
        assert!(
            text.starts_with("clusters.jsonl:2: 2 predicted unit(s)"),
            "{text}"
        );
        assert!(
            text.contains("a#0") && text.contains("truth.jsonl"),
            "{text}"
        );
    }

    #[test]
    fn a_truth_of_ids_and_clusters_only_is_scored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("labels.jsonl");
        std::fs::write(
            &path,
            "{\"id\":\"x\",\"cluster\":\"k\"}\n{\"id\":\"y\",\"cluster\":\"k\"}\n\
             {\"id\":\"z\",\"cluster\":\"m\"}\n",
        )
        .expect("write");
        let truth = load_truth(&path).expect("no jaccard needed");
        let predictions =
            Predictions::from_pairs("p", [(key("x"), 1), (key("y"), 1), (key("z"), 1)])
                .expect("valid");
        let report = evaluate(&truth, &predictions).expect("evaluates");
        assert_eq!(report.pairs.together_in_truth, 1);
        assert_eq!(report.pairs.together_in_prediction, 3);
        assert_eq!(report.recall, 1.0);
        assert_eq!(report.units_without_jaccard, 1, "y, paired with x");
        assert_eq!(report.buckets.from_bucket(0).pairs, 0);
        assert!(report.summary().contains("leaves out 1 unit(s)"));
    }

    #[test]
    fn clusters_without_or_with_two_originals_are_errors() {
        let no_original = Truth::from_rows(
            "t",
            &[
                row("x", None, "k", 1.0, "exact"),
                row("y", None, "k", 0.5, "noise"),
            ],
        )
        .expect("valid rows");
        let none = Predictions::from_pairs("p", []).expect("empty");
        let err = evaluate(&no_original, &none).expect_err("no anchor");
        assert!(err.to_string().contains("has no original"), "{err}");

        let two = Truth::from_rows(
            "t",
            &[
                row("x", None, "k", 1.0, "original"),
                row("y", None, "k", 1.0, "original"),
            ],
        )
        .expect("valid rows");
        let err = evaluate(&two, &none).expect_err("two anchors");
        assert!(
            err.to_string()
                .starts_with("t:2: cluster \"k\" has a second original"),
            "{err}"
        );
    }

    #[test]
    fn a_perfect_prediction_of_a_generated_corpus_scores_one() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
        let sources = crate::synth::Sources::load(&dir).expect("committed sources");
        let config = crate::synth::GenConfig {
            originals: 30,
            level: crate::synth::Level::Paragraph,
            ..crate::synth::GenConfig::default()
        };
        let generated = crate::synth::generate(&sources, &config).expect("generates");
        let truth = Truth::from_rows("truth", &generated.truth).expect("valid truth");
        let mut names: HashMap<&str, u64> = HashMap::new();
        let pairs: Vec<(UnitKey, u64)> = generated
            .truth
            .iter()
            .map(|r| {
                let next = names.len() as u64;
                let cluster = *names.entry(r.cluster.as_str()).or_insert(next);
                (
                    UnitKey {
                        id: r.id.clone(),
                        para: r.para,
                    },
                    cluster,
                )
            })
            .collect();
        let perfect = Predictions::from_pairs("p", pairs).expect("valid");
        let report = evaluate(&truth, &perfect).expect("evaluates");
        assert_eq!(
            (report.precision, report.recall, report.ari),
            (1.0, 1.0, 1.0)
        );
        let all = report.buckets.from_bucket(0);
        assert_eq!(all.pairs, all.found);
        assert_eq!(all.pairs, report.units - report.truth_clusters);
        // Nothing predicted: every unit a singleton, recall 0, precision 1 by convention.
        let report =
            evaluate(&truth, &Predictions::from_pairs("p", []).expect("empty")).expect("evaluates");
        assert_eq!((report.precision, report.recall), (1.0, 0.0));
        assert_eq!(report.missing_predictions, report.units);
    }
}
