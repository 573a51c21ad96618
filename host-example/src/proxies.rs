//! Who the client is: the connection's peer address, or, when the peer is
//! a proxy the deployment trusts, the address that proxy reports in
//! `X-Forwarded-For`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A range of addresses in CIDR notation (`10.0.0.0/8`, `::1/128`), or one
/// address (`127.0.0.1`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl fmt::Debug for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl FromStr for IpRange {
    type Err = String;

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`; refuses a prefix longer than
    /// the address and host bits set beyond the prefix (`10.0.0.1/8`), which
    /// usually means a typo.
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not an IP address or CIDR range");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
                p.parse::<u8>().map_err(|_| bad())?
            }
            Some(_) => return Err(bad()),
        };
        if prefix > bits {
            return Err(format!("{text:?}: the prefix is longer than the address"));
        }
        let range = Self { network, prefix };
        if mask(network, prefix) != bits_of(network) {
            return Err(format!(
                "{text:?} has bits set beyond its /{prefix} prefix (did you mean {}?)",
                Self {
                    network: from_bits(network, mask(network, prefix)),
                    prefix
                }
            ));
        }
        Ok(range)
    }
}

fn bits_of(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_bits(like: IpAddr, bits: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4((bits as u32).into()),
        IpAddr::V6(_) => IpAddr::V6(bits.into()),
    }
}

/// The address's bits with everything past `prefix` cleared.
fn mask(address: IpAddr, prefix: u8) -> u128 {
    let width = if address.is_ipv4() { 32 } else { 128 };
    let shift = width - u32::from(prefix);
    if shift >= 128 {
        0
    } else {
        (bits_of(address) >> shift) << shift
    }
}

/// The address itself, or the IPv4 address an IPv4-mapped IPv6 address
/// (`::ffff:10.0.0.1`) stands for.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

impl IpRange {
    /// Whether `address` lies in the range.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        address.is_ipv4() == self.network.is_ipv4()
            && mask(address, self.prefix) == bits_of(self.network)
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpRange>);

impl TrustedProxies {
    /// Trusts these ranges.
    pub fn new(ranges: Vec<IpRange>) -> Self {
        Self(ranges)
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|range| range.contains(address))
    }

    /// The client's address: the peer's, unless the peer is trusted; then
    /// the rightmost address in `X-Forwarded-For` (its values in order) that
    /// is not itself a trusted proxy. An entry that is not an address ends
    /// the walk at the last trusted hop, since nothing left of it can be
    /// believed.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops = forwarded_for.rev().flat_map(|value| value.rsplit(','));
        for hop in hops {
            let Ok(address) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = canonical(address);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The key a client address is throttled by: the address for IPv4, its
/// /64 network for IPv6 (one subscriber usually holds a whole /64).
pub fn throttle_key(address: IpAddr) -> IpAddr {
    match canonical(address) {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let range: IpRange = "10.0.0.0/8".parse().unwrap();
        assert!(range.contains(ip("10.255.0.1")));
        assert!(range.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        assert!(!range.contains(ip("11.0.0.1")));
        let v6: IpRange = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.7")));
        let one: IpRange = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        for bad in [
            "10.0.0.1/8",
            "203.0.113.7/33",
            "10.0.0.0/",
            "x",
            "10.0.0.0/+8",
            "::/129",
        ] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad}");
        }
        let hint = "10.0.0.1/8".parse::<IpRange>().unwrap_err();
        assert!(hint.contains("10.0.0.0/8"), "{hint}");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
        let xff = ["198.51.100.9, 203.0.113.7"];
        // An untrusted peer's header is ignored.
        assert_eq!(
            proxies.client(ip("192.0.2.1"), xff.iter().copied()),
            ip("192.0.2.1")
        );
        // A trusted peer: the rightmost address it reports.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), xff.iter().copied()),
            ip("203.0.113.7")
        );
        // Trusted hops are skipped; garbage stops the walk.
        let chain = ["198.51.100.9", "203.0.113.7, 127.0.0.1"];
        assert_eq!(
            proxies.client(ip("127.0.0.1"), chain.iter().copied()),
            ip("203.0.113.7")
        );
        let garbage = ["198.51.100.9, nonsense"];
        assert_eq!(
            proxies.client(ip("127.0.0.1"), garbage.iter().copied()),
            ip("127.0.0.1")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), [].iter().copied()),
            ip("127.0.0.1")
        );
        // Nothing trusted: the peer, always.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("127.0.0.1"), xff.iter().copied()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_are_throttled_by_their_64() {
        assert_eq!(
            throttle_key(ip("2001:db8:1:2:aaaa::1")),
            throttle_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            throttle_key(ip("2001:db8:1:2::1")),
            throttle_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(throttle_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }
}
