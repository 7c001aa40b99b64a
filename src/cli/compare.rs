//! `neardedup compare`: run a grid of algorithms and settings on a labelled corpus
//! and write `compare.md`, `compare.json` and plots.

use neardedup::config::SketchConfig;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use neardedup::compare::{compare, report, CompareJob, Grid};
use neardedup::corpus::{CorpusOptions, ParaSep};
use neardedup::pipeline::{Algo, ClusterMode, DedupConfig, UnitKind, Verify};
use neardedup::text::Tokenizer;

/// Options of `neardedup compare`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every list is comma-separated. MinHash runs over threshold x num-perm x \
ngram x tokenizer x verify; SimHash over hamming x ngram x tokenizer (and x threshold for \
--verify exact, which checks SimHash pairs by exact Jaccard); exact hashing runs once."
)]
pub struct CompareArgs {
    /// Corpus inputs (files or directories, as for `dedup`).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,

    /// Ground truth (`truth.jsonl` from `neardedup gen`).
    #[arg(long, value_name = "TRUTH.jsonl")]
    truth: PathBuf,

    /// Output folder for compare.md, compare.json and the plots.
    #[arg(long, short, value_name = "DIR", default_value = "compare-out")]
    out: PathBuf,

    /// Algorithms.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "minhash,simhash,exact"
    )]
    algo: Vec<Algo>,

    /// Jaccard thresholds.
    #[arg(long, value_delimiter = ',', default_value = "0.3,0.5,0.7,0.9")]
    threshold: Vec<f64>,

    /// MinHash permutations.
    #[arg(long, value_delimiter = ',', default_value = "128")]
    num_perm: Vec<usize>,

    /// Tokens per shingle.
    #[arg(long, value_delimiter = ',', default_value = "3,5")]
    ngram: Vec<usize>,

    /// Tokenizers.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "word")]
    tokenizer: Vec<Tokenizer>,

    /// SimHash Hamming radii.
    #[arg(long, value_delimiter = ',', default_value = "3,6,12")]
    hamming: Vec<u32>,

    /// Candidate verification; SimHash reads `exact`.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "exact")]
    verify: Vec<Verify>,

    /// Clustering rules.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "star")]
    cluster: Vec<ClusterMode>,

    /// Compare whole records or their paragraphs (must match the truth).
    #[arg(long, value_enum, default_value_t = UnitKind::Article)]
    unit: UnitKind,

    /// What separates paragraphs (with `--unit paragraph`).
    #[arg(long, value_enum, default_value_t = ParaSep::Line)]
    para_sep: ParaSep,

    /// MinHash: seed of the permutations.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// JSONL field holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,

    /// JSONL field holding the id (the truth's `id`).
    #[arg(long, default_value = "id")]
    id_field: String,

    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,

    /// Skip the plots.
    #[arg(long)]
    no_plots: bool,

    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

impl CompareArgs {
    fn job(&self) -> anyhow::Result<CompareJob> {
        let grid = Grid {
            algos: self.algo.clone(),
            thresholds: self.threshold.clone(),
            num_perms: self.num_perm.clone(),
            ngrams: self.ngram.clone(),
            tokenizers: self.tokenizer.clone(),
            hammings: self.hamming.clone(),
            verifies: self.verify.clone(),
            clusters: self.cluster.clone(),
        };
        let base = DedupConfig {
            sketch: SketchConfig {
                unit: self.unit,
                para_sep: self.para_sep,
                seed: self.seed,
                ..DedupConfig::default().sketch
            },
            ..DedupConfig::default()
        };
        Ok(CompareJob {
            inputs: self.inputs.clone(),
            corpus: CorpusOptions {
                text_field: self.text_field.clone(),
                id_field: Some(self.id_field.clone()),
                format: None,
                ..CorpusOptions::default()
            },
            truth: self.truth.clone(),
            base,
            grid,
            out: self.out.clone(),
            plots: !self.no_plots,
        })
    }
}

/// Runs `neardedup compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let job = args.job()?;
    super::limits::check_threads("--threads", args.threads)?;
    if args.threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads)
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let quiet = args.quiet;
    let summary = compare(&job, |r| {
        if !quiet {
            eprintln!("{}", report::table_row(r));
        }
    })?;
    if !quiet {
        println!(
            "{} runs; wrote {} ({} plot files{})",
            summary.runs.len(),
            job.out.join("compare.md").display(),
            summary.plots.len(),
            summary
                .plot_note
                .as_ref()
                .map_or(String::new(), |n| format!("; plots {n}"))
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Line {
        #[command(flatten)]
        args: CompareArgs,
    }

    fn parse(line: &[&str]) -> Result<CompareArgs, clap::Error> {
        let argv = ["neardedup", "--truth", "t.jsonl", "in"];
        Line::try_parse_from(argv.iter().chain(line)).map(|l| l.args)
    }

    #[test]
    fn lists_parse_into_the_grid_with_their_defaults() {
        let job = parse(&["--tokenizer", "word,char", "--threshold", "0.5,0.7"])
            .expect("parses")
            .job()
            .expect("job");
        assert_eq!(job.grid.algos, [Algo::Minhash, Algo::Simhash, Algo::Exact]);
        assert_eq!(job.grid.thresholds, [0.5, 0.7]);
        assert_eq!(job.grid.tokenizers, [Tokenizer::Word, Tokenizer::Char]);
        assert_eq!(job.grid.ngrams, [3, 5]);
        assert_eq!(job.grid.clusters, [ClusterMode::Star]);
    }

    #[test]
    fn a_wrong_list_item_names_the_flag_and_the_possible_values() {
        for (line, shown) in [
            (&["--algo", "minhash,bloom"][..], "bloom"),
            (&["--algo", "minhash,,exact"][..], "a value is required"),
            (&["--verify", "maybe"][..], "maybe"),
        ] {
            let message = parse(line).expect_err("refused").render().to_string();
            assert!(message.contains(line[0]), "{message}");
            assert!(message.contains(shown), "{message}");
            assert!(message.contains("[possible values: "), "{message}");
        }
        let message = parse(&["--threshold", "0.5,x"])
            .expect_err("refused")
            .render()
            .to_string();
        assert!(
            message.contains("--threshold") && message.contains("'x'"),
            "{message}"
        );
    }
}
