//! A small in-place sort for the WebAssembly modules.
//!
//! The standard library's sorts are fast but large: each element type
//! brings its own copy of quicksort, small-sort networks and a heapsort
//! fallback (about 3.5 KB of code in the Envoy filter). The core sorts
//! short lists (a scope's actions, a token's ranges) and, once per
//! operation, a catalog or a user's records, so a plain heapsort serves:
//! O(n log n) in the worst case, no allocation, not stable (the callers
//! sort by unique keys or drop equal neighbours afterwards).

/// Sorts `items` in place so that no item is `less` than the one before it.
pub(crate) fn sort_by<T>(items: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    let len = items.len();
    for start in (0..len / 2).rev() {
        sift_down(items, start, len, &mut less);
    }
    for end in (1..len).rev() {
        items.swap(0, end);
        sift_down(items, 0, end, &mut less);
    }
}

/// Moves `items[root]` down the max-heap held in `items[..end]`.
fn sift_down<T>(
    items: &mut [T],
    mut root: usize,
    end: usize,
    less: &mut impl FnMut(&T, &T) -> bool,
) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(&items[child], &items[child + 1]) {
            child += 1;
        }
        if !less(&items[root], &items[child]) {
            return;
        }
        items.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_as_the_standard_library_does(mut items in proptest::collection::vec(0u8..20, 0..200)) {
            let mut expected = items.clone();
            expected.sort();
            sort_by(&mut items, |a, b| a < b);
            prop_assert_eq!(items, expected);
        }

        #[test]
        fn sorts_by_a_key(items in proptest::collection::vec((0u8..5, any::<u16>()), 0..100)) {
            let mut ours: Vec<_> = items.iter().enumerate().map(|(i, &(k, v))| (k, v, i)).collect();
            let mut theirs = ours.clone();
            sort_by(&mut ours, |a, b| (a.0, a.1, a.2) < (b.0, b.1, b.2));
            theirs.sort();
            prop_assert_eq!(ours, theirs);
        }
    }
}
