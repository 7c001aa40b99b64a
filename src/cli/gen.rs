//! `neardedup gen`: write a labelled near-duplicate corpus built from real text.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use neardedup::synth::{generate_to_files, GenConfig, Language, Level, Sources};

/// Options of `neardedup gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Output folder; gets `corpus.jsonl` and `truth.jsonl`.
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,

    /// Folder with the real source texts (`en-kjv.txt`, `ko-law.txt`).
    #[arg(long, value_name = "DIR", default_value = "datasets/sources")]
    sources: PathBuf,

    /// `article` (copies of whole documents) or `paragraph` (paragraphs repeated
    /// within and across articles).
    #[arg(long, value_enum, default_value_t = Level::Article)]
    level: Level,

    /// Language of the originals (`mixed`: each English or Korean).
    #[arg(long, value_enum, default_value_t = Language::Mixed)]
    language: Language,

    /// Approximate corpus size, e.g. `5MB`, `1GB` (at least one batch is written).
    #[arg(long, default_value = "1MB", value_parser = neardedup::size::parse_size)]
    size: u64,

    /// Seed: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Originals (article level) or articles (paragraph level) per batch.
    #[arg(long, default_value_t = 100)]
    originals: usize,

    /// Most derived copies per original (article level) or repeated paragraphs per
    /// article (paragraph level).
    #[arg(long, default_value_t = 4)]
    max_copies: usize,

    /// Lowest word-edit rate.
    #[arg(long, default_value_t = 0.01)]
    min_rate: f64,

    /// Highest word-edit rate.
    #[arg(long, default_value_t = 0.3)]
    max_rate: f64,

    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `neardedup gen`.
pub fn run(args: GenArgs) -> anyhow::Result<()> {
    let config = GenConfig {
        seed: args.seed,
        language: args.language,
        level: args.level,
        originals: args.originals,
        max_copies: args.max_copies,
        min_rate: args.min_rate,
        max_rate: args.max_rate,
        ..GenConfig::default()
    };
    config.validate()?;
    let sources = Sources::load(&args.sources)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let corpus = args.out.join("corpus.jsonl");
    let truth = args.out.join("truth.jsonl");
    // Write under temporary names and rename at the end: a failed run leaves no
    // corpus that looks complete.
    let corpus_tmp = args.out.join(".corpus.jsonl.partial");
    let truth_tmp = args.out.join(".truth.jsonl.partial");
    let progress = neardedup::progress_bar::Bar::new(args.quiet);
    let result = generate_to_files(
        &sources,
        &config,
        args.size,
        &corpus_tmp,
        &truth_tmp,
        &progress,
    );
    let stats = match result {
        Ok(stats) => stats,
        Err(e) => {
            let _ = std::fs::remove_file(&corpus_tmp);
            let _ = std::fs::remove_file(&truth_tmp);
            return Err(e.into());
        }
    };
    std::fs::rename(&truth_tmp, &truth)
        .with_context(|| format!("cannot write {}", truth.display()))?;
    std::fs::rename(&corpus_tmp, &corpus)
        .with_context(|| format!("cannot write {}", corpus.display()))?;
    println!(
        "wrote {} records ({} units, {} bytes) to {} and the truth to {}",
        stats.records,
        stats.units,
        stats.corpus_bytes,
        corpus.display(),
        truth.display()
    );
    Ok(())
}
