//! `neardedup dedup`: read the inputs, find duplicates, write the output folder and
//! print a one-screen summary.

use neardedup::config::SketchConfig;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use neardedup::corpus::{CorpusOptions, Format, ParaSep};
use neardedup::dedup::Dedup;
use neardedup::distributed::{LaunchSettings, Launcher, Placement};
use neardedup::minhash::Variant;
use neardedup::options;
use neardedup::output::format::RecordFormat;
use neardedup::output::records::{OptionalOutput, OutputMode, RecordOutput};
use neardedup::output::report::Report;
use neardedup::pipeline::{self, Algo, ClusterMode, DedupConfig, KeepPolicy, UnitKind, Verify};
use neardedup::text::{NormalizeOptions, ShingleConfig, Tokenizer};

use super::limits;
use neardedup::progress_bar::Bar;

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

    /// Which unit of a cluster is kept: `central` (star clusters: the most
    /// connected unit; components: the first), `first` (in input order),
    /// `longest` or `shortest` (in bytes), `drop-all` (none of a cluster of two
    /// or more), `max:FIELD` or `min:FIELD` (by a JSONL field or Parquet
    /// column, a dotted path such as meta.timestamp: numbers or strings;
    /// records without it rank last). Ties go to the earlier unit; units of
    /// --against are kept first.
    #[arg(long, value_name = "POLICY", default_value_t = KeepPolicy::Central)]
    keep: KeepPolicy,

    /// JSONL field (or Parquet column) holding the text; a dotted path such as
    /// `body.text` reaches into nested objects.
    #[arg(long, default_value = "text")]
    text_field: String,

    /// JSONL field (or Parquet column) holding the id, dotted paths allowed
    /// (`meta.url`). Default: the records' `id` field when the first record has
    /// a string or integer one, else the line number.
    #[arg(long)]
    id_field: Option<String>,

    /// Number records by line even when they carry an `id` field.
    #[arg(long, conflicts_with = "id_field")]
    line_ids: bool,

    /// Read every input as this format instead of going by its name.
    /// Compressed files (gzip, zstd, bzip2, xz) and Parquet tables are known
    /// by their leading bytes.
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
    #[arg(long, value_name = "SIZE", value_parser = neardedup::size::parse_size)]
    memory_budget: Option<u64>,

    /// Input bytes sketched per checkpointed shard. [default: a quarter of the
    /// memory budget, at least 16 MiB]
    #[arg(long, value_name = "SIZE", value_parser = neardedup::size::parse_size)]
    shard_size: Option<u64>,

    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,

    /// Distributed run: number of processes (one per machine), all started with
    /// the same inputs and options. Giving any of --processes, --process,
    /// --workers, --hostfile or --rendezvous, or starting under a launcher of
    /// several processes (see --launcher), runs the distributed engine; see README.
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

    /// Distributed run: where the process count, index and addresses come from
    /// when --process is not given. `auto` reads Slurm (srun), MPI launchers
    /// (mpirun) or a Kubernetes indexed Job (with --k8s-service) from the
    /// environment when they started more than one process, and changes nothing
    /// otherwise; `none` ignores the environment.
    #[arg(
        long,
        value_enum,
        default_value_t = LauncherArg::Auto,
        help_heading = "Distributed runs"
    )]
    launcher: LauncherArg,

    /// Distributed run: HOST:PORT where process 0 listens and every process
    /// reports the address it listens on, instead of a hostfile (needed under
    /// MPI launchers, which name no hosts).
    #[arg(long, value_name = "HOST:PORT", help_heading = "Distributed runs")]
    rendezvous: Option<String>,

    /// Distributed run: first port processes listen on: 127.0.0.1:PORT and up
    /// without a hostfile, PORT plus the task's rank on its node under Slurm,
    /// PORT on every pod of a Kubernetes Job.
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = neardedup::distributed::DEFAULT_BASE_PORT,
        help_heading = "Distributed runs"
    )]
    base_port: u16,

    /// Distributed run in a Kubernetes indexed Job: the headless Service through
    /// which the pods reach each other (process I is JOB-I.SERVICE:PORT).
    #[arg(long, value_name = "NAME", help_heading = "Distributed runs")]
    k8s_service: Option<String>,

    /// Distributed run in a Kubernetes indexed Job: the Job's name. [default: the
    /// pod's hostname without its -INDEX]
    #[arg(long, value_name = "NAME", help_heading = "Distributed runs")]
    k8s_job_name: Option<String>,

    /// Distributed run: seconds to wait for every process to connect.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 120,
        help_heading = "Distributed runs"
    )]
    connect_timeout: u64,

    /// Format of the records written (OUT/deduped/, OUT/annotated/) and of
    /// OUT/removed.EXT. [default: like each input file: JSONL, gzip or zstd
    /// JSONL, Parquet (with its schema); a plain-text article stays a
    /// plain-text file; removed units in JSONL]
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Outputs")]
    output_format: Option<RecordFormat>,

    /// Write the records into one file, OUT/deduped.EXT (OUT/annotated.EXT),
    /// instead of one file per input file under OUT/deduped/ (OUT/annotated/),
    /// named as under the folder given.
    #[arg(long, help_heading = "Outputs")]
    single_output: bool,

    /// `remove` writes the records without their duplicates (OUT/deduped/);
    /// `annotate` writes every record with `cluster_id`, `cluster_size`,
    /// `duplicate` and `kept_id` added (OUT/annotated/; lists per paragraph
    /// with `--unit paragraph`).
    #[arg(long, value_enum, default_value_t = OutputMode::Remove, help_heading = "Outputs")]
    mode: OutputMode,

    /// Output files not to write, comma-separated: `clusters` (clusters.jsonl),
    /// `pairs` (pairs.jsonl), `removed` (removed.EXT). For large
    /// paragraph-level runs, whose clusters and removed files can be larger
    /// than the input. The records and report.json are always written.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "FILES",
        help_heading = "Outputs"
    )]
    omit: Vec<OptionalOutput>,

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
            threshold: self.threshold,
            bands: self.bands,
            rows: self.rows,
            verify: self.verify,
            hamming: self.hamming,
            cluster: self.cluster,
            keep: self.keep.clone(),
            skip_invalid: self.skip_invalid,
            sketch: SketchConfig {
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
                minhash_variant: self.minhash_variant,
                num_perm: self.num_perm,
                seed: self.seed,
            },
        };
        config.validate()?;
        Ok(config)
    }

    /// The run these arguments ask for (with the default memory budget).
    fn dedup(&self) -> anyhow::Result<Dedup> {
        let mut dedup = Dedup::new(self.inputs.clone(), self.out.clone());
        dedup.config = self.config()?;
        dedup.corpus = self.corpus_options()?;
        dedup.output = RecordOutput {
            mode: self.mode,
            format: self.output_format,
            single: self.single_output,
            omit: self.omit.clone(),
        };
        dedup.work_dir = self.work_dir.clone();
        dedup.keep_work = self.keep_work;
        dedup.shard_bytes = self.shard_size;
        dedup.against = self.against.clone();
        dedup.save_index = self.save_index.clone();
        dedup.given_settings = self
            .given
            .iter()
            .map(|id| options::setting_of(id))
            .collect();
        Ok(dedup)
    }

    fn corpus_options(&self) -> anyhow::Result<CorpusOptions> {
        Ok(CorpusOptions {
            text_field: self.text_field.clone(),
            id_field: self.id_field.clone(),
            format: self.format,
            skip_invalid: self.skip_invalid,
            allow_duplicate_ids: self.allow_duplicate_ids,
            ids_from_records: !self.line_ids,
        })
    }
}

/// Runs `neardedup dedup`: maps the arguments onto a [`Dedup`], runs it, and
/// prints the summary of its report.
pub fn run(args: DedupArgs) -> anyhow::Result<()> {
    let mut dedup = args.dedup()?;
    dedup.memory_budget = args.checked_limits()?;
    dedup.log_stages = !args.quiet;
    let progress = Bar::new(args.quiet);
    let finished = if let Some(placement) = args.placement()? {
        if !args.quiet {
            eprintln!("neardedup: {placement}");
        }
        let cluster = placement.into_cluster(
            args.workers.unwrap_or(1),
            std::time::Duration::from_secs(args.connect_timeout),
        )?;
        // Timely's workers are threads of their own: size the global pool they
        // share instead of one they would not be inside.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads)
            .build_global();
        dedup.cluster = Some(cluster);
        dedup.run(&progress)
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads)
            .build()
            .context("could not start worker threads")?;
        pool.install(|| dedup.run(&progress))
    }?;
    let Some(report) = &finished.report else {
        if !args.quiet {
            let cluster = dedup
                .cluster
                .as_ref()
                .expect("only distributed runs lack a report");
            eprintln!(
                "neardedup: process {} of {}: wrote {} in {}; process 0 writes report.json",
                cluster.process,
                cluster.processes,
                finished.written.join(", "),
                args.out.display()
            );
        }
        return Ok(());
    };
    warn_skipped_files(report);
    warn_duplicate_ids(report.counts.duplicate_ids);
    if !args.quiet {
        print_summary(&args, report)?;
    }
    Ok(())
}

/// Names, on stderr, the first few input files skipped under --skip-invalid (all
/// are listed in report.json).
fn warn_skipped_files(report: &Report) {
    const SHOWN: usize = 3;
    let unreadable = &report.skipped_files.unreadable;
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

    /// This process's place in a distributed run, from the options and the
    /// launcher's environment variables; `None` for a single-process run.
    fn placement(&self) -> anyhow::Result<Option<Placement>> {
        let settings = LaunchSettings {
            launcher: match self.launcher {
                LauncherArg::Auto => Launcher::Auto,
                LauncherArg::None => Launcher::None,
                LauncherArg::Slurm => Launcher::Slurm,
                LauncherArg::Mpi => Launcher::Mpi,
                LauncherArg::K8s => Launcher::Kubernetes,
            },
            processes: self.processes,
            process: self.process,
            hostfile: self.hostfile.clone(),
            rendezvous: self.rendezvous.clone(),
            base_port: self.base_port,
            k8s_service: self.k8s_service.clone(),
            k8s_job_name: self.k8s_job_name.clone(),
            distributed: self.workers.is_some(),
        };
        let env = neardedup::distributed::launch::environment();
        Ok(neardedup::distributed::place(&settings, &env)?)
    }
}

/// Where a distributed run's process count and index come from (`--launcher`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LauncherArg {
    /// Slurm, MPI or Kubernetes when one started several processes; else none.
    Auto,
    /// Only --processes and --process.
    None,
    /// Slurm's srun (SLURM_PROCID, SLURM_NTASKS, SLURM_JOB_NODELIST).
    Slurm,
    /// An MPI launcher (OMPI_COMM_WORLD_*, PMI_*, PMIX_RANK); needs --rendezvous.
    Mpi,
    /// A Kubernetes indexed Job (JOB_COMPLETION_INDEX); needs --k8s-service.
    K8s,
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

/// Where a run's outputs are, in one line: the record outputs (a folder of
/// files per input, or one file) with their record counts, then the rest.
fn outputs_summary(args: &DedupArgs, report: &Report) -> String {
    let stem = report.output.stem();
    let (in_folder, others): (Vec<_>, Vec<_>) = report
        .outputs
        .iter()
        .partition(|w| w.path.starts_with(&format!("{stem}/")));
    let mut parts = Vec::new();
    if !in_folder.is_empty() {
        let records: u64 = in_folder.iter().map(|w| w.records).sum();
        let shown = match in_folder.as_slice() {
            [one] => one.path.clone(),
            many => format!("{stem}/ ({} files)", many.len()),
        };
        parts.push(format!("{shown} ({records} record(s))"));
    }
    for w in others {
        let what = if w.path.starts_with("removed") {
            "unit(s)"
        } else {
            "record(s)"
        };
        parts.push(format!("{} ({} {what})", w.path, w.records));
    }
    let line_files: Vec<&str> = report.output.line_files().collect();
    match (&report.distributed, line_files.as_slice()) {
        (_, []) => {}
        (Some(spread), [one]) => {
            parts.push(format!("{one}-NNNNN-of-{:05}.jsonl", spread.parts.len()))
        }
        (Some(spread), many) => parts.push(format!(
            "{{{}}}-NNNNN-of-{:05}.jsonl",
            many.join(","),
            spread.parts.len()
        )),
        (None, names) => parts.push(
            names
                .iter()
                .map(|name| format!("{name}.jsonl"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
    parts.push("report.json".into());
    format!("{}/: {}", args.out.display(), parts.join(", "))
}

/// The one-screen summary of a finished run, from its report.
fn print_summary(args: &DedupArgs, report: &Report) -> anyhow::Result<()> {
    let (s, config) = (&report.counts, &report.parameters);
    let method = match config.algo {
        Algo::Minhash => {
            let lsh = report
                .lsh
                .as_ref()
                .map(|p| format!(", LSH {} bands x {} rows", p.bands, p.rows))
                .unwrap_or_default();
            format!(
                "minhash ({}), threshold {}, {} permutations{lsh}, verify {}",
                as_typed(&config.sketch.minhash_variant),
                config.threshold,
                config.sketch.num_perm,
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
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let mut out = std::io::stdout().lock();
    writeln!(out, "neardedup dedup: {method}")?;
    if let Some(spread) = &report.distributed {
        writeln!(
            out,
            "  distributed      {} process(es) x {} worker(s), {:.1} MiB exchanged between \
             processes",
            spread.processes,
            spread.workers_per_process,
            mib(spread.exchanged_bytes_total)
        )?;
    }
    writeln!(
        out,
        "  input            {} file(s), {} bytes, {} record(s)",
        report.inputs.len(),
        report.input_bytes,
        s.records
    )?;
    let (invalid, skipped) = (&report.invalid_records, &report.skipped_files);
    if invalid.count > 0 || skipped.count > 0 || !skipped.hidden.is_empty() {
        writeln!(
            out,
            "  skipped          {} invalid record(s), {} empty file(s), {} unreadable file(s), \
             {} hidden entries",
            invalid.count,
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
    let resumed = &report.resumed;
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
    let repeats = match report.repeats_reused {
        0 => String::new(),
        n => format!(" ({n} given the sketch of an earlier unit with the same bytes)"),
    };
    writeln!(
        out,
        "  units            {} {}s{repeats}",
        s.units,
        as_typed(&config.sketch.unit)
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
    let shown = |b: Option<u64>| b.map_or_else(|| "?".to_string(), |b| format!("{:.1}", mib(b)));
    if report.memory.peak_rss_bytes.is_some() {
        writeln!(
            out,
            "  peak memory      {} MiB RSS ({} MiB allocated, {} MiB file-backed)",
            shown(report.memory.peak_rss_bytes),
            shown(report.memory.peak_anon_bytes),
            shown(report.memory.peak_file_bytes)
        )?;
    }
    writeln!(
        out,
        "  scratch          {:.1} MiB of checkpoints ({:.1}% of input), budget {:.0} MiB",
        mib(report.scratch_bytes),
        pct(report.scratch_bytes, report.input_bytes),
        mib(report.memory_budget_bytes)
    )?;
    writeln!(out, "  output           {}", outputs_summary(args, report))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches, Parser};
    use neardedup::index::IndexHeader;

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
        let given: Vec<&str> = run.given.iter().map(|id| options::setting_of(id)).collect();
        let differences = header.differences(&config, &given);
        (!differences.is_empty()).then(|| {
            super::super::error_message(&anyhow::Error::from(
                neardedup::error::Error::IndexSettings {
                    path: "i.ndx".into(),
                    differences,
                },
            ))
        })
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

/// The command line and [`neardedup::options`] (what the Python package sets a
/// run with) take the same options with the same defaults.
#[cfg(test)]
mod option_parity {
    use super::*;
    use clap::{CommandFactory, FromArgMatches, Parser};

    #[derive(Debug, Parser)]
    struct Line {
        #[command(flatten)]
        args: DedupArgs,
    }

    /// Options of the command line that belong to it rather than to the run.
    const FRONT_END_ONLY: [&str; 16] = [
        "inputs",
        "out",
        "threads",
        "quiet",
        "processes",
        "process",
        "workers",
        "hostfile",
        "launcher",
        "rendezvous",
        "base_port",
        "k8s_service",
        "k8s_job_name",
        "connect_timeout",
        "given",
        "help",
    ];

    #[test]
    fn every_run_option_of_the_command_line_can_be_set_by_name() {
        let ids: Vec<String> = Line::command()
            .get_arguments()
            .map(|arg| arg.get_id().to_string())
            .filter(|id| !FRONT_END_ONLY.contains(&id.as_str()))
            .collect();
        assert_eq!(ids, options::NAMES, "same options, in the same order");
    }

    #[test]
    fn the_defaults_are_the_command_line_defaults() {
        let matches = Line::command().get_matches_from(["neardedup", "in.jsonl"]);
        let args = Line::from_arg_matches(&matches).expect("parses").args;
        let from_cli = args.dedup().expect("default run");
        let by_name = Dedup::new(vec!["in.jsonl".into()], "neardedup-out".into());
        assert_eq!(
            format!("{:?}", from_cli.config),
            format!("{:?}", by_name.config)
        );
        assert_eq!(
            format!("{:?}", from_cli.corpus),
            format!("{:?}", by_name.corpus)
        );
        assert_eq!(
            format!("{:?}", from_cli.output),
            format!("{:?}", by_name.output)
        );
        assert_eq!(from_cli.shard_bytes, by_name.shard_bytes);
        assert_eq!(from_cli.work_dir, by_name.work_dir);
    }

    #[test]
    fn an_option_set_by_name_changes_what_the_same_flag_changes() {
        let cases: [(&str, &str, &str); 6] = [
            ("num_perm", "--num-perm", "64"),
            ("unit", "--unit", "paragraph"),
            ("keep", "--keep", "longest"),
            ("text_field", "--text-field", "body"),
            ("mode", "--mode", "annotate"),
            ("keep_case", "--keep-case", "true"),
        ];
        for (name, flag, value) in cases {
            let mut line = vec!["neardedup", flag];
            if value != "true" {
                line.push(value);
            }
            line.push("in.jsonl");
            let matches = Line::command().get_matches_from(line);
            let from_cli = Line::from_arg_matches(&matches)
                .unwrap()
                .args
                .dedup()
                .unwrap();
            let mut by_name = Dedup::new(vec!["in.jsonl".into()], "neardedup-out".into());
            options::set(&mut by_name, name, Some(value)).unwrap();
            assert_eq!(
                format!("{:?}", from_cli.config),
                format!("{:?}", by_name.config),
                "{name}"
            );
            assert_eq!(
                format!("{:?}{:?}", from_cli.corpus, from_cli.output),
                format!("{:?}{:?}", by_name.corpus, by_name.output),
                "{name}"
            );
        }
    }
}
