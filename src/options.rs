//! A run's options by name and value as text: what a front end other than the
//! command line (the Python package's keyword arguments) sets a [`Dedup`] with.
//!
//! The names are the command line's long options with `-` written `_`
//! (`num_perm` for `--num-perm`, `keep_case` for `--keep-case`), and a value is
//! read as the command line reads it: setting values by their one name
//! ([`crate::setting_names`]), sizes such as `512MiB` ([`crate::size`]),
//! switches as `true` or `false`. An option left out, or given no value, keeps
//! the default of [`Dedup::new`], which is the command line's default. A value
//! that cannot be read is an [`Error::InvalidSetting`] naming the option.
//!
//! Options that belong to a front end rather than to a run (the output folder,
//! the thread count, progress, the distributed run's placement) are not here.

use std::path::PathBuf;
use std::str::FromStr;

use crate::dedup::Dedup;
use crate::error::{Error, Result};

/// Every option [`set`] takes, in the order the command line lists them.
pub const NAMES: &[&str] = &[
    "algo",
    "unit",
    "para_sep",
    "min_para_chars",
    "threshold",
    "minhash_variant",
    "num_perm",
    "seed",
    "ngram",
    "tokenizer",
    "bands",
    "rows",
    "verify",
    "hamming",
    "cluster",
    "keep",
    "text_field",
    "id_field",
    "line_ids",
    "format",
    "skip_invalid",
    "allow_duplicate_ids",
    "no_nfkc",
    "keep_case",
    "keep_punctuation",
    "against",
    "save_index",
    "work_dir",
    "keep_work",
    "memory_budget",
    "shard_size",
    "output_format",
    "single_output",
    "mode",
    "omit",
];

/// Sets option `name` of `dedup` to `value` (`None`: its default). Unknown
/// names and unreadable values are errors; settings that cannot work together
/// are found later, when the run checks its configuration.
pub fn set(dedup: &mut Dedup, name: &str, value: Option<&str>) -> Result<()> {
    let Some(&name) = NAMES.iter().find(|known| **known == name) else {
        return Err(Error::Config(format!(
            "unknown option `{name}`; the options are {}",
            NAMES.join(", ")
        )));
    };
    let defaults = Dedup::new(Vec::new(), PathBuf::new());
    let (config, sketch, shingle) = (
        &mut dedup.config,
        &defaults.config.sketch,
        &defaults.config.sketch.shingle,
    );
    let normalize = &mut config.sketch.shingle.normalize;
    match name {
        "algo" => config.algo = read(name, value, defaults.config.algo)?,
        "unit" => config.sketch.unit = read(name, value, sketch.unit)?,
        "para_sep" => config.sketch.para_sep = read(name, value, sketch.para_sep)?,
        "min_para_chars" => {
            config.sketch.min_para_chars = read(name, value, sketch.min_para_chars)?;
        }
        "threshold" => config.threshold = read(name, value, defaults.config.threshold)?,
        "minhash_variant" => {
            config.sketch.minhash_variant = read(name, value, sketch.minhash_variant)?;
        }
        "num_perm" => config.sketch.num_perm = read(name, value, sketch.num_perm)?,
        "seed" => config.sketch.seed = read(name, value, sketch.seed)?,
        "ngram" => config.sketch.shingle.ngram = read(name, value, shingle.ngram)?,
        "tokenizer" => config.sketch.shingle.tokenizer = read(name, value, shingle.tokenizer)?,
        "bands" => config.bands = read_optional(name, value)?,
        "rows" => config.rows = read_optional(name, value)?,
        "verify" => config.verify = read(name, value, defaults.config.verify)?,
        "hamming" => config.hamming = read(name, value, defaults.config.hamming)?,
        "cluster" => config.cluster = read(name, value, defaults.config.cluster)?,
        "keep" => config.keep = read(name, value, defaults.config.keep.clone())?,
        "text_field" => {
            dedup.corpus.text_field = read(name, value, defaults.corpus.text_field.clone())?;
        }
        "id_field" => dedup.corpus.id_field = read_optional(name, value)?,
        "line_ids" => dedup.corpus.ids_from_records = !read_switch(name, value)?,
        "format" => dedup.corpus.format = read_optional(name, value)?,
        "skip_invalid" => {
            // One switch for files and records, as on the command line.
            let skip = read_switch(name, value)?;
            dedup.corpus.skip_invalid = skip;
            config.skip_invalid = skip;
        }
        "allow_duplicate_ids" => dedup.corpus.allow_duplicate_ids = read_switch(name, value)?,
        "no_nfkc" => normalize.nfkc = !read_switch(name, value)?,
        "keep_case" => normalize.lowercase = !read_switch(name, value)?,
        "keep_punctuation" => normalize.fold_punctuation = !read_switch(name, value)?,
        "against" => dedup.against = read_optional(name, value)?,
        "save_index" => dedup.save_index = read_optional(name, value)?,
        "work_dir" => dedup.work_dir = read_optional(name, value)?,
        "keep_work" => dedup.keep_work = read_switch(name, value)?,
        "memory_budget" => {
            dedup.memory_budget = match value {
                Some(text) => read_size(name, text)?,
                None => defaults.memory_budget,
            };
        }
        "shard_size" => dedup.shard_bytes = value.map(|v| read_size(name, v)).transpose()?,
        "output_format" => dedup.output.format = read_optional(name, value)?,
        "single_output" => dedup.output.single = read_switch(name, value)?,
        "mode" => dedup.output.mode = read(name, value, defaults.output.mode)?,
        "omit" => {
            dedup.output.omit = match value {
                Some(list) => list
                    .split(',')
                    .map(|file| parse(name, file.trim()))
                    .collect::<Result<_>>()?,
                None => Vec::new(),
            };
        }
        _ => unreachable!("every name of NAMES has its arm"),
    }
    if value.is_some() {
        note_given(dedup, name);
    }
    Ok(())
}

/// Records that a setting an index fixes was given: with `against`, it must
/// agree with the index's (see [`Dedup::given_settings`]).
fn note_given(dedup: &mut Dedup, option: &'static str) {
    let setting = setting_of(option);
    if let Some(&fixed) = crate::index::FIXED_SETTINGS
        .iter()
        .find(|fixed| **fixed == setting)
    {
        if !dedup.given_settings.contains(&fixed) {
            dedup.given_settings.push(fixed);
        }
    }
}

/// The library's name for the setting that option `option` sets: the same
/// name, except for the switches that turn a setting off.
pub fn setting_of(option: &'static str) -> &'static str {
    match option {
        "no_nfkc" => "nfkc",
        "keep_case" => "lowercase",
        "keep_punctuation" => "fold_punctuation",
        other => other,
    }
}

/// `value` read as a `T`, or `default` when there is none.
fn read<T: FromStr>(name: &'static str, value: Option<&str>, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match value {
        Some(text) => parse(name, text),
        None => Ok(default),
    }
}

/// `value` read as a `T`, if there is one.
fn read_optional<T: FromStr>(name: &'static str, value: Option<&str>) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    value.map(|text| parse(name, text)).transpose()
}

/// A switch: `true` or `false`; off when left out.
fn read_switch(name: &'static str, value: Option<&str>) -> Result<bool> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Error::invalid_setting(name, other, "true or false")),
    }
}

fn read_size(name: &'static str, text: &str) -> Result<u64> {
    crate::size::parse_size(text).map_err(|why| Error::invalid_setting(name, text, why))
}

fn parse<T: FromStr>(name: &'static str, text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|why: T::Err| {
        // A value by name fails as `unknown value "x", expected "a" or "b"`.
        let why = why.to_string();
        let expected = why
            .split_once(", expected ")
            .map_or(why.as_str(), |(_, names)| names);
        Error::invalid_setting(name, text, expected)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Algo, UnitKind};

    fn dedup() -> Dedup {
        Dedup::new(vec!["in.jsonl".into()], "out".into())
    }

    #[test]
    fn options_are_read_as_the_command_line_reads_them() {
        let mut run = dedup();
        set(&mut run, "algo", Some("simhash")).unwrap();
        set(&mut run, "unit", Some("paragraph")).unwrap();
        set(&mut run, "num_perm", Some("64")).unwrap();
        set(&mut run, "threshold", Some("0.75")).unwrap();
        set(&mut run, "keep_case", Some("true")).unwrap();
        set(&mut run, "memory_budget", Some("512MiB")).unwrap();
        set(&mut run, "keep", Some("max:meta.score")).unwrap();
        set(&mut run, "line_ids", Some("true")).unwrap();
        assert_eq!(run.config.algo, Algo::Simhash);
        assert_eq!(run.config.sketch.unit, UnitKind::Paragraph);
        assert_eq!(run.config.sketch.num_perm, 64);
        assert_eq!(run.config.threshold, 0.75);
        assert!(!run.config.sketch.shingle.normalize.lowercase);
        assert_eq!(run.memory_budget, 512 << 20);
        assert_eq!(run.config.keep.to_string(), "max:meta.score");
        assert!(!run.corpus.ids_from_records);
    }

    #[test]
    fn an_option_without_a_value_takes_its_default() {
        let mut run = dedup();
        set(&mut run, "num_perm", Some("64")).unwrap();
        set(&mut run, "bands", Some("8")).unwrap();
        set(&mut run, "num_perm", None).unwrap();
        set(&mut run, "bands", None).unwrap();
        assert_eq!(format!("{:?}", run.config), format!("{:?}", dedup().config));
    }

    #[test]
    fn unknown_names_and_unreadable_values_are_errors_naming_them() {
        let mut run = dedup();
        let unknown = set(&mut run, "num_perms", Some("64"))
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("`num_perms`"), "{unknown}");
        assert!(unknown.contains("num_perm,"), "{unknown}");
        let bad = set(&mut run, "unit", Some("sentence"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            bad,
            r#"invalid setting unit = sentence: must be "article" or "paragraph""#
        );
        let bad = set(&mut run, "keep_case", Some("yes"))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("true or false"), "{bad}");
        let bad = set(&mut run, "memory_budget", Some("lots")).unwrap_err();
        assert!(matches!(
            bad,
            Error::InvalidSetting {
                name: "memory_budget",
                ..
            }
        ));
    }

    #[test]
    fn outputs_to_omit_are_a_comma_separated_list() {
        use crate::output::records::OptionalOutput;
        let mut run = dedup();
        set(&mut run, "omit", Some("pairs, removed")).unwrap();
        assert_eq!(
            run.output.omit,
            [OptionalOutput::Pairs, OptionalOutput::Removed]
        );
        assert!(!run.output.writes(OptionalOutput::Pairs));
        assert!(run.output.writes(OptionalOutput::Clusters));
        assert_eq!(run.output.line_files().collect::<Vec<_>>(), ["clusters"]);
        assert!(!run.output.writes_removed());
        let bad = set(&mut run, "omit", Some("pairs,report")).unwrap_err();
        assert!(bad.to_string().contains("report"), "{bad}");
        set(&mut run, "omit", None).unwrap();
        assert!(run.output.omit.is_empty());
        assert_eq!(
            run.output.line_files().collect::<Vec<_>>(),
            ["clusters", "pairs"]
        );
        assert!(run.output.writes_removed());
    }

    #[test]
    fn settings_an_index_fixes_count_as_given_when_set_for_a_run_against_it() {
        let mut run = dedup();
        set(&mut run, "against", Some("old.index")).unwrap();
        set(&mut run, "ngram", Some("3")).unwrap();
        set(&mut run, "keep_case", Some("true")).unwrap();
        set(&mut run, "threshold", Some("0.8")).unwrap();
        assert!(run.given_settings.contains(&"ngram"));
        assert!(run.given_settings.contains(&"lowercase"));
        assert!(!run.given_settings.contains(&"threshold"));
    }

    #[cfg(feature = "cli")]
    #[test]
    fn output_options_have_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<crate::output::format::RecordFormat>();
        crate::setting_names::assert_one_name_per_value::<crate::output::records::OutputMode>();
        crate::setting_names::assert_one_name_per_value::<crate::output::records::OptionalOutput>();
    }
}
