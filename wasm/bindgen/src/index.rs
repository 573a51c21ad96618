//! An in-memory record index that lives inside the module, behind the
//! package's `MemoryStore`.
//!
//! Keeping the records on this side means a verification crosses into
//! WebAssembly once, with two short strings, and comes back with a number:
//! the slot of the record, whose principal the TypeScript layer has cached.

use std::collections::HashMap;
#[allow(deprecated)] // See `SeededSipHash`.
use std::hash::SipHasher;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::rc::Rc;

use tessera_core::{TokenHash, TokenRecord, code};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::{fail, millis};
use crate::json;
use crate::record::Record;

/// A hasher for keys that are already uniform: SHA-256 outputs. It folds the
/// bytes it is given into one word, which is as good as any keyed hash here
/// because nobody can choose a key: the module issues tokens from fresh
/// entropy, and records that `MemoryStore.put` is given come from the
/// application, which this index trusts (a lookup by a client's hash only
/// probes; it adds no key).
#[derive(Default)]
struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(word);
        }
    }
}

/// SipHash under keys drawn at random when the index is made: for keys a
/// caller may choose (user ids) or that come from records put (token ids).
///
/// On `wasm32-unknown-unknown` the standard library has no random source,
/// so `RandomState` derives its keys from memory addresses, which are the
/// same in every instance of the module: anyone could compute which user ids
/// collide and slow every lookup of a user down to a scan. `std`'s keyed
/// `SipHasher` is deprecated in favour of `DefaultHasher`, which cannot be
/// given keys either.
#[derive(Clone, Copy)]
struct SeededSipHash {
    k0: u64,
    k1: u64,
}

impl SeededSipHash {
    /// The keys in `seed`, which must be 16 random bytes.
    fn from_seed(seed: &[u8]) -> Option<Self> {
        let seed: &[u8; 16] = seed.try_into().ok()?;
        let (k0, k1) = seed.split_at(8);
        Some(Self {
            k0: u64::from_le_bytes(k0.try_into().ok()?),
            k1: u64::from_le_bytes(k1.try_into().ok()?),
        })
    }
}

#[allow(deprecated)] // See the type's documentation.
impl BuildHasher for SeededSipHash {
    type Hasher = SipHasher;

    fn build_hasher(&self) -> SipHasher {
        SipHasher::new_with_keys(self.k0, self.k1)
    }
}

/// A record and the slot it occupies. The record is shared with the sets
/// lifecycle operations read (see [`RecordIndex::user_set`]).
struct Entry {
    record: Rc<TokenRecord>,
    slot: u32,
}

/// Where a record is kept: its user's position in `users`, and its own in
/// that user's list.
#[derive(Clone, Copy)]
struct Place {
    user: u32,
    at: u32,
}

/// Records kept together by user (in the order they were stored), found by
/// hash, by id and by user.
///
/// A lifecycle operation reads every record of one user, so each user's
/// records lie in one list the core reads as it is: no lookup per record.
/// A verification finds its record with one probe by hash and two indexings.
#[wasm_bindgen]
pub struct RecordIndex {
    users: Vec<Vec<Entry>>,
    by_user: HashMap<String, u32, SeededSipHash>,
    by_hash: HashMap<TokenHash, Place, BuildHasherDefault<FoldHasher>>,
    by_id: HashMap<String, TokenHash, SeededSipHash>,
    /// The hash stored in each slot, `None` for a free one.
    by_slot: Vec<Option<TokenHash>>,
    free_slots: Vec<u32>,
    next_slot: u32,
}

impl RecordIndex {
    fn entry(&self, place: Place) -> &Entry {
        &self.users[place.user as usize][place.at as usize]
    }

    fn entry_mut(&mut self, place: Place) -> &mut Entry {
        &mut self.users[place.user as usize][place.at as usize]
    }

    fn entry_by_hash(&self, hash: &TokenHash) -> Option<&Entry> {
        self.by_hash.get(hash).map(|&place| self.entry(place))
    }

    /// The record stored under `hash` and its slot.
    pub(crate) fn find(&self, hash: &TokenHash) -> Option<(&TokenRecord, u32)> {
        self.entry_by_hash(hash).map(|e| (&*e.record, e.slot))
    }

    /// Records a use of the token stored under `hash`.
    pub(crate) fn touch_hash(&mut self, hash: &TokenHash, now: i64) {
        if let Some(&place) = self.by_hash.get(hash) {
            // Copied first only if a set still shares it.
            Rc::make_mut(&mut self.entry_mut(place).record).touch(now);
        }
    }

    /// The user's records, shared with the index, in the order they were
    /// stored.
    pub(crate) fn user_shared(&self, user_id: &str) -> Vec<Rc<TokenRecord>> {
        self.user_entries(user_id)
            .iter()
            .map(|e| Rc::clone(&e.record))
            .collect()
    }

    fn user_entries(&self, user_id: &str) -> &[Entry] {
        self.by_user
            .get(user_id)
            .map_or(&[][..], |&user| &self.users[user as usize])
    }

    /// Inserts a record, or replaces the one with the same id (keeping its
    /// slot); see [`RecordIndex::put`].
    pub(crate) fn insert(&mut self, record: TokenRecord) -> Result<u32, JsValue> {
        if let Some(other) = self.entry_by_hash(record.hash())
            && other.record.id() != record.id()
        {
            return Err(fail(
                code::STORE_FAILED,
                "another record is stored under this hash",
            ));
        }
        // An edit of a record its user keeps takes its place: no shift.
        if let Some(&old_hash) = self.by_id.get(record.id())
            && let Some(&place) = self.by_hash.get(&old_hash)
            && self.entry(place).record.user_id() == record.user_id()
        {
            self.by_hash.remove(&old_hash);
            self.by_hash.insert(*record.hash(), place);
            self.by_id.insert(record.id().into(), *record.hash());
            let hash = *record.hash();
            let entry = self.entry_mut(place);
            entry.record = Rc::new(record);
            let slot = entry.slot;
            self.by_slot[slot as usize] = Some(hash);
            return Ok(slot);
        }
        let slot = match self.remove(record.id()) {
            Some(old) => old.slot,
            None => self.free_slots.pop().unwrap_or_else(|| {
                self.next_slot += 1;
                self.next_slot - 1
            }),
        };
        let user = match self.by_user.get(record.user_id()) {
            Some(&user) => user,
            None => {
                let user = u32::try_from(self.users.len())
                    .map_err(|_| fail(code::STORE_FAILED, "the index is full"))?;
                // Most users hold a token or two: start with room for one.
                self.users.push(Vec::with_capacity(1));
                self.by_user.insert(record.user_id().into(), user);
                user
            }
        };
        let entries = &mut self.users[user as usize];
        let at = u32::try_from(entries.len())
            .map_err(|_| fail(code::STORE_FAILED, "the index is full"))?;
        self.by_id.insert(record.id().into(), *record.hash());
        self.by_hash.insert(*record.hash(), Place { user, at });
        if self.by_slot.len() <= slot as usize {
            self.by_slot.resize(slot as usize + 1, None);
        }
        self.by_slot[slot as usize] = Some(*record.hash());
        entries.push(Entry {
            record: Rc::new(record),
            slot,
        });
        Ok(slot)
    }

    /// Takes out the record with this id; the records stored after it in
    /// its user's list move up one place.
    fn remove(&mut self, id: &str) -> Option<Entry> {
        let hash = self.by_id.remove(id)?;
        let place = self.by_hash.remove(&hash)?;
        let entries = &mut self.users[place.user as usize];
        let entry = entries.remove(place.at as usize);
        if let Some(held) = self.by_slot.get_mut(entry.slot as usize) {
            *held = None;
        }
        for (at, moved) in entries.iter().enumerate().skip(place.at as usize) {
            if let Some(p) = self.by_hash.get_mut(moved.record.hash()) {
                p.at = at as u32;
            }
        }
        Some(entry)
    }
}

#[wasm_bindgen]
impl RecordIndex {
    /// An empty index whose maps of user ids and token ids are keyed by
    /// `seed`: 16 bytes from a cryptographic random source, never reused.
    /// Any other length is refused (`INTERNAL`).
    #[wasm_bindgen(constructor)]
    pub fn new(seed: &[u8]) -> Result<RecordIndex, JsValue> {
        let keyed = SeededSipHash::from_seed(seed)
            .ok_or_else(|| fail(code::INTERNAL, "an index needs a seed of 16 random bytes"))?;
        Ok(RecordIndex {
            users: Vec::new(),
            by_user: HashMap::with_hasher(keyed),
            by_hash: HashMap::default(),
            by_id: HashMap::with_hasher(keyed),
            by_slot: Vec::new(),
            free_slots: Vec::new(),
            next_slot: 0,
        })
    }

    /// Inserts a record, or replaces the one with the same id (keeping its
    /// slot). Returns the slot. A record whose hash is already stored under
    /// another id is refused (`STORE_FAILED`).
    pub fn put(&mut self, record: &Record) -> Result<u32, JsValue> {
        self.insert(record.inner.clone())
    }

    /// The record with this id, as JSON.
    pub fn get_by_id(&self, id: &str) -> Option<String> {
        let hash = self.by_id.get(id)?;
        self.entry_by_hash(hash)
            .map(|e| json::record(&e.record, true))
    }

    /// The record stored under this hex hash, as JSON.
    pub fn get_by_hash(&self, hash: &str) -> Option<String> {
        let hash = TokenHash::from_hex(hash)?;
        self.entry_by_hash(&hash)
            .map(|e| json::record(&e.record, true))
    }

    /// What lists show of the record in this slot (everything but the
    /// hash), as JSON; `None` for a free slot.
    pub fn info_at(&self, slot: u32) -> Option<String> {
        let hash = self.by_slot.get(slot as usize).copied().flatten()?;
        self.entry_by_hash(&hash)
            .map(|e| json::record(&e.record, false))
    }

    /// Removes the record with this id. Returns its freed slot, or -1 when
    /// there was none.
    pub fn delete(&mut self, id: &str) -> i32 {
        match self.remove(id) {
            Some(entry) => {
                self.free_slots.push(entry.slot);
                i32::try_from(entry.slot).unwrap_or(-1)
            }
            None => -1,
        }
    }

    /// The user's records, as a JSON array in the order they were stored.
    pub fn list_by_user(&self, user_id: &str) -> String {
        let mut out = String::from("[");
        for (i, entry) in self.user_entries(user_id).iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&json::record(&entry.record, true));
        }
        out.push(']');
        out
    }

    /// How many records the user holds.
    pub fn count_by_user(&self, user_id: &str) -> u32 {
        u32::try_from(self.user_entries(user_id).len()).unwrap_or(u32::MAX)
    }

    /// Sets the last-used time of the record with this id. Returns whether
    /// there was one.
    pub fn touch(&mut self, id: &str, now: f64) -> bool {
        let Some(hash) = self.by_id.get(id).copied() else {
            return false;
        };
        self.touch_hash(&hash, millis(now));
        true
    }

    /// How many records the index holds.
    pub fn size(&self) -> u32 {
        u32::try_from(self.by_hash.len()).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_hash_by_the_seed() {
        let seed: Vec<u8> = (1..=16).collect();
        let a = SeededSipHash::from_seed(&seed).unwrap();
        let b = SeededSipHash::from_seed(&seed).unwrap();
        let mut other = seed.clone();
        other[15] ^= 1;
        let c = SeededSipHash::from_seed(&other).unwrap();
        assert_eq!(a.hash_one("alice"), b.hash_one("alice"));
        assert_ne!(a.hash_one("alice"), c.hash_one("alice"));
        // Each half of the seed is a key.
        other = seed.clone();
        other[0] ^= 1;
        assert_ne!(
            a.hash_one("alice"),
            SeededSipHash::from_seed(&other).unwrap().hash_one("alice")
        );
    }

    #[test]
    fn a_seed_is_exactly_sixteen_bytes() {
        assert!(SeededSipHash::from_seed(&[7; 15]).is_none());
        assert!(SeededSipHash::from_seed(&[7; 17]).is_none());
        assert!(SeededSipHash::from_seed(&[]).is_none());
        assert!(SeededSipHash::from_seed(&[7; 16]).is_some());
    }
}
