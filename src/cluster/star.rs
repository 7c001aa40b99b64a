//! Clusters that do not chain: every duplicate is verified against the unit that
//! is kept for its cluster.
//!
//! Union-find over verified edges merges `a ~ b` and `b ~ c` even when `a` and `c`
//! have nothing in common: two documents that each share a licence block with a
//! third end up in one cluster, and on real corpora full of shared boilerplate
//! such chains grow into clusters of hundreds of different documents. A star
//! cluster has a bounded diameter instead (Aslam, Pelekhov and Rus, "The star
//! clustering algorithm", 2004, in its greedy form):
//!
//! 1. units are visited in the order of the keep policy's [`Ranking`]: by
//!    default by decreasing degree, the earlier unit in input order first among
//!    equals; units listed as preferred (indexed units, kept by an earlier run)
//!    come before all others. The degree counts copies: a unit verified against
//!    one of several copies counts them all (see below);
//! 2. a unit with a verified edge to a unit already chosen as a centre joins the
//!    most similar such centre (the earlier one on a tie) and is removed;
//! 3. any other unit becomes a centre, the unit its cluster keeps.
//!
//! Similarity 1 means two units are the same to the run (equal shingle sets
//! verified exactly, equal compact signatures for an estimate, equal SimHash
//! fingerprints), so every similarity the run measures is the same for both.
//! Copies are therefore interchangeable: an edge of similarity 1 to a removed
//! unit counts as an edge to that unit's centre at that unit's similarity to
//! it; an edge to a unit removed at similarity 1 counts as an edge to its
//! centre at the edge's similarity; and a unit that becomes a centre, or joins
//! one at similarity 1, takes along at once the units not visited yet that
//! similarity-1 edges lead to. A copy whose only edge is to another copy (as
//! when copies are left out of the candidate search, each with one edge to the
//! first of its copies) then goes wherever that copy goes, and a unit verified
//! against any copy of a centre joins it.
//!
//! Every removed unit is therefore a verified near-duplicate of the unit that
//! stays (directly, or through a copy the same to the run), and the first unit
//! of each component in the visiting order is kept:
//! by default the one most units were verified against (for a family of edited
//! copies, usually the original, wherever it stands in the input), under
//! another policy its best unit. The result depends only on the set of edges
//! (and the units' keys), not on their order, so it
//! is the same for any thread count, shard size or number of processes, and it
//! can be computed on any subset of edges closed under connected components (a
//! distributed run gives each worker whole components).
//!
//! Connected components ([`component_labels`], [`component_joins`]) are here
//! too: they keep each component's best unit under the same [`Ranking`].

use rayon::prelude::*;

use super::dense::table_is_small;
use super::{DenseNumbers, Ranking, UnionFind};

/// The similarity of two units that are the same to the run (see the module
/// documentation): a copy may follow the other copy to its centre.
pub const SAME: f32 = 1.0;

/// One unit that joins a cluster: the unit, the kept unit (centre) it joins and
/// its verified similarity to that centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Join {
    /// The unit that is removed as a duplicate.
    pub member: u32,
    /// The kept unit whose cluster it joins.
    pub centre: u32,
    /// The similarity of the verified edge between them: always there in a
    /// star cluster; in a component, only where an edge joins the two.
    pub similarity: Option<f32>,
}

/// Both directions of every edge, grouped by unit and in each unit's list by
/// neighbour, each `(unit, neighbour)` once: an adjacency list. A pair given
/// more than once keeps its lowest similarity (similarities are at least 0, so
/// their bits order as they do), whichever way the list is built.
///
/// When units are numbered densely enough that a count per unit number costs
/// little next to the edges ([`table_is_small`]; as in a single process, whose edges name
/// millions of units out of millions), the lists are placed by counting (two
/// linear passes, then a sort of each short list); otherwise (a worker of a
/// distributed run holds edges of units spread over the whole run) by one
/// sort of both directions.
fn adjacency(edges: &[(u32, u32, f32)]) -> Vec<(u32, u32, f32)> {
    let largest = edges.iter().map(|&(a, b, _)| a.max(b)).max();
    match largest {
        Some(largest)
            if table_is_small(largest as usize, edges.len())
                && u32::try_from(2 * edges.len()).is_ok() =>
        {
            adjacency_by_counting(edges, largest)
        }
        _ => adjacency_by_sorting(edges),
    }
}

/// [`adjacency`] by a counting sort on the unit (`largest` is the largest unit
/// any edge names; fewer than `u32::MAX` directed edges).
fn adjacency_by_counting(edges: &[(u32, u32, f32)], largest: u32) -> Vec<(u32, u32, f32)> {
    // `next[u]`: where unit `u`'s next directed edge goes; first where its list
    // starts, after the placing where it ends (where unit `u + 1`'s starts).
    let units = edges.iter().flat_map(|&(a, b, _)| [a as usize, b as usize]);
    let mut next = run_starts(units, largest as usize + 1);
    let mut adjacent = vec![(0u32, 0u32, 0f32); 2 * edges.len()];
    for &(a, b, s) in edges {
        for (unit, neighbour) in [(a, b), (b, a)] {
            let at = &mut next[unit as usize];
            adjacent[*at as usize] = (unit, neighbour, s);
            *at += 1;
        }
    }
    adjacent
        .par_chunk_by_mut(|x, y| x.0 == y.0)
        .for_each(|list| list.sort_unstable_by_key(|&(_, v, s)| (v, s.to_bits())));
    adjacent.dedup_by_key(|&mut (u, v, _)| (u, v));
    adjacent
}

/// [`adjacency`] by one sort of both directions of every edge.
fn adjacency_by_sorting(edges: &[(u32, u32, f32)]) -> Vec<(u32, u32, f32)> {
    let mut adjacent: Vec<(u32, u32, f32)> = Vec::with_capacity(edges.len() * 2);
    for &(a, b, s) in edges {
        adjacent.push((a, b, s));
        adjacent.push((b, a, s));
    }
    adjacent.par_sort_unstable_by_key(|&(u, v, s)| (u, v, s.to_bits()));
    adjacent.dedup_by_key(|&mut (u, v, _)| (u, v));
    adjacent
}

/// The joins of the star clustering of `edges`, given as `(a, b, similarity)`
/// with `a != b` in any order and with any unit numbering; units are visited
/// in the order of `ranking`. Sorted by member.
///
/// Only units that join a cluster are listed: every other unit is a centre of
/// its own cluster.
pub fn star_joins(edges: &[(u32, u32, f32)], ranking: &Ranking<'_>) -> Vec<Join> {
    let adjacent = adjacency(edges);
    // Unit `i` (dense number) has the list `adjacent[starts[i]..starts[i + 1]]`;
    // offsets rather than slices, and ranks computed when compared, keep the
    // per-unit state small (a paragraph run has tens of millions of units with
    // edges).
    let mut units: Vec<u32> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    for (at, &(unit, _, _)) in adjacent.iter().enumerate() {
        if units.last() != Some(&unit) {
            units.push(unit);
            starts.push(at);
        }
    }
    starts.push(adjacent.len());
    let numbers = DenseNumbers::of_sorted(units);
    let list = |i: usize| &adjacent[starts[i]..starts[i + 1]];
    // The degrees are needed only to order the units (and are freed before the
    // per-unit state is made).
    let order: Vec<u32> = {
        let degrees = copy_counted_degrees(&numbers, &list);
        if ranking.ranks_by_degree() {
            degree_order(&numbers, &degrees, ranking.preferred_below)
        } else {
            let rank = |i: u32| {
                let unit = numbers.unit(i);
                (unit, degrees[i as usize] as usize, ranking.keys.get(unit))
            };
            let mut order: Vec<u32> = (0..numbers.len() as u32).collect();
            order.par_sort_unstable_by(|&i, &j| ranking.visit_order(rank(i), rank(j)));
            order
        }
    };
    // Each unit's state, 4 bytes (a paragraph run has tens of millions of units
    // with edges): not visited yet, a centre, or removed by the join numbered
    // so in `joins` (which says the centre and the similarity a copy follows).
    const UNVISITED: u32 = u32::MAX;
    const CENTRE: u32 = u32::MAX - 1;
    // Whether joining `centre` at `similarity` beats `best`: more similar, or
    // as similar and earlier.
    let beats = |best: Option<(u32, f32)>, centre: u32, similarity: f32| {
        best.is_none_or(|(c, s)| similarity > s || (similarity == s && centre < c))
    };
    let mut state = vec![UNVISITED; numbers.len()];
    let mut joins: Vec<Join> = Vec::new();
    let mut same_to_centre: Vec<u32> = Vec::new();
    for i in order {
        let i = i as usize;
        if state[i] != UNVISITED {
            // Joined already, as the same as a centre (below).
            continue;
        }
        let mut best: Option<(u32, f32)> = None;
        for &(_, neighbour, similarity) in list(i) {
            let reached = match state[numbers.of(neighbour) as usize] {
                UNVISITED => None,
                CENTRE => Some((neighbour, similarity)),
                join => through_removed(&joins[join as usize], similarity),
            };
            if let Some((centre, similarity)) = reached {
                if beats(best, centre, similarity) {
                    best = Some((centre, similarity));
                }
            }
        }
        let unit = numbers.unit(i as u32);
        let (centre, similarity) = match best {
            Some((centre, similarity)) => {
                joins.push(Join {
                    member: unit,
                    centre,
                    similarity: Some(similarity),
                });
                // Fewer joins than units, and units are numbered by `u32`.
                state[i] = (joins.len() - 1) as u32;
                (centre, similarity)
            }
            None => {
                state[i] = CENTRE;
                (unit, SAME)
            }
        };
        if similarity != SAME {
            continue;
        }
        // The unit is the same as its centre: so are the units not visited yet
        // that similarity-1 edges lead to, and they join that centre now.
        same_to_centre.clear();
        same_to_centre.push(i as u32);
        while let Some(at) = same_to_centre.pop() {
            for &(_, neighbour, similarity) in list(at as usize) {
                let other = numbers.of(neighbour);
                if similarity == SAME && state[other as usize] == UNVISITED {
                    joins.push(Join {
                        member: neighbour,
                        centre,
                        similarity: Some(SAME),
                    });
                    state[other as usize] = (joins.len() - 1) as u32;
                    same_to_centre.push(other);
                }
            }
        }
    }
    // By member without a sort: dense numbers follow unit numbers, and every
    // removed unit's state names its join. The lists go first, so the copy of
    // the joins takes the place of memory freed.
    drop((adjacent, starts, numbers));
    state
        .iter()
        .filter(|&&state| state < CENTRE)
        .map(|&join| joins[join as usize])
        .collect()
}

/// The visiting order of [`Ranking::visit_order`] when it reads no keys (dense
/// numbers follow unit numbers): preferred units (numbered below
/// `preferred_below`) first, each part by decreasing degree, then input order.
/// Each part is placed by a counting sort on the degree (stable, so equal
/// degrees stay in input order).
fn degree_order(numbers: &DenseNumbers, degrees: &[u32], preferred_below: u32) -> Vec<u32> {
    let preferred = numbers
        .units()
        .partition_point(|&unit| unit < preferred_below);
    let mut order = Vec::with_capacity(degrees.len());
    for part in [0..preferred, preferred..degrees.len()] {
        let part_degrees = &degrees[part.clone()];
        let Some(&most) = part_degrees.iter().max() else {
            continue;
        };
        // `next[most - d]`: where the next unit of degree `d` goes in the part.
        let keys = part_degrees.iter().map(|&degree| (most - degree) as usize);
        let mut next = run_starts(keys, most as usize + 1);
        let start = order.len();
        order.resize(start + part_degrees.len(), 0);
        for (i, &degree) in part.zip(part_degrees) {
            let at = &mut next[(most - degree) as usize];
            order[start + *at as usize] = i as u32;
            *at += 1;
        }
    }
    order
}

/// Where the run of each key starts when items are placed in key order (a
/// counting sort): entry `k` counts the `keys` smaller than `k`, for every
/// `k` below `keys_below` (which every key is), and one entry more.
fn run_starts(keys: impl Iterator<Item = usize>, keys_below: usize) -> Vec<u32> {
    let mut starts = vec![0u32; keys_below + 1];
    for key in keys {
        starts[key + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    starts
}

/// The centre that an edge of `similarity` to a removed unit (which made
/// `join`) reaches, and at what similarity: units the same to the run (see
/// [`SAME`]) measure the same similarities, so an edge of similarity 1 reaches
/// the removed unit's centre at the removed unit's similarity to it, and any
/// edge to a unit that is the same as its centre reaches that centre at the
/// edge's similarity.
fn through_removed(join: &Join, similarity: f32) -> Option<(u32, f32)> {
    let to_centre = join.similarity?;
    if similarity == SAME {
        Some((join.centre, to_centre))
    } else if to_centre == SAME {
        Some((join.centre, similarity))
    } else {
        None
    }
}

/// Each unit's degree for the visiting order (dense numbers, `list(i)` its
/// adjacency), with copies counted: units joined by similarity-1 edges are the
/// same to the run (see [`SAME`]), so a unit verified against one of them is
/// verified against all. The degree is the number of other units in the
/// classes of the same units that the unit or its neighbours belong to. When
/// copies were left out of the candidate search (each then has one edge, to the
/// first of its copies), this ranks a unit verified against two much-copied
/// variants above either variant, as it would rank with every copy compared.
fn copy_counted_degrees<'a>(
    numbers: &DenseNumbers,
    list: &(impl Fn(usize) -> &'a [(u32, u32, f32)] + Sync),
) -> Vec<u32> {
    let n = numbers.len();
    let mut same = UnionFind::new(n);
    for i in 0..n {
        for &(unit, neighbour, similarity) in list(i) {
            if similarity == SAME && unit < neighbour {
                same.union(i as u32, numbers.of(neighbour));
            }
        }
    }
    let class = same.labels();
    drop(same);
    let mut size = vec![0u32; n];
    for &c in &class {
        size[c as usize] += 1;
    }
    (0..n)
        .into_par_iter()
        .map_init(Vec::new, |classes: &mut Vec<u32>, i| {
            classes.clear();
            classes.push(class[i]);
            classes.extend(
                list(i)
                    .iter()
                    .map(|&(_, neighbour, _)| class[numbers.of(neighbour) as usize]),
            );
            classes.sort_unstable();
            classes.dedup();
            let units: u64 = classes.iter().map(|&c| u64::from(size[c as usize])).sum();
            u32::try_from(units - 1).unwrap_or(u32::MAX)
        })
        .collect()
}

/// Each of `units` units' cluster label under star clustering of `edges`: the
/// kept unit of its cluster (itself when kept), with the similarity to it
/// (`None` for kept units). Units are visited in the order of `ranking`.
pub fn star_labels(
    units: usize,
    edges: &[(u32, u32, f32)],
    ranking: &Ranking<'_>,
) -> (Vec<u32>, Vec<Option<f32>>) {
    labels_from_joins(units, star_joins(edges, ranking))
}

/// Each of `units` units' label and similarity to it, given the joins.
fn labels_from_joins(units: usize, joins: Vec<Join>) -> (Vec<u32>, Vec<Option<f32>>) {
    let mut labels: Vec<u32> = (0..units as u32).collect();
    let mut similarity = vec![None; units];
    for join in joins {
        labels[join.member as usize] = join.centre;
        similarity[join.member as usize] = join.similarity;
    }
    (labels, similarity)
}

/// Each unit's label under connected components of `edges` (the chain-prone,
/// classic way): the component's best unit by `ranking`, with the similarity
/// of a direct edge to it where there is one.
pub fn component_labels(
    units: usize,
    edges: &[(u32, u32, f32)],
    ranking: &Ranking<'_>,
) -> (Vec<u32>, Vec<Option<f32>>) {
    labels_from_joins(units, component_joins(edges, ranking))
}

/// The joins of the connected components of `edges` (as for [`star_joins`]):
/// every unit of a component but its best by `ranking` joins that best unit,
/// with the similarity of a direct edge between them where there is one.
/// Sorted by member.
pub fn component_joins(edges: &[(u32, u32, f32)], ranking: &Ranking<'_>) -> Vec<Join> {
    let numbers = DenseNumbers::new(edges.iter().flat_map(|&(a, b, _)| [a, b]).collect());
    let dense = |unit: u32| numbers.of(unit);
    let nodes = numbers.units();
    let mut uf = UnionFind::new(nodes.len());
    for &(a, b, _) in edges {
        uf.union(dense(a), dense(b));
    }
    let roots = uf.labels();
    // The best unit of each component, at its root.
    let mut best: Vec<u32> = nodes.to_vec();
    for (i, &root) in roots.iter().enumerate() {
        let (unit, kept) = (nodes[i], best[root as usize]);
        if ranking.best_first(unit, kept).is_lt() {
            best[root as usize] = unit;
        }
    }
    let mut similarity: Vec<Option<f32>> = vec![None; nodes.len()];
    for &(a, b, s) in edges {
        for (member, other) in [(a, b), (b, a)] {
            let at = dense(member) as usize;
            if best[roots[at] as usize] == other {
                similarity[at] = Some(similarity[at].map_or(s, |t: f32| t.max(s)));
            }
        }
    }
    nodes
        .iter()
        .enumerate()
        .filter(|&(i, &unit)| best[roots[i] as usize] != unit)
        .map(|(i, &unit)| Join {
            member: unit,
            centre: best[roots[i] as usize],
            similarity: similarity[i],
        })
        .collect()
}

/// For each unit numbered `first + i` with label `labels[i]`, the largest
/// similarity among the `edges` `(a, b, similarity)` that join it directly to its
/// label unit (`a == labels[b - first]`); edges of other units are passed over.
pub fn similarity_to_labels(
    labels: &[u32],
    first: u32,
    edges: impl IntoIterator<Item = (u32, u32, f32)>,
) -> Vec<Option<f32>> {
    let mut similarity: Vec<Option<f32>> = vec![None; labels.len()];
    for (a, b, s) in edges {
        let Some(at) = b.checked_sub(first).map(|i| i as usize) else {
            continue;
        };
        if labels.get(at) == Some(&a) {
            similarity[at] = Some(similarity[at].map_or(s, |t| t.max(s)));
        }
    }
    similarity
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{KeepPolicy, Key, Keys, Number};
    use proptest::prelude::*;
    use std::cmp::Reverse;

    fn central() -> Ranking<'static> {
        Ranking::central(0)
    }

    /// Each unit's smallest unit joined to it by a path of similarity-1 edges,
    /// by repeated relabelling.
    fn same_classes(units: usize, edges: &[(u32, u32, f32)]) -> Vec<u32> {
        let mut class: Vec<u32> = (0..units as u32).collect();
        let mut changed = true;
        while changed {
            changed = false;
            for &(a, b, s) in edges {
                let low = class[a as usize].min(class[b as usize]);
                for u in [a, b] {
                    if s == 1.0 && class[u as usize] != low {
                        class[u as usize] = low;
                        changed = true;
                    }
                }
            }
        }
        class
    }

    /// `u`'s degree with copies counted: the other units of every class of
    /// copies that `u` or a neighbour of `u` is in.
    fn degree(units: usize, edges: &[(u32, u32, f32)], u: u32) -> usize {
        let class = same_classes(units, edges);
        let mut classes = std::collections::BTreeSet::from([class[u as usize]]);
        for &(a, b, _) in edges {
            if a == u || b == u {
                classes.insert(class[(a ^ b ^ u) as usize]);
            }
        }
        let size = |c: u32| class.iter().filter(|&&k| k == c).count();
        classes.into_iter().map(size).sum::<usize>() - 1
    }

    /// The default visiting order, written the slow and obvious way: units by
    /// decreasing degree (copies counted), then input order.
    fn by_degree(units: usize, edges: &[(u32, u32, f32)]) -> Vec<u32> {
        let mut order: Vec<u32> = (0..units as u32).collect();
        order.sort_by_key(|&u| (Reverse(degree(units, edges, u)), u));
        order
    }

    /// The rule, written the slow and obvious way: units in `order`, each
    /// joining the most similar centre it has an edge with, or reaches through
    /// an edge of similarity 1 to a removed unit at that unit's similarity, or
    /// through an edge to a unit removed at similarity 1 at the edge's
    /// similarity (the smaller centre on a tie), or else becoming a centre. A
    /// unit that becomes a centre or joins one at similarity 1 takes along the
    /// units not visited yet that similarity-1 edges lead to, at similarity 1.
    fn naive(
        units: usize,
        edges: &[(u32, u32, f32)],
        order: &[u32],
    ) -> (Vec<u32>, Vec<Option<f32>>) {
        let mut labels: Vec<u32> = (0..units as u32).collect();
        let mut similarity = vec![None; units];
        let mut centres: Vec<u32> = Vec::new();
        let mut removed: Vec<u32> = Vec::new();
        let better = |best: Option<(u32, f32)>, c: u32, s: f32| {
            best.is_none_or(|(bc, bs)| s > bs || (s == bs && c < bc))
        };
        for &u in order {
            if removed.contains(&u) {
                continue;
            }
            let mut best: Option<(u32, f32)> = None;
            for &(a, b, s) in edges {
                let other = if a == u {
                    b
                } else if b == u {
                    a
                } else {
                    continue;
                };
                if centres.contains(&other) && better(best, other, s) {
                    best = Some((other, s));
                }
                if removed.contains(&other) {
                    let (c, t) = (
                        labels[other as usize],
                        similarity[other as usize].expect("removed"),
                    );
                    let reached = if s == 1.0 {
                        Some(t)
                    } else {
                        (t == 1.0).then_some(s)
                    };
                    if let Some(t) = reached {
                        if better(best, c, t) {
                            best = Some((c, t));
                        }
                    }
                }
            }
            let (centre, at) = match best {
                Some((c, s)) => {
                    labels[u as usize] = c;
                    similarity[u as usize] = Some(s);
                    removed.push(u);
                    (c, s)
                }
                None => {
                    centres.push(u);
                    (u, 1.0)
                }
            };
            let mut frontier = if at == 1.0 { vec![u] } else { Vec::new() };
            while let Some(x) = frontier.pop() {
                for &(a, b, s) in edges {
                    let y = if a == x {
                        b
                    } else if b == x {
                        a
                    } else {
                        continue;
                    };
                    if s == 1.0 && !centres.contains(&y) && !removed.contains(&y) {
                        labels[y as usize] = centre;
                        similarity[y as usize] = Some(1.0);
                        removed.push(y);
                        frontier.push(y);
                    }
                }
            }
        }
        (labels, similarity)
    }

    /// Whether `unit`'s label is justified by `edges`: an edge to its centre,
    /// an edge of similarity 1 to a unit with the same centre and the same
    /// similarity to it, or an edge at its similarity to a unit that joined the
    /// same centre at similarity 1.
    fn joined_by_an_edge(
        unit: u32,
        labels: &[u32],
        similarity: &[Option<f32>],
        edges: &[(u32, u32, f32)],
    ) -> bool {
        let centre = labels[unit as usize];
        let linked = |x: u32, y: u32| {
            edges
                .iter()
                .find(|&&(a, b, _)| (a, b) == (x.min(y), x.max(y)))
        };
        linked(unit, centre).is_some()
            || (0..labels.len() as u32).any(|copy| {
                copy != unit
                    && labels[copy as usize] == centre
                    && similarity[copy as usize] == similarity[unit as usize]
                    && linked(unit, copy).is_some_and(|&(_, _, s)| s == 1.0)
            })
            || (0..labels.len() as u32).any(|copy| {
                copy != unit
                    && labels[copy as usize] == centre
                    && similarity[copy as usize] == Some(1.0)
                    && linked(unit, copy)
                        .is_some_and(|&(_, _, s)| Some(s) == similarity[unit as usize])
            })
    }

    /// Connected components the slow way: repeated relabelling until stable.
    fn naive_components(units: usize, edges: &[(u32, u32, f32)]) -> Vec<Vec<u32>> {
        let mut label: Vec<u32> = (0..units as u32).collect();
        loop {
            let mut changed = false;
            for &(a, b, _) in edges {
                let low = label[a as usize].min(label[b as usize]);
                for u in [a, b] {
                    if label[u as usize] != low {
                        label[u as usize] = low;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        (0..units as u32)
            .map(|c| {
                (0..units as u32)
                    .filter(|&u| label[u as usize] == c)
                    .collect::<Vec<u32>>()
            })
            .filter(|members| members.len() > 1)
            .collect()
    }

    #[test]
    fn a_chain_of_look_alikes_does_not_merge_its_ends() {
        // 0 ~ 1 ~ 2 ~ 3, but 0 and 2 (or 1 and 3) were never verified together.
        // Units 1 and 2 have the most edges; 1 comes first and keeps 0 and 2,
        // and 3, verified only against the removed 2, stays.
        let edges = [(0, 1, 0.6), (1, 2, 0.6), (2, 3, 0.6)];
        let (labels, similarity) = star_labels(4, &edges, &central());
        assert_eq!(labels, vec![1, 1, 1, 3]);
        assert_eq!(similarity, vec![Some(0.6), None, Some(0.6), None]);
        let (components, similarity) = component_labels(4, &edges, &central());
        assert_eq!(components, vec![0, 0, 0, 0]);
        assert_eq!(similarity, vec![None, Some(0.6), None, None]);
    }

    #[test]
    fn a_unit_joins_the_most_similar_centre_and_the_earlier_on_a_tie() {
        let edges = [(0, 2, 0.5), (1, 2, 0.9), (0, 3, 0.7), (1, 3, 0.7)];
        let (labels, similarity) = star_labels(4, &edges, &central());
        assert_eq!(labels, vec![0, 1, 1, 0]);
        assert_eq!(similarity[2], Some(0.9));
        assert_eq!(similarity[3], Some(0.7));
    }

    #[test]
    fn a_copy_follows_its_copy_to_the_centre_it_joined() {
        // 1 and 2 are copies (similarity 1), but only 1 was verified against
        // the original 0; 0 has the most edges, is visited first and keeps 1
        // and 3. 2 then has no edge to a centre: it follows its copy 1 to 0,
        // at 1's similarity. 4, verified against the removed 3 at 0.9 only,
        // stays.
        let edges = [
            (0, 1, 0.9),
            (1, 2, 1.0),
            (0, 3, 0.95),
            (0, 5, 0.9),
            (3, 4, 0.9),
        ];
        let (labels, similarity) = star_labels(6, &edges, &central());
        assert_eq!(labels, vec![0, 0, 0, 0, 4, 0]);
        assert_eq!(similarity[2], Some(0.9));
        assert_eq!(similarity[4], None);
        // A centre reached through a copy competes with the centres reached
        // directly: 2 is as similar to 0 as its copy 1 (0.9), more than to 6.
        let edges = [
            (0, 1, 0.9),
            (1, 2, 1.0),
            (0, 3, 0.9),
            (0, 5, 0.9),
            (2, 6, 0.5),
            (6, 7, 0.5),
            (6, 8, 0.5),
            (6, 9, 0.5),
        ];
        let (labels, similarity) = star_labels(10, &edges, &central());
        assert_eq!((labels[2], labels[6]), (0, 6));
        assert_eq!(similarity[2], Some(0.9));
        let closer = edges.map(|(a, b, s)| (a, b, if (a, b) == (2, 6) { 0.95 } else { s }));
        assert_eq!(star_labels(10, &closer, &central()).0[2], 6);
    }

    #[test]
    fn a_unit_verified_against_a_copy_of_the_centre_joins_it() {
        // 0 and 1 are copies; 2 was verified against 0 only. By the field,
        // 1 is visited first, then 2, then 0. 1 becomes a centre and its copy
        // 0 joins it at once, so 2, verified against 0, joins 1 at 0.9.
        let edges = [(0, 1, 1.0), (0, 2, 0.9)];
        let keys: Keys = [10, 30, 20]
            .into_iter()
            .enumerate()
            .map(|(u, v)| (u as u32, Key::Number(Number::Int(v))))
            .collect();
        let max = KeepPolicy::Max("f".into());
        let ranking = Ranking {
            policy: &max,
            keys: &keys,
            preferred_below: 0,
        };
        let (labels, similarity) = star_labels(3, &edges, &ranking);
        assert_eq!(labels, vec![1, 1, 1]);
        assert_eq!(similarity, vec![Some(1.0), None, Some(0.9)]);
    }

    #[test]
    fn copies_count_in_the_visiting_order() {
        // 0 has three copies (1, 2, 3) and 4 has three (5, 6, 7); 8 was
        // verified against 0 and 4 only, as when copies are left out of the
        // candidate search. Counting edges, 0 (four) would come first and 4
        // stay apart; counting copies, 8 is verified against eight units and
        // keeps them all.
        let mut edges = vec![(0, 8, 0.9), (4, 8, 0.85)];
        edges.extend((1..4).map(|c| (0, c, 1.0)));
        edges.extend((5..8).map(|c| (4, c, 1.0)));
        let (labels, similarity) = star_labels(9, &edges, &central());
        assert_eq!(labels, vec![8; 9]);
        assert_eq!(similarity[2], Some(0.9));
        assert_eq!(similarity[6], Some(0.85));
    }

    #[test]
    fn copies_of_one_text_form_one_star() {
        let edges: Vec<_> = (1..6).map(|b| (0, b, 1.0)).chain([(1, 2, 1.0)]).collect();
        let (labels, _) = star_labels(6, &edges, &central());
        assert_eq!(labels, vec![0; 6]);
    }

    #[test]
    fn the_most_connected_copy_is_kept_wherever_it_stands() {
        // An edited copy (0) comes first; the original (2) is verified against
        // every copy, while the copies 0 and 3 are too far apart.
        let edges = [(0, 2, 0.7), (1, 2, 0.9), (2, 3, 0.7), (0, 1, 0.6)];
        let (labels, _) = star_labels(4, &edges, &central());
        assert_eq!(labels, vec![2, 2, 2, 2]);
        // Preferred units (indexed ones) are centres before any other.
        let (labels, _) = star_labels(4, &edges, &Ranking::central(1));
        assert_eq!(labels, vec![0, 0, 0, 3]);
    }

    #[test]
    fn a_policy_chooses_the_centre_and_the_units_verified_against_it() {
        // The same four copies as above, with lengths: the longest (3) is
        // kept, and 0, never verified against 3, stays on its own.
        let edges = [(0, 2, 0.7), (1, 2, 0.9), (2, 3, 0.7), (0, 1, 0.6)];
        let keys: Keys = [10, 20, 30, 40]
            .into_iter()
            .enumerate()
            .map(|(u, len)| (u as u32, Key::Length(len)))
            .collect();
        let longest = Ranking {
            policy: &KeepPolicy::Longest,
            keys: &keys,
            preferred_below: 0,
        };
        let (labels, similarity) = star_labels(4, &edges, &longest);
        assert_eq!(labels, vec![1, 1, 3, 3]);
        assert_eq!(similarity, vec![Some(0.6), None, Some(0.7), None]);
        // Components keep the longest of all four, with a similarity only
        // where an edge joins a unit to it.
        let (labels, similarity) = component_labels(4, &edges, &longest);
        assert_eq!(labels, vec![3, 3, 3, 3]);
        assert_eq!(similarity, vec![None, None, Some(0.7), None]);
        let first = Ranking {
            policy: &KeepPolicy::First,
            ..longest
        };
        assert_eq!(star_labels(4, &edges, &first).0, vec![0, 0, 0, 3]);
        // Preferred units still come first.
        let preferred = Ranking {
            preferred_below: 1,
            ..longest
        };
        assert_eq!(star_labels(4, &edges, &preferred).0, vec![0, 0, 0, 3]);
        assert_eq!(component_labels(4, &edges, &preferred).0, vec![0; 4]);
    }

    fn edge_sets() -> impl Strategy<Value = (usize, Vec<(u32, u32, f32)>)> {
        (2usize..24).prop_flat_map(|units| {
            let edge = (0..units as u32, 0..units as u32, 1u8..=10)
                .prop_filter_map("an edge joins two different units", |(x, y, s)| {
                    (x != y).then(|| (x.min(y), x.max(y), f32::from(s) / 10.0))
                });
            (Just(units), prop::collection::vec(edge, 0..60))
        })
    }

    /// A field value per unit: a small number, or none (`None`).
    fn field_values() -> impl Strategy<Value = Vec<Option<i64>>> {
        prop::collection::vec(prop::option::weighted(0.8, -3i64..4), 24)
    }

    /// The adjacency list written the slow and obvious way: every directed
    /// edge into a map by `(unit, neighbour)`, the lowest similarity kept.
    fn naive_adjacency(edges: &[(u32, u32, f32)]) -> Vec<(u32, u32, f32)> {
        let mut lists = std::collections::BTreeMap::new();
        for &(a, b, s) in edges {
            for key in [(a, b), (b, a)] {
                let kept = lists.entry(key).or_insert(s);
                *kept = kept.min(s);
            }
        }
        lists.into_iter().map(|((u, v), s)| (u, v, s)).collect()
    }

    /// Edges with repeats (either way round, other similarities) among units
    /// numbered densely (`spread` 1) or far apart.
    fn repeated_edges() -> impl Strategy<Value = Vec<(u32, u32, f32)>> {
        (prop_oneof![Just(1u32), Just(1_000_003)], 2u32..40).prop_flat_map(|(spread, units)| {
            let edge = (0..units, 0..units, 0u8..=10)
                .prop_filter_map("a loop", move |(a, b, s)| {
                    (a != b).then(|| (a * spread, b * spread, f32::from(s) / 10.0))
                });
            prop::collection::vec(edge, 0..80)
        })
    }

    proptest! {
        #[test]
        fn adjacency_by_counting_and_by_sorting_match_the_naive_lists(
            edges in repeated_edges(),
        ) {
            let expected = naive_adjacency(&edges);
            prop_assert_eq!(adjacency_by_sorting(&edges), expected.clone());
            if let Some(largest) = edges.iter().map(|&(a, b, _)| a.max(b)).max() {
                prop_assert_eq!(adjacency_by_counting(&edges, largest), expected.clone());
            }
            prop_assert_eq!(adjacency(&edges), expected);
        }

        #[test]
        fn degree_order_is_the_sort_by_part_then_degree_then_input_order(
            degrees in prop::collection::vec(0u32..6, 0..50),
            preferred_below in 0u32..60,
        ) {
            // Units numbered 0, 2, 4, …: those below `preferred_below` first.
            let numbers = DenseNumbers::new((0..degrees.len() as u32).map(|i| 2 * i).collect());
            let mut expected: Vec<u32> = (0..degrees.len() as u32).collect();
            expected.sort_by_key(|&i| {
                (numbers.unit(i) >= preferred_below, Reverse(degrees[i as usize]), i)
            });
            prop_assert_eq!(degree_order(&numbers, &degrees, preferred_below), expected);
        }

        #[test]
        fn star_labels_match_the_naive_rule((units, mut edges) in edge_sets()) {
            edges.sort_by_key(|&(a, b, _)| (a, b));
            edges.dedup_by_key(|&mut (a, b, _)| (a, b));
            let order = by_degree(units, &edges);
            prop_assert_eq!(star_labels(units, &edges, &central()), naive(units, &edges, &order));
        }

        #[test]
        fn star_clusters_by_a_field_keep_the_best_of_each_component(
            (units, mut edges) in edge_sets(),
            values in field_values(),
            preferred_below in 0u32..3,
            largest in any::<bool>(),
        ) {
            edges.sort_by_key(|&(a, b, _)| (a, b));
            edges.dedup_by_key(|&mut (a, b, _)| (a, b));
            let value = |u: u32| values[u as usize];
            // The order written out: preferred units, then present values
            // (largest or smallest first), then missing ones, then input order.
            let mut order: Vec<u32> = (0..units as u32).collect();
            order.sort_by_key(|&u| {
                let v = value(u).map(|v| if largest { -v } else { v });
                (u >= preferred_below, v.is_none(), v, u)
            });
            let policy = if largest {
                KeepPolicy::Max("f".into())
            } else {
                KeepPolicy::Min("f".into())
            };
            let keys: Keys = (0..units as u32)
                .filter_map(|u| value(u).map(|v| (u, Key::Number(Number::Int(v)))))
                .collect();
            let ranking = Ranking { policy: &policy, keys: &keys, preferred_below };
            let (labels, similarity) = star_labels(units, &edges, &ranking);
            prop_assert_eq!(
                (labels.clone(), similarity.clone()),
                naive(units, &edges, &order)
            );
            let visited = |u: u32| order.iter().position(|&o| o == u).expect("visited");
            let linked = |x: u32, y: u32| {
                edges.iter().any(|&(a, b, _)| (a, b) == (x.min(y), x.max(y)))
            };
            for (unit, &centre) in labels.iter().enumerate() {
                let unit = unit as u32;
                prop_assert_eq!(labels[centre as usize], centre);
                if centre != unit {
                    // Every member has a verified edge to its centre, or to a
                    // copy that has.
                    prop_assert!(joined_by_an_edge(unit, &labels, &similarity, &edges));
                } else {
                    // No centre has an edge to an earlier-visited centre.
                    for other in 0..units as u32 {
                        if other != unit && labels[other as usize] == other && linked(unit, other) {
                            prop_assert!(false, "centres {} and {} are linked", unit, other);
                        }
                    }
                }
            }
            // The best unit of each component is kept, by star clusters and
            // by components alike.
            let (components, _) = component_labels(units, &edges, &ranking);
            for members in naive_components(units, &edges) {
                let best = *members.iter().min_by_key(|&&u| visited(u)).expect("members");
                prop_assert_eq!(labels[best as usize], best);
                for &u in &members {
                    prop_assert_eq!(components[u as usize], best);
                }
            }
        }

        #[test]
        fn the_degree_order_is_the_visiting_order(
            units in prop::collection::btree_set(0u32..500, 0..60),
            degree_seed in prop::collection::vec(0u32..6, 60),
            preferred_below in 0u32..500,
        ) {
            let numbers = DenseNumbers::of_sorted(units.into_iter().collect());
            let degrees: Vec<u32> = (0..numbers.len()).map(|i| degree_seed[i]).collect();
            for policy in [KeepPolicy::Central, KeepPolicy::DropAll] {
                let ranking = Ranking { policy: &policy, keys: &Keys::none(), preferred_below };
                let rank = |i: u32| (numbers.unit(i), degrees[i as usize] as usize, &Key::Missing);
                let mut compared: Vec<u32> = (0..numbers.len() as u32).collect();
                compared.sort_by(|&i, &j| ranking.visit_order(rank(i), rank(j)));
                prop_assert_eq!(degree_order(&numbers, &degrees, preferred_below), compared);
            }
        }

        #[test]
        fn components_by_input_order_are_union_find_labels((units, edges) in edge_sets()) {
            let mut uf = UnionFind::new(units);
            for &(a, b, _) in &edges {
                uf.union(a, b);
            }
            let labels = uf.labels();
            let first = KeepPolicy::First;
            let ranking = Ranking { policy: &first, ..central() };
            prop_assert_eq!(
                component_labels(units, &edges, &ranking),
                (labels.clone(), similarity_to_labels(&labels, 0, edges.iter().copied()))
            );
            prop_assert_eq!(component_labels(units, &edges, &central()).0, labels);
        }

        #[test]
        fn every_member_has_a_verified_edge_to_a_kept_centre(
            (units, mut edges) in edge_sets(),
            seed in any::<u64>(),
        ) {
            edges.sort_by_key(|&(a, b, _)| (a, b));
            edges.dedup_by_key(|&mut (a, b, _)| (a, b));
            let (labels, similarity) = star_labels(units, &edges, &central());
            for (unit, &centre) in labels.iter().enumerate() {
                prop_assert_eq!(labels[centre as usize], centre);
                if centre as usize != unit {
                    prop_assert!(joined_by_an_edge(unit as u32, &labels, &similarity, &edges));
                }
            }
            // Order of the edges and numbering gaps do not matter.
            let mut shuffled = edges.clone();
            let len = shuffled.len();
            if len > 1 {
                shuffled.rotate_left(seed as usize % len);
                shuffled.reverse();
            }
            let spread: Vec<_> = shuffled.iter().map(|&(a, b, s)| (a * 7 + 3, b * 7 + 3, s)).collect();
            let joins: Vec<_> = star_joins(&spread, &central())
                .into_iter()
                .map(|j| ((j.member - 3) / 7, (j.centre - 3) / 7))
                .collect();
            let expected: Vec<_> = labels
                .iter()
                .enumerate()
                .filter(|&(u, &c)| c as usize != u)
                .map(|(u, &c)| (u as u32, c))
                .collect();
            prop_assert_eq!(joins, expected);
        }
    }
}
