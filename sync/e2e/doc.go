// Package e2e holds the whole-system tests of sync: real sync servers on
// 127.0.0.1 and devices with their own bbolt files, editing offline and
// syncing in varied orders, through a transport that injects faults, with
// clocks hours off; after each, every replica must hold the same records, every
// visit exactly once and every overridden value as a conflict record. It has
// no code of its own; everything is in its tests.
package e2e
