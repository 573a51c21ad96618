//! `tests/vectors/network.json`: network allowlists. How a list is parsed
//! and normalised (or refused, with the entry's position), which addresses
//! a list allows, and whether a child's list lies within its parent's.
//! Every outcome is written here by hand and checked against the core.

use serde_json::{Value, json};
use tessera_core::{AllowedIps, code};

/// A parse case: the entries, and the normal form or the refusal.
fn parse_case(name: &str, entries: &[&str], expect: Result<&[&str], usize>) -> Value {
    let got = AllowedIps::parse(entries);
    let expected = match expect {
        Ok(normal) => {
            let list = got.as_ref().map(AllowedIps::to_strings).expect(name);
            assert_eq!(list, normal, "{name}");
            json!({ "ranges": normal })
        }
        Err(index) => {
            let error = got.expect_err(name);
            assert_eq!(error.code(), code::IPS_INVALID, "{name}");
            assert_eq!(error.index(), Some(index), "{name}");
            json!({ "error": code::IPS_INVALID, "index": index })
        }
    };
    json!({ "name": name, "entries": entries, "expect": expected })
}

/// A match case: a list, an address (or none), and whether it is allowed.
fn match_case(name: &str, ranges: &[&str], address: Option<&str>, allowed: bool) -> Value {
    let list = AllowedIps::parse(ranges).expect(name);
    let parsed = address.map(|a| a.parse().expect("address"));
    assert_eq!(list.allows(parsed), allowed, "{name}");
    let expect = if allowed {
        json!({ "allowed": true })
    } else {
        json!({ "error": code::IP_DENIED })
    };
    json!({ "name": name, "ranges": ranges, "address": address, "expect": expect })
}

/// An attenuation case: a parent's and a child's lists.
fn within_case(name: &str, parent: &[&str], child: &[&str], within: bool) -> Value {
    let p = AllowedIps::parse(parent).expect(name);
    let c = AllowedIps::parse(child).expect(name);
    assert_eq!(c.within(&p), within, "{name}");
    let expect = if within {
        json!({ "within": true })
    } else {
        json!({ "error": code::IPS_EXCEED_PARENT })
    };
    json!({ "name": name, "parent": parent, "child": child, "expect": expect })
}

pub(crate) fn network_vectors() -> Value {
    let parse = vec![
        parse_case(
            "IPv4 and IPv6 ranges, sorted IPv4 first",
            &["2001:db8::/32", "10.0.0.0/8"],
            Ok(&["10.0.0.0/8", "2001:db8::/32"]),
        ),
        parse_case(
            "a bare address is a range of one",
            &["203.0.113.7", "2001:db8::1"],
            Ok(&["203.0.113.7/32", "2001:db8::1/128"]),
        ),
        parse_case(
            "duplicates and covered ranges go",
            &["10.1.0.0/16", "10.0.0.0/8", "10.0.0.0/8"],
            Ok(&["10.0.0.0/8"]),
        ),
        parse_case(
            "IPv6 is written in its canonical form",
            &["2001:0DB8:0000::/48"],
            Ok(&["2001:db8::/48"]),
        ),
        parse_case(
            "everywhere of one family",
            &["0.0.0.0/0", "::/0"],
            Ok(&["0.0.0.0/0", "::/0"]),
        ),
        parse_case("an empty list means anywhere", &[], Ok(&[])),
        parse_case(
            "a prefix longer than IPv4's",
            &["10.0.0.0/8", "203.0.113.7/33"],
            Err(1),
        ),
        parse_case("a prefix longer than IPv6's", &["2001:db8::/129"], Err(0)),
        parse_case("host bits set beyond the prefix", &["10.0.0.1/8"], Err(0)),
        parse_case(
            "IPv6 host bits set beyond the prefix",
            &["2001:db8::1/32"],
            Err(0),
        ),
        parse_case("a leading zero in the prefix", &["10.0.0.0/08"], Err(0)),
        parse_case("an empty prefix", &["10.0.0.0/"], Err(0)),
        parse_case("a name, not an address", &["example.com"], Err(0)),
        parse_case("spaces are not trimmed", &[" 10.0.0.0/8"], Err(0)),
        parse_case(
            "an IPv4-mapped range is not an IPv4 range",
            &["::ffff:10.0.0.0/104"],
            Ok(&["::ffff:10.0.0.0/104"]),
        ),
    ];
    let matching = vec![
        match_case(
            "inside an IPv4 range",
            &["10.0.0.0/8"],
            Some("10.200.3.4"),
            true,
        ),
        match_case(
            "outside every range",
            &["10.0.0.0/8", "2001:db8::/32"],
            Some("11.0.0.1"),
            false,
        ),
        match_case(
            "inside an IPv6 range",
            &["2001:db8::/32"],
            Some("2001:db8:1::5"),
            true,
        ),
        match_case(
            "an IPv4-mapped address matches its IPv4 range",
            &["10.0.0.0/8"],
            Some("::ffff:10.1.2.3"),
            true,
        ),
        match_case(
            "an IPv4-mapped address outside it",
            &["10.0.0.0/8"],
            Some("::ffff:11.1.2.3"),
            false,
        ),
        match_case(
            "an IPv4 address never matches an IPv6 range",
            &["::/0"],
            Some("10.1.2.3"),
            false,
        ),
        match_case(
            "a single address",
            &["203.0.113.7/32"],
            Some("203.0.113.7"),
            true,
        ),
        match_case(
            "its neighbour",
            &["203.0.113.7/32"],
            Some("203.0.113.8"),
            false,
        ),
        match_case("no ranges: anywhere", &[], Some("198.51.100.1"), true),
        match_case("no ranges and no known address", &[], None, true),
        match_case(
            "a restricted token with no known address",
            &["10.0.0.0/8"],
            None,
            false,
        ),
    ];
    let within = vec![
        within_case("a narrower child", &["10.0.0.0/8"], &["10.1.0.0/16"], true),
        within_case(
            "the same ranges",
            &["10.0.0.0/8", "2001:db8::/32"],
            &["2001:db8::/32", "10.0.0.0/8"],
            true,
        ),
        within_case("a wider child", &["10.0.0.0/8"], &["10.0.0.0/7"], false),
        within_case(
            "a range outside the parent's",
            &["10.0.0.0/8"],
            &["10.1.0.0/16", "192.0.2.0/24"],
            false,
        ),
        within_case(
            "anywhere under a restricted parent",
            &["10.0.0.0/8"],
            &[],
            false,
        ),
        within_case(
            "anything under an unrestricted parent",
            &[],
            &["0.0.0.0/0"],
            true,
        ),
        within_case("anywhere under anywhere", &[], &[], true),
        within_case(
            "another family",
            &["10.0.0.0/8"],
            &["::ffff:10.0.0.0/104"],
            false,
        ),
    ];
    json!({
        "description": "Network allowlists: parse and normalise (refusals name the entry's index), match addresses, and a child's list within its parent's.",
        "parse": parse,
        "match": matching,
        "within": within,
    })
}
