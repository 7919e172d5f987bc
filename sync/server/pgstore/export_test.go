package pgstore

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"bangfu/store"
	"bangfu/sync/server"
)

// CopyLog writes entries to the shared log as they are, for tests of the
// log's reading.
func (r *Replica) CopyLog(ctx context.Context, entries []store.Entry) error {
	rows := make([][]any, len(entries))
	for i, e := range entries {
		row, err := logRow(e)
		if err != nil {
			return err
		}
		rows[i] = row
	}
	if _, err := r.pool.CopyFrom(ctx, pgx.Identifier{"log"}, logInsertColumns, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	_, err := r.pool.Exec(ctx, `ANALYZE log`)
	return err
}

// ExplainPull returns PostgreSQL's plan of the query LogIn makes.
func (r *Replica) ExplainPull(ctx context.Context, after uint64, p server.Partitions) (string, error) {
	where, args := partitionSQL(p)
	rows, err := r.pool.Query(ctx, `EXPLAIN SELECT `+logColumns+` FROM log WHERE seq > $1 AND (`+where+`) ORDER BY seq LIMIT 500`,
		append([]any{int64(after)}, args...)...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		plan = append(plan, line)
	}
	return strings.Join(plan, "\n"), rows.Err()
}
