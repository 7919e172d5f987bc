package office

import (
	"testing"
	"time"
)

// TestUploadsBounded: an account that uploads file after file keeps only its
// newest maxUploads waiting for confirmation (each may hold 20 MB for an
// hour), and does not push out another account's.
func TestUploadsBounded(t *testing.T) {
	var u uploads
	now := time.Now()
	other := u.put(&upload{account: "b", expires: now.Add(time.Hour)}, now)
	var tokens []string
	for i := range 10 {
		tokens = append(tokens, u.put(&upload{account: "a", expires: now.Add(time.Hour + time.Duration(i)*time.Second)}, now))
	}
	if len(u.files) != maxUploads+1 {
		t.Errorf("%d files kept, want %d", len(u.files), maxUploads+1)
	}
	for i, tok := range tokens {
		if kept := u.get(tok, "a", now) != nil; kept != (i >= len(tokens)-maxUploads) {
			t.Errorf("upload %d kept %v", i, kept)
		}
	}
	if u.get(other, "b", now) == nil {
		t.Error("another account's upload was dropped")
	}
}
