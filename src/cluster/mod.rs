//! Grouping of units into clusters from verified "is near-duplicate" edges.
//!
//! Two rules, one per [`ClusterMode`]:
//! - [`star_labels`] (the default): a unit joins a cluster only through a verified
//!   edge to the cluster's kept unit (or to a copy that is the same to the run,
//!   see [`SAME`]), so clusters cannot chain look-alikes together;
//! - [`component_labels`]: connected components by [`UnionFind`], the classic
//!   transitive closure.
//!
//! Both label every unit with the unit its cluster keeps, chosen by the run's
//! [`KeepPolicy`] ([`keep`]): by default, for star clusters the most connected
//! unit, for components the first in input order. Labels are deterministic.

mod dense;
pub mod keep;
mod star;
mod union_find;

pub use dense::DenseNumbers;
pub use keep::{FieldKinds, KeepPolicy, Key, Keys, Number, Ranking};
pub use star::{
    component_joins, component_labels, similarity_to_labels, star_joins, star_labels, Join, SAME,
};
pub use union_find::UnionFind;

/// How verified edges become clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ClusterMode {
    /// Each duplicate is verified against its cluster's kept unit (no chaining).
    #[default]
    Star,
    /// Connected components of the verified edges (transitive closure).
    Components,
}

crate::setting_names::by_setting_name!(ClusterMode);

impl ClusterMode {
    /// Each of `units` units' label (the kept unit of its cluster) and its
    /// similarity to that unit where a verified edge gives it, under this rule,
    /// with units ranked for keeping by `ranking`.
    pub fn labels(
        self,
        units: usize,
        edges: &[(u32, u32, f32)],
        ranking: &Ranking<'_>,
    ) -> (Vec<u32>, Vec<Option<f32>>) {
        match self {
            ClusterMode::Star => star_labels(units, edges, ranking),
            ClusterMode::Components => component_labels(units, edges, ranking),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "cli")]
    #[test]
    fn cluster_mode_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<ClusterMode>();
    }
}
