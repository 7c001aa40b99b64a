//! Similarity bands and the seeded sample of pairs shown from each.
//!
//! A reviewer wants to see the borderline pairs as much as the obvious ones, so
//! pairs are grouped by similarity into bands — from the run's threshold to 0.4,
//! then tenths up to 1.0, and exact copies (1.0) on their own — and up to `n`
//! pairs are drawn from every band that has any. The draw is seeded: the same run,
//! `n` and seed give the same page.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Upper cuts between bands below 1.0.
const CUTS: [f32; 6] = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// One similarity band: `[low, high)`, or exactly 1.0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Lowest similarity in the band.
    pub low: f32,
    /// Upper end, exclusive; equal to `low` (1.0) for the band of exact copies.
    pub high: f32,
}

impl Band {
    /// True for the band of similarity exactly 1.0.
    pub fn is_exact(&self) -> bool {
        self.low >= 1.0
    }

    /// `[0.40, 0.50)` or `1.0 (exact)`.
    pub fn label(&self) -> String {
        if self.is_exact() {
            "1.0 (exact)".to_string()
        } else {
            format!("[{:.2}, {:.2})", self.low, self.high)
        }
    }

    /// Whether `similarity` falls in the band.
    pub fn contains(&self, similarity: f32) -> bool {
        if self.is_exact() {
            similarity >= 1.0
        } else {
            similarity >= self.low && similarity < self.high
        }
    }
}

/// The bands for a run with `threshold` whose lowest pair similarity is
/// `lowest` (a pair can sit below the threshold, e.g. SimHash similarity under a
/// Jaccard threshold): the first band starts at the lower of the two.
pub fn bands(threshold: f64, lowest: Option<f32>) -> Vec<Band> {
    let mut low = (threshold as f32).clamp(0.0, 1.0);
    if let Some(lowest) = lowest {
        low = low.min(lowest.max(0.0));
    }
    let mut out = Vec::new();
    for cut in CUTS.into_iter().chain([1.0]) {
        if cut > low {
            out.push(Band { low, high: cut });
            low = cut;
        }
    }
    out.push(Band {
        low: 1.0,
        high: 1.0,
    });
    out
}

/// The band index of `similarity` (values below the first band go to the first).
pub fn band_of(bands: &[Band], similarity: f32) -> usize {
    bands
        .iter()
        .position(|b| b.contains(similarity))
        .unwrap_or(if similarity >= 1.0 {
            bands.len() - 1
        } else {
            0
        })
}

/// Draws up to `n` of the items in each band. `similarities[i]` is item `i`'s
/// similarity; the answer lists, for every band, the chosen item indices in
/// increasing similarity (then index) order. Deterministic in `seed`; every band
/// with an item gets at least one when `n > 0`.
pub fn sample(bands: &[Band], similarities: &[f32], n: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); bands.len()];
    for (i, &s) in similarities.iter().enumerate() {
        members[band_of(bands, s)].push(i);
    }
    members
        .into_iter()
        .enumerate()
        .map(|(band, items)| {
            // One stream per band, so a band's draw does not depend on how many
            // items the bands before it hold.
            let mut rng =
                ChaCha8Rng::seed_from_u64(seed ^ (band as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut chosen: Vec<usize> = if items.len() <= n {
                items
            } else {
                rand::seq::index::sample(&mut rng, items.len(), n)
                    .into_iter()
                    .map(|k| items[k])
                    .collect()
            };
            chosen.sort_by(|&x, &y| similarities[x].total_cmp(&similarities[y]).then(x.cmp(&y)));
            chosen
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_threshold_gives_eight_bands() {
        let b = bands(0.3, Some(0.35));
        let labels: Vec<String> = b.iter().map(Band::label).collect();
        assert_eq!(
            labels,
            [
                "[0.30, 0.40)",
                "[0.40, 0.50)",
                "[0.50, 0.60)",
                "[0.60, 0.70)",
                "[0.70, 0.80)",
                "[0.80, 0.90)",
                "[0.90, 1.00)",
                "1.0 (exact)"
            ]
        );
        assert_eq!(band_of(&b, 0.3), 0);
        assert_eq!(band_of(&b, 0.7), 4, "0.7 as f32 belongs to [0.7, 0.8)");
        assert_eq!(band_of(&b, 0.999), 6);
        assert_eq!(band_of(&b, 1.0), 7);
    }

    #[test]
    fn high_threshold_and_pairs_below_it() {
        let labels: Vec<String> = bands(0.85, None).iter().map(Band::label).collect();
        assert_eq!(labels, ["[0.85, 0.90)", "[0.90, 1.00)", "1.0 (exact)"]);
        let b = bands(0.5, Some(0.2));
        assert_eq!(b[0].label(), "[0.20, 0.40)");
        assert_eq!(band_of(&b, 0.1), 0, "below every band: the first");
    }

    #[test]
    fn sampling_is_deterministic_and_covers_every_band_with_pairs() {
        let b = bands(0.3, None);
        // Many pairs in two bands, one pair in another, none in the rest.
        let mut sims = Vec::new();
        for i in 0..500 {
            sims.push(0.9 + (i % 10) as f32 * 0.005);
            sims.push(1.0);
        }
        sims.push(0.42);
        let first = sample(&b, &sims, 5, 7);
        assert_eq!(first, sample(&b, &sims, 5, 7), "same seed, same draw");
        assert_ne!(first, sample(&b, &sims, 5, 8), "another seed, another draw");
        let sizes: Vec<usize> = first.iter().map(Vec::len).collect();
        assert_eq!(sizes, [0, 1, 0, 0, 0, 0, 5, 5]);
        for (band, chosen) in b.iter().zip(&first) {
            assert!(chosen.iter().all(|&i| band.contains(sims[i])));
            assert!(chosen.windows(2).all(|w| sims[w[0]] <= sims[w[1]]));
        }
        assert_eq!(first[1], [1000]);
        // Every band with items is represented even with n = 1.
        let one = sample(&b, &sims, 1, 1);
        assert_eq!(one.iter().filter(|c| !c.is_empty()).count(), 3);
    }

    #[test]
    fn a_band_draw_does_not_depend_on_other_bands() {
        let b = bands(0.3, None);
        let mut sims: Vec<f32> = (0..100).map(|i| 0.95 + (i as f32) * 0.0001).collect();
        let alone = sample(&b, &sims, 4, 3)[6].clone();
        sims.extend(std::iter::repeat_n(0.45, 50));
        assert_eq!(sample(&b, &sims, 4, 3)[6], alone);
    }
}
