//! Disjoint-set forest over `u32` indices (union by size, path halving),
//! with deterministic cluster labels: the smallest index of each set.
//!
//! Both heuristics together give near-constant amortised time per operation,
//! so merging millions of near-duplicate edges is linear in practice.

/// Disjoint sets over the indices `0..n`.
#[derive(Debug, Clone)]
pub struct UnionFind {
    /// Parent of each index; roots are their own parent.
    parent: Vec<u32>,
    /// Set size, meaningful only at roots.
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singleton sets `{0}, {1}, ..., {n - 1}`.
    ///
    /// # Panics
    ///
    /// If `n` exceeds `u32::MAX`.
    pub fn new(n: usize) -> Self {
        let Ok(count) = u32::try_from(n) else {
            panic!("at most u32::MAX elements are supported, got {n}");
        };
        UnionFind {
            parent: (0..count).collect(),
            size: vec![1; n],
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// Root of the set containing `x`; halves the path on the way.
    ///
    /// # Panics
    ///
    /// If `x >= self.len()`.
    pub fn find(&mut self, x: u32) -> u32 {
        let mut x = x;
        loop {
            let parent = self.parent[x as usize];
            if parent == x {
                return x;
            }
            let grandparent = self.parent[parent as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
    }

    /// Merges the sets of `a` and `b`; returns whether they were separate.
    ///
    /// # Panics
    ///
    /// If `a` or `b` is out of range.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let ra = self.find(a);
        let rb = self.find(b);
        if ra == rb {
            return false;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        true
    }

    /// Whether `a` and `b` are in the same set.
    ///
    /// # Panics
    ///
    /// If `a` or `b` is out of range.
    pub fn same(&mut self, a: u32, b: u32) -> bool {
        self.find(a) == self.find(b)
    }

    /// Size of the set containing `x`.
    ///
    /// # Panics
    ///
    /// If `x >= self.len()`.
    pub fn set_size(&mut self, x: u32) -> u32 {
        let root = self.find(x);
        self.size[root as usize]
    }

    /// For each element, its cluster label: the smallest element of its set
    /// (the first in input order).
    pub fn labels(&mut self) -> Vec<u32> {
        const UNSET: u32 = u32::MAX;
        // Visiting elements in increasing order, the first one seen for a
        // root is the smallest of its set. `UNSET` cannot be a real label
        // because elements are below `len() <= u32::MAX`.
        let mut label_of_root = vec![UNSET; self.len()];
        let mut labels = Vec::with_capacity(self.len());
        for x in 0..self.len() as u32 {
            let root = self.find(x) as usize;
            if label_of_root[root] == UNSET {
                label_of_root[root] = x;
            }
            labels.push(label_of_root[root]);
        }
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// Reference labels: BFS over an adjacency list, each component
    /// labelled by its smallest member.
    fn bfs_labels(n: usize, edges: &[(u32, u32)]) -> Vec<u32> {
        let mut adjacent = vec![Vec::new(); n];
        for &(a, b) in edges {
            adjacent[a as usize].push(b as usize);
            adjacent[b as usize].push(a as usize);
        }
        let mut labels = vec![None; n];
        for start in 0..n {
            if labels[start].is_some() {
                continue;
            }
            // Starting from the smallest unlabelled node, it is the
            // smallest member of its component.
            labels[start] = Some(start as u32);
            let mut queue = std::collections::VecDeque::from([start]);
            while let Some(v) = queue.pop_front() {
                for &w in &adjacent[v] {
                    if labels[w].is_none() {
                        labels[w] = Some(start as u32);
                        queue.push_back(w);
                    }
                }
            }
        }
        labels
            .into_iter()
            .map(|l| l.expect("BFS labels every node"))
            .collect()
    }

    /// Reference labels by repeated relabelling to a fixpoint.
    fn propagated_labels(n: usize, edges: &[(u32, u32)]) -> Vec<u32> {
        let mut labels: Vec<u32> = (0..n as u32).collect();
        loop {
            let mut changed = false;
            for &(a, b) in edges {
                let low = labels[a as usize].min(labels[b as usize]);
                for v in [a, b] {
                    if labels[v as usize] != low {
                        labels[v as usize] = low;
                        changed = true;
                    }
                }
            }
            if !changed {
                return labels;
            }
        }
    }

    fn edge_lists() -> impl Strategy<Value = (usize, Vec<(u32, u32)>)> {
        (0usize..60).prop_flat_map(|n| {
            let edges = if n == 0 {
                Just(Vec::new()).boxed()
            } else {
                prop::collection::vec((any::<Index>(), any::<Index>()), 0..80)
                    .prop_map(move |raw| {
                        raw.iter()
                            .map(|(a, b)| (a.index(n) as u32, b.index(n) as u32))
                            .collect()
                    })
                    .boxed()
            };
            (Just(n), edges)
        })
    }

    proptest! {
        #[test]
        fn labels_match_references((n, edges) in edge_lists()) {
            let mut uf = UnionFind::new(n);
            let mut merges = 0;
            for &(a, b) in &edges {
                let was_same = uf.same(a, b);
                let merged = uf.union(a, b);
                prop_assert_eq!(merged, !was_same);
                prop_assert!(uf.same(a, b));
                merges += usize::from(merged);
            }
            let labels = uf.labels();
            prop_assert_eq!(&labels, &bfs_labels(n, &edges));
            prop_assert_eq!(&labels, &propagated_labels(n, &edges));

            // Each successful union removes one set.
            let roots = (0..n).filter(|&x| labels[x] == x as u32).count();
            prop_assert_eq!(roots, n - merges);
            // Set sizes agree with label counts.
            for x in 0..n as u32 {
                let count = labels.iter().filter(|&&l| l == labels[x as usize]).count();
                prop_assert_eq!(uf.set_size(x) as usize, count);
            }
            // Labelling is idempotent and does not change membership.
            prop_assert_eq!(uf.labels(), labels);
        }
    }

    #[test]
    fn empty() {
        let mut uf = UnionFind::new(0);
        assert!(uf.is_empty());
        assert_eq!(uf.len(), 0);
        assert!(uf.labels().is_empty());
    }

    #[test]
    fn singletons_label_themselves() {
        let mut uf = UnionFind::new(4);
        assert_eq!(uf.labels(), vec![0, 1, 2, 3]);
        assert!(!uf.same(0, 1));
    }

    #[test]
    fn self_union_is_a_no_op() {
        let mut uf = UnionFind::new(3);
        assert!(!uf.union(1, 1));
        assert_eq!(uf.labels(), vec![0, 1, 2]);
        assert_eq!(uf.set_size(1), 1);
    }

    #[test]
    fn repeated_union_reports_false() {
        let mut uf = UnionFind::new(3);
        assert!(uf.union(2, 0));
        assert!(!uf.union(0, 2));
        assert!(!uf.union(2, 0));
        assert_eq!(uf.labels(), vec![0, 1, 0]);
    }

    #[test]
    fn chains_in_both_directions() {
        let n = 1000u32;
        let mut forward = UnionFind::new(n as usize);
        let mut backward = UnionFind::new(n as usize);
        for i in 1..n {
            assert!(forward.union(i - 1, i));
            assert!(backward.union(n - i, n - i - 1));
        }
        assert!(forward.labels().iter().all(|&l| l == 0));
        assert!(backward.labels().iter().all(|&l| l == 0));
        assert_eq!(forward.set_size(n - 1), n);
        assert_eq!(backward.set_size(0), n);
    }

    #[test]
    fn label_is_smallest_even_when_root_is_not() {
        // Join a big set around 5..9 to a singleton 1: the root stays in the
        // bigger set, but the label must be 1.
        let mut uf = UnionFind::new(10);
        for i in 6..10 {
            uf.union(5, i);
        }
        uf.union(7, 1);
        let labels = uf.labels();
        for i in [1, 5, 6, 7, 8, 9] {
            assert_eq!(labels[i], 1, "element {i}");
        }
        for i in [0, 2, 3, 4] {
            assert_eq!(labels[i], i as u32);
        }
    }

    #[test]
    #[should_panic]
    fn out_of_range_find_panics() {
        UnionFind::new(2).find(2);
    }
}
