//! The cluster stage across workers: connected components of the verified
//! edges (each unit's label becomes the smallest unit number in its component),
//! and the clusters kept within each component ([`kept_labels`]: star clusters,
//! or components that keep their best unit by a keep policy's key). With one
//! worker every exchange is a no-op and this is the plain union-find and star
//! clustering of [`crate::cluster`].
//!
//! 1. Each worker contracts the edges it holds with a local union-find: every
//!    member of a local component gets one edge to the component's smallest
//!    unit. This keeps star and chain structure from costing rounds.
//! 2. Each contracted edge is given to the owners of both its ends as adjacency.
//! 3. Rounds of min-label propagation: a unit whose label dropped sends it to
//!    its neighbours (only to those with a larger number: a label never helps a
//!    smaller unit); owners keep the smallest label received. The rounds stop
//!    when no label anywhere changed (an all-gather of change counts).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::share::Owners;
use super::Edge;
use crate::cluster::{
    component_joins, star_joins, ClusterMode, DenseNumbers, KeepPolicy, Key, Keys, Ranking,
    UnionFind,
};
use crate::error::{Error, Result};
use crate::exchange::{Exchange, WireSize};
use crate::index::IndexedUnit;

/// A star join on its way from the component's owner, through the owner of the
/// centre (which names it), to the owner of the member.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct NamedJoin {
    member: u32,
    centre: u32,
    similarity: Option<f32>,
    /// The centre's id as JSON text, and its paragraph (filled in by its owner).
    centre_id: String,
    centre_para: Option<u32>,
}

impl WireSize for NamedJoin {
    fn wire_size(&self) -> usize {
        13 + 8 + self.centre_id.len() + 5
    }
}

/// A unit's key on its way to the owner of its component, which ranks the
/// component's units.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyedUnit {
    component: u32,
    unit: u32,
    key: Key,
}

impl WireSize for KeyedUnit {
    fn wire_size(&self) -> usize {
        8 + self.key.encoded_len()
    }
}

/// How the units of each component are clustered and which is kept.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    /// Star clusters or components.
    pub mode: ClusterMode,
    /// Which unit is kept.
    pub policy: &'a KeepPolicy,
    /// Units below this (indexed ones) are kept before any other.
    pub preferred_below: u32,
}

/// The cluster labels of the units a worker holds and their similarity to
/// their kept unit, and the names of the other workers' kept units among them.
pub type KeptLabels = (Vec<u32>, Vec<Option<f32>>, HashMap<u32, IndexedUnit>);

/// Clusters of the verified edges across workers, kept units chosen by
/// `rule`: star clusters ([`crate::cluster::star_joins`]), or components that
/// keep their best unit ([`crate::cluster::component_joins`]). Both need whole
/// components, so each edge goes to the owner of its component's label (found
/// by [`labels`]), which clusters the components it owns exactly as a single
/// process does; each join then goes to the owner of its centre, which names
/// the centre, and on to the owner of the unit that joins.
///
/// `edges` are the edges whose `b` this worker holds; `component` is the
/// component label of each unit this worker holds, numbered from
/// `first_unit`; `name` gives such a unit's id and paragraph, and `key` its key
/// under the policy (asked only when the policy ranks by key: every unit then
/// sends its key along to the owner of its component, which holds the
/// component's label unit itself).
#[allow(clippy::too_many_arguments)]
pub fn kept_labels<E: Exchange>(
    ex: &mut E,
    edges: &[Edge],
    component: &[u32],
    owners: &Owners,
    first_unit: u32,
    name: &dyn Fn(u32) -> IndexedUnit,
    key: &dyn Fn(u32) -> Result<Key>,
    rule: Rule<'_>,
) -> Result<KeptLabels> {
    let routed: Vec<(u32, u32, u32, f32)> = edges
        .iter()
        .map(|e| {
            (
                component[(e.b - first_unit) as usize],
                e.a,
                e.b,
                e.similarity,
            )
        })
        .collect();
    let route = owners.clone();
    let held = ex.shuffle(routed, move |&(label, ..): &(u32, u32, u32, f32)| {
        route.of(label)
    });
    let keys = if rule.policy.ranks_by_key() {
        let mut roots: Vec<u32> = held.iter().map(|&(label, ..)| label).collect();
        roots.sort_unstable();
        roots.dedup();
        // Members of components go to the owner of their label; the label
        // units, held here, stay.
        let members = (first_unit..)
            .zip(component)
            .filter(|&(unit, &label)| label != unit);
        let read: Result<Vec<KeyedUnit>> = members
            .map(|(unit, &label)| (unit, label))
            .chain(roots.iter().map(|&root| (root, root)))
            .map(|(unit, label)| {
                Ok(KeyedUnit {
                    component: label,
                    unit,
                    key: key(unit)?,
                })
            })
            .collect();
        let keyed = ex.agree("cluster", read)?;
        let route = owners.clone();
        let got = ex.shuffle(keyed, move |k: &KeyedUnit| route.of(k.component));
        got.into_iter().map(|k| (k.unit, k.key)).collect()
    } else {
        Keys::none()
    };
    let held: Vec<(u32, u32, f32)> = held.into_iter().map(|(_, a, b, s)| (a, b, s)).collect();
    let ranking = Ranking {
        policy: rule.policy,
        keys: &keys,
        preferred_below: rule.preferred_below,
    };
    let joins = match rule.mode {
        ClusterMode::Star => star_joins(&held, &ranking),
        ClusterMode::Components => component_joins(&held, &ranking),
    };
    drop(keys);
    let joins: Vec<NamedJoin> = joins
        .into_iter()
        .map(|join| NamedJoin {
            member: join.member,
            centre: join.centre,
            similarity: join.similarity,
            centre_id: String::new(),
            centre_para: None,
        })
        .collect();
    let route = owners.clone();
    let mut at_centre = ex.shuffle(joins, move |j: &NamedJoin| route.of(j.centre));
    // Only a member held elsewhere needs its centre's name.
    let me = ex.index();
    for join in at_centre.iter_mut().filter(|j| owners.of(j.member) != me) {
        let unit = name(join.centre);
        join.centre_id = unit.id.to_string();
        join.centre_para = unit.para;
    }
    let route = owners.clone();
    let mine = ex.shuffle(at_centre, move |j: &NamedJoin| route.of(j.member));
    let units = component.len() as u32;
    let mut labels: Vec<u32> = (first_unit..first_unit + units).collect();
    let mut similarity = vec![None; component.len()];
    let mut named = HashMap::new();
    for join in mine {
        labels[(join.member - first_unit) as usize] = join.centre;
        similarity[(join.member - first_unit) as usize] = join.similarity;
        if !(first_unit..first_unit + units).contains(&join.centre) {
            let id = serde_json::from_str(&join.centre_id).map_err(|e| {
                Error::Distributed(format!("a unit id did not survive the exchange: {e}"))
            })?;
            named.insert(
                join.centre,
                IndexedUnit {
                    id,
                    para: join.centre_para,
                },
            );
        }
    }
    Ok((labels, similarity, named))
}

/// Run-wide cluster labels of this worker's `units` units (numbered from
/// `first_unit`), given the edges this worker holds (any units), and the
/// number of propagation rounds it took.
pub fn labels<E: Exchange>(
    ex: &mut E,
    edges: &[(u32, u32)],
    owners: &Owners,
    first_unit: u32,
    units: usize,
) -> (Vec<u32>, u32) {
    if ex.peers() == 1 {
        // Every edge is between units held here: one union-find over them
        // labels each unit with its component's smallest unit, no rounds
        // needed.
        let mut components = UnionFind::new(units);
        for &(a, b) in edges {
            components.union(a - first_unit, b - first_unit);
        }
        let label = components
            .labels()
            .into_iter()
            .map(|smallest| smallest + first_unit)
            .collect();
        return (label, 0);
    }
    let contracted = contract(edges);
    let mut adjacency: Vec<(u32, u32)> = Vec::with_capacity(contracted.len() * 2);
    for &(unit, root) in &contracted {
        adjacency.push((unit, root));
        adjacency.push((root, unit));
    }
    let route = owners.clone();
    let mut adjacency = ex.shuffle(adjacency, move |&(unit, _): &(u32, u32)| route.of(unit));
    adjacency.sort_unstable();
    adjacency.dedup();

    let mut label: Vec<u32> = (first_unit..first_unit + units as u32).collect();
    let mut changed: Vec<u32> = adjacency.iter().map(|&(unit, _)| unit).collect();
    changed.dedup();
    for round in 1.. {
        let mut proposals = Vec::new();
        for &unit in &changed {
            let own = label[(unit - first_unit) as usize];
            let from = adjacency.partition_point(|&(u, _)| u < unit);
            for &(_, neighbour) in adjacency[from..].iter().take_while(|&&(u, _)| u == unit) {
                if own < neighbour {
                    proposals.push((neighbour, own));
                }
            }
        }
        let route = owners.clone();
        let received = ex.shuffle(proposals, move |&(unit, _): &(u32, u32)| route.of(unit));
        changed.clear();
        for (unit, proposed) in received {
            let slot = &mut label[(unit - first_unit) as usize];
            if proposed < *slot {
                *slot = proposed;
                changed.push(unit);
            }
        }
        changed.sort_unstable();
        changed.dedup();
        let anywhere: u64 = ex.all_gather(changed.len() as u64).iter().sum();
        if anywhere == 0 {
            return (label, round);
        }
    }
    unreachable!("propagation ends when no label changes")
}

/// One edge from every non-smallest member of each component of `edges` to the
/// component's smallest unit.
fn contract(edges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let numbers = DenseNumbers::new(edges.iter().flat_map(|&(a, b)| [a, b]).collect());
    let mut uf = UnionFind::new(numbers.len());
    for &(a, b) in edges {
        uf.union(numbers.of(a), numbers.of(b));
    }
    // Dense numbers keep unit order, so the smallest dense member is the
    // smallest unit.
    uf.labels()
        .into_iter()
        .zip(0..)
        .filter(|&(root, i)| root != i)
        .map(|(root, i)| (numbers.unit(i), numbers.unit(root)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::Arc;

    /// Labels found by `workers` in-process timely workers, each holding the
    /// edges `e` with `e % workers == index` and owning an even range of units
    /// (one worker: the local exchange).
    fn distributed_labels(units: u32, edges: Vec<(u32, u32)>, workers: usize) -> Vec<u32> {
        if workers == 1 {
            let owners = Owners::new(vec![0]);
            return labels(
                &mut crate::exchange::Local,
                &edges,
                &owners,
                0,
                units as usize,
            )
            .0;
        }
        distributed_labels_on_timely(units, edges, workers)
    }

    #[cfg(not(feature = "distributed"))]
    fn distributed_labels_on_timely(units: u32, edges: Vec<(u32, u32)>, _: usize) -> Vec<u32> {
        distributed_labels(units, edges, 1)
    }

    #[cfg(feature = "distributed")]
    fn distributed_labels_on_timely(
        units: u32,
        edges: Vec<(u32, u32)>,
        workers: usize,
    ) -> Vec<u32> {
        let edges = Arc::new(edges);
        let guards = timely::execute(timely::Config::process(workers), move |worker| {
            let mut ex = crate::distributed::collective::TimelyExchange::new(worker, workers);
            let me = ex.index();
            let bases: Vec<u32> = (0..workers)
                .map(|w| (units as usize * w / workers) as u32)
                .collect();
            let first = bases[me];
            let end = bases.get(me + 1).copied().unwrap_or(units);
            let owners = Owners::new(bases);
            let mine: Vec<(u32, u32)> = edges
                .iter()
                .enumerate()
                .filter(|(i, _)| i % workers == me)
                .map(|(_, &e)| e)
                .collect();
            (
                first,
                labels(&mut ex, &mine, &owners, first, (end - first) as usize).0,
            )
        })
        .expect("timely");
        let mut parts: Vec<(u32, Vec<u32>)> = guards
            .join()
            .into_iter()
            .map(|r| r.expect("worker"))
            .collect();
        parts.sort_by_key(|p| p.0);
        parts.into_iter().flat_map(|p| p.1).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn labels_equal_a_single_union_find(
            units in 1u32..120,
            raw in proptest::collection::vec((0u32..1000, 0u32..1000), 0..150),
            workers in 1usize..4,
        ) {
            let edges: Vec<(u32, u32)> = raw
                .into_iter()
                .map(|(a, b)| (a % units, b % units))
                .filter(|(a, b)| a != b)
                .map(|(a, b)| (a.min(b), a.max(b)))
                .collect();
            let mut uf = UnionFind::new(units as usize);
            for &(a, b) in &edges {
                uf.union(a, b);
            }
            prop_assert_eq!(distributed_labels(units, edges, workers), uf.labels());
        }
    }

    /// Labels and similarities to the kept unit that `workers` in-process
    /// timely workers find with [`kept_labels`], each owning an even range of
    /// units and holding the edges whose later unit it owns.
    #[cfg(feature = "distributed")]
    fn kept_on_workers(
        units: u32,
        edges: Vec<(u32, u32, f32)>,
        lengths: Vec<u64>,
        mode: ClusterMode,
        policy: KeepPolicy,
        workers: usize,
    ) -> (Vec<u32>, Vec<Option<f32>>) {
        let shared = Arc::new((edges, lengths, policy));
        let guards = timely::execute(timely::Config::process(workers), move |worker| {
            let (edges, lengths, policy) = &*shared;
            let mut ex = crate::distributed::collective::TimelyExchange::new(worker, workers);
            let me = ex.index();
            let bases: Vec<u32> = (0..workers)
                .map(|w| (units as usize * w / workers) as u32)
                .collect();
            let first = bases[me];
            let end = bases.get(me + 1).copied().unwrap_or(units);
            let owners = Owners::new(bases.clone());
            let mine: Vec<Edge> = edges
                .iter()
                .filter(|&&(_, b, _)| owners.of(b) == me)
                .map(|&(a, b, similarity)| Edge { a, b, similarity })
                .collect();
            let pairs: Vec<(u32, u32)> = mine.iter().map(|e| (e.a, e.b)).collect();
            let (component, _) = labels(&mut ex, &pairs, &owners, first, (end - first) as usize);
            let name = |unit: u32| IndexedUnit {
                id: crate::corpus::RecordId::Int(u64::from(unit)),
                para: None,
            };
            let key = |unit: u32| -> Result<Key> { Ok(Key::Length(lengths[unit as usize])) };
            let rule = Rule {
                mode,
                policy,
                preferred_below: 0,
            };
            let (labels, similarity, _) = kept_labels(
                &mut ex, &mine, &component, &owners, first, &name, &key, rule,
            )
            .expect("clusters");
            (first, labels, similarity)
        })
        .expect("timely");
        let mut parts: Vec<(u32, Vec<u32>, Vec<Option<f32>>)> = guards
            .join()
            .into_iter()
            .map(|r| r.expect("worker"))
            .collect();
        parts.sort_by_key(|p| p.0);
        let labels = parts.iter().flat_map(|p| p.1.clone()).collect();
        let similarity = parts.into_iter().flat_map(|p| p.2).collect();
        (labels, similarity)
    }

    #[cfg(feature = "distributed")]
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn kept_labels_on_workers_equal_one_process(
            units in 2u32..60,
            raw in proptest::collection::vec((0u32..1000, 0u32..1000, 1u8..=10), 0..90),
            lengths in proptest::collection::vec(0u64..5, 60),
            workers in 2usize..4,
            longest in any::<bool>(),
            star in any::<bool>(),
        ) {
            let mut edges: Vec<(u32, u32, f32)> = raw
                .into_iter()
                .map(|(a, b, s)| (a % units, b % units, f32::from(s) / 10.0))
                .filter(|(a, b, _)| a != b)
                .map(|(a, b, s)| (a.min(b), a.max(b), s))
                .collect();
            edges.sort_by_key(|&(a, b, _)| (a, b));
            edges.dedup_by_key(|&mut (a, b, _)| (a, b));
            let policy = if longest { KeepPolicy::Longest } else { KeepPolicy::Central };
            let mode = if star { ClusterMode::Star } else { ClusterMode::Components };
            let keys: Keys = lengths
                .iter()
                .enumerate()
                .map(|(u, &len)| (u as u32, Key::Length(len)))
                .collect();
            let ranking = Ranking { policy: &policy, keys: &keys, preferred_below: 0 };
            let alone = mode.labels(units as usize, &edges, &ranking);
            let spread = kept_on_workers(units, edges, lengths, mode, policy.clone(), workers);
            prop_assert_eq!(spread, alone);
        }
    }

    #[test]
    fn contraction_points_every_member_at_its_smallest_unit() {
        let edges = [(7, 9), (9, 12), (3, 40), (40, 41)];
        let mut got = contract(&edges);
        got.sort_unstable();
        assert_eq!(got, vec![(9, 7), (12, 7), (40, 3), (41, 3)]);
    }
}
