// Package replica is the vocabulary a replica's storage speaks to the sync
// server and to the engines that keep it: the entries of a replica's log
// (Entry), where a walk of its current state resumes (StatePos), where a
// record belongs (Location), a cadre's assignments as the server reads them
// (Assigned, Duty), a push refused (Refused), and the server's registry of
// devices and audit log (Device, Reason, AuditEntry) with what every registry
// says alike: the errors a device is told (ErrLost, ErrCodeUsed, …), the
// form of codes and device names, lockouts (enrol.go).
//
// The types were store's; store keeps aliases of them, so that code written
// against store.Entry and the rest compiles unchanged. Implementations of
// the sync server's storage other than bbolt's (sync/server/pgstore,
// sync/server/memstore) speak them without reaching into the bbolt engine.
// The package imports only the standard library, uuid and domain.
package replica
