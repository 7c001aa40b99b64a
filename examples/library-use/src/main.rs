//! Sketches, indexes and queries a few documents with neardedup's in-memory
//! index, prints what each query duplicates, saves the index and loads it back.

use std::process::ExitCode;

use neardedup::{DedupConfig, Index, MinHasher};

/// Documents indexed first: (id, text).
const INDEXED: [(&str, &str); 4] = [
    (
        "seoul-award",
        "시는 지난 5일 더플라자호텔 서울에서 열린 2024 대한민국 혁신대상에서 행정혁신부문 대상을 수상했다고 밝혔다",
    ),
    (
        "budget",
        "The city council approved the annual budget on Tuesday after a long debate about road repairs and school funding",
    ),
    (
        "weather",
        "Heavy rain is expected across the northern region later this week, with strong winds along the coast",
    ),
    (
        "library",
        "The public library will extend its opening hours during the exam season and add more study rooms",
    ),
];

/// Documents queried afterwards: near-copies of indexed ones (the last word
/// changed), and a new one.
const QUERIES: [(&str, &str); 3] = [
    (
        "seoul-award-2",
        "시는 지난 5일 더플라자호텔 서울에서 열린 2024 대한민국 혁신대상에서 행정혁신부문 대상을 수상했다고 전했다",
    ),
    (
        "budget-2",
        "The city council approved the annual budget on Tuesday after a long debate about road repairs and school buses",
    ),
    (
        "harbour",
        "Fishing boats returned to the harbour early as the storm approached from the south",
    ),
];

fn main() -> ExitCode {
    match run() {
        // The two near-copies are found, before and after reloading.
        Ok((2, 2)) => ExitCode::SUCCESS,
        Ok((before, after)) => {
            eprintln!("library-use: expected 2 duplicates, found {before} (reloaded: {after})");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("library-use: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Indexes and queries the documents; returns how many matches the queries found
/// in the index and in its reloaded copy.
fn run() -> neardedup::Result<(usize, usize)> {
    let config = DedupConfig {
        threshold: 0.7,
        ..DedupConfig::default()
    };

    // Signatures on their own: the estimated Jaccard similarity of two texts.
    let hasher = MinHasher::new(config.sketch)?;
    let (a, b) = (hasher.sketch(INDEXED[0].1), hasher.sketch(QUERIES[0].1));
    println!(
        "signatures of {} bytes; estimated similarity of the Korean pair: {:.2}",
        a.bytes().len(),
        a.jaccard(&b)
    );

    let mut index = Index::new(&config)?;
    for (id, text) in INDEXED {
        index.insert(id, text)?;
    }
    println!("indexed {} documents", index.len());

    let mut duplicates = 0;
    for (id, text) in QUERIES {
        let found = index.query(text);
        if found.is_empty() {
            println!("{id}: new");
        }
        for m in &found {
            duplicates += 1;
            println!("{id}: duplicates {} (similarity {:.2})", m.id, m.similarity);
        }
    }

    // Saved in the format of `neardedup index`, and loaded back.
    let dir = std::env::temp_dir().join(format!("library-use-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| neardedup::Error::io(&dir, e))?;
    let path = dir.join("example.ndx");
    index.save(&path)?;
    let loaded = Index::load_with(&path, &config)?;
    let again: usize = QUERIES.iter().map(|(_, t)| loaded.query(t).len()).sum();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "saved and reloaded {} documents: {again} matches again",
        loaded.len()
    );
    Ok((duplicates, again))
}
