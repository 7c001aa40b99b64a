//! Stage checkpoints after the sketch stage: candidate pairs and verified edges
//! are saved when computed and taken back when a restarted run finds them, so a
//! run killed late does not redo its early stages.

use super::{Edge, Settled};
use crate::error::{Error, Result};
use crate::work::codec::{Decoder, Encoder};
use crate::work::{Checkpoint, Kind, Lookup, WorkDir};

/// What a run took from an earlier, interrupted run of the same command.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Resumed {
    /// Shards of the input.
    pub shards: usize,
    /// Shards whose sketches came from a checkpoint.
    pub shards_reused: usize,
    /// Later stages whose results came from a checkpoint.
    pub stages_reused: Vec<&'static str>,
    /// Checkpoints found but not used, and why (another run's, or damaged).
    pub discarded: Vec<String>,
}

impl Resumed {
    /// True when anything was reused.
    pub fn any(&self) -> bool {
        self.shards_reused > 0 || !self.stages_reused.is_empty()
    }
}

/// Values a stage checkpoint can hold.
pub trait Stored: Sized {
    /// Kind of checkpoint that holds it.
    const KIND: Kind;
    /// The checkpoint body.
    fn encode(&self) -> Vec<u8>;
    /// Reads a body written by `encode`.
    fn decode(body: &[u8]) -> std::result::Result<Self, String>;
}

/// The checkpoint `name` of `kind` left by an earlier run of the same command,
/// read by `decode`; `None` when there is none, or when it cannot be used (the
/// reason is noted in `resumed.discarded`).
pub fn load_usable<T>(
    work: &WorkDir,
    name: &str,
    kind: Kind,
    resumed: &mut Resumed,
    decode: impl FnOnce(Checkpoint) -> std::result::Result<T, String>,
) -> Result<Option<T>> {
    let why = match work.load(name, kind)? {
        Lookup::Found(checkpoint) => match decode(checkpoint) {
            Ok(value) => return Ok(Some(value)),
            Err(why) => why,
        },
        Lookup::Unusable(why) => why,
        Lookup::Missing => return Ok(None),
    };
    resumed.discarded.push(format!("{name}: {why}"));
    Ok(None)
}

/// Returns the value saved as `name` by an earlier run of the same command, or
/// computes it with `compute` and saves it.
pub fn checkpointed<T: Stored>(
    work: &WorkDir,
    name: &'static str,
    resumed: &mut Resumed,
    compute: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if let Some(value) = load_usable(work, name, T::KIND, resumed, |c| T::decode(c.body()))? {
        resumed.stages_reused.push(name);
        return Ok(value);
    }
    let value = compute()?;
    work.save(name, T::KIND, &value.encode())?;
    Ok(value)
}

/// Verified edges: among the run's units, and from indexed units (`a` numbered in
/// the index) to the run's units; plus how many candidates they came from and
/// how those were settled.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Edges {
    /// Candidate pairs considered.
    pub candidates: u64,
    /// How this worker's candidate pairs were settled.
    pub settled: Settled,
    /// Edges among the run's units.
    pub edges: Vec<Edge>,
    /// Edges from an indexed unit.
    pub index_edges: Vec<Edge>,
}

/// Writes `edges` (sorted by `(a, b)` as every stage leaves them, though any
/// order reads back): a count, then per edge the step from the previous edge's
/// `a` and `b - a` as varints (wrapping, so any order is kept), and the
/// similarity's bits. A paragraph run's millions of edges take about 7 bytes each
/// instead of 12.
fn put_edges(e: &mut Encoder, edges: &[Edge]) {
    e.u64(edges.len() as u64);
    let mut previous_a = 0u32;
    for edge in edges {
        e.varint(u64::from(edge.a.wrapping_sub(previous_a)));
        e.varint(u64::from(edge.b.wrapping_sub(edge.a)));
        e.u32(edge.similarity.to_bits());
        previous_a = edge.a;
    }
}

/// Reads edges written by [`put_edges`] from a body of `limit` bytes.
fn get_edges(d: &mut Decoder<'_>, limit: usize) -> std::result::Result<Vec<Edge>, String> {
    let broken = |e: crate::work::codec::Truncated| e.to_string();
    let step = |d: &mut Decoder<'_>| -> std::result::Result<u32, String> {
        u32::try_from(d.varint().map_err(broken)?).map_err(|_| "edge checkpoint is damaged".into())
    };
    let n = d.u64().map_err(broken)? as usize;
    // Every edge takes at least 6 bytes.
    if n.saturating_mul(6) > limit {
        return Err("edge checkpoint has the wrong size".into());
    }
    let mut edges = Vec::with_capacity(n);
    let mut previous_a = 0u32;
    for _ in 0..n {
        let a = previous_a.wrapping_add(step(d)?);
        let b = a.wrapping_add(step(d)?);
        let similarity = f32::from_bits(d.u32().map_err(broken)?);
        edges.push(Edge { a, b, similarity });
        previous_a = a;
    }
    Ok(edges)
}

impl Stored for Edges {
    const KIND: Kind = Kind::Edges;
    fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        e.u64(self.candidates);
        e.u64(self.settled.estimate);
        e.u64(self.settled.equal_shingles);
        e.u64(self.settled.repeated);
        e.u64(self.settled.jaccard);
        put_edges(&mut e, &self.edges);
        put_edges(&mut e, &self.index_edges);
        e.bytes
    }

    fn decode(body: &[u8]) -> std::result::Result<Self, String> {
        let mut d = Decoder::new(body);
        let candidates = d.u64().map_err(|e| e.to_string())?;
        let mut counts = [0u64; 4];
        for count in &mut counts {
            *count = d.u64().map_err(|e| e.to_string())?;
        }
        let [estimate, equal_shingles, repeated, jaccard] = counts;
        let settled = Settled {
            estimate,
            equal_shingles,
            repeated,
            jaccard,
        };
        let edges = get_edges(&mut d, body.len())?;
        let index_edges = get_edges(&mut d, body.len())?;
        if d.position() != body.len() {
            return Err("edge checkpoint has trailing bytes".into());
        }
        Ok(Edges {
            candidates,
            settled,
            edges,
            index_edges,
        })
    }
}

/// Maps a checkpoint that decoded but makes no sense for this run into an error.
pub fn inconsistent(work: &WorkDir, what: &str) -> Error {
    Error::in_file(
        work.path(),
        format!("{what}; delete the scratch folder and run again"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(a: u32, b: u32, similarity: f32) -> Edge {
        Edge { a, b, similarity }
    }

    proptest::proptest! {
        #[test]
        fn edges_in_any_order_round_trip(
            raw in proptest::collection::vec((proptest::prelude::any::<u32>(), proptest::prelude::any::<u32>(), 0f32..=1.0), 0..40),
            sorted in proptest::prelude::any::<bool>(),
        ) {
            let mut edges: Vec<Edge> = raw.iter().map(|&(a, b, s)| edge(a, b, s)).collect();
            if sorted {
                edges.sort_by_key(|e| (e.a, e.b));
            }
            let value = Edges { edges, ..Edges::default() };
            proptest::prop_assert_eq!(Edges::decode(&value.encode()), Ok(value));
        }
    }

    #[test]
    fn stage_values_round_trip_and_reject_damage() {
        let sorted = Edges {
            edges: vec![
                edge(0, 1, f32::NAN),
                edge(2, 9, 0.5),
                edge(u32::MAX - 1, u32::MAX, 1.0),
            ],
            ..Edges::default()
        };
        let body = sorted.encode();
        // Five counts, then per list a count and its edges: close sorted edges
        // take a byte for each number, a far step five.
        assert_eq!(body.len(), 8 * 5 + 8 + (6 + 6 + (5 + 1 + 4)) + 8);
        let back = Edges::decode(&body).expect("decode");
        assert_eq!(back.edges.len(), 3);
        assert!(back.edges[0].similarity.is_nan());
        assert_eq!(back.edges[1..], sorted.edges[1..]);
        assert!(Edges::decode(&body[..body.len() - 1]).is_err());

        let edges = Edges {
            candidates: 12,
            settled: Settled {
                estimate: 7,
                equal_shingles: 3,
                repeated: 4,
                jaccard: 2,
            },
            edges: vec![Edge {
                a: 1,
                b: 4,
                similarity: 0.625,
            }],
            index_edges: vec![Edge {
                a: 0,
                b: 3,
                similarity: 1.0,
            }],
        };
        assert_eq!(Edges::decode(&edges.encode()), Ok(edges.clone()));
        let mut body = edges.encode();
        body.push(0);
        assert!(Edges::decode(&body).is_err());
        assert!(Edges::decode(&body[..20]).is_err());
    }

    #[test]
    fn a_checkpointed_value_is_computed_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = WorkDir::open(dir.path(), 5).expect("open");
        let mut resumed = Resumed::default();
        let first = checkpointed(&work, "candidates", &mut resumed, || {
            Ok(Edges {
                edges: vec![edge(1, 2, 0.5)],
                ..Edges::default()
            })
        })
        .expect("first");
        assert!(resumed.stages_reused.is_empty());
        let again: Edges = checkpointed(&work, "candidates", &mut resumed, || {
            panic!("the saved value is used")
        })
        .expect("second");
        assert_eq!(first, again);
        assert_eq!(resumed.stages_reused, vec!["candidates"]);
    }
}
