//! Byte sizes as users write them, on the command line and in the Python
//! package: `500KB`, `5MB`, `2GB` (powers of 1000) and `512MiB`, `2GiB` (powers of
//! 1024).

/// Parses `123`, `10KB`, `5MB`, `2GB` (powers of 1000; `KiB`/`MiB`/`GiB` for 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 500KB, 5MB or 1GB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use B, KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    Ok((number * scale) as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("5MB"), Ok(5_000_000));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("2KiB"), Ok(2048));
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("MB").is_err());
    }
}
