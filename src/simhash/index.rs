//! Hamming-radius search over 64-bit fingerprints: collapsing exact
//! duplicates, then finding every pair of distinct fingerprints within
//! distance `k` with permuted block tables (Manku, Jain and Das Sarma, 2007).
//!
//! The 64 bits are cut into `B > k` contiguous blocks. Two fingerprints at
//! distance `<= k` differ in at most `k` blocks, so by pigeonhole they agree
//! exactly on at least `B - k` of them. One table is built for each choice
//! of `B - k` blocks (`C(B, k)` tables); its key is the fingerprint restricted
//! to those blocks, and every near pair shares a key in at least one table.
//!
//! Tables are searched a family at a time: the tables that share all their
//! blocks but the highest (neighbours in lexicographic order). The family's
//! fingerprints are put in buckets of the shared blocks once, by counting
//! (one counter per key, keys packed with `pext` where the CPU has it), and
//! each of those buckets, small enough to stay in cache, in buckets of each
//! table's last block. Within a final bucket every pair is compared eight
//! at a time with a vector popcount ([`crate::simd::hamming`]). At radius 12
//! this is `C(15, 12) = 455` tables in 105 families: on the 391,205 distinct
//! fingerprints of 1 GB of generated articles, 2 cores, a run's candidates
//! stage went from 17.2 s (a comparison sort and a scalar scan per table) to
//! 1.9 s.
//!
//! Each pair is emitted exactly once, without a global deduplication: tables
//! are enumerated in lexicographic order of their block sets, and a pair is
//! kept only in the first table whose blocks it agrees on, which is the
//! table made of the `B - k` lowest-numbered agreeing blocks. A table `t`
//! found the pair first iff no block that `t` skips below its highest block
//! agrees, which is checked from the XOR of the two fingerprints.
//!
//! Exact duplicates are collapsed first ([`Collapsed`]), so a bucket of many
//! identical fingerprints costs linear time instead of quadratic.

use std::ops::Range;

use rayon::prelude::*;

/// Most tables a search may build; beyond this the block count is unusable.
pub const MAX_TABLES: u64 = 1 << 20;

/// Inputs smaller than this are searched with tables in parallel and
/// sequential work inside each table; larger inputs process one table at a
/// time with parallel sorting and scanning, so memory stays at one table.
const SMALL_INPUT: usize = 1 << 15;

/// Distinct fingerprints and, for each, the unit indices that carry it
/// (ascending), CSR layout.
///
/// `distinct` is ordered by each value's smallest member index (its first
/// occurrence in input order), so the first member is the deterministic
/// representative. The members of `distinct[d]` are
/// `members[offsets[d]..offsets[d + 1]]`; `offsets` has `len() + 1` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collapsed {
    /// Pairwise different fingerprints, in order of first occurrence.
    pub distinct: Vec<u64>,
    /// CSR offsets into `members`; `offsets[0] == 0`.
    pub offsets: Vec<u32>,
    /// Unit indices grouped by fingerprint, ascending within each group.
    pub members: Vec<u32>,
}

impl Collapsed {
    /// Groups the unit indices of `fingerprints` by equal value.
    ///
    /// Runs in `O(n log n)` with a parallel sort.
    ///
    /// # Panics
    ///
    /// If `fingerprints.len()` exceeds `u32::MAX`.
    pub fn new(fingerprints: &[u64]) -> Self {
        assert!(
            u32::try_from(fingerprints.len()).is_ok(),
            "at most u32::MAX fingerprints are supported, got {}",
            fingerprints.len()
        );
        let mut sorted: Vec<(u64, u32)> = fingerprints
            .par_iter()
            .enumerate()
            .map(|(i, &fp)| (fp, i as u32))
            .collect();
        sorted.par_sort_unstable();

        // (first member, start, end) of each group in `sorted`.
        let mut groups: Vec<(u32, u32, u32)> = Vec::new();
        let mut start = 0u32;
        for run in sorted.chunk_by(|a, b| a.0 == b.0) {
            let end = start + run.len() as u32;
            groups.push((run[0].1, start, end));
            start = end;
        }
        // First members are unique, so this order is total.
        groups.par_sort_unstable();

        let mut distinct = Vec::with_capacity(groups.len());
        let mut offsets = Vec::with_capacity(groups.len() + 1);
        let mut members = Vec::with_capacity(sorted.len());
        offsets.push(0);
        for &(_, start, end) in &groups {
            let run = &sorted[start as usize..end as usize];
            distinct.push(run[0].0);
            members.extend(run.iter().map(|&(_, i)| i));
            offsets.push(members.len() as u32);
        }
        Collapsed {
            distinct,
            offsets,
            members,
        }
    }

    /// Number of distinct fingerprints.
    pub fn len(&self) -> usize {
        self.distinct.len()
    }

    /// Whether there are no fingerprints at all.
    pub fn is_empty(&self) -> bool {
        self.distinct.is_empty()
    }

    /// Unit indices carrying `distinct[d]`, ascending and never empty.
    ///
    /// # Panics
    ///
    /// If `d >= self.len()`.
    pub fn members_of(&self, d: usize) -> &[u32] {
        &self.members[self.offsets[d] as usize..self.offsets[d + 1] as usize]
    }

    /// Smallest unit index carrying `distinct[d]`.
    ///
    /// # Panics
    ///
    /// If `d >= self.len()`.
    pub fn representative(&self, d: usize) -> u32 {
        self.members[self.offsets[d] as usize]
    }

    /// Total number of units (sum of all group sizes).
    pub fn num_units(&self) -> usize {
        self.members.len()
    }
}

/// Default number of blocks `B` for radius `k` over `n` distinct
/// fingerprints.
///
/// More blocks mean longer keys (`64 (B - k) / B` bits on average) and so
/// fewer false candidates per run, but `C(B, k)` tables to sort. `B = k + 1`
/// has the fewest tables but keys of only `64 / (k + 1)` bits, which
/// degenerates into quadratic scans once `n` is much larger than
/// `2^(64 / (k + 1))`. The default therefore minimises a rough cost,
/// `tables * (n log2 n + n^2 / 2^(key bits + 1))` (sorting plus expected
/// candidate comparisons for uniform fingerprints), over
/// `B in k+1 ..= min(64, k+8)`. Typical outcomes: `k = 3` gives `B = 4` up
/// to a few million fingerprints and `B = 5` (25/26-bit keys, 10 tables)
/// beyond; `k = 6` gives `B = 8` around a million; `k = 12` gives `B = 15`
/// around 400,000 (measured there: `B = 15` 1.6 s, `B = 16` 7.0 s, `B = 17`
/// 36 s, as the families to bucket grow faster than the comparisons shrink).
/// The choice never changes results, only speed.
///
/// Returns 1 for `k == 0` (exact match needs no tables) and 64 for
/// `k >= 64`.
pub fn default_blocks(k: u32, n: usize) -> u32 {
    if k == 0 {
        return 1;
    }
    if k >= 64 {
        return 64;
    }
    let n = n.max(2) as f64;
    let cost = |b: u32| {
        let tables = binomial(b, k) as f64;
        let key_bits = 64.0 * f64::from(b - k) / f64::from(b);
        tables * (n * n.log2() + n * n / (key_bits + 1.0).exp2())
    };
    (k + 1..=(k + 8).min(64))
        .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
        .expect("the range k+1..=min(64, k+8) is non-empty for k < 64")
}

/// All pairs `(i, j, dist)` with `i < j` of indices into `distinct` whose
/// Hamming distance satisfies `1 <= dist <= k`, sorted.
///
/// The values are assumed pairwise different (use [`Collapsed`]); equal
/// values, if present anyway, are never paired. `blocks` overrides the
/// number of blocks `B` (see [`default_blocks`]); any valid `B` gives the
/// same result. `k == 0` returns nothing. For `k >= 64` every pair
/// qualifies, `blocks` is ignored and the pairs are listed directly.
///
/// # Panics
///
/// If `blocks` is `Some(b)` with `k < 64` and not `k < b <= 64`, if the
/// chosen `B` needs more than [`MAX_TABLES`] tables, or if
/// `distinct.len()` exceeds `u32::MAX`.
pub fn near_distinct_pairs(distinct: &[u64], k: u32, blocks: Option<u32>) -> Vec<(u32, u32, u32)> {
    near_distinct_pairs_at_most(distinct, k, blocks, u64::MAX)
        .expect("no limit on the number of pairs")
}

/// [`near_distinct_pairs`], stopped as soon as more than `max_pairs` pairs are
/// found (`None` then), so a radius too large for the input cannot exhaust the
/// memory (see [`super::budget`]).
///
/// # Panics
///
/// As [`near_distinct_pairs`].
pub fn near_distinct_pairs_at_most(
    distinct: &[u64],
    k: u32,
    blocks: Option<u32>,
    max_pairs: u64,
) -> Option<Vec<(u32, u32, u32)>> {
    let schedule = if distinct.len() < SMALL_INPUT {
        Schedule::FamiliesInParallel
    } else {
        Schedule::OneFamilyAtATime
    };
    let limit = PairLimit::new(max_pairs);
    let pairs = search(distinct, k, blocks, schedule, &limit);
    (!limit.exceeded()).then_some(pairs)
}

/// A running count of the pairs a search found, shared by its threads.
#[derive(Debug)]
struct PairLimit {
    found: std::sync::atomic::AtomicU64,
    max: u64,
}

impl PairLimit {
    fn new(max: u64) -> Self {
        PairLimit {
            found: std::sync::atomic::AtomicU64::new(0),
            max,
        }
    }

    /// Counts `more` pairs; false once the total is past the limit.
    fn add(&self, more: usize) -> bool {
        let before = self
            .found
            .fetch_add(more as u64, std::sync::atomic::Ordering::Relaxed);
        before.saturating_add(more as u64) <= self.max
    }

    fn exceeded(&self) -> bool {
        self.found.load(std::sync::atomic::Ordering::Relaxed) > self.max
    }
}

/// All pairs `(i, j, dist)` with `i < j` of unit indices whose fingerprints
/// are within Hamming distance `k` (including exact duplicates, `dist == 0`),
/// sorted.
///
/// Built from [`Collapsed`] and [`near_distinct_pairs`]; the output can be
/// quadratic in the size of duplicate groups, so this is meant for tests and
/// small inputs. Large callers should work on the collapsed form directly.
///
/// # Panics
///
/// If `fingerprints.len()` exceeds `u32::MAX`.
pub fn all_pairs_within(fingerprints: &[u64], k: u32) -> Vec<(u32, u32, u32)> {
    let collapsed = Collapsed::new(fingerprints);
    let mut out = Vec::new();
    for d in 0..collapsed.len() {
        let group = collapsed.members_of(d);
        for (p, &a) in group.iter().enumerate() {
            out.extend(group[p + 1..].iter().map(|&b| (a, b, 0)));
        }
    }
    for (i, j, dist) in near_distinct_pairs(&collapsed.distinct, k, None) {
        for &a in collapsed.members_of(i as usize) {
            for &b in collapsed.members_of(j as usize) {
                out.push((a.min(b), a.max(b), dist));
            }
        }
    }
    out.par_sort_unstable();
    out
}

/// The permuted block tables of a radius-`k` search, for a caller that places
/// the work itself (the distributed run sends each fingerprint to the workers
/// that own its families' buckets). Tables are searched a family at a time
/// ([`BlockTables::family_pairs`]), and each near pair is kept only in the
/// first table that finds it, as [`near_distinct_pairs`] does, so no
/// deduplication is needed afterwards.
///
/// A family is the tables that share all their blocks but the highest, which
/// are next to each other in lexicographic order: the family's fingerprints
/// are put in buckets by the shared blocks once, and each bucket (small
/// enough to stay in cache) by each table's last block, instead of every
/// table putting all fingerprints in buckets of its own. A table of one block
/// is a family of its own.
#[derive(Debug, Clone)]
pub struct BlockTables {
    k: u32,
    tables: Vec<Table>,
    families: Vec<Family>,
}

/// Tables that share all their blocks but the highest.
#[derive(Debug, Clone)]
struct Family {
    /// The blocks the tables share (their whole key for a table alone).
    shared_mask: u64,
    /// The tables, consecutive.
    tables: Range<usize>,
}

impl BlockTables {
    /// Tables for radius `k` (`1..=63`) over `n` distinct fingerprints, with the
    /// block count [`default_blocks`] picks.
    pub fn new(k: u32, n: usize) -> Self {
        assert!((1..64).contains(&k), "block tables need 1 <= k < 64");
        Self::with_blocks(k, default_blocks(k, n))
    }

    /// Tables for radius `k` over `b` blocks (`k < b <= 64`).
    fn with_blocks(k: u32, b: u32) -> Self {
        let tables = tables(b, k);
        let families = families(&tables, b - k);
        BlockTables {
            k,
            tables,
            families,
        }
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether there are no tables (never, for a valid `k`).
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Number of families (see [`BlockTables`]).
    pub fn families(&self) -> usize {
        self.families.len()
    }

    /// The key of `fingerprint` in family `family`'s buckets: a near pair is
    /// found by the family only if both fingerprints have the same key.
    pub fn family_key(&self, family: usize, fingerprint: u64) -> u64 {
        fingerprint & self.families[family].shared_mask
    }

    /// Appends `(i, j, distance)` for the near pairs that the tables of
    /// `family` find and own among the fingerprints `values` (distinct), whose
    /// numbers `numbers` are ascending, so `i < j`.
    pub fn family_pairs(
        &self,
        family: usize,
        (values, numbers): (&[u64], &[u32]),
        scratch: &mut SearchScratch,
        out: &mut Vec<(u32, u32, u32)>,
    ) {
        let limit = PairLimit::new(u64::MAX);
        self.scan_family(family, (values, numbers), &limit, scratch, out);
    }

    /// [`Self::family_pairs`], stopped once the search has found more than
    /// its limit.
    fn scan_family(
        &self,
        family: usize,
        entries: (&[u64], &[u32]),
        limit: &PairLimit,
        scratch: &mut SearchScratch,
        out: &mut Vec<(u32, u32, u32)>,
    ) {
        let family = &self.families[family];
        let SearchScratch { shared, own, near } = scratch;
        shared.group(family.shared_mask, entries);
        for &bucket in &shared.buckets {
            for table in family.tables.clone() {
                let before = out.len();
                self.scan_shared_bucket(table, shared.bucket(bucket), own, near, out);
                if !limit.add(out.len() - before) {
                    return;
                }
            }
        }
    }

    /// Appends the pairs table `table` owns within one bucket of its family's
    /// shared blocks, putting it in buckets by the table's last block first.
    fn scan_shared_bucket(
        &self,
        table: usize,
        entries: (&[u64], &[u32]),
        own: &mut Buckets,
        near: &mut Vec<(u32, u32)>,
        out: &mut Vec<(u32, u32, u32)>,
    ) {
        let table = &self.tables[table];
        if table.last_only_mask == 0 {
            scan_bucket(entries, self.k, table, near, out);
            return;
        }
        own.group(table.last_only_mask, entries);
        for &bucket in &own.buckets {
            scan_bucket(own.bucket(bucket), self.k, table, near, out);
        }
    }

    /// [`Self::scan_family`] with the family's shared buckets scanned in
    /// parallel, each by each of its tables.
    fn scan_family_parallel(
        &self,
        family: usize,
        entries: (&[u64], &[u32]),
        limit: &PairLimit,
        shared: &mut Buckets,
    ) -> Vec<(u32, u32, u32)> {
        let family = &self.families[family];
        shared.group(family.shared_mask, entries);
        let shared = &*shared;
        shared
            .buckets
            .par_iter()
            .flat_map(|&bucket| {
                family
                    .tables
                    .clone()
                    .into_par_iter()
                    .map(move |table| (bucket, table))
            })
            .filter(|_| !limit.exceeded())
            .map_init(
                || (Buckets::default(), Vec::new()),
                |(own, near), (bucket, table)| {
                    let mut found = Vec::new();
                    self.scan_shared_bucket(table, shared.bucket(bucket), own, near, &mut found);
                    limit.add(found.len());
                    found
                },
            )
            .flatten_iter()
            .collect()
    }
}

/// How the tables of one search share the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schedule {
    /// Families run concurrently, each sequentially; best when the input is
    /// small.
    FamiliesInParallel,
    /// Families run one after another, each one's buckets in parallel; memory
    /// stays near one copy of the input per thread.
    OneFamilyAtATime,
}

/// One permuted table: which bits form the key, and which agreeing blocks
/// mean an earlier table already reported the pair.
#[derive(Debug, Clone)]
struct Table {
    /// Union of the bit masks of the table's blocks.
    key_mask: u64,
    /// Bit masks of the blocks the table skips below its highest block.
    earlier: Vec<u64>,
    /// The key bits its family does not share: its highest block, or none
    /// for a table of one block.
    last_only_mask: u64,
}

impl Table {
    /// Whether this is the first table (in lexicographic order) whose
    /// blocks all agree for a pair with XOR `x`, given that they do agree.
    #[inline]
    fn owns(&self, x: u64) -> bool {
        self.earlier.iter().all(|&block| x & block != 0)
    }
}

/// The families of `tables` (in lexicographic order, `r` blocks each).
fn families(tables: &[Table], r: u32) -> Vec<Family> {
    let mut out: Vec<Family> = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        let shared_mask = table.key_mask & !table.last_only_mask;
        match out.last_mut() {
            Some(family) if r > 1 && family.shared_mask == shared_mask => family.tables.end = t + 1,
            _ => out.push(Family {
                shared_mask: if r > 1 { shared_mask } else { table.key_mask },
                tables: t..t + 1,
            }),
        }
    }
    out
}

/// Largest packed key counted into buckets one counter per key; longer keys
/// are sorted.
const COUNTED_KEY_BITS: u32 = 22;

/// Fingerprints put in buckets of equal keys (the bits of a mask).
#[derive(Debug, Default)]
struct Buckets {
    /// Fingerprints, bucket after bucket, each bucket in ascending number order.
    values: Vec<u64>,
    /// The number of each fingerprint in `values`.
    numbers: Vec<u32>,
    /// `start..end` in `values` of each bucket with two fingerprints or more.
    buckets: Vec<(u32, u32)>,
    /// Packed keys and key counters, when counting.
    keys: Vec<u32>,
    counters: Vec<u32>,
    /// Keyed entries, when sorting.
    keyed: Vec<(u64, u32, u64)>,
}

impl Buckets {
    /// Puts the fingerprints `values` (numbers `numbers`, ascending) in buckets
    /// of equal `value & mask`: by counting when the packed keys are short
    /// enough that the counters are not many more than the entries, by
    /// sorting otherwise.
    fn group(&mut self, mask: u64, entries: (&[u64], &[u32])) {
        let bits = mask.count_ones();
        let n = entries.0.len();
        if bits <= COUNTED_KEY_BITS && (1usize << bits) <= 4 * n + 4096 {
            self.group_by_counting(mask, entries);
        } else {
            self.group_by_sorting(mask, entries);
        }
    }

    fn group_by_counting(&mut self, mask: u64, (values, numbers): (&[u64], &[u32])) {
        debug_assert!(numbers.windows(2).all(|w| w[0] < w[1]));
        let keys = 1usize << mask.count_ones();
        self.counters.clear();
        self.counters.resize(keys + 1, 0);
        self.keys.clear();
        crate::simd::hamming::pack_keys(mask, values, &mut self.keys);
        for &key in &self.keys {
            self.counters[key as usize + 1] += 1;
        }
        self.buckets.clear();
        for key in 0..keys {
            let (count, start) = (self.counters[key + 1], self.counters[key]);
            if count > 1 {
                self.buckets.push((start, start + count));
            }
            self.counters[key + 1] = start + count;
        }
        // Placed in input order, so each bucket keeps ascending numbers.
        self.values.resize(values.len(), 0);
        self.numbers.resize(values.len(), 0);
        for ((&value, &number), &key) in values.iter().zip(numbers).zip(&self.keys) {
            let at = &mut self.counters[key as usize];
            self.values[*at as usize] = value;
            self.numbers[*at as usize] = number;
            *at += 1;
        }
    }

    fn group_by_sorting(&mut self, mask: u64, (values, numbers): (&[u64], &[u32])) {
        self.keyed.clear();
        self.keyed.extend(
            values
                .iter()
                .zip(numbers)
                .map(|(&value, &number)| (value & mask, number, value)),
        );
        self.keyed.sort_unstable();
        self.buckets.clear();
        let mut start = 0u32;
        for run in self.keyed.chunk_by(|x, y| x.0 == y.0) {
            let end = start + run.len() as u32;
            if run.len() > 1 {
                self.buckets.push((start, end));
            }
            start = end;
        }
        self.values.clear();
        self.values.extend(self.keyed.iter().map(|e| e.2));
        self.numbers.clear();
        self.numbers.extend(self.keyed.iter().map(|e| e.1));
    }

    /// The fingerprints and numbers of bucket `start..end`.
    fn bucket(&self, (start, end): (u32, u32)) -> (&[u64], &[u32]) {
        let range = start as usize..end as usize;
        (&self.values[range.clone()], &self.numbers[range])
    }
}

/// The room a search of one family needs, reused from family to family.
#[derive(Debug, Default)]
pub struct SearchScratch {
    /// Buckets of the family's shared blocks.
    shared: Buckets,
    /// Buckets of one table's last block within one of those.
    own: Buckets,
    /// Pairs of positions near each other within one bucket.
    near: Vec<(u32, u32)>,
}

/// Appends the near pairs of one bucket (fingerprints `values`, their
/// `numbers` ascending) that `table` owns; `near` is room for positions.
fn scan_bucket(
    (values, numbers): (&[u64], &[u32]),
    k: u32,
    table: &Table,
    near: &mut Vec<(u32, u32)>,
    out: &mut Vec<(u32, u32, u32)>,
) {
    if values.len() < 2 {
        return;
    }
    near.clear();
    crate::simd::hamming::near_pairs(values, k, near);
    for &(p, q) in near.iter() {
        let x = values[p as usize] ^ values[q as usize];
        if table.owns(x) {
            out.push((numbers[p as usize], numbers[q as usize], x.count_ones()));
        }
    }
}

/// Bit masks of `b` contiguous blocks covering all 64 bits, low bits first;
/// the first `64 % b` blocks are one bit longer than the rest.
fn block_masks(b: u32) -> Vec<u64> {
    let base = 64 / b;
    let longer = 64 % b;
    let mut masks = Vec::with_capacity(b as usize);
    let mut offset = 0;
    for j in 0..b {
        let len = base + u32::from(j < longer);
        let ones = if len == 64 {
            u64::MAX
        } else {
            (1u64 << len) - 1
        };
        masks.push(ones << offset);
        offset += len;
    }
    masks
}

/// `C(n, r)`, saturating at `u64::MAX`.
fn binomial(n: u32, r: u32) -> u64 {
    let r = r.min(n - r);
    let mut c: u128 = 1;
    for i in 0..r {
        c = c * u128::from(n - i) / u128::from(i + 1);
    }
    u64::try_from(c).unwrap_or(u64::MAX)
}

/// The `C(b, k)` tables for radius `k` over `b` blocks, each choosing
/// `b - k` blocks, in lexicographic order of the chosen block indices.
fn tables(b: u32, k: u32) -> Vec<Table> {
    let masks = block_masks(b);
    let r = (b - k) as usize;
    let b = b as usize;
    let mut chosen: Vec<usize> = (0..r).collect();
    let mut out = Vec::new();
    loop {
        let key_mask = chosen.iter().fold(0u64, |acc, &j| acc | masks[j]);
        let highest = chosen[r - 1];
        let earlier = (0..highest)
            .filter(|j| !chosen.contains(j))
            .map(|j| masks[j])
            .collect();
        let last_only_mask = if r > 1 { masks[highest] } else { 0 };
        out.push(Table {
            key_mask,
            earlier,
            last_only_mask,
        });

        // Advance to the next combination in lexicographic order.
        let Some(pos) = (0..r).rev().find(|&p| chosen[p] < b - r + p) else {
            break;
        };
        chosen[pos] += 1;
        for p in pos + 1..r {
            chosen[p] = chosen[p - 1] + 1;
        }
    }
    out
}

fn search(
    distinct: &[u64],
    k: u32,
    blocks: Option<u32>,
    schedule: Schedule,
    limit: &PairLimit,
) -> Vec<(u32, u32, u32)> {
    assert!(
        u32::try_from(distinct.len()).is_ok(),
        "at most u32::MAX fingerprints are supported, got {}",
        distinct.len()
    );
    if k >= 64 {
        let n = distinct.len();
        if !limit.add(n * n.saturating_sub(1) / 2) {
            return Vec::new();
        }
        return every_pair(distinct);
    }
    let b = match blocks {
        Some(b) => {
            assert!(
                k < b && b <= 64,
                "blocks must satisfy k < blocks <= 64 (k = {k}, blocks = {b})"
            );
            b
        }
        None => default_blocks(k, distinct.len()),
    };
    if k == 0 || distinct.len() < 2 {
        return Vec::new();
    }
    let count = binomial(b, k);
    assert!(
        count <= MAX_TABLES,
        "{b} blocks at radius {k} need {count} tables, more than {MAX_TABLES}"
    );
    let tables = BlockTables::with_blocks(k, b);
    let numbers: Vec<u32> = (0..distinct.len() as u32).collect();
    let entries = (distinct, &numbers[..]);

    let mut out = match schedule {
        Schedule::FamiliesInParallel => (0..tables.families())
            .into_par_iter()
            .map_init(SearchScratch::default, |scratch, family| {
                let mut found = Vec::new();
                if !limit.exceeded() {
                    tables.scan_family(family, entries, limit, scratch, &mut found);
                }
                found
            })
            .flatten_iter()
            .collect(),
        Schedule::OneFamilyAtATime => {
            let mut shared = Buckets::default();
            let mut out = Vec::new();
            for family in 0..tables.families() {
                if limit.exceeded() {
                    break;
                }
                out.extend(tables.scan_family_parallel(family, entries, limit, &mut shared));
            }
            out
        }
    };
    out.par_sort_unstable();
    out
}

/// Every pair of different values, for radii that cover all 64 bits.
fn every_pair(distinct: &[u64]) -> Vec<(u32, u32, u32)> {
    let mut out = Vec::new();
    for (i, &a) in distinct.iter().enumerate() {
        for (j, &b) in distinct.iter().enumerate().skip(i + 1) {
            let dist = (a ^ b).count_ones();
            if dist != 0 {
                out.push((i as u32, j as u32, dist));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simhash::fingerprint::hamming;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// Obvious reference over all unit indices: dist <= k, including 0.
    fn brute_all(fps: &[u64], k: u32) -> Vec<(u32, u32, u32)> {
        let mut out = Vec::new();
        for i in 0..fps.len() {
            for j in i + 1..fps.len() {
                let d = hamming(fps[i], fps[j]);
                if d <= k {
                    out.push((i as u32, j as u32, d));
                }
            }
        }
        out
    }

    /// Obvious reference over distinct values: 1 <= dist <= k.
    fn brute_distinct(distinct: &[u64], k: u32) -> Vec<(u32, u32, u32)> {
        brute_all(distinct, k)
            .into_iter()
            .filter(|&(_, _, d)| d >= 1)
            .collect()
    }

    /// Deterministic pseudo-random stream for fixed test inputs.
    fn stream(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    /// Random fingerprints with planted neighbours (each a copy of an
    /// earlier one with up to `max_flips` random bits flipped) and exact
    /// duplicates.
    fn planted(seed: u64, n: usize, max_flips: u32) -> Vec<u64> {
        let mut next = stream(seed);
        let mut fps: Vec<u64> = Vec::with_capacity(n);
        while fps.len() < n {
            let roll = next() % 4;
            if fps.is_empty() || roll == 0 {
                fps.push(next());
            } else if roll == 3 {
                let src = fps[(next() % fps.len() as u64) as usize];
                fps.push(src);
            } else {
                let mut fp = fps[(next() % fps.len() as u64) as usize];
                for _ in 0..next() % u64::from(max_flips + 1) {
                    fp ^= 1 << (next() % 64);
                }
                fps.push(fp);
            }
        }
        fps
    }

    /// Fingerprint sets with planted near neighbours and duplicates, in a
    /// shuffled order, plus a radius `k` and an extra block count.
    fn planted_sets() -> impl Strategy<Value = (Vec<u64>, u32, u32)> {
        (0u32..=8, 0u32..=4)
            .prop_flat_map(|(k, extra)| {
                let flips = prop::collection::vec(0u32..64, 0..=(k as usize + 2));
                (
                    prop::collection::vec(any::<u64>(), 1..25),
                    prop::collection::vec((any::<Index>(), flips), 0..40),
                    prop::collection::vec(any::<Index>(), 0..10),
                    Just(k),
                    Just(extra),
                )
            })
            .prop_flat_map(|(bases, planted, dups, k, extra)| {
                let mut fps = bases.clone();
                for (src, flips) in &planted {
                    let mut fp = bases[src.index(bases.len())];
                    for &bit in flips {
                        fp ^= 1 << bit;
                    }
                    fps.push(fp);
                }
                for src in &dups {
                    let fp = fps[src.index(fps.len())];
                    fps.push(fp);
                }
                (Just(fps).prop_shuffle(), Just(k), Just(extra))
            })
    }

    /// Dense sets: every fingerprint is a common centre with a few bits
    /// flipped, so most pairs are close and many tables see each pair.
    fn dense_sets() -> impl Strategy<Value = (Vec<u64>, u32, u32)> {
        (
            any::<u64>(),
            prop::collection::vec(prop::collection::vec(0u32..64, 0..=5), 1..40),
            0u32..=8,
            0u32..=4,
        )
            .prop_map(|(centre, flips, k, extra)| {
                let fps = flips
                    .iter()
                    .map(|bits| bits.iter().fold(centre, |fp, &bit| fp ^ (1 << bit)))
                    .collect();
                (fps, k, extra)
            })
    }

    fn blocks_for(k: u32, extra: u32) -> Option<u32> {
        // extra == 0 exercises the default choice.
        (extra > 0).then(|| (k + extra).min(64))
    }

    fn check_against_brute(fps: &[u64], k: u32, blocks: Option<u32>) -> Result<(), TestCaseError> {
        prop_assert_eq!(all_pairs_within(fps, k), brute_all(fps, k));
        let collapsed = Collapsed::new(fps);
        let expected = brute_distinct(&collapsed.distinct, k);
        for schedule in [Schedule::FamiliesInParallel, Schedule::OneFamilyAtATime] {
            let found = search(
                &collapsed.distinct,
                k,
                blocks,
                schedule,
                &PairLimit::new(u64::MAX),
            );
            prop_assert_eq!(&found, &expected, "schedule {:?}", schedule);
        }
        prop_assert_eq!(
            near_distinct_pairs(&collapsed.distinct, k, blocks),
            expected
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn planted_matches_brute_force((fps, k, extra) in planted_sets()) {
            check_against_brute(&fps, k, blocks_for(k, extra))?;
        }

        #[test]
        fn dense_matches_brute_force((fps, k, extra) in dense_sets()) {
            check_against_brute(&fps, k, blocks_for(k, extra))?;
        }

        #[test]
        fn counting_and_sorting_make_the_same_buckets((fps, k, extra) in planted_sets()) {
            let distinct = Collapsed::new(&fps).distinct;
            let numbers: Vec<u32> = (0..distinct.len() as u32).collect();
            let entries = (&distinct[..], &numbers[..]);
            let b = blocks_for(k, extra).unwrap_or(k + 1);
            let (mut counted, mut sorted) = (Buckets::default(), Buckets::default());
            for table in tables(b, k).iter().filter(|t| t.key_mask.count_ones() <= 16) {
                counted.group_by_counting(table.key_mask, entries);
                sorted.group_by_sorting(table.key_mask, entries);
                prop_assert_eq!(&counted.values, &sorted.values);
                prop_assert_eq!(&counted.numbers, &sorted.numbers);
                prop_assert_eq!(&counted.buckets, &sorted.buckets);
                for &(start, end) in &counted.buckets {
                    let (values, numbers) = counted.bucket((start, end));
                    prop_assert!(values.iter().all(|v| v & table.key_mask == values[0] & table.key_mask));
                    prop_assert!(numbers.windows(2).all(|w| w[0] < w[1]));
                }
            }
        }

        #[test]
        fn collapsed_invariants(fps in prop::collection::vec(0u64..12, 0..80)) {
            let c = Collapsed::new(&fps);
            prop_assert_eq!(c.offsets.len(), c.len() + 1);
            prop_assert_eq!(c.offsets[0], 0);
            prop_assert_eq!(c.num_units(), fps.len());
            let mut seen = vec![false; fps.len()];
            let mut last_first = None;
            for d in 0..c.len() {
                let group = c.members_of(d);
                prop_assert!(!group.is_empty());
                prop_assert!(group.windows(2).all(|w| w[0] < w[1]));
                prop_assert_eq!(c.representative(d), group[0]);
                // Groups ordered by first occurrence.
                prop_assert!(last_first < Some(group[0]));
                last_first = Some(group[0]);
                for &u in group {
                    prop_assert_eq!(fps[u as usize], c.distinct[d]);
                    prop_assert!(!seen[u as usize]);
                    seen[u as usize] = true;
                }
                // The representative is the first unit with that value.
                let first = fps.iter().position(|&fp| fp == c.distinct[d]);
                prop_assert_eq!(first, Some(group[0] as usize));
            }
            prop_assert!(seen.iter().all(|&s| s));
        }
    }

    #[test]
    fn collapsed_groups_duplicates() {
        let c = Collapsed::new(&[5, 3, 5, 7, 3, 5]);
        assert_eq!(c.distinct, vec![5, 3, 7]);
        assert_eq!(c.members_of(0), &[0, 2, 5]);
        assert_eq!(c.members_of(1), &[1, 4]);
        assert_eq!(c.members_of(2), &[3]);
        assert_eq!(c.offsets, vec![0, 3, 5, 6]);
        assert_eq!(c.len(), 3);
        assert!(!c.is_empty());
    }

    #[test]
    fn collapsed_empty() {
        let c = Collapsed::new(&[]);
        assert!(c.is_empty());
        assert_eq!(c.offsets, vec![0]);
        assert_eq!(c.num_units(), 0);
    }

    #[test]
    fn huge_identical_bucket_collapses_to_one() {
        // 200k copies would be 2e10 pairs if scanned pairwise.
        let fps = vec![0xDEAD_BEEF_u64; 200_000];
        let c = Collapsed::new(&fps);
        assert_eq!(c.len(), 1);
        assert_eq!(c.members_of(0).len(), fps.len());
        assert!(near_distinct_pairs(&c.distinct, 8, None).is_empty());
    }

    #[test]
    fn exact_radius_only_reports_duplicates() {
        let fps = [9u64, 8, 9, 1, 8];
        assert_eq!(all_pairs_within(&fps, 0), vec![(0, 2, 0), (1, 4, 0)]);
        let c = Collapsed::new(&fps);
        assert!(near_distinct_pairs(&c.distinct, 0, None).is_empty());
        assert!(near_distinct_pairs(&c.distinct, 0, Some(7)).is_empty());
    }

    #[test]
    fn equal_values_in_distinct_input_are_not_paired() {
        let found = near_distinct_pairs(&[5, 5, 4], 1, None);
        assert_eq!(found, vec![(0, 2, 1), (1, 2, 1)]);
    }

    #[test]
    fn single_bit_neighbours() {
        // 0b000 - 0b001 - 0b011: distances 1, 1 and 2.
        let fps = [0b000u64, 0b001, 0b011];
        assert_eq!(all_pairs_within(&fps, 1), vec![(0, 1, 1), (1, 2, 1)]);
        assert_eq!(
            all_pairs_within(&fps, 2),
            vec![(0, 1, 1), (0, 2, 2), (1, 2, 1)]
        );
    }

    #[test]
    fn radius_sixteen_matches_brute_force() {
        let fps = planted(16, 300, 20);
        let c = Collapsed::new(&fps);
        let expected = brute_distinct(&c.distinct, 16);
        assert!(expected.len() > 50, "planted pairs must exist");
        for blocks in [None, Some(17), Some(18)] {
            assert_eq!(near_distinct_pairs(&c.distinct, 16, blocks), expected);
        }
    }

    #[test]
    fn a_search_past_its_pair_limit_stops_and_says_so() {
        let fps = planted(9, 3_000, 3);
        let all = near_distinct_pairs(&fps, 20, None);
        assert!(all.len() > 100, "{}", all.len());
        let limit = all.len() as u64;
        assert_eq!(
            near_distinct_pairs_at_most(&fps, 20, None, limit).as_deref(),
            Some(&all[..])
        );
        assert_eq!(near_distinct_pairs_at_most(&fps, 20, None, limit - 1), None);
        assert_eq!(near_distinct_pairs_at_most(&fps, 64, None, 10), None);
    }

    #[test]
    fn both_strategies_agree_on_larger_input() {
        let fps = planted(3, 3000, 5);
        let c = Collapsed::new(&fps);
        let expected = brute_distinct(&c.distinct, 3);
        assert!(expected.len() > 100, "planted pairs must exist");
        for schedule in [Schedule::FamiliesInParallel, Schedule::OneFamilyAtATime] {
            assert_eq!(
                search(&c.distinct, 3, None, schedule, &PairLimit::new(u64::MAX)),
                expected
            );
        }
    }

    #[test]
    fn radius_of_64_or_more_pairs_everything() {
        let fps = [0u64, u64::MAX, 1, 1];
        let c = Collapsed::new(&fps);
        let expected = vec![(0, 1, 64), (0, 2, 1), (1, 2, 63)];
        assert_eq!(near_distinct_pairs(&c.distinct, 64, None), expected);
        assert_eq!(near_distinct_pairs(&c.distinct, 70, Some(3)), expected);
        assert_eq!(all_pairs_within(&fps, 64), brute_all(&fps, 64));
    }

    #[test]
    #[should_panic(expected = "blocks must satisfy")]
    fn too_few_blocks_panics() {
        near_distinct_pairs(&[1, 2], 3, Some(3));
    }

    #[test]
    #[should_panic(expected = "blocks must satisfy")]
    fn too_many_blocks_panics() {
        near_distinct_pairs(&[1, 2], 3, Some(65));
    }

    #[test]
    #[should_panic(expected = "tables")]
    fn too_many_tables_panics() {
        near_distinct_pairs(&[1, 2], 16, Some(40));
    }

    #[test]
    fn blocks_partition_all_bits() {
        for b in 1..=64 {
            let masks = block_masks(b);
            assert_eq!(masks.len(), b as usize);
            let mut union = 0u64;
            for &m in &masks {
                assert_eq!(union & m, 0, "blocks overlap for b = {b}");
                assert!(m != 0);
                // Contiguous: shifting out trailing zeros leaves 2^len - 1.
                let shifted = m >> m.trailing_zeros();
                assert_eq!(shifted & shifted.wrapping_add(1), 0);
                union |= m;
            }
            assert_eq!(union, u64::MAX, "blocks miss bits for b = {b}");
            let sizes: Vec<u32> = masks.iter().map(|m| m.count_ones()).collect();
            let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
            assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1));
        }
    }

    #[test]
    fn table_enumeration_is_complete_and_ordered() {
        for b in 1..=10u32 {
            for k in 0..b {
                let ts = tables(b, k);
                assert_eq!(ts.len() as u64, binomial(b, k), "b = {b}, k = {k}");
                let masks = block_masks(b);
                let sets: Vec<Vec<usize>> = ts
                    .iter()
                    .map(|t| {
                        (0..b as usize)
                            .filter(|&j| t.key_mask & masks[j] == masks[j])
                            .collect()
                    })
                    .collect();
                for s in &sets {
                    assert_eq!(s.len(), (b - k) as usize);
                }
                assert!(sets.windows(2).all(|w| w[0] < w[1]), "lexicographic");
            }
        }
    }

    #[test]
    fn each_close_xor_is_owned_by_exactly_one_table() {
        let mut next = stream(77);
        for (b, k) in [(4u32, 3u32), (6, 3), (7, 4), (10, 8)] {
            let ts = tables(b, k);
            for _ in 0..500 {
                let mut x = 0u64;
                for _ in 0..=(next() % u64::from(k)) {
                    x |= 1 << (next() % 64);
                }
                let owners = ts
                    .iter()
                    .filter(|t| x & t.key_mask == 0 && t.owns(x))
                    .count();
                assert_eq!(owners, 1, "x = {x:#x}, b = {b}, k = {k}");
            }
        }
    }

    #[test]
    fn binomial_values() {
        assert_eq!(binomial(5, 2), 10);
        assert_eq!(binomial(5, 3), 10);
        assert_eq!(binomial(10, 0), 1);
        assert_eq!(binomial(64, 32), 1_832_624_140_942_590_534);
    }

    #[test]
    fn default_blocks_valid_and_sensible() {
        for k in 1..=16 {
            for n in [0usize, 1, 100, 10_000, 1_000_000, 1 << 30] {
                let b = default_blocks(k, n);
                assert!(k < b && b <= 64, "k = {k}, n = {n}, b = {b}");
                assert!(binomial(b, k) <= MAX_TABLES);
            }
        }
        assert_eq!(default_blocks(0, 1000), 1);
        // Few fingerprints: the fewest tables win. Many: longer keys win.
        assert_eq!(default_blocks(3, 1000), 4);
        assert!(default_blocks(3, 100_000_000) > 4);
        assert!(default_blocks(8, 100_000_000) > 9);
    }
}
