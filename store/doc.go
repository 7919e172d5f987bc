// Package store keeps a replica's records in one bbolt file: the records
// themselves, field by field with the stamp of the edit that set each field,
// the indexes the screens' queries walk, and the replica's change log, which is
// what sync sends.
//
// # Transactions
//
// Each exported method is one bbolt transaction. A local edit ([DB.Put],
// [DB.Delete]) and a change received from another replica ([DB.Apply]) write
// the record, its indexes and the log entry together, so a crash can never
// separate a record from the change that sync must send for it. A page pulled
// from upstream is applied together with the sync cursors it advances
// ([DB.ApplyPull]), and a visit typed as a draft is saved together with the
// draft's removal ([DB.PutDraft]). Bytes never leave a transaction without
// being copied.
//
// [DB.Load] is the exception: it builds a new, empty store from millions of
// records (the prefecture benchmarks), writing what Put would write record by
// record, but bucket by bucket in key order over several transactions, after
// checking every record as Put does.
//
// # Merging
//
// Content rules (each record's Validate, and the references a local edit must
// resolve) are checked by [DB.Put], where the edit is made. Changes from other
// replicas are merged field by field with domain.MergeField and refused only
// when they cannot be merged at all (no fields, values of the wrong type):
// a merge that refused on content could refuse on one replica what another
// accepted, and the two would differ for good.
//
// # Layout
//
//	meta                    schema version, device ID, clock and its offset, settings
//	rec/<kind>              record ID -> row (binary: a stamp table, then fields; rowcodec.go)
//	log                     sequence (uint64 BE) -> entry (binary header, JSON fields; log.go)
//	seen                    change ID -> sequence: a change is applied once
//	cursor                  name -> value (sync cursors)
//	local                   name -> value: the replica's local state (its sync account), never replicated
//	idx/...                 secondary indexes (see index.go)
//	draft                   key -> bytes: local drafts, never logged or synced
//	<any other name>        a local bucket another package keeps (Tx.Bucket): the sync server's
//	                        device registry (enrol, devices, escrow, lockouts), never logged
//
// In a sealed store the values of rec, log (the body after the header),
// draft and cursor are sealed, and idx/hh_search and idx/member_name are
// not in the file (vault.go).
//
// Keys are big-endian so that bbolt's byte order is numeric order.
//
// # Reading
//
// [DB.View] runs a read transaction with a [Tx]: records by ID or kind, one
// field's merge state, the secondary indexes in key order, and the rules in
// force in a village. The screens' questions (a cadre's households, search,
// the household card, a village's overview, the roster and the three-level
// check) are written on it in package query (bangfu/store/query); the
// indexes they walk stay here, updated in the transaction that writes the
// record. The search key a household is indexed under ([SearchKey]) is part
// of the layout.
//
// # Local state of other packages
//
// [DB.Update] runs a read-write transaction with the same [Tx]: it reads the
// replica as View does and writes only local state — buckets another
// package keeps ([Tx.Bucket], [Tx.CreateBucket], a [Bucket] with values,
// nested buckets and a [Cursor]) and the audit log ([Tx.Audit]) — never the
// records or the log. The sync server keeps its device registry so
// (server.BoltRegistry): an enrolment reads the cadre on the roster and
// writes the device in one transaction.
//
// # Encryption at rest
//
// A device's store can be sealed with a PIN ([DB.Seal]): a random data key,
// wrapped by Argon2id of the PIN (package seal), encrypts every row, log
// entry body, draft and sync cursor with XChaCha20-Poly1305, each bound to
// its place; the search indexes that hold names, phones and ID tails are
// kept in memory from [DB.Unlock] to [DB.Lock] instead of in the file. While
// locked every method returns [ErrNeedPIN]. Wrong PINs slow down and then
// lock out ([PINDelay], [MaxPINTries]) with the count kept in the file; the
// data key escrowed with the office opens a locked-out store
// ([DB.UnlockWithKey]) without losing unsynced work. vault.go describes
// what is sealed and what stays clear. A store never sealed (a server's)
// is unchanged.
//
// # One opener
//
// bbolt allows one process to open a file. [Open] waits at most
// [Options.Timeout] and then returns [ErrLocked], so a second server or app on
// the same data directory fails with a clear message instead of hanging.
package store
