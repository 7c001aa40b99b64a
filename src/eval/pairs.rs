//! Recall of the ground truth's (original, derived) pairs, by true Jaccard.
//!
//! Pair precision and recall weigh every pair alike; what a user of a near-duplicate
//! detector wants to know is *which* near-duplicates it finds. Every derived unit
//! forms one pair with its cluster's original, and the truth records that pair's
//! exact Jaccard. Pairs are bucketed by that value into `[0.0, 0.1)`, ...,
//! `[0.8, 0.9)`, `[0.9, 1.0]`, and each bucket reports the share of its pairs whose
//! two units share a predicted cluster.

use std::fmt::Write as _;

/// Number of Jaccard buckets.
pub const BUCKETS: usize = 10;

/// The bucket of a Jaccard value: the largest `i` with `j >= i/10`, capped at 9
/// (so 1.0 falls in the last bucket, and exact tenths fall on their own bucket).
pub fn bucket_of(jaccard: f64) -> usize {
    (1..BUCKETS)
        .rev()
        .find(|&i| jaccard >= i as f64 / BUCKETS as f64)
        .unwrap_or(0)
}

/// Counts of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Bucket {
    /// Truth pairs whose Jaccard falls in the bucket.
    pub pairs: u64,
    /// Of those, pairs placed in the same predicted cluster.
    pub found: u64,
}

impl Bucket {
    /// `found / pairs`, or `None` for an empty bucket.
    pub fn recall(&self) -> Option<f64> {
        (self.pairs > 0).then(|| self.found as f64 / self.pairs as f64)
    }
}

/// Per-bucket recall of (original, derived) truth pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct JaccardBuckets {
    /// Bucket `i` covers `[i/10, (i+1)/10)`, the last one including 1.0.
    pub buckets: [Bucket; BUCKETS],
}

impl JaccardBuckets {
    /// Records one truth pair.
    pub fn add(&mut self, jaccard: f64, found: bool) {
        let bucket = &mut self.buckets[bucket_of(jaccard)];
        bucket.pairs += 1;
        bucket.found += u64::from(found);
    }

    /// Pairs and found pairs over buckets `from..` (e.g. 9 for J >= 0.9).
    pub fn from_bucket(&self, from: usize) -> Bucket {
        self.buckets[from.min(BUCKETS)..]
            .iter()
            .fold(Bucket::default(), |acc, b| Bucket {
                pairs: acc.pairs + b.pairs,
                found: acc.found + b.found,
            })
    }

    /// A printable table, one line per bucket.
    pub fn table(&self) -> String {
        let mut out = String::from("true Jaccard    pairs    found   recall\n");
        for (i, b) in self.buckets.iter().enumerate() {
            let upper = if i + 1 == BUCKETS { ']' } else { ')' };
            let recall = b
                .recall()
                .map_or_else(|| "     -".to_owned(), |r| format!("{r:>6.3}"));
            let _ = writeln!(
                out,
                "[{:.1}, {:.1}{upper}  {:>8} {:>8}   {recall}",
                i as f64 / 10.0,
                (i + 1) as f64 / 10.0,
                b.pairs,
                b.found
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_have_closed_lower_ends_and_a_closed_top() {
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(0.0999), 0);
        assert_eq!(bucket_of(0.1), 1);
        assert_eq!(bucket_of(0.3), 3);
        assert_eq!(bucket_of(0.7), 7);
        assert_eq!(bucket_of(0.8999999), 8);
        assert_eq!(bucket_of(0.9), 9);
        assert_eq!(bucket_of(9.0 / 10.0), 9);
        assert_eq!(bucket_of(1.0), 9);
        for k in 0..10 {
            assert_eq!(bucket_of(k as f64 / 10.0), k, "exact tenth {k}");
        }
    }

    #[test]
    fn accumulates_and_sums_from_a_bucket() {
        let mut b = JaccardBuckets::default();
        b.add(0.95, true);
        b.add(1.0, false);
        b.add(0.85, true);
        b.add(0.05, false);
        assert_eq!(b.buckets[9], Bucket { pairs: 2, found: 1 });
        assert_eq!(b.buckets[9].recall(), Some(0.5));
        assert_eq!(b.buckets[4].recall(), None);
        assert_eq!(b.from_bucket(8), Bucket { pairs: 3, found: 2 });
        assert_eq!(b.from_bucket(0).pairs, 4);
        let table = b.table();
        assert_eq!(table.lines().count(), 11);
        assert!(table.contains("[0.9, 1.0]"), "{table}");
    }
}
