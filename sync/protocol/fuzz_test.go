package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"bangfu/domain"
	"bangfu/sync/protocol"
)

// FuzzDecodeSyncRequest feeds the server's request decoder arbitrary bodies,
// seeded from the golden files. A body is either refused with an EINVALID
// *domain.Error in both languages, or accepted; an accepted request encodes,
// decodes again to the same value and the same domain changes, and encodes
// to the same bytes.
func FuzzDecodeSyncRequest(f *testing.F) {
	for _, g := range goldens {
		f.Add(readGolden(f, g.file))
	}
	f.Add([]byte(`{"v":1,"cursor":"","through":0,"changes":null}`))
	f.Add([]byte(`{"v":1,"cursor":"","through":1,"changes":[{"id":"0512d472-e047-5563-89f0-3c39d1d203e1","kind":"visit","record":"eeeb15de-f0f5-5357-938f-31e632ac136d","author":"00000000-0000-0000-0000-000000000000","stamp":"1.0.e8ee74b2-a4d1-5b83-bee2-da00caf76bb8","fields":{"notes": [ 1, "\u003c" ] }}]}`))
	f.Add([]byte(`{"v":2,"cursor":"","through":0,"changes":[],"photos":[]}`))
	f.Add([]byte(`{"v":1,"cursor":"","through":0,"changes":[]} x`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req protocol.SyncRequest
		if err := protocol.Unmarshal(body, &req); err != nil {
			var e *domain.Error
			if !errors.As(err, &e) || e.Code != domain.EINVALID || e.Zh == "" || e.En == "" {
				t.Fatalf("refusal %v (%T) is not an EINVALID *domain.Error with both messages", err, err)
			}
			return
		}
		b, err := protocol.Marshal(req)
		if err != nil {
			t.Fatalf("accepted request does not encode: %v", err)
		}
		var again protocol.SyncRequest
		if err := protocol.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-encoded request %s is refused: %v", b, err)
		}
		d1, err1 := protocol.DecodeChanges(req.Changes)
		d2, err2 := protocol.DecodeChanges(again.Changes)
		if err1 != nil || err2 != nil {
			t.Fatalf("accepted changes do not convert: %v, %v", err1, err2)
		}
		if !reflect.DeepEqual(d1, d2) {
			t.Fatalf("changes differ after a round trip:\n%+v\n%+v", d1, d2)
		}
		if req.V != again.V || req.Cursor != again.Cursor || req.Through != again.Through || len(req.Changes) != len(again.Changes) {
			t.Fatalf("request differs after a round trip:\n%+v\n%+v", req, again)
		}
		for i, c := range again.Changes {
			w, err := protocol.FromDomain(d2[i])
			if err != nil {
				t.Fatalf("change %d does not convert back: %v", i, err)
			}
			if !reflect.DeepEqual(w, normal(c)) {
				t.Fatalf("change %d: wire -> domain -> wire differs:\n%+v\n%+v", i, c, w)
			}
		}
		if b2, _ := protocol.Marshal(again); !bytes.Equal(b, b2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", b, b2)
		}
	})
}

// normal returns c with no fields and no base as empty and nil maps, the
// form FromDomain gives: a missing or null "fields" means none.
func normal(c protocol.Change) protocol.Change {
	if c.Fields == nil {
		c.Fields = map[string]json.RawMessage{}
	}
	if len(c.Base) == 0 {
		c.Base = nil
	}
	return c
}
