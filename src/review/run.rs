//! Reading a finished run's output folder back: `report.json`, `clusters.jsonl`
//! and (when clusters do not name each duplicate's kept unit) `pairs.jsonl`, or a
//! distributed run's parts of them; and
//! the texts of chosen units from the run's inputs, cut exactly as the run cut
//! them.
//!
//! Texts are not in the output folder, so the inputs listed in `report.json` are
//! opened again with the reading options it records (`corpus`) and passed through
//! the pipeline's own scan ([`crate::pipeline::scan::scan`]) with an empty sketch:
//! the units come out with the same numbers, ids and paragraph numbers as in the
//! run. An input that is gone or whose size differs from the recorded one is an
//! error naming it; so is a unit count or id that no longer matches
//! `clusters.jsonl`.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::corpus::{Corpus, CorpusOptions, Format, ParaSep, RecordId};
use crate::error::{Error, Result};
use crate::output::records::OptionalOutput;
use crate::pipeline::scan::{scan, UnitSketch};
use crate::pipeline::{NoProgress, UnitKind, UnitSplit};

/// One unit as the output files name it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UnitRef {
    /// The record's id (its JSON text as the input wrote it).
    pub id: RecordId,
    /// The paragraph number (paragraph units).
    #[serde(default)]
    pub para: Option<u32>,
}

impl UnitRef {
    /// The record id as shown to a reader: strings without their quotes.
    pub fn id_text(&self) -> String {
        self.id.display_text().into_owned()
    }

    fn key(&self) -> (String, Option<u32>) {
        (self.id.to_string(), self.para)
    }
}

/// What `report.json` says about the run.
#[derive(Debug, Clone, Deserialize)]
pub struct RunReport {
    /// Input files, in the order they were read.
    pub inputs: Vec<PathBuf>,
    /// The run's settings that matter here.
    pub parameters: Parameters,
    /// The run's counts.
    pub counts: Counts,
    /// Share of unit bytes that dedup removes.
    #[serde(default)]
    pub duplicate_bytes_fraction: f64,
    /// How the inputs were read (absent in reports of older versions).
    #[serde(default)]
    pub corpus: Option<CorpusSection>,
    /// Present for a distributed run, which writes its lines in parts.
    #[serde(default)]
    pub distributed: Option<DistributedSection>,
    /// What the run wrote (absent in reports of older versions).
    #[serde(default)]
    pub output: Option<OutputSection>,
}

/// The `output` section of `report.json`, as far as the review reads it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutputSection {
    /// Output files the run left out (`--omit`).
    #[serde(default)]
    pub omit: Vec<OptionalOutput>,
}

/// The `distributed` section of `report.json`, as far as the review reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct DistributedSection {
    /// For each worker, in order, the names of its parts: clusters, pairs, deduped.
    pub parts: Vec<Vec<String>>,
}

/// The settings of the run the review needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Parameters {
    /// `minhash`, `simhash` or `exact`.
    pub algo: String,
    /// Articles or paragraphs.
    pub unit: UnitKind,
    /// Paragraph convention.
    pub para_sep: ParaSep,
    /// Shorter paragraphs were not units.
    #[serde(default)]
    pub min_para_chars: usize,
    /// Similarity threshold.
    pub threshold: f64,
    /// Whether unreadable records were skipped.
    #[serde(default)]
    pub skip_invalid: bool,
}

/// The run's counts.
#[derive(Debug, Clone, Deserialize)]
pub struct Counts {
    /// Records read.
    pub records: u64,
    /// Units compared.
    pub units: u64,
    /// Clusters, singletons included.
    pub clusters: u64,
    /// Clusters of two or more units.
    pub duplicate_clusters: u64,
    /// Units dedup removes.
    pub duplicate_units: u64,
    /// Verified duplicate edges.
    pub edges: u64,
}

/// The `corpus` section of `report.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct CorpusSection {
    /// JSONL text field.
    pub text_field: String,
    /// JSONL id field.
    pub id_field: Option<String>,
    /// Forced format.
    pub format: Option<String>,
    /// Bytes of each input.
    pub input_sizes: Vec<u64>,
}

/// One line of `clusters.jsonl`. The unit's fields are listed here rather than
/// flattened: `#[serde(flatten)]` buffers values, which an id kept as its raw
/// JSON text cannot go through.
#[derive(Debug, Clone, Deserialize)]
struct ClusterLine {
    id: RecordId,
    #[serde(default)]
    para: Option<u32>,
    cluster: u32,
    duplicate: bool,
    #[serde(default)]
    kept: Option<UnitRef>,
    #[serde(default)]
    similarity: Option<f32>,
}

/// One line of `pairs.jsonl`.
#[derive(Debug, Clone, Deserialize)]
struct PairLine {
    a: UnitRef,
    b: UnitRef,
    similarity: f32,
}

/// Where the pairs under review come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairSource {
    /// Each duplicate with the unit kept in its place (`kept` in `clusters.jsonl`).
    KeptUnit,
    /// Every verified edge of `pairs.jsonl`.
    Edges,
}

/// A pair under review: two units and their similarity.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The kept unit (or, for an edge, the earlier unit).
    pub left: UnitRef,
    /// The duplicate (or the later unit of an edge).
    pub right: UnitRef,
    /// Their similarity as the run measured it.
    pub similarity: f32,
}

/// Everything read from an output folder.
#[derive(Debug)]
pub struct Run {
    /// The folder.
    pub dir: PathBuf,
    /// `report.json`.
    pub report: RunReport,
    /// Every unit, in unit-number order.
    pub units: Vec<UnitRef>,
    /// Each unit's cluster label.
    pub labels: Vec<u32>,
    /// Whether each unit is a duplicate (removed by dedup).
    pub duplicate: Vec<bool>,
    /// Units per cluster label.
    pub cluster_sizes: HashMap<u32, u32>,
    /// The pairs under review.
    pub pairs: Vec<Pair>,
    /// Where they came from.
    pub source: PairSource,
    by_key: HashMap<(String, Option<u32>), u32>,
}

impl Run {
    /// Reads the output folder `dir` of a finished run.
    pub fn open(dir: &Path) -> Result<Run> {
        let meta = fs::metadata(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::in_file(
                dir,
                "no such folder: give the output folder of a finished dedup run",
            ),
            _ => Error::io(dir, e),
        })?;
        if !meta.is_dir() {
            return Err(Error::in_file(
                dir,
                "not a folder: give the output folder of a finished dedup run",
            ));
        }
        let report_path = dir.join("report.json");
        if !report_path.exists() {
            return Err(Error::in_file(
                dir,
                "no report.json: not the output folder of a finished `neardedup dedup` run",
            ));
        }
        let report_bytes = fs::read(&report_path).map_err(|e| Error::io(&report_path, e))?;
        let report: RunReport = serde_json::from_slice(&report_bytes).map_err(|e| {
            Error::in_file(&report_path, format!("not a neardedup run report: {e}"))
        })?;

        let (cluster_files, pair_files) = line_files(dir, &report)?;
        let mut units = Vec::new();
        let mut labels = Vec::new();
        let mut duplicate = Vec::new();
        let mut kept_pairs = Vec::new();
        let mut all_name_kept = true;
        for_each_line(&cluster_files, |path, line_no, line: ClusterLine| {
            let unit = UnitRef {
                id: line.id,
                para: line.para,
            };
            match (&line.kept, line.similarity, line.duplicate) {
                (Some(kept), Some(similarity), true) => kept_pairs.push(Pair {
                    left: kept.clone(),
                    right: unit.clone(),
                    similarity,
                }),
                (_, _, true) => all_name_kept = false,
                _ => {}
            }
            if u32::try_from(units.len()).is_err() {
                return Err(Error::at_line(path, line_no, "more than 2^32 units"));
            }
            units.push(unit);
            labels.push(line.cluster);
            duplicate.push(line.duplicate);
            Ok(())
        })?;
        let mut by_key = HashMap::with_capacity(units.len());
        for (number, unit) in units.iter().enumerate() {
            by_key.entry(unit.key()).or_insert(number as u32);
        }
        let mut cluster_sizes: HashMap<u32, u32> = HashMap::new();
        for &label in &labels {
            *cluster_sizes.entry(label).or_default() += 1;
        }

        let (pairs, source) = if all_name_kept && !kept_pairs.is_empty() {
            (kept_pairs, PairSource::KeptUnit)
        } else {
            let mut pairs = Vec::new();
            for_each_line(&pair_files, |_, _, line: PairLine| {
                pairs.push(Pair {
                    left: line.a,
                    right: line.b,
                    similarity: line.similarity,
                });
                Ok(())
            })?;
            (pairs, PairSource::Edges)
        };
        let mut run = Run {
            dir: dir.to_path_buf(),
            report,
            units,
            labels,
            duplicate,
            cluster_sizes,
            pairs,
            source,
            by_key,
        };
        // In unit order, whatever order the files list them in (a distributed
        // run's pair parts are each sorted on their own), so that the sample
        // depends only on the pairs.
        let mut pairs = std::mem::take(&mut run.pairs);
        pairs.sort_by_cached_key(|p| {
            let number = |u: &UnitRef| run.unit_number(u).unwrap_or(u32::MAX);
            (number(&p.right), number(&p.left))
        });
        run.pairs = pairs;
        Ok(run)
    }

    /// The unit number of `unit` in this run, if it is one of the run's units
    /// (an indexed unit of `--against` is not).
    pub fn unit_number(&self, unit: &UnitRef) -> Option<u32> {
        self.by_key.get(&unit.key()).copied()
    }

    /// The size of the cluster `unit` belongs to (1 for a unit of another run).
    pub fn cluster_size(&self, unit: &UnitRef) -> u32 {
        self.unit_number(unit)
            .map(|u| self.cluster_sizes[&self.labels[u as usize]])
            .unwrap_or(1)
    }

    /// Whether `unit` is kept by dedup (`None` for a unit of another run).
    pub fn is_kept(&self, unit: &UnitRef) -> Option<bool> {
        self.unit_number(unit).map(|u| !self.duplicate[u as usize])
    }

    /// Reads the texts of `wanted` unit numbers from the run's inputs.
    pub fn unit_texts(&self, wanted: &[u32]) -> Result<HashMap<u32, String>> {
        let report_path = self.dir.join("report.json");
        let section = self.report.corpus.as_ref().ok_or_else(|| {
            Error::in_file(
                &report_path,
                "has no `corpus` section (written by an older neardedup): \
                 re-run dedup to review it",
            )
        })?;
        if section.input_sizes.len() != self.report.inputs.len() {
            return Err(Error::in_file(
                &report_path,
                "`corpus.input_sizes` does not match `inputs`",
            ));
        }
        for (path, &expected) in self.report.inputs.iter().zip(&section.input_sizes) {
            match fs::metadata(path) {
                Ok(meta) if meta.len() == expected => {}
                Ok(meta) => {
                    return Err(Error::InputChanged {
                        path: path.clone(),
                        expected,
                        got: Some(meta.len()),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::InputChanged {
                        path: path.clone(),
                        expected,
                        got: None,
                    })
                }
                Err(e) => return Err(Error::io(path, e)),
            }
        }
        let format = match &section.format {
            None => None,
            Some(f) => Some(
                f.parse::<Format>()
                    .map_err(|e| Error::in_file(&report_path, e))?,
            ),
        };
        let options = CorpusOptions {
            text_field: section.text_field.clone(),
            id_field: section.id_field.clone(),
            format,
            // The run's own id field, if it had one, is named above.
            ids_from_records: false,
            ..CorpusOptions::default()
        };
        let corpus = Corpus::open(&self.report.inputs, options)?;
        let parameters = &self.report.parameters;
        let split = UnitSplit {
            kind: parameters.unit,
            para_sep: parameters.para_sep,
            min_para_chars: parameters.min_para_chars,
        };
        let scanned = scan(
            &corpus,
            &corpus.cut_chunks(crate::corpus::CHUNK_BYTES),
            1,
            split,
            parameters.skip_invalid,
            &NoProgress,
            || (),
            |_, _| {},
            |_, _, _: &mut Vec<u8>| UnitSketch::default(),
        )?;
        if scanned.units.len() != self.units.len() {
            return Err(Error::in_file(
                &self.dir,
                format!(
                    "the run's clusters list {} units but the inputs now give {}: they \
                     are not the inputs of this run",
                    self.units.len(),
                    scanned.units.len()
                ),
            ));
        }
        let mut texts = HashMap::with_capacity(wanted.len());
        for &number in wanted {
            let unit = &scanned.units[number as usize];
            let record = &scanned.records[unit.record as usize];
            let expected = &self.units[number as usize];
            if record.id != expected.id || unit.para != expected.para {
                return Err(Error::in_file(
                    &self.dir,
                    format!(
                        "unit {number} is {} in the run but {} in the inputs now: they are \
                         not the inputs of this run",
                        describe(expected),
                        describe(&UnitRef {
                            id: record.id.clone(),
                            para: unit.para
                        }),
                    ),
                ));
            }
            let text = corpus.record_text(record)?;
            texts.insert(number, text[unit.start..unit.start + unit.len].to_string());
        }
        Ok(texts)
    }
}

fn describe(unit: &UnitRef) -> String {
    match unit.para {
        Some(p) => format!("{} paragraph {p}", unit.id),
        None => unit.id.to_string(),
    }
}

/// The files holding the run's clusters and pairs, in order: `clusters.jsonl` and
/// `pairs.jsonl`, or a distributed run's parts (whose concatenation in worker
/// order is the single-process file).
fn line_files(dir: &Path, report: &RunReport) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let omitted = report
        .output
        .as_ref()
        .map_or(&[][..], |o| o.omit.as_slice());
    if let Some(file) = omitted
        .iter()
        .find(|file| matches!(file, OptionalOutput::Clusters | OptionalOutput::Pairs))
    {
        return Err(Error::Config(format!(
            "the run in {} left out its {file} (--omit {file}); the review reads clusters and \
             pairs: run it again without --omit {file}",
            dir.display()
        )));
    }
    let clusters = dir.join("clusters.jsonl");
    match &report.distributed {
        Some(distributed) if !clusters.exists() => {
            let mut cluster_files = Vec::new();
            let mut pair_files = Vec::new();
            for names in &distributed.parts {
                for name in names {
                    if name.starts_with("clusters-") {
                        cluster_files.push(dir.join(name));
                    } else if name.starts_with("pairs-") {
                        pair_files.push(dir.join(name));
                    }
                }
            }
            Ok((cluster_files, pair_files))
        }
        _ => Ok((vec![clusters], vec![dir.join("pairs.jsonl")])),
    }
}

/// Parses every non-blank line of the JSONL files `paths`, in order, as `T`s;
/// `on_line` gets the file, the 1-based line number and the value.
fn for_each_line<T: serde::de::DeserializeOwned>(
    paths: &[PathBuf],
    mut on_line: impl FnMut(&Path, u64, T) -> Result<()>,
) -> Result<()> {
    for path in paths {
        let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = String::new();
        let mut number = 0u64;
        loop {
            line.clear();
            let read = reader
                .read_line(&mut line)
                .map_err(|e| Error::io(path, e))?;
            if read == 0 {
                break;
            }
            number += 1;
            if line.trim().is_empty() {
                continue;
            }
            let value: T = serde_json::from_str(&line)
                .map_err(|e| Error::at_line(path, number, format!("unexpected line: {e}")))?;
            on_line(path, number, value)?;
        }
    }
    Ok(())
}
