//! Reading the real source texts into documents of paragraphs.
//!
//! `datasets/sources/` holds two public-domain texts written by
//! `scripts/fetch-text-sources`: `en-kjv.txt` (Bible chapters: a heading line, then
//! one verse per line) and `ko-law.txt` (Korean statutes: a title line, then one
//! paragraph per line). Both use the same layout, one document per block, blocks
//! separated by blank lines, so one parser serves both. The generator never looks at
//! anything but the [`Sources`] built here, which keeps it testable on small
//! in-memory texts.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// File name of the English source inside the sources directory.
pub const ENGLISH_FILE: &str = "en-kjv.txt";
/// File name of the Korean source inside the sources directory.
pub const KOREAN_FILE: &str = "ko-law.txt";

/// One language of source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceLanguage {
    /// English (the King James Bible excerpt).
    English,
    /// Korean (the constitution and bills).
    Korean,
}

impl SourceLanguage {
    /// Short code used in record labels: `en` or `ko`.
    pub fn code(self) -> &'static str {
        match self {
            SourceLanguage::English => "en",
            SourceLanguage::Korean => "ko",
        }
    }
}

/// One source document: a title line and its paragraphs, all trimmed and non-empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDoc {
    /// The block's first line (a chapter heading or a statute's title).
    pub title: String,
    /// The remaining lines: verses or statute paragraphs.
    pub paragraphs: Vec<String>,
}

/// The source texts of both languages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// English documents (chapters).
    pub english: Vec<SourceDoc>,
    /// Korean documents (statutes).
    pub korean: Vec<SourceDoc>,
}

impl Sources {
    /// Reads `dir/en-kjv.txt` and `dir/ko-law.txt`. A missing file leaves that
    /// language empty (generation in it then fails with a configuration error); a
    /// directory holding neither is an error, as is a file that is not UTF-8.
    pub fn load(dir: &Path) -> Result<Sources> {
        let english = read_optional(&dir.join(ENGLISH_FILE))?;
        let korean = read_optional(&dir.join(KOREAN_FILE))?;
        if english.is_none() && korean.is_none() {
            return Err(Error::in_file(
                dir,
                format!("no source text found (expected {ENGLISH_FILE} and/or {KOREAN_FILE})"),
            ));
        }
        Ok(Sources::parse(
            english.as_deref().unwrap_or(""),
            korean.as_deref().unwrap_or(""),
        ))
    }

    /// Builds sources from the two texts in the file layout described above.
    pub fn parse(english: &str, korean: &str) -> Sources {
        Sources {
            english: parse_docs(english),
            korean: parse_docs(korean),
        }
    }

    /// The documents of one language.
    pub fn docs(&self, language: SourceLanguage) -> &[SourceDoc] {
        match language {
            SourceLanguage::English => &self.english,
            SourceLanguage::Korean => &self.korean,
        }
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|e| Error::in_file(path, format!("not UTF-8: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Splits a source text into blocks at blank lines; each block's first line is its
/// title and the other lines its paragraphs. Lines are trimmed and runs of
/// whitespace collapsed; a block of a single line (a title with no paragraph) is
/// skipped.
fn parse_docs(text: &str) -> Vec<SourceDoc> {
    let mut docs = Vec::new();
    let mut block: Vec<String> = Vec::new();
    let mut flush = |block: &mut Vec<String>| {
        if block.len() >= 2 {
            let title = block.remove(0);
            docs.push(SourceDoc {
                title,
                paragraphs: std::mem::take(block),
            });
        }
        block.clear();
    };
    for line in text.lines() {
        let cleaned = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if cleaned.is_empty() {
            flush(&mut block);
        } else {
            block.push(cleaned);
        }
    }
    flush(&mut block);
    docs
}

/// Distinct words of a language's source (whitespace-separated, with leading and
/// trailing punctuation removed, keeping only words that contain a letter or digit),
/// sorted so the list is the same on every run. Edits draw inserted and substituted
/// words from here, so they look like the language.
pub fn vocabulary(docs: &[SourceDoc]) -> Vec<String> {
    let mut words: BTreeMap<&str, ()> = BTreeMap::new();
    for doc in docs {
        for line in std::iter::once(&doc.title).chain(&doc.paragraphs) {
            for word in line.split_whitespace() {
                let core = word.trim_matches(|c: char| !c.is_alphanumeric());
                if !core.is_empty() {
                    words.insert(core, ());
                }
            }
        }
    }
    words.into_keys().map(str::to_owned).collect()
}

/// Number of whitespace-separated words in `text`.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_into_titled_documents() {
        let text = "Genesis 1\nIn the beginning.\n  And  the earth.  \n\n\nGenesis 2\nThus the heavens.\n\nLonely title\n";
        let docs = parse_docs(text);
        assert_eq!(docs.len(), 2, "a title with no paragraph is dropped");
        assert_eq!(docs[0].title, "Genesis 1");
        assert_eq!(docs[0].paragraphs, ["In the beginning.", "And the earth."]);
        assert_eq!(docs[1].paragraphs, ["Thus the heavens."]);
    }

    #[test]
    fn vocabulary_is_sorted_distinct_and_stripped() {
        let docs = parse_docs("T\nthe LORD's, (word) the end.\n");
        assert_eq!(vocabulary(&docs), ["LORD's", "T", "end", "the", "word"]);
    }

    #[test]
    fn load_reports_a_directory_without_sources() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = Sources::load(dir.path()).expect_err("empty directory");
        assert!(err.to_string().contains(ENGLISH_FILE), "{err}");
    }

    #[test]
    fn load_reads_one_language_when_only_one_file_exists() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(KOREAN_FILE), "제목\n첫 문단\n").expect("write");
        let sources = Sources::load(dir.path()).expect("loads");
        assert!(sources.english.is_empty());
        assert_eq!(sources.korean.len(), 1);
    }

    /// The committed source files parse into many documents; guards against a
    /// regeneration that silently produced an empty or mangled file.
    #[test]
    fn committed_sources_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
        let sources = Sources::load(&dir).expect("committed sources load");
        assert!(
            sources.english.len() >= 40,
            "{} chapters",
            sources.english.len()
        );
        assert!(
            sources.korean.len() >= 10,
            "{} statutes",
            sources.korean.len()
        );
        for doc in sources.english.iter().chain(&sources.korean) {
            assert!(doc
                .paragraphs
                .iter()
                .all(|p| !p.trim().is_empty() && !p.contains('\n')));
        }
    }
}
