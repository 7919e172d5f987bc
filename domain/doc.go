// Package domain is the shared vocabulary of 帮扶走访 (Bangfu Visits): the places of
// the four-level assistance linkage (市镇村户四级帮扶联动), the people who carry it
// out, and the records they keep — visits, problems, plans and their measures,
// reviews — together with the rules that do not depend on storage or transport.
//
// It imports only the standard library and github.com/google/uuid. The store, the
// sync protocol and the app convert to and from these types in one place each.
//
// # Records
//
// Every record type embeds [Meta]: a UUID made where the record is created, the
// created and updated times, the author (a cadre) and device, and a tombstone flag.
// A record's content is a set of named fields ([Fields]); the JSON tags of the
// record's struct name them. Edits travel as [Change] values that carry only the
// fields they change, each stamped with a hybrid logical clock ([Stamp]).
//
// # Merging
//
// Replicas merge field by field with [MergeField]: the higher stamp wins, and a
// value that loses to a concurrent edit (one whose author had not seen it) is kept
// as a [Conflict] record that a team leader can read and resolve. The rule is pure
// and deterministic, so every replica that sees the same changes ends the same.
//
// # Validation
//
// Each record type has a Validate method that returns an [*Error] whose message a
// cadre can read, in Chinese and English.
//
// # Three-level assistance
//
// [CheckAssistance] finds registered households missing a county-level leader, a
// section-level cadre or a helper, and cadres paired with fewer households than
// their rank's quota ([Quotas], settings rather than constants).
package domain
