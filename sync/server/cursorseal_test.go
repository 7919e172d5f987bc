package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"bangfu/sync/protocol"
	"bangfu/sync/server"
)

// TestBorrowedCursor: a phone hands back, in its own sync, the tablet's
// cursor (copied off the tablet, or off the wire). The cursor names the
// tablet's scope, the whole village: read as the phone's, the catch-up from
// it would name as left, by kind and ID, every record of the village the
// phone may not read. A cursor opens only under the token of the device it
// was issued to, so the phone's answer names nothing as left and is a
// catch-up of its own scope from nothing (a reset); the same for its own
// cursor with another scope spliced in under its seal. Its own cursor,
// handed back whole, goes on without a reset.
func TestBorrowedCursor(t *testing.T) {
	e := newEnv(t, server.Options{PageBytes: 4 << 10}, nil)
	w := e.w
	_, tabletToken := e.enroll(t, w.Leader.ID)
	_, phoneToken := e.enroll(t, w.Cadre1.ID)
	// pull follows the answers from cursor to the end and returns the last
	// cursor, whether one reset the device and the records named as left.
	pull := func(token, cursor string) (string, bool, []protocol.Ref) {
		t.Helper()
		reset := false
		var left []protocol.Ref
		for range 100 {
			b, err := protocol.Marshal(protocol.SyncRequest{V: 1, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+protocol.PathSync, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set(protocol.HeaderFeatures, protocol.FeatureEntered) // as sync/client asks
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			var r protocol.SyncResponse
			if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(body, &r) != nil {
				t.Fatalf("sync: %d %s %v", resp.StatusCode, body, err)
			}
			reset = reset || r.Reset
			left = append(left, r.Left...)
			cursor = r.Cursor
			if !r.More {
				return cursor, reset, left
			}
		}
		t.Fatal("the pull does not end")
		return "", false, nil
	}
	tabletCursor, _, _ := pull(tabletToken, "")
	phoneCursor, _, _ := pull(phoneToken, "")

	if _, reset, left := pull(phoneToken, tabletCursor); len(left) > 0 || !reset {
		t.Errorf("the phone handing back the tablet's cursor: reset %v, %d records named as left (%v…)", reset, len(left), left[:min(3, len(left))])
	}
	body, seal, ok := strings.Cut(phoneCursor, "!")
	tabletBody, _, _ := strings.Cut(tabletCursor, "!")
	if !ok || !strings.Contains(body, "~") {
		t.Fatalf("the phone's cursor %q is not sealed", phoneCursor)
	}
	seq, _, _ := strings.Cut(body, "~")
	_, tabletScope, _ := strings.Cut(tabletBody, "~")
	spliced := seq + "~" + tabletScope + "!" + seal
	if _, reset, left := pull(phoneToken, spliced); len(left) > 0 || !reset {
		t.Errorf("the phone's cursor naming the tablet's scope under the phone's seal: reset %v, %d records named as left", reset, len(left))
	}
	if _, reset, left := pull(phoneToken, phoneCursor); reset || len(left) > 0 {
		t.Errorf("the phone's own cursor: reset %v, %d records named as left", reset, len(left))
	}
}
