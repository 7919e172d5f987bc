// Package query answers the screens' questions over a replica (store.DB):
// each function is one read transaction (store.DB.View) that walks the
// store's secondary indexes rather than the records.
//
// A cadre's households ([MyHouseholds]), overdue first; a group's or a
// village's; search by name, pinyin initials or full pinyin, phone and
// ID-number tail ([Search], [Match]); the household card (一口清, [Card]); a
// village's overview, open problems, plans awaiting review, conflicts and
// cadres' activity for a team leader; the roster, its history and coverage,
// and the three-level check ([Assistance]); and [Summary] for the server's
// stats. Times are passed in (now), so that tests fix the clock.
//
// The indexes themselves belong to store, which updates them in the
// transaction that writes the record; this package only reads them
// (store.Tx.Scan), and its results are decoded copies.
package query
