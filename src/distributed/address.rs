//! What a process of a distributed run accepts as a `host:port` address: what is
//! read from outside (a hostfile, launcher variables, the rendezvous) is checked
//! here before it is handed to the network layer.

/// Longest `host:port` address taken from outside (a DNS name is at most 253
/// bytes, plus brackets, colon and port).
pub const MAX_ADDRESS_LEN: usize = 264;

/// Whether `name` is a plausible DNS name (letters, digits, `-` and `.`).
pub(crate) fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Whether `address` is a plausible `host:port` (an IPv6 host in brackets): what
/// is read from outside is checked before it is handed to the network layer.
pub fn is_address(address: &str) -> bool {
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => is_dns_name(host) || host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
    };
    address.len() <= MAX_ADDRESS_LEN
        && !host.is_empty()
        && host_ok
        && port.parse::<u16>().is_ok_and(|p| p > 0)
}
