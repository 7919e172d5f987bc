// Package protocol is the wire format of 帮扶走访 sync, version 1: the
// endpoints, the JSON bodies, the rules both sides follow, and the one place
// where domain changes are converted to and from the wire. The server
// (sync/server) and the device (sync/client) both use it; this comment is the
// reference a second implementation is written from. The golden files in
// testdata/ are exact bodies of each kind.
//
// # Model
//
// Every database is a replica with a log of changes, each change an edit of
// some fields of one record (see bangfu/domain: Change, Stamp, MergeField). A
// sync is one HTTP round trip between a device and its upstream (the server,
// or a team leader's tablet acting as one): the device sends the changes it
// has not yet had acknowledged, and its pull cursor; the upstream applies the
// changes, then answers how far the push is durable, the changes in the
// device's scope that the device has not seen, a new cursor, whether more
// pages wait, and its own time.
//
// # Endpoints
//
//	POST /v1/enroll   EnrollRequest  -> EnrollResponse   no token
//	POST /v1/sync     SyncRequest    -> SyncResponse     Authorization: Bearer <token>
//	GET  /healthz                    -> Health           no token
//	POST /v1/photos/have  HaveRequest -> HaveResponse    Authorization: Bearer <token>
//	HEAD|PATCH|GET /v1/photos/<hash>  a photo's bytes (see Photos)
//
// # Headers
//
// A request with a body has Content-Type: application/json (anything else is
// refused) and, when compressed, Content-Encoding: gzip; the only encodings are
// gzip and none. A client sends Accept-Encoding: gzip to receive compressed
// answers. Bodies of 200 bytes or more are compressed by this package, smaller
// ones are not (gzip's framing would cost more than it saves); a receiver
// accepts either. Every answer has Content-Type: application/json and
// Cache-Control: no-store, and a Date header (the server's clock, to the
// second). A device token travels as "Authorization: Bearer <token>"; tokens
// are opaque strings. A device names the additions to this version it
// understands in "Bangfu-Features: <name>[, <name>…]" (HeaderFeatures); a
// server uses an addition only with a device that names it, and older
// servers ignore the header. The one addition so far is "catchup-entered"
// (FeatureEntered, see Catch-up).
//
// # Encoding
//
// Bodies are UTF-8 JSON objects; every body carries "v": 1. UUIDs are
// lowercase in the 8-4-4-4-12 form; times ("now") are RFC 3339 in UTC with
// milliseconds; "through" and "acked" are unsigned 64-bit integers (beyond
// 2^53: parse them as integers, not doubles). Keys are case-sensitive and
// appear once per object. A server refuses unknown keys in a request (a new
// request field is a new version), repeated keys and anything after the
// object; a client ignores unknown keys in an answer (a server may add fields
// within a version).
//
// # Enrolment
//
// An administrator issues a one-time code for a cadre (it expires, and works
// once). The device trades it for its identity and token:
//
//	POST /v1/enroll
//	{"v":1,"code":"7QK4-M2PX","name":"马兴文的手机","device":"0b3d…"}
//
//	200
//	{"v":1,"device":"0b3d…","token":"…","cadre":"5c1a…","now":"2025-03-01T08:30:00.125Z","server":"77e0…"}
//
// "device" in the request is the ID the device made for itself when its
// database was created (its clock stamps with it); the server binds the token
// to that device and the cadre, and echoes the ID. "server" is the upstream's
// own replica ID: the device records pulled changes as received from it and
// never pushes them back. An unknown, used or expired code is 401
// unauthorized (fields "code", "code_used", "code_expired"); a request
// without "device" is 400.
//
// A device ID belongs to the first cadre that enrolled it, for good. An
// enrolment with an ID that another cadre's device holds, or that was
// revoked, is 401 with field "device_taken": device IDs are not secret (every
// stamp carries one), so an ID never moves to another cadre, and a device
// that must enrol again after a revocation makes a new ID (the app does when
// it starts a new database). The same cadre's live device may enrol again
// with a new code; its new token replaces the old.
//
// An enrolment is safe to retry: the same code with the same "device" within
// the code's life answers the same identity again with a fresh token, which
// replaces the first (so an answer lost on a weak link costs nothing). Any
// other device meets "code_used".
//
// "name" is 1 to 40 characters of valid UTF-8 without control or formatting
// characters (line breaks, escapes, bidirectional overrides) and without
// U+FFFD; anything else is 400 with field "name". The body is at most
// MaxEnrollBytes (4 KiB) of JSON.
//
// Wrong codes are limited: after 10 wrong, used or expired codes (or taken
// device IDs) from one address (an IPv6 address counts as its /64) within an
// hour, or 60 from all addresses, enrolment from that address (or from all)
// is refused for an hour with 503, field "locked" (ErrLocked), and a
// Retry-After header, even with a right code. Codes are 8 characters of an
// alphabet of 31 (31^8 ≈ 8.5e11): at 60 guesses an hour, the 72 hours a code
// lives allow 4,320 guesses, and with 75 live codes the chance that any
// guess hits is under 4e-7. The server logs each lockout and keeps it in its
// store (bangfud lockouts lists them); a restarted server keeps it.
//
// # Sync
//
//	POST /v1/sync
//	Authorization: Bearer <token>
//	{"v":1,"cursor":"<cursor>","through":57,"changes":[<change>, …]}
//
//	200
//	{"v":1,"now":"2025-03-01T08:30:00.125Z","acked":57,"changes":[<change>, …],"cursor":"<cursor>","more":false}
//
// A change is one edit of one record:
//
//	{
//	  "id":     "9f0c5b1e-2a44-4d7e-8f31-6b2c0a9d4e17",   the change's own UUID
//	  "kind":   "visit",                                  the record's kind
//	  "record": "3e7a1c90-5d2b-4f6a-9c18-7b4e2d0f5a36",   the record's UUID
//	  "author": "5c1a8e2f-7b3d-4a9c-8e61-0d4f2b7c9a15",   the cadre; all zeros for none
//	  "stamp":  "1740817800125.0.0b3d2f6e-…",             wall ms . logical . device UUID
//	  "fields": {"notes": "…", "at": "2025-03-01T08:00:00Z", "policies": true},
//	  "base":   {"notes": "1740731400000.2.0b3d2f6e-…"}   omitted when empty
//	}
//
// "kind" is one of place, household, member, cadre, assignment, visit,
// problem, plan, measure, review, conflict; a new kind is a new version.
// New fields of a kind are not a new version (a side ignores fields it does
// not know): the endings (assignment "until", "end_reason"; household "exit",
// "exit_on", "exit_reason", "status_request"; cadre "left", "left_on",
// "left_reason"; member "education", "gone", "gone_on", "gone_note") and a
// place's "rules" travel like any field.
// "fields" maps field names (the JSON names of the record's fields, 1 to 64
// bytes) to their new JSON values; a change carries only the fields it sets.
// "base" maps a field to the stamp of the value the editor saw when it set
// that field (absent for a field it saw unset); it tells a concurrent edit,
// whose loser is kept as a conflict record, from a sequential one. Stamps are
// hybrid logical clock readings, "<unix ms>.<counter>.<device uuid>" in
// decimal without leading zeros; they order edits (wall, then counter, then
// device bytes). The ID and record must not be all zeros. Anything else is
// refused with 400.
//
// Every kind's fields, their JSON types and who may write them are declared
// once in bangfu/domain (Decls; see docs/ARCHITECTURE.md), and an upstream
// checks each pushed change against them; the answers are set out under
// Refusals below.
//
// # Acknowledgement and idempotency
//
// The device numbers its log entries 1, 2, 3…; "through" is the highest
// sequence this push covers (entries the device received from this upstream
// are not sent back, so "through" may exceed the sequence of the last change
// sent), 0 if it has never had anything to push. The upstream applies the
// push in one transaction and answers "acked": the sequence through which the
// push is durable, which is "through" when every change is applied. The device
// then advances its push cursor to "acked" (never backwards) and does not send
// those changes again. A change that is well formed on the wire but that the
// upstream cannot merge — it sets no fields, a field its kind does not
// declare, or a value that does not fit the field's declared type (a number
// where the record holds text, a time that does not parse; see Refusals) —
// is acknowledged all the same and listed in "rejected" with its
// reason, so the device can show it instead of sending it forever:
//
//	"rejected":[{"id":"<change uuid>","code":"invalid","field":"fields","zh":"…","en":"…"}]
//
// ("rejected" is omitted when empty). Beyond the declarations (types,
// fields, who may write them) the upstream does not judge content:
// the rules of a record (a routine visit has notes, a visit is not in the
// future) are checked by the device where the edit is made, and a change that
// merges is applied even when the merged record breaks one. Two edits, each
// valid, can merge into a record no single edit made; refusing it on one
// replica and not another would leave them different for good.
//
// Any failure — an error answer, a dropped connection, a lost answer — leaves
// the push cursor where it was, and the same changes are sent again. That is
// safe: the upstream applies a change whose "id" it has seen before at most
// once, so a retried or duplicated push changes nothing the second time.
//
// # Refusals
//
// An upstream judges a push at three levels; which one a fault falls under
// decides how the device treats it:
//
//   - The request, 400, nothing applied. A correct client never sends these,
//     so the whole request is refused: a body that is not valid UTF-8 or that
//     escapes a lone UTF-16 surrogate (\udc00), anywhere — values, field
//     names, device names (field "utf8"; Go's decoder would quietly replace
//     them with U+FFFD, and a strict decoder on another device fail on them
//     for ever); two changes with the same "id" in one push (field
//     "changes"); a stamp or a "base" stamp more than domain.MaxSkew ahead of
//     the upstream's clock (field "clock", see Clocks: a base is a stamp the
//     editor saw, and no replica holds one from the future).
//   - One change, rejected alone: acknowledged and listed in "rejected" (see
//     Acknowledgement) with code "invalid" and its reason. The change does not
//     fit its kind's declaration: a field the kind does not have (field
//     "fields"), a value of the wrong JSON type — a string where a boolean
//     belongs, an enum value not declared, a time that is not RFC 3339, an ID
//     that is not a UUID —, a new record without a required field, or a
//     record ID already used by a record of another kind (field "record": one
//     ID names one record). The device keeps it and shows it; resending it
//     would not help.
//   - Changes the device's cadre may not make, refused with 403 and named
//     (see Changes out of scope): the record is outside the device's scope
//     (field "scope"), or the cadre's role does not allow the edit (field
//     "role"). The role rules, field by field, from the declarations: a
//     change's "author" is the device's cadre and its stamp's device is the
//     device itself (a relay device that pushes for other cadres — a team
//     leader's tablet syncing phones — would be enrolled as such and allowed
//     the cadres it relays for; not built, and until then refused); a field
//     that names a person (a visit's "cadre", a review's "reviewer", a
//     problem's "reported_by" and "resolved_by", a record's "author") is set
//     only to the cadre's own ID (or all zeros), "device" only to the device's;
//     places, assignments and a cadre's "rank" and "left" are written only
//     by the roster's owners (leads and offices; a cadre's rank and
//     departure only by leads of every place the cadre works, or an office
//     above them), and a cadre's other fields by them or the cadre; reviews, and a plan's "status" set to "approved" or
//     "returned", only by the approvers of the plan's village (by default
//     its work team leader and first secretary; a setting may change that),
//     never on a plan they created; conflict records only by merging: a new
//     one is taken only when it is verifiably what merging made of the
//     device's own edit and the upstream holds its winner, and of an existing
//     one only "resolved", "resolved_by" and "resolved_at" are written, by
//     those who may write the field in conflict of the record in conflict.
//     A field set to the value it already holds is not a write and passes.
//
// # Changes out of scope
//
// A push is applied whole or not at all. A push touching a record outside
// the device's scope — say a cadre's offline edits of a household whose group
// was given to another cadre meanwhile — is refused with 403, code
// "forbidden", field "scope", and changes nothing. A change the cadre's role
// does not allow (see Refusals) is answered the same way with field "role",
// and the device treats both alike. The error names, in
// "changes", every change of the push that is out of scope, not only the
// first: each is judged against the state the changes before it that are in
// scope would leave, so the push without the named changes is in scope (as
// the upstream stood when it answered):
//
//	403
//	{"v":1,"error":{"code":"forbidden","field":"scope","zh":"超出您的负责范围：…","en":"outside your responsibilities: …","changes":["<change uuid>", …]}}
//
// The device sets the named changes aside: it keeps them in its log and its
// records as edited, shows them to its user with the error's words as it
// shows "rejected" changes, and never sends them again; then it pushes again
// at once without them, so the rest of its work (new visits of households
// still in its scope) arrives in the same sync. A later push covers the
// changes set aside in "through" as it covers those received from the
// upstream. A device that meets the 403 again sets aside what it names again;
// one without "changes" (from an older upstream) refuses the whole push, and
// the device reports it to its user as a permanent error.
//
// # Revoked devices
//
// The office revokes a device for a reason, and the device learns it at its
// next contact:
//
//   - lost (the phone may be in a stranger's hands): every request with its
//     token is 401 with field "lost" (ErrLost). A device that receives it
//     deletes its local database and returns to enrolment; nothing of what it
//     held stays on it.
//   - replaced (the cadre has a new device): its next sync is applied as a
//     push, as usual (acknowledged, with "rejected" and scope refusals as
//     always), but nothing is pulled: the answer is 200 with "revoked":
//     "replaced", no changes and the request's cursor. A push refused for
//     scope (403) does not count: the device sets the changes aside and
//     pushes again. After that one push its token is refused with 401, field
//     "revoked". A device pushes at most PageBytes at a time, so a device
//     holding more than a page of unsent changes when it is replaced loses
//     the rest; in practice a phone holds far less.
//
// The answer to a replaced device's last push:
//
//	200
//	{"v":1,"now":"…","acked":57,"changes":[],"cursor":"<the request's>","more":false,"revoked":"replaced"}
//
// Revoking is final: the device's ID cannot enrol again ("device_taken").
//
// # Cursor and paging
//
// The pull cursor is an opaque string of at most 512 bytes made by the
// upstream (this server writes
// "<seq>@<server>~<scope>[~<pos>~<window>[~<from>]]", see Catch-up); the
// device stores the last one it received from each upstream and sends it
// back unchanged, "" the first time. The answer holds the changes after the
// cursor that are in the device's scope and did not come from the device, in
// the upstream's log order, and the cursor just past them. The device stores
// the new cursor in the same transaction as the last of the changes, so a
// crash before it pulls the same changes again (harmless: IDs).
//
// An answer is encoded with everything else first and its two lists last,
// "state" before "changes", so that a device can apply the changes as they
// arrive without holding a page of thousands whole (ReadSync): this client
// merges them in transactions of 1,000 (or 1 MiB of values), a record's state
// never split, and the last part with the cursors, the acknowledgement and
// the catch-up's marks. A crash between the parts leaves merged changes
// behind an unmoved cursor: the page is pulled again, and what was merged is
// skipped by change ID. A device applies as they arrive only the lists of an
// answer whose "v", "now" and "cursor" it has read and checked, that does not
// replace it, and "state" only before any of "changes"; it keeps lists that
// come otherwise (an older server's order) and applies them at the end, as
// before. A page
// holds changes up to PageBytes (12 MiB of change JSON, as Change.Size counts
// it), at least one change when any wait, so a first sync of a whole village
// takes a few round trips, not one per record. "more": true says the page was
// full and more changes wait: the device syncs again at once, with whatever
// it has to push. A device also keeps a push within PageBytes of changes,
// setting "through" to the last entry it sent. An upstream that cannot resume
// from a cursor (another server, or one restored from a backup: its cursors
// carry an epoch that every restore changes) answers 400 with field "cursor"
// (ErrCursor) and applies nothing of the push: the device clears its pull
// cursor and pulls from the start, and sets its push cursor back to the start
// of its log, so that what the restored upstream lost of the device's own
// changes is pushed again (what it still has it skips by change ID).
//
// # Catch-up
//
// A device's scope — the records it may read — changes: the office gives a
// group to another cadre, ends a pairing, moves a household between groups or
// villages. The log alone cannot follow it: an entry holds only the fields its
// edit set, and the cursor has passed the entries of records that were out
// of scope when it passed them. So the cursor also carries a fingerprint of
// the scope it was issued under: a hash of which units of scope — every
// household, every place, every cadre, each judged by the same predicate that
// decides which log entries a device pulls — are readable. When the
// fingerprint the upstream works out at a sync differs from the cursor's (a
// new device's empty cursor, a cursor from before this section, a scope that
// grew, shrank or gained a moved household), it answers with a catch-up:
//
//	200
//	{"v":1,…,"reset":true,"state":[<change>, …],"changes":[],"cursor":"…","more":true}
//	{"v":1,…,"state":[<change>, …],"changes":[<change>, …],"cursor":"…","more":false,"settled":true}
//
// "reset": true on the first page starts it. "state" holds the current state
// of every record the device may read, record by record (a record never
// straddles two pages), deleted records included: one change per edit that
// set some of its fields, with that edit's stamp and author, so that later
// merges compare the same stamps on every replica, and an ID derived from the
// record, stamp and author (the same state sent twice is applied once). The
// state is not the history: a first sync after two years of edits sends each
// record once. Pages follow while "more" is true, as for the log; "settled":
// true on the last page of the state says it is complete. After it, the log's
// tail resumes where the catch-up began: entries written while the catch-up
// ran are also sent in "state" (the state may already show a newer value),
// later ones in "changes" as usual. A scope that changes again during a
// catch-up starts a new one ("reset" again).
//
// The device merges "state" field by field, the newer stamp winning, without
// recording conflicts: a concurrent edit of its own that is not yet sent is
// merged, and any conflict recorded, by the upstream when it arrives there.
// It marks every record of the state, and of the tail that follows it on the
// last page, as held; at "settled" it removes, in one transaction with the
// page, every record it holds that was not in the state — its row, index
// keys and log entries — except those it wrote about since the catch-up
// began in a household it holds, or on the roster of a village it holds
// (the walk may have passed them before the upstream took them), and those of changes it has not yet sent or whose
// refusal its user has not yet seen (set aside as out of scope), with their
// households. Those wait in a leaving list and go at a later sync, once
// nothing keeps them. A write the upstream took is no reason to keep a
// household the state did not bring: the upstream may have taken it while
// the household was back in scope for a moment, and acknowledge it again
// when offered after it left (sync/client TestEditDuringCatchUpOutOfScope). Nothing is removed by a push: removal is local. After a
// catch-up the device offers its changes set aside as out of scope once
// again: those whose records are back in scope are applied, the others are
// named in a 403 again and stay set aside.
//
// The fingerprint costs the upstream one walk of the index of households,
// the places and the cadre IDs per sync, not of the records.
//
// Catch-up of what entered. A whole catch-up costs what a first sync does.
// When the device names "catchup-entered" (HeaderFeatures), the upstream
// sends, if it can, only the difference. This server remembers the units
// behind every fingerprint it hands out (store.RememberScope: for 180 days
// after the last sync under it). When a cursor's fingerprint differs from
// the current one and its units are remembered, the device holds exactly the
// records of those units, so the answer has no "reset". Its "state" holds the
// current state of the records readable now that were not under the old
// units (store.HeldUnder: a record is judged by its own unit — place,
// household, cross-village pairing, cadre — or the unit whose header it
// shares: its household, else its village or town). Its "left" lists the
// records readable under the old units that are no longer readable:
//
//	{"v":1,…,"more":false,"left":[{"kind":"household","record":"…"},…],"settled":true,"state":[<change>, …],"changes":[…]}
//
// The cursor meanwhile carries the old fingerprint as <from>, and keeps the
// device's sequence: the log's tail since the device's last sync follows the
// walk, entries written up to the catch-up's start as "state" (newer stamp
// wins), as in a whole catch-up. The device removes the records named in
// "left", with what it wrote about a household named there that the
// upstream never took, as it removes what a settled catch-up did not hold:
// at once, or once nothing it wrote about them is unsent and every refusal
// about them has been seen. A record waiting to leave whose state comes
// again is back in scope and no longer waits. "settled" ends this catch-up
// too; the device holds no marks then and removes nothing else, and offers
// its changes set aside again. A fingerprint not remembered (a new device,
// one forgotten, a device that does not name the feature) takes the whole
// catch-up with "reset", as before.
//
// So giving a group of 28 households to a cadre sends the group's records,
// not the cadre's whole scope again; a household added to a village sends
// that household to each device of the village. What the units do not show
// is not caught up: a record whose household field is edited to another
// household (a member moved) travels as that edit alone, as it does when no
// catch-up happens at all, and a device that did not read it before lacks
// its other fields (a whole catch-up at that moment would have sent them).
//
// # Clocks
//
// "now" in an answer is the upstream's time. The device sets its clock offset
// to now − (t0 + t1)/2, where t0 and t1 are its own clock when it sent the
// request and when the answer arrived, and observes every stamp it pulls. A
// server refuses a push with any stamp more than domain.MaxSkew (5 minutes)
// ahead of its clock: 400 with field "clock" (ErrClockAhead, see CheckStamps).
// The device then sets its offset from the answer's Date header, restamps its
// unsent changes that are too far ahead (nobody has seen them, so this is
// safe) and pushes again.
//
// # Errors
//
// Every 4xx and 5xx answer from the sync server has this body:
//
//	{"v":1,"error":{"code":"invalid","field":"stamp","zh":"时间戳无效：…","en":"bad stamp …"}}
//
// "code" is a domain error code, and the status follows from it (StatusCode):
//
//	invalid       400  the request is malformed or refused; "zh"/"en" say why
//	unauthorized  401  unknown, expired or revoked token or enrolment code
//	forbidden     403  outside the device's scope or its cadre's role
//	not_found     404  no such thing
//	conflict      409  contradicts the server's state
//	unavailable   503  try again later
//	internal      500  the server failed
//
// "field", when present, names what is at fault; some values are part of the
// protocol: "v" (unsupported version, ErrVersion), "size" (body too large,
// ErrTooLarge), "clock" (stamps too far ahead, ErrClockAhead), "cursor"
// (ErrCursor), "scope" (changes out of scope), "role" (changes the cadre's
// role does not allow), "utf8" (a body that is not valid UTF-8), "changes"
// (two changes with one ID), "lost" (the device was reported lost: wipe,
// ErrLost), "revoked" (the device was revoked), "device_taken" (the device ID
// belongs to another cadre's device or was revoked), "locked" (enrolment
// locked after wrong codes, ErrLocked), "busy" (the server's memory budget
// for bodies is spent, ErrBusy), and for photos "offset", "length", "hash",
// "photo", "quota" and "photos" (see Photos). "zh" and "en" are the same
// message in Chinese and English, for people. "changes", when present, lists
// the UUIDs of the pushed changes the error is about (ChangesError; see
// Changes out of scope); a client ignores a list it cannot read whole. A client that meets a status without such a body (a proxy, a Wi-Fi
// login page) derives the code from the status: 408, 429, 502, 503 and 504
// are unavailable, other 4xx invalid, other 5xx internal. Unavailable and
// internal errors, and network failures, are transient: the device retries
// later with backoff. The others are reported to the person (Transient).
//
// # Photos
//
// A photo (domain.Photo) is a record like any other and travels through
// /v1/sync; its JPEG, named by its SHA-256 in lowercase hex (the record's
// "hash"), travels afterwards through the photo endpoints, after tus 1.0
// (tus.io): resumable, appended as it arrives, deduplicated by hash. A
// device uploads only the bytes of photos whose records it has pushed;
// records never wait behind photos.
//
//	POST /v1/photos/have
//	{"v":1,"hashes":["9f86…","3a7b…"]}          (at most MaxHave; "v" may be left out)
//
//	200
//	{"v":1,"have":["9f86…"],"offsets":{"3a7b…":65536}}
//
// "have" lists what the server holds whole (never send those again: mark
// them sent), "offsets" how many bytes of unfinished uploads it holds. A
// hash in neither is uploaded from 0.
//
//	HEAD /v1/photos/<hash>
//
//	200  Upload-Offset: 65536  Upload-Length: 310422
//	     (Upload-Offset: 0 and no Upload-Length when no upload began;
//	     Upload-Complete: 1 when the server holds it whole)
//
//	PATCH /v1/photos/<hash>
//	Content-Type: application/offset+octet-stream
//	Upload-Offset: 65536        where the body starts
//	Upload-Length: 310422       the whole JPEG's size, the same in every PATCH
//	<any number of the JPEG's bytes from 65536 on, up to the end>
//
//	204  Upload-Offset: 310422  Upload-Length: 310422  Upload-Complete: 1
//
// The server appends the body as it reads it: a connection cut mid-body
// keeps what arrived, and the device asks HEAD (or reads a 409) and goes
// on from there, so a weak link resends little. When the upload reaches
// Upload-Length the server checks it — its SHA-256 must be <hash> (else
// 400, field "hash") and it must be a JPEG the server accepts, at most
// domain.MaxPhotoBytes, without metadata, of sane dimensions (else 400,
// field "photo", with the reason) — discarding a refused upload whole, and
// makes a thumbnail (ThumbSide pixels on its long side).
//
//	409  field "offset" (ErrOffset), with Upload-Offset: where the upload
//	     stands: the PATCH did not start there, or another device's upload
//	     of the same photo is under way (try again later), or the server
//	     holds it whole (Upload-Complete: 1: stop). The device's own earlier
//	     PATCH of the photo still being read (its connection dropped unseen)
//	     is given 2 seconds to end, then stopped, keeping what arrived.
//	400  field "length": Upload-Length differs from the upload's first
//	     (a PATCH from offset 0 with another length begins the upload
//	     again instead), or the body goes past it (nothing of that PATCH
//	     is kept)
//	413  field "size" (ErrPhotoTooLarge): Upload-Length > domain.MaxPhotoBytes
//	429  field "quota" (ErrPhotoQuota, code unavailable: transient), with
//	     Retry-After: the device uploaded PhotosPerDay photos or
//	     PhotoBytesPerDay bytes today (UTC)
//
//	GET /v1/photos/<hash>            the JPEG (Range requests work)
//	GET /v1/photos/<hash>?thumb=1    its thumbnail
//
// answered 200 (206 for a range) with Content-Type image/jpeg and an ETag
// ("<hash>", "<hash>-thumb"): a photo never changes.
//
// Every answer of the photo endpoints carries Tus-Resumable: 1.0.0; errors
// have the usual error body (a HEAD's, none). Every request carries the
// device's token, and every photo it names must be named by a live photo
// record the device may read (its scope, as a pull's): otherwise — and for
// a photo that is not there — 404, field "photo", so a device learns
// nothing of photos outside its scope; a have answer leaves them out. A
// path that is not /v1/photos/ and 64 lowercase hex digits is 404, field
// "path"; a server that keeps no photos answers 404, field "photos".
// NewPatch, NewPhotoRequest, ReadUpload and ParseOffset build and read
// these requests.
//
// # Versions
//
// A request whose "v" the server does not speak is refused with 400, field
// "v", and a message saying which side is older; "v" is checked before the
// rest of the body, so a newer client's request with new fields still gets
// this answer rather than "unknown field". GET /healthz answers {"ok":true,"v":1} with the version the server
// speaks.
//
// # Size limits
//
// A request body is at most MaxCompressedBytes (8 MiB) as sent when
// compressed and MaxRequestBytes (32 MiB) of JSON; a server refuses a larger
// one with 400, field "size", before reading it when Content-Length says so
// and as soon as it passes the limit otherwise (decompression stops there, so
// a gzip bomb costs no more memory than the limit); an enrolment body is at
// most MaxEnrollBytes (4 KiB). A client reads at most MaxResponseBytes
// (64 MiB) of answer.
//
// A server bounds what the bodies it is reading hold at once, and how many it
// decompresses at once (see Budget; enrolment bodies, which need no token,
// have a budget of their own): a body beyond that is refused at once with 503,
// field "busy" (ErrBusy), and the device retries later. A body that sends
// nothing for 30 seconds, or is still arriving after 10 minutes, is answered
// 400 and its connection closed; request headers must arrive within 10
// seconds.
package protocol
