//! Choice of LSH banding parameters for a Jaccard threshold.
//!
//! A MinHash signature of `num_perm` values is cut into `bands` bands of
//! `rows` consecutive values each (`bands * rows <= num_perm`). Two documents
//! become a candidate pair when at least one band is identical, which for
//! Jaccard similarity `s` happens with probability
//! `P(s) = 1 - (1 - s^rows)^bands` — the familiar S-curve.
//!
//! This module owns that curve and the search for the `(bands, rows)` that
//! best separates pairs above a threshold `t` from pairs below it: it
//! minimises `fp_weight * FP + fn_weight * FN` with
//! `FP = ∫_0^t P(s) ds` (mass of the curve below the threshold, i.e. likely
//! false positives) and `FN = ∫_t^1 (1 - P(s)) ds` (mass missing above it,
//! i.e. likely false negatives), integrated with composite Simpson's rule.
//! This is the same objective `datasketch` uses, with the same default
//! weights of 0.5 / 0.5.

use std::fmt;

/// Default weight of the false-positive area in [`optimal_params`].
pub const DEFAULT_FP_WEIGHT: f64 = 0.5;
/// Default weight of the false-negative area in [`optimal_params`].
pub const DEFAULT_FN_WEIGHT: f64 = 0.5;

/// Number of Simpson intervals per integral; even, and fine enough that the
/// integration error is far below the differences between parameter choices.
const SIMPSON_INTERVALS: usize = 512;

/// LSH banding of a signature: `bands` bands of `rows` values each.
///
/// Band `i` covers signature positions `[i * rows, (i + 1) * rows)`.
/// Positions past `bands * rows` are not used for candidate generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LshParams {
    /// Number of bands; a pair is a candidate if any band matches.
    pub bands: usize,
    /// Signature values per band; all must match for the band to match.
    pub rows: usize,
}

impl LshParams {
    /// Creates banding parameters without validation.
    pub fn new(bands: usize, rows: usize) -> Self {
        Self { bands, rows }
    }

    /// Picks parameters for `threshold` with the default weights; see
    /// [`optimal_params`].
    pub fn for_threshold(threshold: f64, num_perm: usize) -> Result<Self, ParamsError> {
        optimal_params(threshold, num_perm, DEFAULT_FP_WEIGHT, DEFAULT_FN_WEIGHT)
    }

    /// Number of signature positions the banding covers (`bands * rows`).
    pub fn perms_used(&self) -> usize {
        self.bands.saturating_mul(self.rows)
    }

    /// Probability that a pair with Jaccard similarity `s` becomes a
    /// candidate under these parameters; see [`candidate_probability`].
    pub fn candidate_probability(&self, s: f64) -> f64 {
        candidate_probability(s, self.bands, self.rows)
    }
}

/// Why [`optimal_params`] rejected its input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamsError {
    /// The threshold was not a number in `(0, 1]`.
    InvalidThreshold(f64),
    /// `num_perm` was 0; at least one permutation is needed.
    ZeroPermutations,
    /// A weight was negative or not finite, or both weights were 0.
    InvalidWeights {
        /// The false-positive weight given.
        fp_weight: f64,
        /// The false-negative weight given.
        fn_weight: f64,
    },
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidThreshold(t) => {
                write!(f, "Jaccard threshold must be in (0, 1], got {t}")
            }
            Self::ZeroPermutations => write!(f, "number of permutations must be at least 1"),
            Self::InvalidWeights {
                fp_weight,
                fn_weight,
            } => write!(
                f,
                "false-positive/false-negative weights must be finite, non-negative and not \
                 both zero, got {fp_weight}/{fn_weight}"
            ),
        }
    }
}

impl std::error::Error for ParamsError {}

fn powi_usize(base: f64, exp: usize) -> f64 {
    base.powi(i32::try_from(exp).unwrap_or(i32::MAX))
}

/// Probability that two sets with Jaccard similarity `s` share at least one
/// of `bands` bands of `rows` MinHash values: `1 - (1 - s^rows)^bands`.
///
/// `s` is clamped to `[0, 1]`. The result is non-decreasing in `s` and in
/// `bands`, and non-increasing in `rows`.
pub fn candidate_probability(s: f64, bands: usize, rows: usize) -> f64 {
    let s = s.clamp(0.0, 1.0);
    1.0 - powi_usize(1.0 - powi_usize(s, rows), bands)
}

/// Composite Simpson's rule of `f` over `[lo, hi]`.
fn simpson(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    if hi <= lo {
        return 0.0;
    }
    let n = SIMPSON_INTERVALS;
    let h = (hi - lo) / n as f64;
    let mut sum = f(lo) + f(hi);
    for i in 1..n {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * f(lo + h * i as f64);
    }
    sum * h / 3.0
}

/// Area under the S-curve below the threshold: `∫_0^t P(s) ds`, the weight
/// of pairs that become candidates although they are less similar than
/// `threshold`.
pub fn false_positive_area(threshold: f64, bands: usize, rows: usize) -> f64 {
    simpson(0.0, threshold.clamp(0.0, 1.0), |s| {
        candidate_probability(s, bands, rows)
    })
}

/// Area above the S-curve above the threshold: `∫_t^1 (1 - P(s)) ds`, the
/// weight of pairs that are at least as similar as `threshold` but are
/// missed.
pub fn false_negative_area(threshold: f64, bands: usize, rows: usize) -> f64 {
    simpson(threshold.clamp(0.0, 1.0), 1.0, |s| {
        1.0 - candidate_probability(s, bands, rows)
    })
}

/// Chooses `(bands, rows)` with `bands * rows <= num_perm` minimising
/// `fp_weight * FP + fn_weight * FN` for Jaccard `threshold`.
///
/// Every `bands` in `1..=num_perm` and `rows` in `1..=num_perm / bands` is
/// tried; on exact ties the smallest `bands`, then the smallest `rows`, wins.
/// The search costs `O(num_perm * ln(num_perm))` pairs of integrals, a few
/// milliseconds for typical `num_perm` of 128–256, so its answers are kept
/// for the rest of the process (see [`Chosen`]): a run asks for the same
/// parameters at several of its stages.
///
/// # Errors
///
/// Returns [`ParamsError`] if `threshold` is not in `(0, 1]`, `num_perm` is
/// 0, or a weight is negative, not finite, or both are 0.
pub fn optimal_params(
    threshold: f64,
    num_perm: usize,
    fp_weight: f64,
    fn_weight: f64,
) -> Result<LshParams, ParamsError> {
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(ParamsError::InvalidThreshold(threshold));
    }
    if num_perm == 0 {
        return Err(ParamsError::ZeroPermutations);
    }
    let weights_ok = fp_weight.is_finite()
        && fn_weight.is_finite()
        && fp_weight >= 0.0
        && fn_weight >= 0.0
        && fp_weight + fn_weight > 0.0;
    if !weights_ok {
        return Err(ParamsError::InvalidWeights {
            fp_weight,
            fn_weight,
        });
    }
    let key = ChoiceKey {
        threshold: threshold.to_bits(),
        num_perm,
        fp_weight: fp_weight.to_bits(),
        fn_weight: fn_weight.to_bits(),
    };
    Ok(CHOSEN.get_or_search(key, || {
        search_params(threshold, num_perm, fp_weight, fn_weight)
    }))
}

/// The inputs of one [`optimal_params`] search, floats by their bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChoiceKey {
    threshold: u64,
    num_perm: usize,
    fp_weight: u64,
    fn_weight: u64,
}

/// Parameters already chosen in this process, by the inputs of their search.
struct Chosen(std::sync::Mutex<Vec<(ChoiceKey, LshParams)>>);

/// Searches kept at most; past this the oldest half is forgotten (a process
/// asks for a handful of thresholds, a long sweep for more).
const CHOSEN_KEPT: usize = 64;

static CHOSEN: Chosen = Chosen(std::sync::Mutex::new(Vec::new()));

impl Chosen {
    /// The parameters chosen for `key` before, or those `search` finds (then
    /// kept). The lock is not held while searching.
    fn get_or_search(&self, key: ChoiceKey, search: impl FnOnce() -> LshParams) -> LshParams {
        // Every change to the list is complete before the next, so a poisoned
        // lock still guards a consistent list.
        let lock = || {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some(&(_, params)) = lock().iter().find(|(k, _)| *k == key) {
            return params;
        }
        let params = search();
        let mut kept = lock();
        if kept.len() >= CHOSEN_KEPT {
            kept.drain(..CHOSEN_KEPT / 2);
        }
        kept.push((key, params));
        params
    }
}

/// The search of [`optimal_params`], on inputs it has checked.
fn search_params(threshold: f64, num_perm: usize, fp_weight: f64, fn_weight: f64) -> LshParams {
    let mut best = LshParams::new(1, 1);
    let mut best_error = f64::INFINITY;
    for bands in 1..=num_perm {
        for rows in 1..=num_perm / bands {
            let error = fp_weight * false_positive_area(threshold, bands, rows)
                + fn_weight * false_negative_area(threshold, bands, rows);
            if error < best_error {
                best_error = error;
                best = LshParams::new(bands, rows);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Independent reference: trapezoid rule on a fine grid, written from
    /// the definitions rather than through this module's integrals.
    fn reference_objective(t: f64, bands: usize, rows: usize, wfp: f64, wfn: f64) -> f64 {
        let steps = 4000;
        let p = |s: f64| 1.0 - (1.0 - s.powf(rows as f64)).powf(bands as f64);
        let trapezoid = |lo: f64, hi: f64, g: &dyn Fn(f64) -> f64| {
            let h = (hi - lo) / steps as f64;
            let inner: f64 = (1..steps).map(|i| g(lo + h * i as f64)).sum();
            h * (inner + 0.5 * (g(lo) + g(hi)))
        };
        wfp * trapezoid(0.0, t, &p) + wfn * trapezoid(t, 1.0, &|s| 1.0 - p(s))
    }

    fn brute_force_best(t: f64, num_perm: usize, wfp: f64, wfn: f64) -> f64 {
        let mut best = f64::INFINITY;
        for b in 1..=num_perm {
            for r in 1..=num_perm / b {
                best = best.min(reference_objective(t, b, r, wfp, wfn));
            }
        }
        best
    }

    #[test]
    fn optimum_matches_brute_force_search() {
        let cases = [
            (0.8, 128, 0.5, 0.5),
            (0.5, 128, 0.5, 0.5),
            (0.9, 128, 0.5, 0.5),
            (0.3, 64, 0.5, 0.5),
            (0.7, 256, 0.5, 0.5),
            (0.8, 128, 0.2, 0.8),
            (0.8, 128, 0.9, 0.1),
            (0.6, 100, 0.5, 0.5),
        ];
        for (t, num_perm, wfp, wfn) in cases {
            let chosen = optimal_params(t, num_perm, wfp, wfn).expect("valid input");
            assert!(chosen.bands >= 1 && chosen.rows >= 1);
            assert!(chosen.perms_used() <= num_perm, "{chosen:?} for {num_perm}");
            let got = reference_objective(t, chosen.bands, chosen.rows, wfp, wfn);
            let best = brute_force_best(t, num_perm, wfp, wfn);
            assert!(
                got <= best + 1e-6,
                "t={t} k={num_perm}: chose {chosen:?} with {got}, brute force found {best}"
            );
        }
    }

    #[test]
    fn integrals_agree_with_closed_form_for_single_band() {
        // With one band and one row P(s) = s, so FP = t^2 / 2 and
        // FN = (1 - t)^2 / 2; with rows = 3, FP = t^4 / 4.
        for t in [0.1, 0.5, 0.8, 1.0] {
            assert!((false_positive_area(t, 1, 1) - t * t / 2.0).abs() < 1e-12);
            assert!((false_negative_area(t, 1, 1) - (1.0 - t).powi(2) / 2.0).abs() < 1e-12);
            assert!((false_positive_area(t, 1, 3) - t.powi(4) / 4.0).abs() < 1e-12);
        }
    }

    #[test]
    fn heavier_false_negative_weight_never_raises_false_negatives() {
        // If x minimises w1·FP + (1-w1)·FN and y minimises w2·FP + (1-w2)·FN
        // with w2 < w1, adding both optimality conditions gives FN(y) <= FN(x).
        for t in [0.5, 0.8] {
            let balanced = optimal_params(t, 128, 0.5, 0.5).expect("valid input");
            let recall_heavy = optimal_params(t, 128, 0.1, 0.9).expect("valid input");
            let fn_balanced = false_negative_area(t, balanced.bands, balanced.rows);
            let fn_heavy = false_negative_area(t, recall_heavy.bands, recall_heavy.rows);
            assert!(fn_heavy <= fn_balanced + 1e-12, "t={t}");
            let fp_balanced = false_positive_area(t, balanced.bands, balanced.rows);
            let fp_heavy = false_positive_area(t, recall_heavy.bands, recall_heavy.rows);
            assert!(fp_heavy + 1e-12 >= fp_balanced, "t={t}");
        }
    }

    #[test]
    fn higher_threshold_moves_the_curve_right() {
        let low = LshParams::for_threshold(0.5, 128).expect("valid input");
        let high = LshParams::for_threshold(0.9, 128).expect("valid input");
        assert!(high.candidate_probability(0.5) < low.candidate_probability(0.5));
    }

    #[test]
    fn invalid_inputs_are_rejected() {
        for t in [0.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                optimal_params(t, 128, 0.5, 0.5),
                Err(ParamsError::InvalidThreshold(_))
            ));
        }
        assert_eq!(
            optimal_params(0.8, 0, 0.5, 0.5),
            Err(ParamsError::ZeroPermutations)
        );
        for (wfp, wfn) in [
            (-1.0, 0.5),
            (0.5, f64::NAN),
            (0.0, 0.0),
            (f64::INFINITY, 1.0),
        ] {
            let err = optimal_params(0.8, 128, wfp, wfn);
            assert!(matches!(err, Err(ParamsError::InvalidWeights { .. })));
            let msg = err.expect_err("weights are invalid").to_string();
            assert!(msg.contains("weights"), "{msg}");
        }
    }

    #[test]
    fn edge_inputs_still_give_valid_params() {
        let one = optimal_params(1.0, 1, 0.5, 0.5).expect("valid input");
        assert_eq!(one, LshParams::new(1, 1));
        let full = optimal_params(1.0, 16, 0.5, 0.5).expect("valid input");
        assert!(full.perms_used() <= 16);
        let fp_only = optimal_params(0.5, 32, 1.0, 0.0).expect("valid input");
        assert!(fp_only.perms_used() <= 32);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn probability_is_monotone(
            s1 in 0.0f64..=1.0,
            s2 in 0.0f64..=1.0,
            bands in 1usize..64,
            rows in 1usize..32,
        ) {
            let (lo, hi) = if s1 <= s2 { (s1, s2) } else { (s2, s1) };
            let p_lo = candidate_probability(lo, bands, rows);
            let p_hi = candidate_probability(hi, bands, rows);
            prop_assert!((0.0..=1.0).contains(&p_lo));
            prop_assert!(p_lo <= p_hi);
            prop_assert!(candidate_probability(hi, bands + 1, rows) >= p_hi);
            prop_assert!(candidate_probability(hi, bands, rows + 1) <= p_hi);
        }

        /// A choice given again from the process's memory is the one a
        /// fresh search makes, and asking twice gives the same answer.
        #[test]
        fn remembered_choices_equal_fresh_searches(
            t in 0.05f64..=1.0,
            num_perm in 1usize..64,
            wfp in 0.01f64..1.0,
        ) {
            let first = optimal_params(t, num_perm, wfp, 1.0 - wfp).expect("valid input");
            let again = optimal_params(t, num_perm, wfp, 1.0 - wfp).expect("valid input");
            prop_assert_eq!(first, search_params(t, num_perm, wfp, 1.0 - wfp));
            prop_assert_eq!(again, first);
        }

        #[test]
        fn optimal_params_fit_in_signature(
            t in 0.05f64..=1.0,
            num_perm in 1usize..48,
            wfp in 0.01f64..1.0,
        ) {
            let p = optimal_params(t, num_perm, wfp, 1.0 - wfp);
            prop_assert!(p.is_ok());
            let p = p.unwrap_or(LshParams::new(0, 0));
            prop_assert!(p.bands >= 1 && p.rows >= 1);
            prop_assert!(p.perms_used() <= num_perm);
        }
    }
}
