package app

import (
	"context"

	"bangfu/sync/client"
)

// The screens read the local replica (*store.DB) through package query, one
// function per question (query.Card, query.MyHouseholds, …), and write
// through its methods (Put, PutDraft, SaveDraft, SetSettings,
// ResolveConflict).

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
}

var _ Syncer = (*client.Client)(nil)
