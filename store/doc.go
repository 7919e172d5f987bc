// Package store keeps a replica's records in one bbolt file: the records
// themselves, field by field with the stamp of the edit that set each field,
// the indexes the app's screens need, and the replica's change log, which is
// what sync sends.
//
// # Transactions
//
// Each exported method is one bbolt transaction. A local edit ([DB.Put],
// [DB.Delete]) and a change received from another replica ([DB.Apply]) write
// the record, its indexes and the log entry together, so a crash can never
// separate a record from the change that sync must send for it. Bytes never
// leave a transaction without being copied.
//
// # Layout
//
//	meta                    schema version, device ID, clock, settings
//	rec/<kind>              record ID -> row (fields with stamps and authors)
//	log                     sequence (uint64 BE) -> entry (change, origin, scope)
//	seen                    change ID -> sequence: a change is applied once
//	cursor                  name -> value (sync cursors)
//	idx/...                 secondary indexes (see index.go)
//
// Keys are big-endian so that bbolt's byte order is numeric order.
//
// # One opener
//
// bbolt allows one process to open a file. [Open] waits at most
// [Options.Timeout] and then returns [ErrLocked], so a second server or app on
// the same data directory fails with a clear message instead of hanging.
package store
