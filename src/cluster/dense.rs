//! Dense numbers for a set of unit numbers: the position of each unit in the
//! sorted set, so per-unit state of the units that have edges fits a plain
//! vector.
//!
//! Edges name units by run-wide numbers, which may be sparse (a worker of a
//! distributed run holds edges of any units) or dense (a single process's
//! edges of millions of units). A lookup table indexed by unit number answers
//! in one memory access and is used when it is small next to the set; a binary
//! search over the sorted set answers otherwise. Either way `get` is the same
//! function of its input.

use rayon::prelude::*;

/// The units of a set numbered `0..len` in increasing order.
#[derive(Debug, Clone)]
pub struct DenseNumbers {
    /// The units, sorted and distinct.
    units: Vec<u32>,
    /// `table[unit]`: the unit's dense number, `u32::MAX` when not in the set.
    table: Option<Vec<u32>>,
}

/// Whether a table indexed by unit number, up to `largest`, costs little next
/// to `items` items of per-unit state: at most a few times as long (plus a
/// small floor).
pub(crate) fn table_is_small(largest: usize, items: usize) -> bool {
    largest <= 4 * items + (1 << 16)
}

impl DenseNumbers {
    /// The set of `units` (any order, repeats allowed).
    pub fn new(mut units: Vec<u32>) -> Self {
        units.par_sort_unstable();
        units.dedup();
        Self::of_sorted(units)
    }

    /// The set of `units`, already sorted and distinct.
    pub fn of_sorted(units: Vec<u32>) -> Self {
        debug_assert!(units.windows(2).all(|w| w[0] < w[1]));
        let largest = units.last().map_or(0, |&u| u as usize);
        let table = table_is_small(largest, units.len()).then(|| {
            let mut table = vec![u32::MAX; largest + 1];
            for (dense, &unit) in units.iter().enumerate() {
                table[unit as usize] = dense as u32;
            }
            table
        });
        DenseNumbers { units, table }
    }

    /// Number of units in the set.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The dense number of `unit`, if it is in the set.
    #[inline]
    pub fn get(&self, unit: u32) -> Option<u32> {
        match &self.table {
            Some(table) => table.get(unit as usize).copied().filter(|&d| d != u32::MAX),
            None => self.units.binary_search(&unit).ok().map(|d| d as u32),
        }
    }

    /// The dense number of `unit`, which is in the set.
    ///
    /// # Panics
    ///
    /// If `unit` is not in the set.
    #[inline]
    pub fn of(&self, unit: u32) -> u32 {
        self.get(unit).expect("a unit of the set")
    }

    /// The unit with dense number `dense`.
    #[inline]
    pub fn unit(&self, dense: u32) -> u32 {
        self.units[dense as usize]
    }

    /// The units, sorted.
    pub fn units(&self) -> &[u32] {
        &self.units
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Table and binary search agree with the obvious position in the
        /// sorted set, for dense and sparse numberings.
        #[test]
        fn numbers_are_positions_in_the_sorted_set(
            units in prop::collection::vec(any::<u32>(), 0..60),
            dense_units in prop::collection::vec(0u32..200, 0..60),
            probes in prop::collection::vec(any::<u32>(), 0..20),
        ) {
            for set in [units, dense_units] {
                let numbers = DenseNumbers::new(set.clone());
                let mut sorted = set.clone();
                sorted.sort_unstable();
                sorted.dedup();
                prop_assert_eq!(numbers.len(), sorted.len());
                for (i, &unit) in sorted.iter().enumerate() {
                    prop_assert_eq!(numbers.get(unit), Some(i as u32));
                    prop_assert_eq!(numbers.unit(i as u32), unit);
                }
                for probe in probes.iter().copied().chain(set.iter().map(|u| u.wrapping_add(1))) {
                    let expected = sorted.binary_search(&probe).ok().map(|i| i as u32);
                    prop_assert_eq!(numbers.get(probe), expected);
                }
            }
        }
    }

    #[test]
    fn small_numbers_use_a_table_and_sparse_ones_a_search() {
        assert!(DenseNumbers::new(vec![3, 1, 2, 2]).table.is_some());
        assert!(DenseNumbers::new(vec![0, u32::MAX]).table.is_none());
        assert_eq!(DenseNumbers::new(vec![0, u32::MAX]).get(u32::MAX), Some(1));
    }
}
