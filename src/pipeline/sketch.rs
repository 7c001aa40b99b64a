//! The sketch stage, shard by shard: each shard of the input is scanned (see
//! [`super::scan`]) and saved as a checkpoint, or taken from the checkpoint a
//! previous run of the same command left.
//!
//! What stays in memory afterwards is the per-unit state every later stage needs
//! (records and units); the sketch words stay in the mapped checkpoints, and
//! [`Signatures`] finds a unit's MinHash words (its compact signature or its band
//! keys, see [`SignatureWords`]) among them.

use std::ops::Range;

use super::repeats::{Ahead, Memos};
use super::resume::{load_usable, Resumed};
use super::scan::{self, InvalidRecords, Scanned, UnitMeta, UnitSketch, UnitSplit};
use super::shard::{self, SketchWord, WordsPlace};
use super::{Algo, DedupConfig, Progress, Total, Verify};
use crate::corpus::{Chunk, Corpus, RecordMeta};
use crate::error::{Error, Result};
use crate::minhash::{compact, Signer};
use crate::text::shingle::Scratch;
use crate::text::Shingler;
use crate::work::{Checkpoint, Kind, WorkDir};

/// One shard's sketch words, left in its mapped checkpoint.
#[derive(Debug)]
pub struct ShardWords {
    checkpoint: Checkpoint,
    words: WordsPlace,
    /// Number of the shard's first unit in the run.
    first_unit: u32,
}

impl ShardWords {
    /// The sketch words of the shard's unit `unit` (counted within the shard).
    pub fn unit(&self, unit: usize) -> &[u8] {
        self.words.unit(self.checkpoint.body(), unit)
    }

    /// The sketch words of every unit of the shard, in order.
    pub fn units(&self) -> impl Iterator<Item = &[u8]> {
        self.words.units(self.checkpoint.body())
    }
}

/// Everything the sketch stage produced.
#[derive(Debug)]
pub struct Sketched {
    /// Every readable record, in input order.
    pub records: Vec<RecordMeta>,
    /// Every unit, in input order.
    pub units: Vec<UnitMeta>,
    /// Records passed over.
    pub invalid: InvalidRecords,
    /// The shards' sketch words, in input order.
    pub shards: Vec<ShardWords>,
    /// Units given the sketch of an earlier unit with the same bytes (see
    /// [`super::repeats`]); shards taken from checkpoints count none.
    pub repeats_reused: u64,
}

impl Sketched {
    /// All sketch words of the run, decoded into memory (for the small sketches
    /// of SimHash and exact matching).
    pub fn all_words<W: SketchWord>(&self) -> Vec<W> {
        self.shards
            .iter()
            .flat_map(|s| s.units().flat_map(shard::words))
            .collect()
    }
}

/// What a MinHash run keeps of each unit's signature in its shard checkpoints.
///
/// A compact signature takes 2 bytes per permutation (256 at 128); its LSH band
/// keys take 8 bytes per band (56 for the 7 bands of the default threshold). The
/// signature is kept when a later stage reads it: to estimate a pair's
/// similarity (`--verify signature` or `none`, and pairs with an indexed unit,
/// whose text is not at hand) or to save an index. Otherwise only the band keys
/// are kept: with exact verification an estimate can only drop pairs far below
/// the threshold (it settled 1,730 of 4.8 million candidate pairs on paragraphs
/// of the generated 1 GB corpus, 859 of 1.8 million on paragraphs of the
/// real-text speed corpus), so every pair is settled from its text instead and a
/// run's checkpoints shrink to about a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureWords {
    /// The compact signature ([`compact`]), `num_perm` `u16` words.
    Compact,
    /// The key of each usable band ([`compact::band_key`]), one `u64` word each.
    BandKeys {
        /// Bands kept ([`crate::lsh::usable_bands`]).
        bands: usize,
        /// Rows per band.
        rows: usize,
    },
}

impl SignatureWords {
    /// What a run with `config` keeps: band keys for a MinHash run verified
    /// exactly that neither saves an index (`saves_index`) nor compares with one
    /// (`indexed`); the compact signature otherwise.
    pub fn for_run(config: &DedupConfig, saves_index: bool, indexed: bool) -> Result<Self> {
        if config.algo != Algo::Minhash || config.verify != Verify::Exact || saves_index || indexed
        {
            return Ok(SignatureWords::Compact);
        }
        let params = super::lsh_params(config)?;
        Ok(SignatureWords::BandKeys {
            bands: crate::lsh::usable_bands(params, config.sketch.num_perm),
            rows: params.rows,
        })
    }

    /// Sketch words per unit.
    pub fn words_per_unit(self, num_perm: usize) -> usize {
        match self {
            SignatureWords::Compact => num_perm,
            SignatureWords::BandKeys { bands, .. } => bands,
        }
    }

    /// Bytes per unit.
    pub fn bytes_per_unit(self, num_perm: usize) -> usize {
        match self {
            SignatureWords::Compact => num_perm * compact::BYTES_PER_VALUE,
            SignatureWords::BandKeys { bands, .. } => bands * <u64 as SketchWord>::BYTES,
        }
    }
}

/// The checkpoint name of the shard covering `chunks`: its byte range, so a run
/// that cuts the input differently does not mistake one shard for another.
fn shard_name(chunks: &[Chunk]) -> String {
    let (first, last) = (&chunks[0], &chunks[chunks.len() - 1]);
    format!(
        "shard-{}.{}-{}.{}",
        first.file, first.start, last.file, last.end
    )
}

/// Settings of the sketch stage.
pub struct SketchPlan<'a> {
    /// The input.
    pub corpus: &'a Corpus,
    /// Work chunks of the input, in order (line numbers not yet counted: see
    /// [`Corpus::cut_chunks`]).
    pub chunks: &'a [Chunk],
    /// Shards as ranges of `chunks`.
    pub shards: &'a [Range<usize>],
    /// How records are cut into units.
    pub split: UnitSplit,
    /// Skip and count bad records instead of stopping.
    pub skip_invalid: bool,
    /// Sketch words per unit.
    pub words_per_unit: usize,
    /// What MinHash keeps of each signature.
    pub signature_words: SignatureWords,
    /// Line number of the first shard's first chunk when that chunk does not
    /// start its file (1 for a whole run; a distributed worker's share may start
    /// mid-file).
    pub first_line: u64,
    /// Bytes of the memo that gives a repeated text the sketch it got before
    /// (see [`super::repeats`]); 0 sketches every unit.
    pub memo_bytes: usize,
}

impl<'a> SketchPlan<'a> {
    /// The plan for sketching `shards` of `corpus` as `config` says, MinHash
    /// signatures kept as `signature_words`; the first shard's first chunk starts
    /// at line `first_line` unless it starts its file. Repeated texts are
    /// sketched once while they fit a memo of `memo_bytes`.
    pub fn new(
        corpus: &'a Corpus,
        chunks: &'a [Chunk],
        shards: &'a [Range<usize>],
        config: &DedupConfig,
        signature_words: SignatureWords,
        first_line: u64,
        memo_bytes: usize,
    ) -> Self {
        SketchPlan {
            corpus,
            chunks,
            shards,
            split: UnitSplit {
                kind: config.sketch.unit,
                para_sep: config.sketch.para_sep,
                min_para_chars: config.sketch.min_para_chars,
            },
            skip_invalid: config.skip_invalid,
            words_per_unit: match config.algo {
                Algo::Minhash => signature_words.words_per_unit(config.sketch.num_perm),
                Algo::Simhash | Algo::Exact => 1,
            },
            signature_words,
            first_line,
            memo_bytes,
        }
    }
}

/// Runs the sketch stage with the sketch `config` asks for: compact MinHash
/// signatures, SimHash fingerprints or exact text keys, per unit.
pub fn sketch_units(
    plan: &SketchPlan<'_>,
    work: &WorkDir,
    resumed: &mut Resumed,
    progress: &dyn Progress,
    config: &DedupConfig,
    shingler: &Shingler,
) -> Result<Sketched> {
    let of_shingles = |shingles: &[u64]| UnitSketch {
        features: u32::try_from(shingles.len()).unwrap_or(u32::MAX),
        content: crate::exact::shingles_key(shingles),
    };
    match config.algo {
        Algo::Minhash => {
            let hasher = Signer::new(
                config.sketch.minhash_variant,
                config.sketch.num_perm,
                config.sketch.seed,
            );
            let k = config.sketch.num_perm;
            match plan.signature_words {
                SignatureWords::Compact => sketch_shards(
                    plan,
                    work,
                    resumed,
                    progress,
                    || (Scratch::default(), Vec::new(), vec![0u32; k]),
                    |(scratch, shingles, signature): &mut (Scratch, Vec<u64>, Vec<u32>),
                     text,
                     out: &mut Vec<u16>| {
                        shingler.shingles_into(text, scratch, shingles);
                        hasher.sign_into(shingles, signature);
                        compact::digests_into(signature, out);
                        of_shingles(shingles)
                    },
                ),
                SignatureWords::BandKeys { bands, rows } => sketch_shards(
                    plan,
                    work,
                    resumed,
                    progress,
                    || (Scratch::default(), Vec::new(), vec![0u32; k], Vec::new()),
                    |(scratch, shingles, signature, digests): &mut (
                        Scratch,
                        Vec<u64>,
                        Vec<u32>,
                        Vec<u8>,
                    ),
                     text,
                     out: &mut Vec<u64>| {
                        shingler.shingles_into(text, scratch, shingles);
                        hasher.sign_into(shingles, signature);
                        digests.clear();
                        compact::compact_into(signature, digests);
                        out.extend((0..bands).map(|band| {
                            compact::band_key(digests, band, rows).expect("a usable band")
                        }));
                        of_shingles(shingles)
                    },
                ),
            }
        }
        Algo::Simhash => sketch_shards(
            plan,
            work,
            resumed,
            progress,
            || (Scratch::default(), Vec::new()),
            |(scratch, shingles): &mut (Scratch, Vec<u64>), text, out: &mut Vec<u64>| {
                shingler.shingles_into(text, scratch, shingles);
                out.push(crate::simhash::fingerprint64(shingles));
                of_shingles(shingles)
            },
        ),
        Algo::Exact => sketch_shards(
            plan,
            work,
            resumed,
            progress,
            Scratch::default,
            |scratch: &mut Scratch, text, out: &mut Vec<u128>| {
                let key = crate::exact::text_key(shingler.normalize(text, scratch));
                out.push(key.unwrap_or(0));
                UnitSketch {
                    features: u32::from(key.is_some()),
                    content: 0,
                }
            },
        ),
    }
}

/// Runs the sketch stage: every shard is taken from its checkpoint in `work` or
/// scanned with `sketch` (see [`scan::scan`]) and saved. A unit whose text was
/// sketched before in the stage gets that sketch again while the plan's memo
/// holds it (see [`super::repeats`]).
pub fn sketch_shards<W, S>(
    plan: &SketchPlan<'_>,
    work: &WorkDir,
    resumed: &mut Resumed,
    progress: &dyn Progress,
    init: impl Fn() -> S + Sync + Send,
    sketch: impl Fn(&mut S, &str, &mut Vec<W>) -> UnitSketch + Sync + Send,
) -> Result<Sketched>
where
    W: SketchWord,
{
    let share_bytes: u64 = plan
        .shards
        .iter()
        .flat_map(|range| &plan.chunks[range.clone()])
        .map(|c| (c.end - c.start) as u64)
        .sum();
    progress.stage("sketch", Some(Total::Bytes(share_bytes)));
    let mut out = Sketched {
        records: Vec::new(),
        units: Vec::new(),
        invalid: InvalidRecords::default(),
        shards: Vec::with_capacity(plan.shards.len()),
        repeats_reused: 0,
    };
    resumed.shards = plan.shards.len();
    let memo = (plan.memo_bytes > 0).then(|| Memos::new(plan.memo_bytes));
    // A scanned shard is saved on a thread of its own while the next one is
    // scanned; shards join the run in input order.
    std::thread::scope(|scope| -> Result<()> {
        let mut saving: Option<std::thread::ScopedJoinHandle<'_, Result<Loaded>>> = None;
        // Each shard is numbered from the line after the last one (a reused
        // shard says where it ended); the scan counts lines as it reads.
        let mut next_line = plan.first_line;
        for range in plan.shards {
            let chunks = &plan.chunks[range.clone()];
            let name = shard_name(chunks);
            let bytes: u64 = chunks.iter().map(|c| (c.end - c.start) as u64).sum();
            let shard = match reuse::<W>(work, &name, plan.words_per_unit, resumed)? {
                Some(found) => {
                    resumed.shards_reused += 1;
                    progress.advance(bytes);
                    next_line = found.1.next_line;
                    Pending::Ready(found)
                }
                None => {
                    let scanned = scan::scan(
                        plan.corpus,
                        chunks,
                        next_line,
                        plan.split,
                        plan.skip_invalid,
                        progress,
                        || (init(), Ahead::default()),
                        |(_, ahead): &mut (S, Ahead), text: &str| {
                            if let Some(memo) = &memo {
                                memo.ahead(ahead, text);
                            }
                        },
                        |(state, ahead): &mut (S, Ahead), text: &str, out: &mut Vec<W>| match &memo
                        {
                            Some(memo) => {
                                memo.sketch(ahead, text, out, |out| sketch(state, text, out))
                            }
                            None => sketch(state, text, out),
                        },
                    )?;
                    next_line = scanned.next_line;
                    let words_per_unit = plan.words_per_unit;
                    Pending::Saving(scope.spawn(move || save(work, &name, scanned, words_per_unit)))
                }
            };
            if let Some(previous) = saving.take() {
                append(&mut out, joined(previous)?)?;
            }
            match shard {
                Pending::Ready(found) => append(&mut out, found)?,
                Pending::Saving(handle) => saving = Some(handle),
            }
        }
        if let Some(last) = saving.take() {
            append(&mut out, joined(last)?)?;
        }
        Ok(())
    })?;
    out.repeats_reused = memo.map_or(0, |memo| memo.reused());
    progress.finish_stage();
    Ok(out)
}

/// A shard's mapped checkpoint and its decoded records and units.
type Loaded = (Checkpoint, shard::Decoded);

enum Pending<'scope> {
    Ready(Loaded),
    Saving(std::thread::ScopedJoinHandle<'scope, Result<Loaded>>),
}

fn joined(handle: std::thread::ScopedJoinHandle<'_, Result<Loaded>>) -> Result<Loaded> {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The usable checkpoint of shard `name`, if there is one.
fn reuse<W: SketchWord>(
    work: &WorkDir,
    name: &str,
    words_per_unit: usize,
    resumed: &mut Resumed,
) -> Result<Option<Loaded>> {
    load_usable(work, name, Kind::Shard, resumed, |checkpoint| {
        let decoded = shard::decode::<W>(checkpoint.body(), words_per_unit)?;
        Ok((checkpoint, decoded))
    })
}

/// Saves a scanned shard as checkpoint `name`; its records and units move on
/// without being decoded again.
fn save<W: SketchWord>(
    work: &WorkDir,
    name: &str,
    scanned: Scanned<W>,
    words_per_unit: usize,
) -> Result<Loaded> {
    let (body, sketches) = shard::encode(&scanned, words_per_unit);
    let checkpoint = work.save(name, Kind::Shard, &body)?;
    drop(body);
    let decoded = shard::Decoded {
        records: scanned.records,
        units: scanned.units,
        invalid: scanned.invalid,
        sketches,
        next_line: scanned.next_line,
    };
    Ok((checkpoint, decoded))
}

/// Adds one shard to the run's records, units and shard list.
fn append(out: &mut Sketched, (checkpoint, decoded): Loaded) -> Result<()> {
    let too_many = |what: &str| Error::Config(format!("more than 2^32 {what} in one run"));
    let record_base = u32::try_from(out.records.len()).map_err(|_| too_many("records"))?;
    let first_unit = u32::try_from(out.units.len()).map_err(|_| too_many("units"))?;
    out.units.extend(decoded.units.into_iter().map(|mut u| {
        u.record += record_base;
        u
    }));
    if out.units.len() > u32::MAX as usize || out.records.len() > u32::MAX as usize {
        return Err(too_many("units"));
    }
    out.records.extend(decoded.records);
    out.invalid
        .absorb(decoded.invalid.count, decoded.invalid.examples);
    out.shards.push(ShardWords {
        checkpoint,
        words: decoded.sketches,
        first_unit,
    });
    Ok(())
}

/// The MinHash words of a run's units ([`SignatureWords`]): the compact
/// signatures of a saved index (numbered first), then those of the run's shards.
pub struct Signatures<'a> {
    prior: &'a [u8],
    prior_units: u32,
    shards: &'a [ShardWords],
    bytes_per_unit: usize,
    words: SignatureWords,
}

impl<'a> Signatures<'a> {
    /// The words of `num_perm`-permutation signatures kept as `words`: `prior`
    /// (an index's compact signatures, possibly empty; only a run that keeps
    /// compact signatures has an index) then those in `shards`.
    pub fn new(
        prior: &'a [u8],
        shards: &'a [ShardWords],
        words: SignatureWords,
        num_perm: usize,
    ) -> Self {
        let bytes_per_unit = words.bytes_per_unit(num_perm);
        Signatures {
            prior,
            prior_units: (prior.len() / bytes_per_unit.max(1)) as u32,
            shards,
            bytes_per_unit,
            words,
        }
    }

    /// Whether the words are compact signatures, which estimate a pair's
    /// similarity (band keys do not).
    pub fn estimate(&self) -> bool {
        self.words == SignatureWords::Compact
    }

    /// The key of band `band` (of `rows` rows) of a unit's `words`; `None` when
    /// the band lies beyond the signature.
    #[inline]
    pub fn band_key(&self, words: &[u8], band: usize, rows: usize) -> Option<u64> {
        match self.words {
            SignatureWords::Compact => compact::band_key(words, band, rows),
            SignatureWords::BandKeys { .. } => {
                let at = band.checked_mul(<u64 as SketchWord>::BYTES)?;
                words.get(at..at + <u64 as SketchWord>::BYTES).map(u64::get)
            }
        }
    }

    /// Number of units from the index (numbered before the run's own).
    pub fn prior_units(&self) -> u32 {
        self.prior_units
    }

    /// The compact signature of unit `unit` (index units first).
    pub fn get(&self, unit: u32) -> &'a [u8] {
        let size = self.bytes_per_unit;
        if unit < self.prior_units {
            let at = unit as usize * size;
            return &self.prior[at..at + size];
        }
        let unit = unit - self.prior_units;
        let shard_at = self.shards.partition_point(|s| s.first_unit <= unit) - 1;
        let shard = &self.shards[shard_at];
        let words = shard.unit((unit - shard.first_unit) as usize);
        debug_assert_eq!(words.len(), self.bytes_per_unit);
        words
    }

    /// Calls `visit(unit, signature)` for every unit in order (index units
    /// first), walking the signatures sequentially.
    pub fn for_each(&self, mut visit: impl FnMut(u32, &'a [u8])) {
        let size = self.bytes_per_unit.max(1);
        let prior = self.prior.chunks_exact(size);
        let own = self.shards.iter().flat_map(ShardWords::units);
        for (unit, signature) in (0..=u32::MAX).zip(prior.chain(own)) {
            visit(unit, signature);
        }
    }

    /// The compact signatures of the run's own units (not the index's), back to
    /// back.
    pub fn run_signatures(&self) -> Vec<u8> {
        let units: usize = self.shards.iter().map(|s| s.words.units).sum();
        let mut out = Vec::with_capacity(units * self.bytes_per_unit);
        for words in self.shards.iter().flat_map(ShardWords::units) {
            out.extend_from_slice(words);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::CorpusOptions;
    use crate::pipeline::{share, NoProgress, UnitKind};

    /// The MinHash words of every unit of `corpus`, kept as `words`, repeated
    /// texts given their earlier sketch while they fit `memo_bytes`.
    fn sketch_as(
        corpus: &Corpus,
        config: &DedupConfig,
        words: SignatureWords,
        memo_bytes: usize,
    ) -> Sketched {
        let shingler = Shingler::new(config.sketch.shingle).expect("shingler");
        // Small shards, so units spread over several checkpoints (and copies
        // of a text fall in the same shard and in different ones).
        let (chunks, shards) = share::plan_shards(corpus, Some(2048), 1, 1 << 20);
        let plan = SketchPlan::new(corpus, &chunks, &shards, config, words, 1, memo_bytes);
        let work = WorkDir::temporary(0).expect("work dir");
        let mut resumed = Resumed::default();
        sketch_units(&plan, &work, &mut resumed, &NoProgress, config, &shingler).expect("sketch")
    }

    #[test]
    fn band_keys_are_the_band_keys_of_the_signatures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.jsonl");
        // 40 lines, 15 distinct texts: copies share rows of words.
        let lines: Vec<String> = (0..40)
            .map(|i| {
                let text = format!(
                    "the {} quick brown fox {} jumps over 바다 누리 lazy dogs",
                    i % 5,
                    i % 3,
                );
                serde_json::json!({ "text": text }).to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let corpus = Corpus::open(&[path], CorpusOptions::default()).expect("open");
        let mut config = DedupConfig::default();
        config.sketch.shingle.ngram = 2;
        let k = config.sketch.num_perm;
        let keys = SignatureWords::for_run(&config, false, false).expect("layout");
        let SignatureWords::BandKeys { bands, rows } = keys else {
            panic!("a run verified exactly without an index keeps band keys, not {keys:?}");
        };
        let by_keys = sketch_as(&corpus, &config, keys, 0);
        let by_signature = sketch_as(&corpus, &config, SignatureWords::Compact, 0);
        assert!(by_keys.shards.len() > 1);
        assert!(by_keys.shards.iter().any(|s| s.words.row_numbers.is_some()));
        let keys = Signatures::new(&[], &by_keys.shards, keys, k);
        let signatures = Signatures::new(&[], &by_signature.shards, SignatureWords::Compact, k);
        assert!(!keys.estimate() && signatures.estimate());
        assert_eq!(by_keys.units, by_signature.units);
        for unit in 0..by_keys.units.len() as u32 {
            for band in 0..bands {
                let key = keys.band_key(keys.get(unit), band, rows);
                assert!(key.is_some());
                assert_eq!(key, signatures.band_key(signatures.get(unit), band, rows));
            }
            assert_eq!(keys.band_key(keys.get(unit), bands, rows), None);
        }
        // Each unit's stored signature, read by number and in order, is the
        // one the one-text sketcher gives its text.
        let one_text = crate::MinHasher::new(config.sketch).expect("sketcher");
        let mut in_order = Vec::new();
        signatures.for_each(|unit, signature| in_order.push((unit, signature)));
        assert_eq!(in_order.len(), lines.len());
        for (unit, signature) in in_order {
            let text: serde_json::Value =
                serde_json::from_str(&lines[unit as usize]).expect("json");
            let expected = one_text.sketch(text["text"].as_str().expect("text"));
            assert_eq!(signature, expected.bytes(), "unit {unit}");
            assert_eq!(signatures.get(unit), expected.bytes(), "unit {unit}");
        }
        assert_eq!(
            signatures.run_signatures(),
            (0..lines.len() as u32)
                .flat_map(|u| signatures.get(u).to_vec())
                .collect::<Vec<u8>>()
        );
    }

    /// Every unit with its sketch words, read from a checkpoint, whatever the
    /// kind of words.
    fn unit_sketches(sketched: &Sketched) -> Vec<(UnitMeta, Vec<u8>)> {
        let words = sketched.shards.iter().flat_map(ShardWords::units);
        sketched
            .units
            .iter()
            .cloned()
            .zip(words.map(<[u8]>::to_vec))
            .collect()
    }

    /// Units of `sketched` whose text an earlier unit has, byte for byte.
    fn repeated_units(corpus: &Corpus, sketched: &Sketched) -> u64 {
        let mut seen = std::collections::HashSet::new();
        let mut repeats = 0;
        for unit in &sketched.units {
            let record = &sketched.records[unit.record as usize];
            let text = corpus.record_text(record).expect("text");
            let unit_text = text[unit.start..unit.start + unit.len].to_string();
            repeats += u64::from(!seen.insert(unit_text));
        }
        repeats
    }

    #[test]
    fn repeated_texts_get_the_sketch_a_fresh_one_gives() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.jsonl");
        // Paragraphs repeat within records and across shards, and a memo far
        // smaller than the input forgets some of them along the way.
        let lines: Vec<String> = (0..120)
            .map(|i| {
                let paragraphs: Vec<String> = (0..4)
                    .map(|p| {
                        format!(
                            "record {} says {} 바다 {} and more",
                            i % 7,
                            p % 3,
                            (i + p) % 5
                        )
                    })
                    .collect();
                serde_json::json!({ "text": paragraphs.join("\n") }).to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let corpus = Corpus::open(&[path], CorpusOptions::default()).expect("open");
        for algo in [Algo::Minhash, Algo::Simhash, Algo::Exact] {
            for unit in [UnitKind::Article, UnitKind::Paragraph] {
                let mut config = DedupConfig {
                    algo,
                    ..DedupConfig::default()
                };
                config.sketch.unit = unit;
                config.sketch.shingle.ngram = 2;
                let mut layouts = vec![SignatureWords::Compact];
                if algo == Algo::Minhash {
                    layouts.push(SignatureWords::for_run(&config, false, false).expect("keys"));
                }
                for words in layouts {
                    let fresh = sketch_as(&corpus, &config, words, 0);
                    assert_eq!(fresh.repeats_reused, 0, "no memo, nothing reused");
                    for memo in [48 << 10, 4 << 20] {
                        let reused = sketch_as(&corpus, &config, words, memo);
                        assert_eq!(
                            unit_sketches(&reused),
                            unit_sketches(&fresh),
                            "{algo:?} {unit:?} {words:?} memo {memo}"
                        );
                    }
                    // A memo that holds every text reuses a sketch for every
                    // unit whose bytes an earlier unit has.
                    let whole = sketch_as(&corpus, &config, words, 4 << 20);
                    let repeats = repeated_units(&corpus, &whole);
                    assert!(repeats > 0);
                    assert_eq!(whole.repeats_reused, repeats, "{algo:?} {unit:?} {words:?}");
                }
            }
        }
    }

    #[test]
    fn signatures_are_kept_where_a_later_stage_reads_them() {
        let exact = DedupConfig::default();
        assert!(matches!(
            SignatureWords::for_run(&exact, false, false),
            Ok(SignatureWords::BandKeys { .. })
        ));
        for (saves, reads) in [(true, false), (false, true)] {
            assert_eq!(
                SignatureWords::for_run(&exact, saves, reads).ok(),
                Some(SignatureWords::Compact)
            );
        }
        for verify in [Verify::Signature, Verify::None] {
            let config = DedupConfig {
                verify,
                ..DedupConfig::default()
            };
            assert_eq!(
                SignatureWords::for_run(&config, false, false).ok(),
                Some(SignatureWords::Compact)
            );
        }
    }
}
