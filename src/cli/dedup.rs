//! `neardedup dedup`: read the inputs, find duplicates, write the output folder and
//! print a one-screen summary.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use neardedup::corpus::{Corpus, CorpusOptions, Format, ParaSep};
use neardedup::index::file::IndexFile;
use neardedup::index::{IndexHeader, IndexedUnit, SignatureIndex};
use neardedup::minhash::Variant;
use neardedup::output::report::{Report, RunCosts};
use neardedup::output::{writers, Staged};
use neardedup::pipeline::{
    self, Algo, ClusterMode, DedupConfig, DedupOutcome, Progress, RunOptions, StageTiming,
    UnitKind, Verify,
};
use neardedup::text::{NormalizeOptions, ShingleConfig, Tokenizer};

use super::limits;
use super::progress::Bar;

/// Options of `neardedup dedup`.
#[derive(Debug, Args)]
#[command(
    after_help = "Inputs are JSONL files (.jsonl, .ndjson, .json: one object per line), \
plain-text files (one article per file) or directories of them (walked recursively, \
sorted, links followed, hidden entries skipped and counted). Every file found is read or \
is an error (compressed, binary, not UTF-8, unreadable); --skip-invalid skips and counts \
the files that cannot be read as text, as it does bad records."
)]
pub struct DedupArgs {
    /// Input files or directories.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,

    /// Output folder (created if needed).
    #[arg(long, short, value_name = "DIR", default_value = "neardedup-out")]
    out: PathBuf,

    /// Similarity method.
    #[arg(long, value_enum, default_value_t = Algo::Minhash)]
    algo: Algo,

    /// Compare whole records or their paragraphs.
    #[arg(long, value_enum, default_value_t = UnitKind::Article)]
    unit: UnitKind,

    /// What separates paragraphs (with `--unit paragraph`).
    #[arg(long, value_enum, default_value_t = ParaSep::Line)]
    para_sep: ParaSep,

    /// Paragraphs shorter than this many characters are kept but never compared.
    #[arg(long, default_value_t = 0, value_name = "CHARS")]
    min_para_chars: usize,

    /// Jaccard similarity (of the shingle sets) at or above which two units are
    /// duplicates: MinHash, and SimHash with `--verify exact`.
    #[arg(long, default_value_t = pipeline::config::DEFAULT_THRESHOLD)]
    threshold: f64,

    /// MinHash: how signatures are computed (`oph` has the accuracy of `classic`
    /// with far fewer hashes).
    #[arg(long, value_enum, default_value_t = Variant::OnePermutation)]
    minhash_variant: Variant,

    /// MinHash: number of permutations (signature length).
    #[arg(long, default_value_t = 128)]
    num_perm: usize,

    /// MinHash: seed of the permutations.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Tokens per shingle.
    #[arg(long, default_value_t = pipeline::config::DEFAULT_NGRAM)]
    ngram: usize,

    /// How text is cut into tokens.
    #[arg(long, value_enum, default_value_t = Tokenizer::Word)]
    tokenizer: Tokenizer,

    /// MinHash: LSH bands (with --rows) instead of the choice made from --threshold.
    #[arg(long, requires = "rows")]
    bands: Option<usize>,

    /// MinHash: LSH rows per band (with --bands).
    #[arg(long, requires = "bands")]
    rows: Option<usize>,

    /// MinHash: how LSH candidates are confirmed. SimHash: `exact` checks Hamming
    /// matches by exact Jaccard too; `signature` and `none` keep them all.
    #[arg(long, value_enum, default_value_t = Verify::Exact)]
    verify: Verify,

    /// SimHash: largest Hamming distance (of 64 bits) that counts as a duplicate.
    #[arg(long, default_value_t = pipeline::config::DEFAULT_HAMMING)]
    hamming: u32,

    /// How verified edges become clusters: `star` removes a unit only when it is
    /// verified against the unit kept for its cluster; `components` chains
    /// look-alikes together.
    #[arg(long, value_enum, default_value_t = ClusterMode::Star)]
    cluster: ClusterMode,

    /// JSONL field holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,

    /// JSONL field holding the id (default: the line number).
    #[arg(long)]
    id_field: Option<String>,

    /// Read every input as this format instead of going by extension.
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// Skip and count records, and files, that cannot be read instead of
    /// stopping (files: compressed, archives, UTF-16, binary, invalid UTF-8).
    #[arg(long)]
    skip_invalid: bool,

    /// Go on when two records have the same --id-field value (by default an
    /// error naming both); the outputs then name both by that id.
    #[arg(long)]
    allow_duplicate_ids: bool,

    /// Do not apply Unicode NFKC.
    #[arg(long)]
    no_nfkc: bool,

    /// Keep letter case.
    #[arg(long)]
    keep_case: bool,

    /// Keep punctuation and symbols.
    #[arg(long)]
    keep_punctuation: bool,

    /// Also compare against a saved index (see --save-index): units that duplicate
    /// indexed ones are flagged and dropped. The index's shingling, MinHash and
    /// unit settings are used for this run; giving one of them with another value
    /// (e.g. --unit, --ngram) is an error.
    #[arg(long, value_name = "INDEX")]
    against: Option<PathBuf>,

    /// Save the signatures of this run's units (after those of --against, if
    /// given) as an index for later --against runs. MinHash only. The index is
    /// replaced only once the output folder is complete; with --against, units
    /// whose id (and paragraph) are already indexed are refused.
    #[arg(long, value_name = "INDEX")]
    save_index: Option<PathBuf>,

    /// The settings an index fixes that were given on the command line (clap
    /// argument ids; see [`DedupArgs::note_given`]).
    #[arg(skip)]
    given: Vec<&'static str>,

    /// Scratch folder for the run's checkpoints (sketched shards, candidate pairs,
    /// verified edges). Run the same command again after an interruption and it
    /// resumes from them. Removed after a successful run unless --keep-work.
    /// [default: OUT/.neardedup-work]
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,

    /// Keep the scratch folder after a successful run.
    #[arg(long)]
    keep_work: bool,

    /// Memory for the run's large working structures (sketching shards, LSH
    /// buckets, exact verification batches), e.g. `512MiB`, `4GB`; larger
    /// corpora are processed in more passes. Per-unit state (about 100 bytes per
    /// unit) comes on top. [default: a quarter of the available memory, 256 MiB
    /// to 1 GiB]
    #[arg(long, value_name = "SIZE", value_parser = super::size::parse_size)]
    memory_budget: Option<u64>,

    /// Input bytes sketched per checkpointed shard. [default: a quarter of the
    /// memory budget, at least 16 MiB]
    #[arg(long, value_name = "SIZE", value_parser = super::size::parse_size)]
    shard_size: Option<u64>,

    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,

    /// Distributed run: number of processes (one per machine), all started with
    /// the same inputs and options. Giving any of --processes, --process,
    /// --workers or --hostfile runs the distributed engine; see README.
    #[arg(long, value_name = "N", help_heading = "Distributed runs")]
    processes: Option<usize>,

    /// Distributed run: this process's number, 0 to N-1. Process 0 writes
    /// report.json.
    #[arg(long, value_name = "I", help_heading = "Distributed runs")]
    process: Option<usize>,

    /// Distributed run: dataflow workers per process (each sketches a share of
    /// the input with all --threads). [default: 1]
    #[arg(long, value_name = "N", help_heading = "Distributed runs")]
    workers: Option<usize>,

    /// Distributed run: file with one host:port per line, line I for process I
    /// (every process uses the same file). [default: 127.0.0.1:2101, :2102, ...]
    #[arg(long, value_name = "FILE", help_heading = "Distributed runs")]
    hostfile: Option<PathBuf>,

    /// Distributed run: seconds to wait for every process to connect.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 120,
        help_heading = "Distributed runs"
    )]
    connect_timeout: u64,

    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

impl DedupArgs {
    /// The same run with `--against` and `--save-index` set (for `neardedup index`).
    pub fn with_index(mut self, against: Option<PathBuf>, save_index: Option<PathBuf>) -> Self {
        self.against = against;
        self.save_index = save_index;
        self
    }

    /// Records which of the settings an index fixes were given on the command
    /// line (`matches` is the parse of these arguments): those must agree with
    /// an index's, the others take its values.
    pub fn note_given(&mut self, matches: &ArgMatches) {
        self.given = INDEX_SETTINGS
            .into_iter()
            .filter(|id| matches.value_source(id) == Some(ValueSource::CommandLine))
            .collect();
    }

    fn config(&self) -> anyhow::Result<DedupConfig> {
        let config = DedupConfig {
            algo: self.algo,
            unit: self.unit,
            para_sep: self.para_sep,
            min_para_chars: self.min_para_chars,
            shingle: ShingleConfig {
                tokenizer: self.tokenizer,
                ngram: self.ngram,
                normalize: NormalizeOptions {
                    nfkc: !self.no_nfkc,
                    lowercase: !self.keep_case,
                    fold_punctuation: !self.keep_punctuation,
                    fold_whitespace: true,
                },
            },
            threshold: self.threshold,
            minhash_variant: self.minhash_variant,
            num_perm: self.num_perm,
            seed: self.seed,
            bands: self.bands,
            rows: self.rows,
            verify: self.verify,
            hamming: self.hamming,
            cluster: self.cluster,
            skip_invalid: self.skip_invalid,
        };
        config.validate()?;
        Ok(config)
    }

    fn corpus_options(&self) -> anyhow::Result<CorpusOptions> {
        Ok(CorpusOptions {
            text_field: self.text_field.clone(),
            id_field: self.id_field.clone(),
            format: self.format,
            skip_invalid: self.skip_invalid,
            allow_duplicate_ids: self.allow_duplicate_ids,
        })
    }
}

/// Runs `neardedup dedup`.
pub fn run(args: DedupArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let sampler = neardedup::memory::PeakSampler::start();
    let mut config = args.config()?;
    let memory_budget = args.checked_limits()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .context("could not start worker threads")?;
    let threads = pool.current_num_threads();

    let corpus = Corpus::open_within(&args.inputs, args.corpus_options()?, memory_budget)?;
    warn_skipped_files(&corpus);
    if args.is_distributed() {
        // Timely's workers are threads of their own: size the global pool they
        // share instead of one they would not be inside.
        drop(pool);
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads)
            .build_global();
        return run_distributed(&args, config, corpus, memory_budget);
    }
    let progress = Bar::new(args.quiet);
    // Index load. The index to save is checked and locked before any work (and
    // before the index to compare against is read: they may be one file).
    if args.save_index.is_some() && config.algo != Algo::Minhash {
        bail!("--save-index stores MinHash signatures: use --algo minhash");
    }
    if let Some(path) = &args.against {
        std::fs::metadata(path).map_err(|e| neardedup::error::Error::io(path, e))?;
    }
    let mut save_target = args
        .save_index
        .as_deref()
        .map(IndexFile::open)
        .transpose()?;
    let index = match &args.against {
        Some(path) => {
            let index = SignatureIndex::read(path)?;
            if config.algo == Algo::Minhash {
                refuse_other_settings(&args.given, &config, &index.header, path)?;
                index.header.apply_to(&mut config);
            }
            index.check_compatible(&config, path)?;
            Some(index)
        }
        None => None,
    };
    // Claimed before any work: a folder in use fails at once, and an earlier
    // run's outputs stop looking current as soon as this run starts.
    let staged = Staged::new(&args.out)?;
    if staged.replaced() > 0 && !args.quiet {
        eprintln!(
            "neardedup: replacing the outputs of an earlier run in {}",
            args.out.display()
        );
    }
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| args.out.join(".neardedup-work"));
    let options = RunOptions {
        index: index.as_ref(),
        work_dir: Some(work_dir.clone()),
        memory_budget,
        shard_bytes: args.shard_size,
        keep_signatures: args.save_index.is_some(),
    };
    let outcome = match pool.install(|| pipeline::run_with(&corpus, &config, &options, &progress)) {
        Ok(outcome) => outcome,
        Err(e) => {
            // A run that failed (rather than being interrupted) has nothing worth
            // resuming: leave no scratch folder behind (unless the folder belongs
            // to another run that is still going); dropping `staged` then removes
            // the output folder if this run created it.
            let in_use = matches!(e, neardedup::error::Error::InUse(_));
            if args.work_dir.is_none() && !in_use {
                let _ = std::fs::remove_dir_all(&work_dir);
            } else if !in_use {
                note_kept_scratch(&work_dir);
            }
            return Err(e.into());
        }
    };
    // Index save, first half: refuse units already indexed, and write the new
    // index beside the old one. It replaces the old one only once the output
    // folder is complete (below).
    if let (Some(index), Some(path)) = (&index, &args.against) {
        let again = index.already_indexed(
            outcome
                .units
                .iter()
                .map(|u| (&outcome.records[u.record as usize].id, u.para)),
        );
        if !again.is_empty() {
            let what = describe_already_indexed(&again, &outcome, path);
            if args.save_index.is_some() {
                if args.work_dir.is_none() {
                    let _ = std::fs::remove_dir_all(&work_dir);
                }
                bail!(
                    "{what}: was this corpus added before? Nothing was written. Ids must be \
                     unique across everything an index holds (see --id-field)"
                );
            }
            eprintln!(
                "neardedup: warning: {what}: if they are the indexed units themselves, \
                 they are reported as duplicates of themselves"
            );
        }
    }
    if let Some(target) = &mut save_target {
        let mut saved = index.unwrap_or_else(|| SignatureIndex::new(&config));
        let units = outcome
            .units
            .iter()
            .map(|u| IndexedUnit {
                id: outcome.records[u.record as usize].id.clone(),
                para: u.para,
            })
            .collect();
        saved.append(units, &outcome.signatures)?;
        target.stage(&saved)?;
    }

    // Checkpoints of a run that failed while writing (a full disk, say) hold
    // the whole search: they are kept, and said so, for the same command to
    // resume from.
    let write = |staged: Staged| -> anyhow::Result<Report> {
        let writing = Instant::now();
        progress.stage("write", None);
        // The three files are independent: write (and sync) them at the same time.
        let mut deduped = writers::DedupedCounts::default();
        let (clusters, pairs, deduped_written) = std::thread::scope(|scope| {
            let clusters = scope
                .spawn(|| staged.write("clusters.jsonl", |w| writers::write_clusters(w, &outcome)));
            let pairs =
                scope.spawn(|| staged.write("pairs.jsonl", |w| writers::write_pairs(w, &outcome)));
            let deduped_written = staged.write("deduped.jsonl", |w| {
                deduped =
                    writers::write_deduped(w, &corpus, &outcome, config.unit, config.para_sep)?;
                Ok(())
            });
            let joined = |h: std::thread::ScopedJoinHandle<'_, neardedup::error::Result<()>>| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            };
            (joined(clusters), joined(pairs), deduped_written)
        });
        clusters?;
        pairs?;
        deduped_written?;
        progress.finish_stage();
        let mut timings = outcome.timings.clone();
        timings.push(StageTiming {
            stage: "write",
            seconds: writing.elapsed().as_secs_f64(),
            memory: neardedup::memory::take_stage_peaks(),
        });
        let memory = sampler.finish();
        let costs = RunCosts {
            timings,
            wall_seconds: started.elapsed().as_secs_f64(),
            threads,
            memory,
            memory_budget,
        };
        let report = Report::new(&corpus, &config, &outcome, deduped, costs);
        staged.write("report.json", |w| {
            serde_json::to_writer_pretty(&mut *w, &report)
                .map_err(|e| neardedup::error::Error::io("report.json", e.into()))?;
            w.write_all(b"\n")
                .map_err(|e| neardedup::error::Error::io("report.json", e))
        })?;
        staged.commit()?;
        Ok(report)
    };
    let report = write(staged).inspect_err(|_| note_kept_scratch(&work_dir))?;
    if let Some(target) = save_target {
        target.commit().with_context(|| {
            format!(
                "the output folder {} is complete, but the index was not updated",
                args.out.display()
            )
        })?;
    }
    if !args.keep_work {
        std::fs::remove_dir_all(&work_dir).with_context(|| {
            format!("could not remove the scratch folder {}", work_dir.display())
        })?;
    }

    warn_duplicate_ids(outcome.stats.duplicate_ids);
    if !args.quiet {
        print_summary(&args, &config, &outcome, &report)?;
    }
    Ok(())
}

/// Tells the user that a failed run's scratch folder is still there, and how
/// large it is.
fn note_kept_scratch(work_dir: &std::path::Path) {
    if work_dir.exists() {
        eprintln!(
            "neardedup: the scratch folder {} ({}) is kept: run the same command again \
             to resume from it once the cause is fixed, or delete it",
            work_dir.display(),
            human_bytes(neardedup::work::disk_bytes(work_dir))
        );
    }
}

/// Names, on stderr, the first few input files skipped under --skip-invalid (all
/// are listed in report.json).
fn warn_skipped_files(corpus: &Corpus) {
    const SHOWN: usize = 3;
    let unreadable = &corpus.skipped().unreadable;
    if unreadable.is_empty() {
        return;
    }
    let shown: Vec<String> = unreadable
        .iter()
        .take(SHOWN)
        .map(|f| format!("{} ({})", f.path.display(), f.reason))
        .collect();
    let more = match unreadable.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!("; and {n} more, listed in report.json"),
    };
    eprintln!(
        "neardedup: warning: skipped {} input file(s) that cannot be read as text \
         (--skip-invalid): {}{more}",
        unreadable.len(),
        shown.join("; ")
    );
}

/// Says on stderr that ids repeat (under --allow-duplicate-ids).
fn warn_duplicate_ids(count: u64) {
    if count > 0 {
        eprintln!(
            "neardedup: warning: {count} record(s) have the id of an earlier record \
             (--allow-duplicate-ids): the outputs name them by the same id"
        );
    }
}

fn human_bytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The options whose values an index fixes (their clap argument ids): every
/// field of [`IndexHeader`] that an option sets.
const INDEX_SETTINGS: [&str; 11] = [
    "unit",
    "para_sep",
    "min_para_chars",
    "tokenizer",
    "ngram",
    "no_nfkc",
    "keep_case",
    "keep_punctuation",
    "minhash_variant",
    "num_perm",
    "seed",
];

/// One of [`INDEX_SETTINGS`] as an index header holds it.
#[derive(Debug, PartialEq)]
enum IndexSetting {
    /// An option with a value: its flag and the value, as typed.
    Value(&'static str, String),
    /// A switch: its flag and whether it is on.
    Switch(&'static str, bool),
}

/// The setting with clap id `id` in `header`.
fn index_setting(id: &str, header: &IndexHeader) -> Option<IndexSetting> {
    use IndexSetting::{Switch, Value};
    let shingle = &header.shingle;
    Some(match id {
        "unit" => Value("--unit", header.unit.to_string()),
        "para_sep" => Value("--para-sep", header.para_sep.to_string()),
        "min_para_chars" => Value("--min-para-chars", header.min_para_chars.to_string()),
        "tokenizer" => Value("--tokenizer", shingle.tokenizer.to_string()),
        "ngram" => Value("--ngram", shingle.ngram.to_string()),
        "no_nfkc" => Switch("--no-nfkc", !shingle.normalize.nfkc),
        "keep_case" => Switch("--keep-case", !shingle.normalize.lowercase),
        "keep_punctuation" => Switch("--keep-punctuation", !shingle.normalize.fold_punctuation),
        "minhash_variant" => Value("--minhash-variant", header.minhash_variant.to_string()),
        "num_perm" => Value("--num-perm", header.num_perm.to_string()),
        "seed" => Value("--seed", header.seed.to_string()),
        _ => return None,
    })
}

/// A setting's value as it is typed on the command line (the settings
/// serialise to their option values).
fn as_typed(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

/// Fails, naming each setting with the index's value and the given one, when a
/// setting in `given` has another value in `config` than in the index `path`.
fn refuse_other_settings(
    given: &[&str],
    config: &DedupConfig,
    index: &IndexHeader,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let run = IndexHeader::for_config(config);
    let differing: Vec<String> = given
        .iter()
        .filter_map(
            |id| match (index_setting(id, index), index_setting(id, &run)) {
                (Some(have), Some(want)) if have != want => Some(match (have, want) {
                    (IndexSetting::Value(flag, have), IndexSetting::Value(_, want)) => {
                        format!("{flag} {want} (the index's: {have})")
                    }
                    (IndexSetting::Switch(flag, _), _) => {
                        format!("{flag} (the index was built without it)")
                    }
                    (IndexSetting::Value(flag, have), _) => format!("{flag} (the index's: {have})"),
                }),
                _ => None,
            },
        )
        .collect();
    if differing.is_empty() {
        return Ok(());
    }
    bail!(
        "{}: the index was built with other settings than given: {}. Leave these options \
         out to use the index's settings, or build a new index",
        path.display(),
        differing.join(", ")
    )
}

/// "INDEX: N of the M units are already in the index (same id and paragraph),
/// e.g. ...", for the positions `again` in the run's units.
fn describe_already_indexed(
    again: &[usize],
    outcome: &DedupOutcome,
    path: &std::path::Path,
) -> String {
    const SHOWN: usize = 5;
    let examples: Vec<String> = again
        .iter()
        .take(SHOWN)
        .map(|&i| {
            let unit = &outcome.units[i];
            let id = &outcome.records[unit.record as usize].id;
            match unit.para {
                Some(para) => format!("{id} paragraph {para}"),
                None => id.to_string(),
            }
        })
        .collect();
    let more = if again.len() > SHOWN { ", ..." } else { "" };
    format!(
        "{}: {} of the {} units of this run are already in the index (same id and \
         paragraph), e.g. {}{more}",
        path.display(),
        again.len(),
        outcome.units.len(),
        examples.join(", ")
    )
}

impl DedupArgs {
    /// Checks every option that sizes the run's resources (see [`limits`]) and
    /// returns the memory budget.
    fn checked_limits(&self) -> anyhow::Result<u64> {
        limits::check_threads("--threads", self.threads)?;
        let budget = match self.memory_budget {
            Some(budget) => limits::check_memory_budget(budget)?,
            None => neardedup::memory::default_budget_bytes(),
        };
        if let Some(shard) = self.shard_size {
            limits::check_shard_size(shard)?;
        }
        if let Some(processes) = self.processes {
            limits::check_count("--processes", processes)?;
        }
        if let Some(workers) = self.workers {
            limits::check_count("--workers", workers)?;
        }
        limits::check_connect_timeout(self.connect_timeout)?;
        Ok(budget)
    }

    fn is_distributed(&self) -> bool {
        self.processes.is_some()
            || self.process.is_some()
            || self.workers.is_some()
            || self.hostfile.is_some()
    }
}

/// Runs this process's part of a distributed run (see `neardedup::distributed`).
fn run_distributed(
    args: &DedupArgs,
    config: DedupConfig,
    corpus: Corpus,
    memory_budget: u64,
) -> anyhow::Result<()> {
    if args.against.is_some() || args.save_index.is_some() {
        bail!("--against and --save-index work in single-process runs only");
    }
    if args.processes.is_some_and(|n| n > 1) && args.process.is_none() {
        bail!(
            "--processes {} needs --process I on each process (0 to {})",
            args.processes.unwrap_or(1),
            args.processes.unwrap_or(1) - 1
        );
    }
    let cluster = neardedup::distributed::Cluster::new(
        args.processes.unwrap_or(1),
        args.process.unwrap_or(0),
        args.workers.unwrap_or(1),
        args.hostfile.as_deref(),
        std::time::Duration::from_secs(args.connect_timeout),
    )?;
    exit_on_lost_peer(cluster.process);
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| args.out.join(".neardedup-work"))
        .join(format!("process-{:05}", cluster.process));
    let job = neardedup::distributed::Job {
        config,
        out: args.out.clone(),
        work_dir: work_dir.clone(),
        memory_budget,
        shard_bytes: args.shard_size,
        log_stages: !args.quiet,
    };
    let summary = neardedup::distributed::run(std::sync::Arc::new(corpus), job, &cluster)
        .inspect_err(|_| {
            if args.work_dir.is_none() {
                let _ = std::fs::remove_dir_all(&work_dir);
                // The shared parent and the output folder, if no other process
                // left anything in them (removing a folder that is not empty
                // fails and leaves it).
                let _ = std::fs::remove_dir(args.out.join(".neardedup-work"));
                let _ = std::fs::remove_dir(&args.out);
            }
        })?;
    if !args.keep_work {
        std::fs::remove_dir_all(&work_dir).with_context(|| {
            format!("could not remove the scratch folder {}", work_dir.display())
        })?;
        // The shared parent, once no process uses it any more.
        if args.work_dir.is_none() {
            let _ = std::fs::remove_dir(args.out.join(".neardedup-work"));
        }
    }
    if let Some(summary) = &summary {
        warn_duplicate_ids(
            summary.report["counts"]["duplicate_ids"]
                .as_u64()
                .unwrap_or(0),
        );
    }
    if args.quiet {
        return Ok(());
    }
    match summary {
        Some(summary) => print_distributed_summary(args, &cluster, &summary.report)?,
        None => {
            let parts: Vec<String> = (0..cluster.workers)
                .map(|w| cluster.process * cluster.workers + w)
                .map(|w| neardedup::distributed::part_name("*", w, cluster.total_workers()))
                .collect();
            eprintln!(
                "neardedup: process {} of {}: wrote {} in {}; process 0 writes report.json",
                cluster.process,
                cluster.processes,
                parts.join(", "),
                args.out.display()
            );
        }
    }
    Ok(())
}

/// A process of a distributed run whose peer exits or whose network fails sees
/// timely's receive threads panic ("timely communication error"). Turn any
/// panic into a clear message and an error exit, at once, on every thread: the
/// run cannot finish, and the output folder has no report.json to vouch for it.
fn exit_on_lost_peer(process: usize) {
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown failure");
        if message.contains("timely communication error") || message.contains("MergeQueue poisoned")
        {
            eprintln!(
                "neardedup: error: process {process} lost its connection to another process of the \
                 distributed run ({message}): a process exited or the network failed. The run did \
                 not finish; its output folder has no report.json and its parts are incomplete."
            );
        } else {
            eprintln!("neardedup: error: process {process}: internal failure: {info}");
        }
        std::process::exit(1);
    }));
}

fn print_distributed_summary(
    args: &DedupArgs,
    cluster: &neardedup::distributed::Cluster,
    report: &serde_json::Value,
) -> anyhow::Result<()> {
    let counts = &report["counts"];
    let number = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let stages: Vec<String> = report["timings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "{} {:.2}s",
                t["stage"].as_str().unwrap_or("?"),
                t["seconds"].as_f64().unwrap_or(0.0)
            )
        })
        .collect();
    let distributed = &report["distributed"];
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "neardedup dedup: {} processes x {} worker(s), {}",
        cluster.processes, cluster.workers, args.algo
    )?;
    writeln!(
        out,
        "  input            {} bytes, {} record(s)",
        number(&report["input_bytes"]),
        number(&counts["records"])
    )?;
    let skipped = &report["skipped_files"];
    let listed = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    if number(&report["invalid_records"]["count"]) > 0
        || number(&skipped["count"]) > 0
        || listed(&skipped["hidden"]) > 0
    {
        writeln!(
            out,
            "  skipped          {} invalid record(s), {} empty file(s), {} unreadable file(s), \
             {} hidden entries",
            number(&report["invalid_records"]["count"]),
            listed(&skipped["empty"]),
            listed(&skipped["unreadable"]),
            listed(&skipped["hidden"])
        )?;
    }
    if number(&counts["duplicate_ids"]) > 0 {
        writeln!(
            out,
            "  duplicate ids    {} record(s) repeat an earlier id",
            number(&counts["duplicate_ids"])
        )?;
    }
    writeln!(
        out,
        "  units            {} {}s",
        number(&counts["units"]),
        args.unit
    )?;
    writeln!(
        out,
        "  clusters         {} ({} with duplicates)",
        number(&counts["clusters"]),
        number(&counts["duplicate_clusters"])
    )?;
    writeln!(
        out,
        "  duplicates       {} units",
        number(&counts["duplicate_units"])
    )?;
    writeln!(
        out,
        "  wall time        {:.2}s ({})",
        report["wall_seconds"].as_f64().unwrap_or(0.0),
        stages.join(", ")
    )?;
    writeln!(
        out,
        "  exchanged        {:.1} MiB between processes",
        number(&distributed["exchanged_bytes_total"]) as f64 / (1 << 20) as f64
    )?;
    writeln!(
        out,
        "  output           {}/{{clusters,pairs,deduped}}-NNNNN-of-{:05}.jsonl, report.json",
        args.out.display(),
        cluster.total_workers()
    )?;
    Ok(())
}

fn print_summary(
    args: &DedupArgs,
    config: &DedupConfig,
    outcome: &DedupOutcome,
    report: &Report<'_>,
) -> anyhow::Result<()> {
    let s = &outcome.stats;
    let method = match config.algo {
        Algo::Minhash => {
            let lsh = outcome
                .lsh
                .map(|p| format!(", LSH {} bands x {} rows", p.bands, p.rows))
                .unwrap_or_default();
            format!(
                "minhash ({}), threshold {}, {} permutations{lsh}, verify {}",
                as_typed(&config.minhash_variant),
                config.threshold,
                config.num_perm,
                as_typed(&config.verify)
            )
        }
        Algo::Simhash if config.verify == Verify::Exact => format!(
            "simhash, 64 bits, Hamming distance <= {}, verify exact (threshold {})",
            config.hamming, config.threshold
        ),
        Algo::Simhash => format!("simhash, 64 bits, Hamming distance <= {}", config.hamming),
        Algo::Exact => "exact (normalised text)".to_string(),
    };
    let pct = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            100.0 * part as f64 / whole as f64
        }
    };
    let stages: Vec<String> = report
        .timings
        .iter()
        .map(|t| format!("{} {:.2}s", t.stage, t.seconds))
        .collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "neardedup dedup: {method}")?;
    writeln!(
        out,
        "  input            {} file(s), {} bytes, {} record(s)",
        report.inputs.len(),
        report.input_bytes,
        s.records
    )?;
    let skipped = report.skipped_files;
    if outcome.invalid.count > 0 || skipped.count > 0 || !skipped.hidden.is_empty() {
        writeln!(
            out,
            "  skipped          {} invalid record(s), {} empty file(s), {} unreadable file(s), \
             {} hidden entries",
            outcome.invalid.count,
            skipped.empty.len(),
            skipped.unreadable.len(),
            skipped.hidden.len()
        )?;
    }
    if s.duplicate_ids > 0 {
        writeln!(
            out,
            "  duplicate ids    {} record(s) repeat an earlier id",
            s.duplicate_ids
        )?;
    }
    let resumed = &outcome.resumed;
    if resumed.any() {
        let stages = if resumed.stages_reused.is_empty() {
            String::new()
        } else {
            format!(", {}", resumed.stages_reused.join(", "))
        };
        writeln!(
            out,
            "  resumed          {} of {} shard(s){stages} from an interrupted run",
            resumed.shards_reused, resumed.shards
        )?;
    }
    writeln!(
        out,
        "  units            {} {}s",
        s.units,
        as_typed(&config.unit)
    )?;
    writeln!(
        out,
        "  clusters         {} ({} with duplicates)",
        s.clusters, s.duplicate_clusters
    )?;
    writeln!(
        out,
        "  duplicates       {} units ({:.1}% of units, {:.1}% of bytes)",
        s.duplicate_units,
        pct(s.duplicate_units, s.units),
        pct(s.duplicate_bytes, s.unit_bytes)
    )?;
    writeln!(
        out,
        "  wall time        {:.2}s ({})",
        report.wall_seconds,
        stages.join(", ")
    )?;
    let mib = |b: Option<u64>| {
        b.map_or_else(
            || "?".to_string(),
            |b| format!("{:.1}", b as f64 / (1 << 20) as f64),
        )
    };
    if report.memory.peak_rss_bytes.is_some() {
        writeln!(
            out,
            "  peak memory      {} MiB RSS ({} MiB allocated, {} MiB file-backed)",
            mib(report.memory.peak_rss_bytes),
            mib(report.memory.peak_anon_bytes),
            mib(report.memory.peak_file_bytes)
        )?;
    }
    writeln!(
        out,
        "  scratch          {:.1} MiB of checkpoints ({:.1}% of input), budget {:.0} MiB",
        report.scratch_bytes as f64 / (1 << 20) as f64,
        pct(report.scratch_bytes, report.input_bytes),
        report.memory_budget_bytes as f64 / (1 << 20) as f64
    )?;
    writeln!(
        out,
        "  output           {}/{{clusters.jsonl, pairs.jsonl, deduped.jsonl, report.json}}",
        args.out.display()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches, Parser};

    #[derive(Debug, Parser)]
    struct Line {
        #[command(flatten)]
        args: DedupArgs,
    }

    fn parse(line: &[&str]) -> DedupArgs {
        let argv = std::iter::once("neardedup").chain(line.iter().copied());
        let matches = Line::command().get_matches_from(argv);
        let mut args = Line::from_arg_matches(&matches).expect("parses").args;
        args.note_given(&matches);
        args
    }

    fn refusal(index: &DedupArgs, run: &DedupArgs) -> Option<String> {
        let header = IndexHeader::for_config(&index.config().expect("index config"));
        let config = run.config().expect("run config");
        refuse_other_settings(&run.given, &config, &header, std::path::Path::new("i.ndx"))
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn only_options_typed_on_the_command_line_count_as_given() {
        let args = parse(&[
            "--unit",
            "article",
            "--keep-case",
            "--threshold",
            "0.5",
            "in",
        ]);
        assert_eq!(args.given, ["unit", "keep_case"]);
        assert!(parse(&["in"]).given.is_empty());
    }

    #[test]
    fn every_index_setting_given_with_another_value_is_refused() {
        let index = parse(&["in"]);
        let cases: [(&[&str], &str); 11] = [
            (
                &["--unit", "paragraph"],
                "--unit paragraph (the index's: article)",
            ),
            (
                &["--para-sep", "blank"],
                "--para-sep blank (the index's: line)",
            ),
            (
                &["--min-para-chars", "9"],
                "--min-para-chars 9 (the index's: 0)",
            ),
            (
                &["--tokenizer", "char"],
                "--tokenizer char (the index's: word)",
            ),
            (&["--ngram", "3"], "--ngram 3 (the index's: 4)"),
            (&["--no-nfkc"], "--no-nfkc (the index was built without it)"),
            (
                &["--keep-case"],
                "--keep-case (the index was built without it)",
            ),
            (
                &["--keep-punctuation"],
                "--keep-punctuation (the index was built without it)",
            ),
            (
                &["--minhash-variant", "classic"],
                "--minhash-variant classic (the index's: oph)",
            ),
            (&["--num-perm", "64"], "--num-perm 64 (the index's: 128)"),
            (&["--seed", "2"], "--seed 2 (the index's: 1)"),
        ];
        for (options, named) in cases {
            let run = parse(&[options, &["in"][..]].concat());
            let message = refusal(&index, &run).unwrap_or_else(|| panic!("{options:?} accepted"));
            assert!(message.starts_with("i.ndx: "), "{message}");
            assert!(message.contains(named), "{options:?}: {message}");
        }
        assert_eq!(
            cases.len(),
            INDEX_SETTINGS.len(),
            "every setting is covered"
        );
    }

    #[test]
    fn settings_given_with_the_index_value_or_left_out_are_accepted() {
        let index = parse(&["--unit", "paragraph", "--ngram", "3", "--keep-case", "in"]);
        let same = parse(&["--unit", "paragraph", "--keep-case", "in"]);
        assert_eq!(refusal(&index, &same), None);
        let left_out = parse(&["in"]);
        assert_eq!(refusal(&index, &left_out), None);
        let both = parse(&["--unit", "article", "--ngram", "5", "in"]);
        let message = refusal(&index, &both).expect("refused");
        assert!(
            message.contains("--unit article (the index's: paragraph), --ngram 5 (the index's: 3)"),
            "{message}"
        );
    }
}
