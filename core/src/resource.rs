//! Resource patterns that narrow a scope: `orgs/acme/**`, `orgs/*/apps`.
//!
//! A pattern is a `/`-separated list of segments. A literal segment matches
//! itself; `*` matches exactly one segment; `**`, allowed only as the last
//! segment, matches zero or more. A resource named by a request is the same
//! shape without wildcards. Segments are 1 to 64 characters of
//! `[A-Za-z0-9._~:@+=,-]`, and `.` and `..` are refused so that no pattern
//! can be read as a path traversal.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The longest pattern or resource, in bytes.
pub const MAX_RESOURCE_LEN: usize = 512;
/// The most segments in a pattern or resource.
pub const MAX_SEGMENTS: usize = 32;
/// The longest segment, in bytes.
pub const MAX_SEGMENT_LEN: usize = 64;

/// One segment of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// Matches exactly this text.
    Literal(Box<str>),
    /// `*`: matches any one segment.
    One,
}

/// A parsed resource pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct ResourcePattern {
    text: Box<str>,
    fixed: Vec<Segment>,
    /// Whether the pattern ends in `**`.
    rest: bool,
}

impl ResourcePattern {
    /// Parses a pattern, refusing anything outside the grammar above.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        check_length(text)?;
        let mut fixed = Vec::new();
        let mut rest = false;
        let mut segments = text.split('/').peekable();
        while let Some(segment) = segments.next() {
            match segment {
                "**" if segments.peek().is_none() => rest = true,
                "**" => return Err(PatternError::GlobNotLast),
                "*" => fixed.push(Segment::One),
                _ if segment.contains('*') => return Err(PatternError::PartialWildcard),
                _ => {
                    check_segment(segment)?;
                    fixed.push(Segment::Literal(segment.into()));
                }
            }
        }
        Ok(Self {
            text: text.into(),
            fixed,
            rest,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches `resource`. A malformed resource matches
    /// nothing. Allocates nothing.
    pub fn matches(&self, resource: &str) -> bool {
        if check_length(resource).is_err() {
            return false;
        }
        let mut count = 0;
        for segment in resource.split('/') {
            if check_segment(segment).is_err() {
                return false;
            }
            match self.fixed.get(count) {
                Some(Segment::Literal(literal)) if **literal != *segment => return false,
                Some(_) => {}
                None if !self.rest => return false,
                None => {}
            }
            count += 1;
        }
        count >= self.fixed.len()
    }

    /// Whether every resource `self` matches, `other` matches too.
    fn within(&self, other: &Self) -> bool {
        let (n, m) = (self.fixed.len(), other.fixed.len());
        let lengths_fit = if other.rest {
            n >= m
        } else {
            !self.rest && n == m
        };
        lengths_fit
            && self
                .fixed
                .iter()
                .zip(&other.fixed)
                .all(|(mine, theirs)| match (mine, theirs) {
                    (_, Segment::One) => true,
                    (Segment::Literal(a), Segment::Literal(b)) => a == b,
                    (Segment::One, Segment::Literal(_)) => false,
                })
    }

    /// Whether every resource `self` matches is matched by one of `others`.
    ///
    /// Segments can hold unboundedly many values, so a pattern of fixed
    /// length is covered by a set exactly when one member covers it. A
    /// pattern ending in `**` is split into its fixed-length cases up to the
    /// longest member, plus one tail that only a `**` member can cover; this
    /// makes the answer exact, not merely safe.
    pub(crate) fn covered_by(&self, others: &[Self]) -> bool {
        if !self.rest {
            return others.iter().any(|other| self.within(other));
        }
        let longest = others.iter().map(|o| o.fixed.len()).max().unwrap_or(0);
        let mut case = Self {
            text: Box::from(""),
            fixed: self.fixed.clone(),
            rest: false,
        };
        while case.fixed.len() <= longest {
            if !others.iter().any(|other| case.within(other)) {
                return false;
            }
            case.fixed.push(Segment::One);
        }
        case.rest = true;
        others.iter().any(|other| case.within(other))
    }
}

impl fmt::Debug for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResourcePattern").field(&self.text).finish()
    }
}

impl From<ResourcePattern> for String {
    fn from(pattern: ResourcePattern) -> Self {
        pattern.text.into()
    }
}

fn check_length(text: &str) -> Result<(), PatternError> {
    if text.is_empty() || text.len() > MAX_RESOURCE_LEN {
        return Err(PatternError::Length);
    }
    if text.split('/').nth(MAX_SEGMENTS).is_some() {
        return Err(PatternError::Length);
    }
    Ok(())
}

fn check_segment(segment: &str) -> Result<(), PatternError> {
    if segment.is_empty() {
        return Err(PatternError::EmptySegment);
    }
    if segment.len() > MAX_SEGMENT_LEN {
        return Err(PatternError::Length);
    }
    if segment == "." || segment == ".." {
        return Err(PatternError::DotSegment);
    }
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b"._~:@+=,-".contains(b);
    if !segment.as_bytes().iter().all(allowed) {
        return Err(PatternError::Charset);
    }
    Ok(())
}

/// Why a resource pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternError {
    /// Empty, longer than 512 bytes, more than 32 segments, or a segment
    /// longer than 64 bytes.
    Length,
    /// Two slashes in a row, or a slash at either end.
    EmptySegment,
    /// A `.` or `..` segment.
    DotSegment,
    /// A character outside `[A-Za-z0-9._~:@+=,-]`.
    Charset,
    /// A `*` inside a segment, such as `app*`.
    PartialWildcard,
    /// `**` anywhere but the last segment.
    GlobNotLast,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Length => "a resource pattern must be 1 to 512 bytes in at most 32 segments of at most 64 bytes",
            Self::EmptySegment => "a resource pattern has an empty segment",
            Self::DotSegment => "a resource pattern may not have '.' or '..' segments",
            Self::Charset => "a resource pattern segment may only hold [A-Za-z0-9._~:@+=,-]",
            Self::PartialWildcard => "'*' must be a whole segment",
            Self::GlobNotLast => "'**' may only be the last segment",
        })
    }
}

impl core::error::Error for PatternError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn p(text: &str) -> ResourcePattern {
        ResourcePattern::parse(text).unwrap()
    }

    #[test]
    fn wildcards_match_as_documented() {
        assert!(p("orgs/acme/**").matches("orgs/acme"));
        assert!(p("orgs/acme/**").matches("orgs/acme/apps/1"));
        assert!(!p("orgs/acme/**").matches("orgs/acmex"));
        assert!(!p("orgs/acme/**").matches("orgs"));
        assert!(p("orgs/*/apps").matches("orgs/acme/apps"));
        assert!(!p("orgs/*/apps").matches("orgs/apps"));
        assert!(!p("orgs/*/apps").matches("orgs/a/b/apps"));
        assert!(p("**").matches("anything/at/all"));
        assert!(!p("orgs/acme").matches("orgs/acme/apps"));
    }

    #[test]
    fn malformed_resources_match_nothing() {
        for resource in [
            "",
            "orgs//acme",
            "orgs/acme/",
            "orgs/../x",
            "orgs/a b",
            "orgs/*",
        ] {
            assert!(!p("**").matches(resource), "{resource}");
        }
    }

    #[test]
    fn malformed_patterns_are_refused() {
        let cases = [
            ("", PatternError::Length),
            ("a//b", PatternError::EmptySegment),
            ("/a", PatternError::EmptySegment),
            ("a/./b", PatternError::DotSegment),
            ("a/b c", PatternError::Charset),
            ("a/b*", PatternError::PartialWildcard),
            ("**/a", PatternError::GlobNotLast),
        ];
        for (text, error) in cases {
            assert_eq!(ResourcePattern::parse(text).unwrap_err(), error, "{text}");
        }
        assert_eq!(
            ResourcePattern::parse(&"a/".repeat(40)).unwrap_err(),
            PatternError::Length
        );
    }

    #[test]
    fn containment_is_exact_for_unions() {
        let set = vec![p("x"), p("x/*"), p("x/*/*/**")];
        assert!(p("x/**").covered_by(&set));
        assert!(!p("x/**").covered_by(&[p("x"), p("x/*/*/**")]));
        assert!(p("x/a/b").covered_by(&[p("x/**")]));
        assert!(!p("x/**").covered_by(&[p("x/*/**")]));
        assert!(p("x/*").covered_by(&[p("*/*")]));
        assert!(!p("*/a").covered_by(&[p("x/*")]));
    }
}
