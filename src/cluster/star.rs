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
//! 1. units are visited by decreasing degree (number of verified edges), the
//!    earlier unit in input order first among equals; units listed as preferred
//!    (indexed units, kept by an earlier run) come before all others;
//! 2. a unit with a verified edge to a unit already chosen as a centre joins the
//!    most similar such centre (the earlier one on a tie) and is removed;
//! 3. any other unit becomes a centre, the unit its cluster keeps.
//!
//! Every removed unit is therefore a verified near-duplicate of the unit that
//! stays, and the kept unit is the one most units were verified against (for a
//! family of edited copies, usually the original, wherever it stands in the
//! input). The result depends only on the set of edges, not on their order, so it
//! is the same for any thread count, shard size or number of processes, and it
//! can be computed on any subset of edges closed under connected components (a
//! distributed run gives each worker whole components).

use super::UnionFind;

/// One unit that joins a cluster: the unit, the kept unit (centre) it joins and
/// its verified similarity to that centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Join {
    /// The unit that is removed as a duplicate.
    pub member: u32,
    /// The kept unit whose cluster it joins.
    pub centre: u32,
    /// The similarity of the verified edge between them.
    pub similarity: f32,
}

/// The joins of the star clustering of `edges`, given as `(a, b, similarity)`
/// with `a != b` in any order and with any unit numbering; units below
/// `preferred_below` are visited first. Sorted by member.
///
/// Only units that join a cluster are listed: every other unit is a centre of
/// its own cluster.
pub fn star_joins(edges: &[(u32, u32, f32)], preferred_below: u32) -> Vec<Join> {
    // Both directions of every edge, grouped by unit: an adjacency list.
    let mut adjacent: Vec<(u32, u32, f32)> = Vec::with_capacity(edges.len() * 2);
    for &(a, b, s) in edges {
        adjacent.push((a, b, s));
        adjacent.push((b, a, s));
    }
    adjacent.sort_unstable_by_key(|&(u, v, _)| (u, v));
    adjacent.dedup_by_key(|&mut (u, v, _)| (u, v));
    let groups: Vec<&[(u32, u32, f32)]> = adjacent.chunk_by(|x, y| x.0 == y.0).collect();
    let position = |unit: u32| {
        groups
            .binary_search_by_key(&unit, |g| g[0].0)
            .expect("every neighbour has an adjacency list")
    };
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_unstable_by_key(|&i| {
        let unit = groups[i][0].0;
        (
            unit >= preferred_below,
            std::cmp::Reverse(groups[i].len()),
            unit,
        )
    });
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Unvisited,
        Centre,
        Member,
    }
    let mut state = vec![State::Unvisited; groups.len()];
    let mut joins = Vec::new();
    for i in order {
        let mut best: Option<(u32, f32)> = None;
        for &(_, neighbour, similarity) in groups[i] {
            if state[position(neighbour)] == State::Centre
                && best.is_none_or(|(c, s)| similarity > s || (similarity == s && neighbour < c))
            {
                best = Some((neighbour, similarity));
            }
        }
        state[i] = match best {
            Some((centre, similarity)) => {
                joins.push(Join {
                    member: groups[i][0].0,
                    centre,
                    similarity,
                });
                State::Member
            }
            None => State::Centre,
        };
    }
    joins.sort_unstable_by_key(|join| join.member);
    joins
}

/// Each of `units` units' cluster label under star clustering of `edges`: the
/// kept unit of its cluster (itself when kept), with the similarity to it
/// (`None` for kept units). Units below `preferred_below` are visited first.
pub fn star_labels(
    units: usize,
    edges: &[(u32, u32, f32)],
    preferred_below: u32,
) -> (Vec<u32>, Vec<Option<f32>>) {
    let mut labels: Vec<u32> = (0..units as u32).collect();
    let mut similarity = vec![None; units];
    for join in star_joins(edges, preferred_below) {
        labels[join.member as usize] = join.centre;
        similarity[join.member as usize] = Some(join.similarity);
    }
    (labels, similarity)
}

/// Each unit's label under union-find over `edges` (connected components: the
/// chain-prone, classic way), with the similarity of a direct edge to the label
/// unit where there is one.
pub fn component_labels(units: usize, edges: &[(u32, u32, f32)]) -> (Vec<u32>, Vec<Option<f32>>) {
    let mut uf = UnionFind::new(units);
    for &(a, b, _) in edges {
        uf.union(a, b);
    }
    let labels = uf.labels();
    let similarity = similarity_to_labels(&labels, 0, edges.iter().copied());
    (labels, similarity)
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
    use proptest::prelude::*;

    /// The rule, written the slow and obvious way: units by decreasing degree
    /// (then input order), each joining the most similar centre it has an edge
    /// with (the smaller on a tie), or else becoming a centre.
    fn naive(units: usize, edges: &[(u32, u32, f32)]) -> (Vec<u32>, Vec<Option<f32>>) {
        let degree = |u: u32| edges.iter().filter(|&&(a, b, _)| a == u || b == u).count();
        let mut order: Vec<u32> = (0..units as u32).collect();
        order.sort_by_key(|&u| (std::cmp::Reverse(degree(u)), u));
        let mut labels: Vec<u32> = (0..units as u32).collect();
        let mut similarity = vec![None; units];
        let mut centres: Vec<u32> = Vec::new();
        for u in order {
            let mut best: Option<(u32, f32)> = None;
            for &(a, b, s) in edges {
                let other = if a == u {
                    b
                } else if b == u {
                    a
                } else {
                    continue;
                };
                if centres.contains(&other)
                    && best.is_none_or(|(c, t)| s > t || (s == t && other < c))
                {
                    best = Some((other, s));
                }
            }
            match best {
                Some((c, s)) => {
                    labels[u as usize] = c;
                    similarity[u as usize] = Some(s);
                }
                None => centres.push(u),
            }
        }
        (labels, similarity)
    }

    #[test]
    fn a_chain_of_look_alikes_does_not_merge_its_ends() {
        // 0 ~ 1 ~ 2 ~ 3, but 0 and 2 (or 1 and 3) were never verified together.
        // Units 1 and 2 have the most edges; 1 comes first and keeps 0 and 2,
        // and 3, verified only against the removed 2, stays.
        let edges = [(0, 1, 0.6), (1, 2, 0.6), (2, 3, 0.6)];
        let (labels, similarity) = star_labels(4, &edges, 0);
        assert_eq!(labels, vec![1, 1, 1, 3]);
        assert_eq!(similarity, vec![Some(0.6), None, Some(0.6), None]);
        let (components, _) = component_labels(4, &edges);
        assert_eq!(components, vec![0, 0, 0, 0]);
    }

    #[test]
    fn a_unit_joins_the_most_similar_centre_and_the_earlier_on_a_tie() {
        let edges = [(0, 2, 0.5), (1, 2, 0.9), (0, 3, 0.7), (1, 3, 0.7)];
        let (labels, similarity) = star_labels(4, &edges, 0);
        assert_eq!(labels, vec![0, 1, 1, 0]);
        assert_eq!(similarity[2], Some(0.9));
        assert_eq!(similarity[3], Some(0.7));
    }

    #[test]
    fn copies_of_one_text_form_one_star() {
        let edges: Vec<_> = (1..6).map(|b| (0, b, 1.0)).chain([(1, 2, 1.0)]).collect();
        let (labels, _) = star_labels(6, &edges, 0);
        assert_eq!(labels, vec![0; 6]);
    }

    #[test]
    fn the_most_connected_copy_is_kept_wherever_it_stands() {
        // An edited copy (0) comes first; the original (2) is verified against
        // every copy, while the copies 0 and 3 are too far apart.
        let edges = [(0, 2, 0.7), (1, 2, 0.9), (2, 3, 0.7), (0, 1, 0.6)];
        let (labels, _) = star_labels(4, &edges, 0);
        assert_eq!(labels, vec![2, 2, 2, 2]);
        // Preferred units (indexed ones) are centres before any other.
        let (labels, _) = star_labels(4, &edges, 1);
        assert_eq!(labels, vec![0, 0, 0, 3]);
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

    proptest! {
        #[test]
        fn star_labels_match_the_naive_rule((units, mut edges) in edge_sets()) {
            edges.sort_by_key(|&(a, b, _)| (a, b));
            edges.dedup_by_key(|&mut (a, b, _)| (a, b));
            prop_assert_eq!(star_labels(units, &edges, 0), naive(units, &edges));
        }

        #[test]
        fn every_member_has_a_verified_edge_to_a_kept_centre(
            (units, mut edges) in edge_sets(),
            seed in any::<u64>(),
        ) {
            edges.sort_by_key(|&(a, b, _)| (a, b));
            edges.dedup_by_key(|&mut (a, b, _)| (a, b));
            let (labels, _) = star_labels(units, &edges, 0);
            for (unit, &centre) in labels.iter().enumerate() {
                prop_assert_eq!(labels[centre as usize], centre);
                if centre as usize != unit {
                    let pair = (centre.min(unit as u32), centre.max(unit as u32));
                    prop_assert!(edges.iter().any(|&(a, b, _)| (a, b) == pair));
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
            let joins: Vec<_> = star_joins(&spread, 0)
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
