//! Randomness for secrets, keys and tokens, read from the operating system each time
//! (rand's `SysRng`), never from a generator seeded once.

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use rand::Rng as _;

/// The operating system's random source as a generator that cannot fail: if the
/// machine cannot give random bytes, nothing secret can be made, and Roster stops.
pub fn os() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// Fills `bytes` from the operating system.
pub fn fill(bytes: &mut [u8]) {
    os().fill_bytes(bytes);
}

/// `len` characters drawn uniformly from `alphabet`.
pub fn string_from(alphabet: &[u8], len: usize) -> String {
    use rand::RngExt as _;
    let mut rng = os();
    (0..len).map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_differ_and_stay_in_their_alphabet() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        fill(&mut a);
        fill(&mut b);
        assert_ne!(a, b);
        let text = string_from(b"ab", 64);
        assert!(
            text.len() == 64 && text.chars().all(|c| c == 'a' || c == 'b') && text.contains('a') && text.contains('b')
        );
    }
}
