package app

import (
	"context"

	"bangfu/store"
	"bangfu/sync/client"
)

// The screens read the local replica (*store.DB) through package query, one
// function per question (query.Card, query.MyHouseholds, …), and write
// through its methods (Put, PutDraft, SaveDraft, SetSettings,
// ResolveConflict).

var _ Locker = (*store.DB)(nil)

// Syncer is the device's sync client; *client.Client is one. Status reads the
// store, so the app calls it off the UI goroutine.
type Syncer interface {
	Enroll(ctx context.Context, url, code, name string) error
	Sync(ctx context.Context) error
	Run(ctx context.Context)
	Trigger()
	Status() client.Status
	Subscribe() (<-chan client.Status, func())
	// SignOut forgets the enrolment; it refuses while changes wait.
	SignOut() error
	// Deposit gives the store's data key to the server to keep for a
	// forgotten PIN.
	Deposit(ctx context.Context, key []byte) error
}

var _ Syncer = (*client.Client)(nil)
