//! Property tests of network allowlists: a child's ranges that pass
//! `within` never allow an address its parent's refuse, normalising never
//! changes which addresses a list allows, and an IPv4-mapped IPv6 address
//! is allowed exactly when its IPv4 address is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use tessera_core::{
    AllowedIps, Catalog, Creator, Deployment, Expiry, IssueRequest, Prefix, Request, ScopeSpec,
    Standing,
};

/// A deployment whose one action also creates tokens.
fn deployment() -> Deployment {
    let catalog = Catalog::from_pairs([("tokens.create", &["read"][..])]).unwrap();
    Deployment::new(Prefix::new("tsr").unwrap(), catalog)
}

/// Issues a token by the user (`parent` none) or by `parent`, presented
/// from `from`, with the ranges `ips`.
fn issue(
    d: &Deployment,
    parent: Option<(&tessera_core::Issued, Option<IpAddr>)>,
    ips: &[String],
    seed: u8,
) -> Result<tessera_core::Issued, &'static str> {
    let scope = ScopeSpec::actions(["tokens.create"]);
    let creator = match parent {
        None => Creator::User,
        Some((p, from)) => Creator::Token(
            d.authenticate(p.record.hash(), Some(&p.record), Standing::OWNER, from, 0)
                .map_err(|e| e.code())?,
        ),
    };
    d.issue(
        &IssueRequest {
            user_id: "u1",
            name: "t",
            description: None,
            expires: Expiry::Never,
            scope: &scope,
            allowed_ips: ips,
            creator,
            tokens_held: 0,
        },
        0,
        &[seed; 32],
    )
    .map_err(|e| e.code())
}

/// Whether `issued` verifies from `address`, through the whole verification.
fn verifies(d: &Deployment, issued: &tessera_core::Issued, address: IpAddr) -> bool {
    let hash = d.hash(&d.parse(issued.token.expose()).unwrap());
    let request = Request::action("tokens.create").from_ip(Some(address));
    d.verify(&hash, Some(&issued.record), Standing::OWNER, &request, 1)
        .is_ok()
}

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

    /// Through issuing and verification: a token made by a restricted token
    /// never verifies from an address its parent would be refused from.
    #[test]
    fn a_token_made_by_a_token_never_verifies_where_its_parent_cannot(
        parent_ranges in prop::collection::vec(range(), 1..4),
        child_ranges in prop::collection::vec(range(), 0..4),
        addresses in prop::collection::vec(address(), 1..16),
    ) {
        let d = deployment();
        let parent = issue(&d, None, &parent_ranges, 1).unwrap();
        let from = AllowedIps::parse(&parent_ranges).unwrap().ranges()[0].network();
        match issue(&d, Some((&parent, Some(from))), &child_ranges, 2) {
            Ok(child) => {
                for address in addresses {
                    prop_assert!(
                        !verifies(&d, &child, address) || verifies(&d, &parent, address),
                        "{address} verifies the child only"
                    );
                }
            }
            Err(code) => prop_assert_eq!(code, "IPS_EXCEED_PARENT"),
        }
    }

    /// Records write addresses by hand; the text is exactly the standard
    /// library's (RFC 5952 for IPv6, dotted for IPv4-mapped).
    #[test]
    fn ranges_are_written_as_the_standard_library_writes_addresses(
        bits in prop_oneof![
            any::<u128>(),
            any::<u32>().prop_map(|low| 0xffff_0000_0000u128 | u128::from(low)),
            (any::<[u8; 8]>(), any::<u8>()).prop_map(|(groups, zeros)| {
                // Few distinct groups, many zero: runs of zeros of every length.
                groups.iter().enumerate().fold(0u128, |acc, (i, &g)| {
                    let group = if zeros & (1 << i) != 0 { 0 } else { u128::from(g) % 3 };
                    acc | group << (112 - 16 * i)
                })
            }),
        ],
        v4 in any::<u32>(),
        prefix in 0u8..=32,
    ) {
        let v6 = Ipv6Addr::from(bits);
        let text = format!("{v6}/128");
        prop_assert_eq!(AllowedIps::parse(&[&text]).unwrap().to_strings(), vec![text]);
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
        let text = format!("{}/{prefix}", Ipv4Addr::from(v4 & mask));
        prop_assert_eq!(AllowedIps::parse(&[&text]).unwrap().to_strings(), vec![text]);
    }
}
