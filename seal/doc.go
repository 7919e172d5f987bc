// Package seal is the device's encryption at rest: a random data key, kept
// only wrapped by a key derived from the user's PIN, and the AEAD that
// encrypts the store's values with it.
//
// # Keys
//
// A [Key] is 32 random bytes ([NewKey]). It never changes for the life of a
// store: changing the PIN re-wraps it ([Wrap]) and nothing else. The wrapping
// key is Argon2id (RFC 9106) of the PIN with a random 16-byte salt and the
// [Params] stored beside it, so a wrapped key made with other parameters
// still opens. [Unwrap] with a wrong PIN fails with [ErrWrongPIN]: the
// wrapped key is itself sealed with XChaCha20-Poly1305, whose tag is the only
// check of the PIN (no PIN or hash of it is stored).
//
// # Values
//
// A [Cipher] seals values with XChaCha20-Poly1305 (a random 24-byte nonce per
// value, so nonces never repeat in practice however many values a store
// writes) and the caller's associated data: the store passes the value's
// place (a record's kind and ID, a log entry's header, a draft's key), so a
// value copied to another place fails to open instead of being read as the
// other record's.
//
// # PINs
//
// [CheckPIN] is the strength rule a cadre lives with: six digits; not one
// of the PINs everybody tries first (a run like 123456 or 987654, one or
// two digits only like 000000 or 121212, a half repeated like 520520, a
// keypad pattern like 147258); not the cadre's own birthday, phone or ID
// number tail (pass them as personal, see [Personal]). Six digits leave an
// offline attacker with the file and the CPU time at most a million Argon2id
// runs; the PIN protects against a finder, a borrower or a repair shop, not
// against a determined lab (the README's threat model says so).
package seal
