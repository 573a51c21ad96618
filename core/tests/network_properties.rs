//! Property tests of network allowlists: a child's ranges that pass
//! `within` never allow an address its parent's refuse, normalising never
//! changes which addresses a list allows, and an IPv4-mapped IPv6 address
//! is allowed exactly when its IPv4 address is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use tessera_core::AllowedIps;

/// A range written as its network address and prefix: IPv4 or IPv6, the
/// address masked to the prefix so that it parses. Addresses are drawn from
/// a few small neighbourhoods so that ranges overlap often.
fn range() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..4, any::<u16>(), 0u8..=32).prop_map(|(net, low, prefix)| {
            let bits = (u32::from(net) << 30) | (10 << 24) | u32::from(low);
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            format!("{}/{prefix}", Ipv4Addr::from(bits & mask))
        }),
        (0u8..4, any::<u32>(), 0u8..=128).prop_map(|(net, low, prefix)| {
            let bits = (0x2001_0db8u128 << 96) | (u128::from(net) << 64) | u128::from(low);
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            format!("{}/{prefix}", Ipv6Addr::from(bits & mask))
        }),
    ]
}

fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0u8..4, any::<u16>()).prop_map(|(net, low)| IpAddr::V4(Ipv4Addr::from(
            (u32::from(net) << 30) | (10 << 24) | u32::from(low)
        ))),
        (0u8..4, any::<u32>()).prop_map(|(net, low)| IpAddr::V6(Ipv6Addr::from(
            (0x2001_0db8u128 << 96) | (u128::from(net) << 64) | u128::from(low)
        ))),
    ]
}

proptest! {
    #[test]
    fn a_child_within_its_parent_never_allows_more(
        parent in prop::collection::vec(range(), 0..4),
        child in prop::collection::vec(range(), 0..4),
        addresses in prop::collection::vec(address(), 1..16),
    ) {
        let parent = AllowedIps::parse(&parent).unwrap();
        let child = AllowedIps::parse(&child).unwrap();
        if child.within(&parent) {
            for address in addresses {
                prop_assert!(
                    !child.allows(Some(address)) || parent.allows(Some(address)),
                    "{address} allowed by the child only"
                );
            }
        }
    }

    #[test]
    fn normalising_keeps_what_a_list_allows(
        entries in prop::collection::vec(range(), 0..6),
        addresses in prop::collection::vec(address(), 1..16),
    ) {
        let list = AllowedIps::parse(&entries).unwrap();
        let again = AllowedIps::parse(&list.to_strings()).unwrap();
        prop_assert_eq!(&again, &list);
        for address in addresses {
            let by_entry = entries.is_empty() || entries.iter().any(|e| {
                AllowedIps::parse(&[e.as_str()]).unwrap().allows(Some(address))
            });
            prop_assert_eq!(list.allows(Some(address)), by_entry);
        }
    }

    #[test]
    fn a_mapped_address_is_its_ipv4_address(
        entries in prop::collection::vec(range(), 1..4),
        low in any::<u16>(),
        net in 0u8..4,
    ) {
        let list = AllowedIps::parse(&entries).unwrap();
        let v4 = Ipv4Addr::from((u32::from(net) << 30) | (10 << 24) | u32::from(low));
        prop_assert_eq!(
            list.allows(Some(IpAddr::V4(v4))),
            list.allows(Some(IpAddr::V6(v4.to_ipv6_mapped())))
        );
    }
}
