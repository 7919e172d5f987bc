// Package bench measures sync on the wire: requests and bytes for the common
// syncs of a device, the wall time of a small sync over a weak 2G/3G link, and
// the sync server's throughput with many devices at once. It has no code of
// its own; everything is in its tests.
//
// Every figure is taken against a real sync server (bangfu/sync/server) on
// 127.0.0.1, with each device a real sync client (bangfu/sync/client) on its
// own bbolt file, except in the throughput benchmark, whose 200 devices speak
// the protocol directly (bangfu/sync/protocol), each with its own enrolment
// and token, to keep memory sane. Bytes are counted where they cross the
// socket: each device's http.Transport dials through a net.Conn that counts
// what it reads and writes, so headers, compressed bodies and HTTP framing
// all count (the TCP/IP headers below do not).
//
// The bytes depend on how the records compress, most on the visits' notes:
// the benchmarks' visits (the demo village's, and every visit made here) get
// notes and follow-ups from demo.NewNotes, which as a corpus, and within a
// first sync, compress about 2× with gzip as typed notes do (the demo's
// phrase menus did 15 to 18×, and flattered every figure); the first syncs
// report both ratios (gzip-ratio of the changes, notes-gzip-ratio of their
// notes) and the budget tests hold the notes to about 2×.
//
// The weak-signal case goes through a shaper, a net.Conn that delays every
// byte 300 ms each way and caps each direction at 256 kbit/s with a token
// bucket; opening a connection costs one round trip, as a TCP handshake does.
//
// The benchmarks, with the targets:
//
//	NoopSync          (a) 1 request, under 1 KB
//	SmallSync         (b) 10 visits pushed, 10 changes pulled: 1 request,
//	                      bytes < 1.3 × gzip size of the changes moved + 600
//	SmallSyncShaped   (b) through the shaper: under 1.5 s
//	FirstSyncVillage  (c) first sync of 王坪村 for its team leader: at most
//	                      one request per 1 MB of compressed payload
//	FirstSync10k      (d) first sync of 10,000 visits: the same
//	Throughput200     (e) 200 devices at once, 20 visits each: all answered
//	                      within 10 s, every push durable
//
// and for scope changes and long histories (catchup_test.go):
//
//	FirstSyncHistory[Shaped]   first sync of 王坪村 after two simulated years of
//	                           edits: the current state, not the log
//	CatchUpGroup[Shaped]       a group cadre is given another group (28 households)
//	CatchUpVillage[Shaped]     a group cadre becomes the village's team leader
//	FirstPull10kDevice         the device's own work in (d): the answers replayed
//	                           to sync/client on a fresh store, changes/s
//	FirstSyncVillageHeap       the device's work and peak heap in (c)
//
// `make bench` runs them with every other benchmark and prints one table;
// alone:
//
//	go test -run '^$' -bench . -benchtime=3x ./sync/bench/
//
// The package's tests assert the request counts and byte budgets of (a) to
// (d), which are deterministic enough to fail CI when paging or compression
// regresses, and the durability of (e), skipped with -short. Timings are
// reported, never asserted. Under the race detector (d) steps aside and (e)
// runs with 50 devices.
package bench
