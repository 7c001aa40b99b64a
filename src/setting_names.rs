//! How the values of settings are written as text: one name per value, the one
//! serde writes to `report.json` and the index file, and the one the command
//! line takes. Every setting type reads and writes its values by this rule.

/// Reads a setting's value from its name, as `report.json` and the index file
/// write it (its serde name). The error says which names there are.
pub fn parse_name<T: serde::de::DeserializeOwned>(text: &str) -> std::result::Result<T, String> {
    use serde::de::IntoDeserializer;
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text)).map_err(
        // serde words it "unknown variant `x`, expected one of `a`, `b`".
        |e| e.to_string().replace("variant", "value").replace('`', "\""),
    )
}

/// The name of a setting's value, as `report.json` and the index file write it.
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

/// Implements `FromStr` by [`parse_name`] and `Display` by [`name_of`] for setting
/// types, so a value is read and written by one rule wherever it appears as text.
macro_rules! by_setting_name {
    ($($setting:ty),+ $(,)?) => {$(
        impl std::str::FromStr for $setting {
            type Err = String;
            fn from_str(text: &str) -> std::result::Result<Self, String> {
                $crate::setting_names::parse_name(text)
            }
        }

        impl std::fmt::Display for $setting {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::setting_names::name_of(self))
            }
        }
    )+};
}
pub(crate) use by_setting_name;

/// Asserts that each value of a setting type has one name: the command line's
/// (`clap::ValueEnum`), the one serde writes and the one [`parse_name`] reads.
#[cfg(all(test, feature = "cli"))]
pub(crate) fn assert_one_name_per_value<T>()
where
    T: clap::ValueEnum
        + serde::Serialize
        + serde::de::DeserializeOwned
        + std::str::FromStr
        + std::fmt::Display
        + PartialEq
        + std::fmt::Debug,
{
    assert!(!T::value_variants().is_empty());
    for value in T::value_variants() {
        let shown = value.to_possible_value().expect("no value is hidden");
        let cli_name = shown.get_name();
        let stored = serde_json::to_value(value).expect("serialises");
        assert_eq!(stored.as_str(), Some(cli_name), "{value:?}");
        assert_eq!(
            <T as clap::ValueEnum>::from_str(cli_name, false).as_ref(),
            Ok(value),
            "{cli_name}"
        );
        assert_eq!(parse_name::<T>(cli_name).as_ref(), Ok(value), "{cli_name}");
        let read: T = serde_json::from_value(stored).expect("deserialises");
        assert_eq!(&read, value);
        assert_eq!(value.to_string(), cli_name);
        assert_eq!(cli_name.parse::<T>().ok().as_ref(), Some(value));
    }
    let err = parse_name::<T>("no-such-value").expect_err("unknown name");
    for value in T::value_variants() {
        let name = value.to_possible_value().expect("shown");
        assert!(err.contains(&format!("\"{}\"", name.get_name())), "{err}");
    }
}
