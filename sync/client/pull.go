package client

import (
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"bangfu/store"
)

// cursors returns the stored push and pull cursors.
func (c *Client) cursors() (push uint64, pull string, err error) {
	v, err := c.db.Cursor(keyPush)
	if err != nil {
		return 0, "", err
	}
	if v != "" {
		if push, err = strconv.ParseUint(v, 10, 64); err != nil {
			return 0, "", fmt.Errorf("client: stored push cursor %q: %w", v, err)
		}
	}
	pull, err = c.db.Cursor(keyPull)
	return push, pull, err
}

// received walks the log after sequence after: last is the sequence of the
// last entry before the first one to push, and waiting counts those to push
// (neither received from upstream nor set aside).
func (c *Client) received(upstream uuid.UUID, after uint64, aside map[uuid.UUID]uint64) (last uint64, waiting int, err error) {
	last = after
	// From the entries' headers alone: a first sync leaves thousands.
	err = c.db.LogWhere(after, func(e *store.Entry) bool {
		if _, skip := aside[e.Change.ID]; !skip && e.From != upstream {
			waiting++
		} else if waiting == 0 {
			last = e.Seq
		}
		return false
	}, nil)
	return last, waiting, err
}
