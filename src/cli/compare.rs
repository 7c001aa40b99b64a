//! `neardedup compare`: run a grid of algorithms and settings on a labelled corpus
//! and write `compare.md`, `compare.json` and plots.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use neardedup::compare::grid::parse_list;
use neardedup::compare::{compare, report, CompareJob, Grid};
use neardedup::corpus::{CorpusOptions, ParaSep};
use neardedup::pipeline::{DedupConfig, UnitKind};

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
    #[arg(long, default_value = "minhash,simhash,exact")]
    algo: String,

    /// Jaccard thresholds.
    #[arg(long, default_value = "0.3,0.5,0.7,0.9")]
    threshold: String,

    /// MinHash permutations.
    #[arg(long, default_value = "128")]
    num_perm: String,

    /// Tokens per shingle.
    #[arg(long, default_value = "3,5")]
    ngram: String,

    /// Tokenizers (`word`, `whitespace`, `char`).
    #[arg(long, default_value = "word")]
    tokenizer: String,

    /// SimHash Hamming radii.
    #[arg(long, default_value = "3,6,12")]
    hamming: String,

    /// Candidate verification (`signature`, `exact`, `none`); SimHash reads `exact`.
    #[arg(long, default_value = "exact")]
    verify: String,

    /// Clustering rules (`star`: each duplicate verified against its kept unit;
    /// `components`: connected components of the verified edges).
    #[arg(long, default_value = "star")]
    cluster: String,

    /// Compare whole records or their paragraphs (must match the truth).
    #[arg(long, default_value = "article", value_parser = ["article", "paragraph"])]
    unit: String,

    /// Paragraphs are non-empty lines (`line`) or blocks between blank lines (`blank`).
    #[arg(long, default_value = "line", value_parser = ["line", "blank"])]
    para_sep: String,

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
            algos: parse_list("algo", &self.algo)?,
            thresholds: parse_list("threshold", &self.threshold)?,
            num_perms: parse_list("num-perm", &self.num_perm)?,
            ngrams: parse_list("ngram", &self.ngram)?,
            tokenizers: parse_list("tokenizer", &self.tokenizer)?,
            hammings: parse_list("hamming", &self.hamming)?,
            verifies: parse_list("verify", &self.verify)?,
            clusters: parse_list("cluster", &self.cluster)?,
        };
        let base = DedupConfig {
            unit: self.unit.parse::<UnitKind>().map_err(anyhow::Error::msg)?,
            para_sep: self
                .para_sep
                .parse::<ParaSep>()
                .map_err(anyhow::Error::msg)?,
            seed: self.seed,
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
