package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bangfu/store"
)

// The catch-up of what entered a device's scope (store/scopeunits.go), with
// the units behind each fingerprint kept in the scopes table rather than
// in an instance's mirror: a device whose cursor one instance issued asks
// another for its next page.

// scopeKeep and scopeRefresh are store's: how long a fingerprint is
// remembered after a device last synced under it, and how old its time may
// grow before a sync under it writes it again.
const (
	scopeKeep    = 180 * 24 * time.Hour
	scopeRefresh = 7 * 24 * time.Hour
)

var _ interface {
	ScopeUnits(func(*store.Entry) bool) (string, uint64, []uuid.UUID, error)
	RememberScope(string, []uuid.UUID, time.Time) error
	ScopeUnitsOf(string) ([]uuid.UUID, bool, error)
} = (*Replica)(nil)

// ScopeUnits fingerprints a scope in the mirror and returns its units, as
// store.DB.ScopeUnits does.
func (r *Replica) ScopeUnits(readable func(*store.Entry) bool) (string, uint64, []uuid.UUID, error) {
	if err := r.fresh(); err != nil {
		return "", 0, nil, err
	}
	return r.mirror.ScopeUnits(readable)
}

// ScopeUnitsIn is ScopeUnits walking only where the scope reaches
// (store.Within), as store.DB.ScopeUnitsIn does.
func (r *Replica) ScopeUnitsIn(in store.Within, readable func(*store.Entry) bool) (string, uint64, []uuid.UUID, error) {
	if err := r.fresh(); err != nil {
		return "", 0, nil, err
	}
	return r.mirror.ScopeUnitsIn(in, readable)
}

// RememberScope records units as those of fingerprint print, at now,
// unless they were recorded less than scopeRefresh ago, and forgets the
// fingerprints not recorded for scopeKeep, as store.DB.RememberScope does.
func (r *Replica) RememberScope(print string, units []uuid.UUID, now time.Time) error {
	ctx := context.Background()
	var at int64
	err := r.pool.QueryRow(ctx, `SELECT at FROM scopes WHERE print = $1`, []byte(print)).Scan(&at)
	switch {
	case err == nil && now.Sub(time.Unix(0, at)) < scopeRefresh:
		return nil
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgstore: remember scope %s: %w", print, err)
	}
	v := make([]byte, 0, 16*len(units))
	for _, u := range units {
		v = append(v, u[:]...)
	}
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM scopes WHERE at < $1`, nanos(now.Add(-scopeKeep))); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO scopes (print, at, units) VALUES ($1, $2, $3)
			ON CONFLICT (print) DO UPDATE SET at = greatest(scopes.at, $2), units = $3`, []byte(print), nanos(now), v)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: remember scope %s: %w", print, err)
	}
	return nil
}

// ScopeUnitsOf returns the units remembered for fingerprint print (which
// a device's cursor names), and whether they are.
func (r *Replica) ScopeUnitsOf(print string) ([]uuid.UUID, bool, error) {
	var v []byte
	err := r.pool.QueryRow(context.Background(), `SELECT units FROM scopes WHERE print = $1`, []byte(print)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: scope %.16s: %w", print, err)
	}
	if len(v)%16 != 0 {
		return nil, false, nil
	}
	units := make([]uuid.UUID, 0, len(v)/16)
	for i := 0; i < len(v); i += 16 {
		units = append(units, uuid.UUID(v[i:i+16]))
	}
	return units, true, nil
}
