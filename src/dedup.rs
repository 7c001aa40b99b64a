//! A whole run as a program asks for it: input paths in, a complete output
//! folder out (or none that looks complete), an index updated if asked.
//!
//! [`Dedup::run`] is the library's front door to a run, for one process or for
//! one process of a distributed run. It holds the policies around the engine
//! ([`crate::pipeline::engine`]), written once:
//!
//! - an index to save is locked before any work, before the index compared
//!   against is read (they may be one file); settings given explicitly must agree
//!   with that index's, the others take its values;
//! - the output folder is claimed at the start ([`crate::output::Staged`]), so a
//!   folder in use fails at once and an earlier run's outputs stop looking
//!   current; outputs appear together, `report.json` last;
//! - units already in the index are refused when saving it (they would be
//!   indexed twice), and only noted otherwise;
//! - the saved index replaces the old one only once the output folder is
//!   complete;
//! - the scratch folder is removed after a run that succeeded (unless kept), and
//!   after one that failed while searching (nothing worth resuming) unless the
//!   caller chose the folder; a run that failed while writing keeps it, and says
//!   so, for the same command to resume from.
//!
//! Messages for the user that are not errors go through [`Progress::note`].

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::corpus::{Corpus, CorpusOptions};
use crate::error::{Error, Result};
use crate::exchange::Local;
use crate::index::file::IndexFile;
use crate::index::{IndexedUnit, SignatureIndex};
use crate::output::records::{self, Emitter, Layout, OutputMode, RecordOutput};
use crate::output::report::{Report, RunCosts};
use crate::output::{writers, Staged};
use crate::pipeline::{engine, Algo, DedupConfig, DedupOutcome, Progress, StageTiming};

/// One dedup run: what to read, how to compare, where to write.
#[derive(Debug, Clone)]
pub struct Dedup {
    /// Input files or folders.
    pub inputs: Vec<PathBuf>,
    /// How records are read.
    pub corpus: CorpusOptions,
    /// How units are compared.
    pub config: DedupConfig,
    /// Output folder.
    pub out: PathBuf,
    /// What is written of the records (see [`crate::output::records`]).
    pub output: RecordOutput,
    /// Scratch folder for checkpoints (`None`: `OUT/.neardedup-work`, removed
    /// with everything else when the run fails).
    pub work_dir: Option<PathBuf>,
    /// Keep the scratch folder after a run that succeeded.
    pub keep_work: bool,
    /// Memory for the large working structures, in bytes.
    pub memory_budget: u64,
    /// Input bytes per shard (`None`: from the budget).
    pub shard_bytes: Option<u64>,
    /// A saved index to compare against.
    pub against: Option<PathBuf>,
    /// Where to save this run's signatures as an index (MinHash).
    pub save_index: Option<PathBuf>,
    /// Settings the caller gave explicitly (names from
    /// [`crate::index::FIXED_SETTINGS`]): with `against`, they must agree with
    /// the index's; the others take the index's values.
    pub given_settings: Vec<&'static str>,
    /// Print one line per finished stage of a distributed run on stderr.
    pub log_stages: bool,
    /// Run as one process of a distributed run.
    #[cfg(feature = "distributed")]
    pub cluster: Option<crate::distributed::Cluster>,
}

/// What a finished run gives back.
#[derive(Debug)]
pub struct Finished {
    /// The run's report (`report.json`); `None` on the processes of a
    /// distributed run other than process 0, which writes it.
    pub report: Option<Report>,
    /// The files this process wrote into the output folder, by name (`*` for
    /// the kind of a distributed run's part).
    pub written: Vec<String>,
    /// What the run found, for a program to read without reading the output
    /// folder back; `None` for a distributed run, whose outcome is spread over
    /// its workers.
    pub outcome: Option<DedupOutcome>,
    /// The inputs as the run read them, to read records' texts from; `None`
    /// for a distributed run.
    pub corpus: Option<Corpus>,
}

/// What [`Dedup::search`] gives back: a run's results in memory.
#[derive(Debug)]
pub struct Searched {
    /// What the run found.
    pub outcome: DedupOutcome,
    /// Its report, as `report.json` would hold it (without output files).
    pub report: Report,
    /// The inputs as the run read them, to read records' texts from.
    pub corpus: Corpus,
}

/// A run's inputs opened and its settings settled, before any work.
struct Prepared {
    config: DedupConfig,
    corpus: Corpus,
    /// The index file to save, locked.
    save_target: Option<IndexFile>,
    /// The index compared against.
    index: Option<SignatureIndex>,
}

impl Dedup {
    /// A run of `inputs` into `out` with the default settings.
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf) -> Self {
        Dedup {
            inputs,
            corpus: CorpusOptions::default(),
            config: DedupConfig::default(),
            out,
            output: RecordOutput::default(),
            work_dir: None,
            keep_work: false,
            memory_budget: crate::memory::default_budget_bytes(),
            shard_bytes: None,
            against: None,
            save_index: None,
            given_settings: Vec::new(),
            log_stages: false,
            #[cfg(feature = "distributed")]
            cluster: None,
        }
    }

    /// The scratch folder this run uses.
    pub fn scratch(&self) -> PathBuf {
        self.work_dir
            .clone()
            .unwrap_or_else(|| self.out.join(".neardedup-work"))
    }

    /// Opens the inputs, decoding compressed files, Parquet tables and streams
    /// into the scratch folder. When that fails, the scratch folder and the
    /// output folder are removed again if opening created them (and they are
    /// empty: decoded copies are unnamed files).
    fn open_corpus(&self, scratch: &Path) -> Result<Corpus> {
        let scratch = scratch.to_path_buf();
        let absent: Vec<PathBuf> = [self.out.clone(), scratch.clone()]
            .into_iter()
            .filter(|p| !p.exists())
            .collect();
        let opened = Corpus::open_in(
            &self.inputs,
            self.corpus.clone(),
            self.memory_budget,
            &scratch,
        );
        if opened.is_err() {
            for dir in absent.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
        }
        opened
    }

    /// Runs it: reads the inputs, finds the duplicates, writes the output folder
    /// and the index. Progress and notes go to `progress`.
    pub fn run(&self, progress: &dyn Progress) -> Result<Finished> {
        let out_absent = !self.out.exists();
        let result = self.run_in_place(progress);
        // Decoding inputs may have made the output folder (for the scratch
        // folder inside it) before the run claimed it: a failed run leaves none.
        if result.is_err() && out_absent {
            let _ = std::fs::remove_dir(&self.out);
        }
        result
    }

    /// Runs it without writing an output folder: the outcome and the report
    /// stay in memory (`out` is not used). Checkpoints go to `work_dir`, or to a
    /// temporary folder removed at the end; an index is compared against and
    /// saved as [`Dedup::run`] does.
    pub fn search(&self, progress: &dyn Progress) -> Result<Searched> {
        let started = Instant::now();
        let sampler = crate::memory::PeakSampler::start();
        let temporary;
        let scratch = match &self.work_dir {
            Some(dir) => dir.clone(),
            None => {
                let temp = std::env::temp_dir();
                temporary = tempfile::Builder::new()
                    .prefix("neardedup-work-")
                    .tempdir_in(&temp)
                    .map_err(|e| Error::io(&temp, e))?;
                temporary.path().to_path_buf()
            }
        };
        let Prepared {
            config,
            corpus,
            save_target,
            index,
        } = self.prepare(&scratch, progress)?;
        let job = self.engine_job(&corpus, &config, index.as_ref(), &scratch);
        let outcome = match engine::run(&mut Local, &job, progress) {
            Ok(worker) => worker.outcome,
            Err(e) => {
                if self.work_dir.is_some() {
                    self.clean_up_after_failure(&e, progress);
                }
                return Err(e);
            }
        };
        if let Some(mut target) = save_target {
            target.stage(&with_outcome(index, &config, &outcome)?)?;
            target.commit()?;
        }
        let emitter = Emitter {
            corpus: &corpus,
            outcome: &outcome,
            unit: config.sketch.unit,
            para_sep: config.sketch.para_sep,
            mode: OutputMode::Remove,
        };
        let deduped = emitter.count_kept()?;
        let report = Report::new(
            &corpus,
            &config,
            &outcome,
            deduped,
            (self.output.clone(), Vec::new()),
            RunCosts {
                timings: outcome.timings.clone(),
                wall_seconds: started.elapsed().as_secs_f64(),
                threads: rayon::current_num_threads(),
                memory: sampler.finish(),
                memory_budget: self.memory_budget,
            },
        );
        if self.work_dir.is_some() && !self.keep_work {
            std::fs::remove_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
        }
        Ok(Searched {
            outcome,
            report,
            corpus,
        })
    }

    /// Checks the settings, opens the inputs (decoding into `scratch`), locks
    /// the index to save and reads the one compared against: everything that
    /// can fail before any work.
    fn prepare(&self, scratch: &Path, progress: &dyn Progress) -> Result<Prepared> {
        let mut config = self.config.clone();
        config.validate()?;
        let corpus = self.open_corpus(scratch)?;
        if corpus.found_id_field() {
            progress.note(&format!(
                "records are known by their `{}` field (found in the first record)",
                crate::corpus::FOUND_ID_FIELD
            ));
        }
        if self.save_index.is_some() && config.algo != Algo::Minhash {
            return Err(Error::Config(
                "`save_index` stores MinHash signatures: use `algo` minhash".into(),
            ));
        }
        if let Some(path) = &self.against {
            std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        }
        // Only one process of a distributed run saves the index.
        let saves_index = self.save_index.as_deref().filter(|_| self.process() == 0);
        let save_target = saves_index.map(IndexFile::open).transpose()?;
        let index = match &self.against {
            Some(path) => Some(self.read_index(path, &mut config)?),
            None => None,
        };
        Ok(Prepared {
            config,
            corpus,
            save_target,
            index,
        })
    }

    /// The engine's job for this run's settings, checkpointing in `work_dir`.
    fn engine_job<'a>(
        &'a self,
        corpus: &'a Corpus,
        config: &'a DedupConfig,
        index: Option<&'a SignatureIndex>,
        work_dir: &Path,
    ) -> engine::Job<'a> {
        engine::Job {
            corpus,
            config,
            index,
            index_path: self.against.as_deref(),
            refuse_indexed: self.save_index.is_some(),
            work_dir: Some(work_dir.to_path_buf()),
            memory_budget: self.memory_budget,
            shard_bytes: self.shard_bytes,
            keep_signatures: self.save_index.is_some(),
            log_stages: false,
        }
    }

    fn run_in_place(&self, progress: &dyn Progress) -> Result<Finished> {
        let started = Instant::now();
        let sampler = crate::memory::PeakSampler::start();
        let Prepared {
            config,
            corpus,
            mut save_target,
            index,
        } = self.prepare(&self.scratch(), progress)?;
        // Two inputs with one output name fail before any work.
        let layout = Layout::new(&corpus, &self.output)?;
        #[cfg(feature = "distributed")]
        if let Some(cluster) = &self.cluster {
            return self.run_distributed(cluster, corpus, config, index, save_target, progress);
        }

        // Claimed before any work: a folder in use fails at once, and an earlier
        // run's outputs stop looking current as soon as this run starts.
        let staged = Staged::new(&self.out)?;
        if staged.replaced() > 0 {
            progress.note(&format!(
                "replacing the outputs of an earlier run in {}",
                self.out.display()
            ));
        }
        let work_dir = self.scratch();
        let job = self.engine_job(&corpus, &config, index.as_ref(), &work_dir);
        let outcome = match engine::run(&mut Local, &job, progress) {
            Ok(worker) => worker.outcome,
            Err(e) => {
                self.clean_up_after_failure(&e, progress);
                return Err(e);
            }
        };
        if let Some(target) = &mut save_target {
            target.stage(&with_outcome(index, &config, &outcome)?)?;
        }

        // Checkpoints of a run that failed while writing (a full disk, say) hold
        // the whole search: they are kept, and said so.
        let costs = |timings: Vec<StageTiming>| RunCosts {
            timings,
            wall_seconds: started.elapsed().as_secs_f64(),
            threads: rayon::current_num_threads(),
            memory: sampler.finish(),
            memory_budget: self.memory_budget,
        };
        let report = write_outputs(
            staged,
            Job {
                corpus: &corpus,
                config: &config,
                output: &self.output,
                layout: &layout,
            },
            &outcome,
            progress,
            costs,
        )
        .inspect_err(|_| note_kept_scratch(&work_dir, progress))?;
        if let Some(target) = save_target {
            target.commit().map_err(|e| {
                Error::Config(format!(
                    "the output folder {} is complete, but the index was not updated: {e}",
                    self.out.display()
                ))
            })?;
        }
        if !self.keep_work {
            std::fs::remove_dir_all(&work_dir).map_err(|e| Error::io(&work_dir, e))?;
        }
        let written = self
            .output
            .line_files()
            .map(|kind| format!("{kind}.jsonl"))
            .chain(report.outputs.iter().map(|w| w.path.clone()))
            .chain(["report.json".to_string()])
            .collect();
        Ok(Finished {
            report: Some(report),
            written,
            outcome: Some(outcome),
            corpus: Some(corpus),
        })
    }

    /// This process's number in a distributed run (0 otherwise).
    fn process(&self) -> usize {
        #[cfg(feature = "distributed")]
        if let Some(cluster) = &self.cluster {
            return cluster.process;
        }
        0
    }

    /// One process of a distributed run: its workers run the stages and write
    /// their parts; process 0 writes the report and saves the index.
    #[cfg(feature = "distributed")]
    fn run_distributed(
        &self,
        cluster: &crate::distributed::Cluster,
        corpus: Corpus,
        config: DedupConfig,
        index: Option<SignatureIndex>,
        save_target: Option<IndexFile>,
        progress: &dyn Progress,
    ) -> Result<Finished> {
        use std::sync::Arc;
        let shared = self.scratch();
        let work_dir = shared.join(format!("process-{:05}", cluster.process));
        let job = crate::distributed::Job {
            config: config.clone(),
            out: self.out.clone(),
            output: self.output.clone(),
            work_dir: work_dir.clone(),
            memory_budget: self.memory_budget,
            shard_bytes: self.shard_bytes,
            log_stages: self.log_stages,
            index: index.map(Arc::new),
            index_path: self.against.clone(),
            save_index: self.save_index.is_some(),
        };
        let index = job.index.clone();
        let summary = crate::distributed::run(Arc::new(corpus), job, cluster, progress);
        let summary = summary.inspect_err(|e| {
            // After a lost connection the checkpoints are kept: started again,
            // the run reuses them.
            if self.work_dir.is_none() && !crate::distributed::is_lost_connection(e) {
                let _ = std::fs::remove_dir_all(&work_dir);
                // The shared parent and the output folder, if no other process
                // left anything in them (removing a folder that is not empty
                // fails and leaves it).
                let _ = std::fs::remove_dir(&shared);
                let _ = std::fs::remove_dir(&self.out);
            }
        })?;
        let report = match summary {
            Some(summary) => {
                if let (Some(mut target), Some((units, signatures))) =
                    (save_target, summary.indexed)
                {
                    let mut saved = index
                        .map(|index| (*index).clone())
                        .unwrap_or_else(|| SignatureIndex::new(&config));
                    saved.append(units, &signatures)?;
                    target.stage(&saved)?;
                    target.commit().map_err(|e| {
                        Error::Config(format!(
                            "the output folder {} is complete, but the index was not updated: {e}",
                            self.out.display()
                        ))
                    })?;
                }
                Some(summary.report)
            }
            None => None,
        };
        if !self.keep_work {
            std::fs::remove_dir_all(&work_dir).map_err(|e| Error::io(&work_dir, e))?;
            // The shared parent, once no process uses it any more.
            if self.work_dir.is_none() {
                let _ = std::fs::remove_dir(&shared);
            }
        }
        let written = (0..cluster.workers)
            .map(|w| cluster.process * cluster.workers + w)
            .map(|w| crate::distributed::part_name("*", w, cluster.total_workers()))
            .collect();
        Ok(Finished {
            report,
            written,
            outcome: None,
            corpus: None,
        })
    }

    /// Reads the index compared against; settings given explicitly must agree
    /// with its own, which `config` then takes.
    fn read_index(&self, path: &Path, config: &mut DedupConfig) -> Result<SignatureIndex> {
        let index = SignatureIndex::read(path)?;
        if config.algo == Algo::Minhash {
            let differences = index.header.differences(config, &self.given_settings);
            if !differences.is_empty() {
                return Err(Error::IndexSettings {
                    path: path.to_path_buf(),
                    differences,
                });
            }
            index.header.apply_to(config);
        }
        index.check_compatible(config, path)?;
        Ok(index)
    }

    /// A run that failed (rather than being interrupted) has nothing worth
    /// resuming: its scratch folder goes, unless the caller chose it or another
    /// run is using it.
    fn clean_up_after_failure(&self, error: &Error, progress: &dyn Progress) {
        let work_dir = self.scratch();
        let in_use = matches!(error, Error::InUse(_));
        if self.work_dir.is_none() && !in_use {
            let _ = std::fs::remove_dir_all(&work_dir);
        } else if !in_use {
            note_kept_scratch(&work_dir, progress);
        }
    }
}

/// The index compared against (or a new one) with the units of `outcome` and
/// their signatures appended: what a run saves.
fn with_outcome(
    index: Option<SignatureIndex>,
    config: &DedupConfig,
    outcome: &DedupOutcome,
) -> Result<SignatureIndex> {
    let mut saved = index.unwrap_or_else(|| SignatureIndex::new(config));
    let units = outcome
        .units
        .iter()
        .map(|u| IndexedUnit {
            id: outcome.records[u.record as usize].id.clone(),
            para: u.para,
        })
        .collect();
    saved.append(units, &outcome.signatures)?;
    Ok(saved)
}

/// What the outputs of a run are made from, besides the outcome.
struct Job<'a> {
    corpus: &'a Corpus,
    config: &'a DedupConfig,
    output: &'a RecordOutput,
    layout: &'a Layout,
}

/// Writes the output files of a single-process run and its report, then puts
/// them in place together.
fn write_outputs(
    staged: Staged,
    job: Job<'_>,
    outcome: &DedupOutcome,
    progress: &dyn Progress,
    costs: impl FnOnce(Vec<StageTiming>) -> RunCosts,
) -> Result<Report> {
    let writing = Instant::now();
    progress.stage("write", None);
    let emitter = Emitter {
        corpus: job.corpus,
        outcome,
        unit: job.config.sketch.unit,
        para_sep: job.config.sketch.para_sep,
        mode: job.output.mode,
    };
    let groups = records::file_groups(outcome);
    let (written, deduped) = writers::write_line_files(
        &|kind, fill| staged.write(&format!("{kind}.jsonl"), |w| fill(w)),
        outcome,
        job.output.line_files(),
        || {
            records::write(
                staged.staging(),
                job.layout,
                &emitter,
                &groups,
                &|_| true,
                &records::Received::new(),
                job.output.writes_removed(),
            )
        },
    )?;
    progress.finish_stage();
    let mut timings = outcome.timings.clone();
    timings.push(StageTiming {
        stage: "write",
        seconds: writing.elapsed().as_secs_f64(),
        memory: crate::memory::take_stage_peaks(),
    });
    let report = Report::new(
        job.corpus,
        job.config,
        outcome,
        deduped,
        (job.output.clone(), written),
        costs(timings),
    );
    staged.write("report.json", |w| report.write_to(w))?;
    staged.commit()?;
    Ok(report)
}

/// Says that a failed run's scratch folder is still there, and how large it is.
fn note_kept_scratch(work_dir: &Path, progress: &dyn Progress) {
    if work_dir.exists() {
        progress.warn(&format!(
            "the scratch folder {} ({:.1} MB) is kept: run the same command again to resume \
             from it once the cause is fixed, or delete it",
            work_dir.display(),
            crate::work::disk_bytes(work_dir) as f64 / 1e6
        ));
    }
}
