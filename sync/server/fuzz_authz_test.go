package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/server"
)

// FuzzPushAsGroupCadre pushes random changes as the group cadre of 一社:
// any kind, records of their group, of other groups and villages, of no one
// yet, any declared or made-up field, values of every type (other cadres'
// IDs, an approved status, a county rank), in their name or another's. What
// the server stores from the device must stay within the cadre's rights,
// checked against rules written here by hand: their own name and device, a
// household of their group or paired with them, no roster, no review, no
// approval, no rank, no conflict content, a person's field naming them.
func FuzzPushAsGroupCadre(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 1, 2, 3, 4, 5, 6, 7},
		{7, 0, 0, 9, 1, 1, 3, 2, 8, 8},
		{5, 2, 1, 4, 0, 6, 2, 2, 9, 1, 0, 3},
		{10, 3, 3, 1, 0, 0, 0, 5, 4, 4, 4, 4, 1},
		{1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2},
		{9, 9, 4, 0, 2, 1, 7, 7, 0, 1, 2, 3, 4, 5, 6},
		// Changes the cadre may make, so that the rights are checked on
		// what is stored: a new visit to a household of their group, in
		// their name; an edit of that household's head; both in one push.
		{8, 0, 1, 1, 2, 0, 0, 0, 1, 1, 0, 2, 6, 1},
		{2, 1, 0, 1, 1, 0, 0, 8, 1},
		{8, 0, 1, 1, 2, 0, 0, 0, 1, 1, 0, 2, 6, 1, 2, 1, 0, 1, 1, 0, 0, 8, 1},
	} {
		f.Add(seed)
	}
	e := newEnv(f, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	dev, token := e.enroll(f, w.Cadre1.ID)
	otherDev, _ := e.enroll(f, w.Leader.ID)
	mine := map[uuid.UUID]bool{w.Paired.ID: true}
	for _, h := range w.Group(w.G1) {
		mine[h.ID] = true
	}
	var households, plans, ids []uuid.UUID
	for _, h := range w.Households {
		households = append(households, h.ID)
	}
	for _, p := range w.Plans {
		plans = append(plans, p.ID)
	}
	people := []uuid.UUID{w.Cadre1.ID, w.Cadre2.ID, w.Leader.ID, uuid.Nil}
	ids = append(append(append(ids, households...), plans...), w.G1.ID, w.G2.ID, w.G3.ID, w.Cadre1.ID, w.Cadre2.ID)
	for _, m := range w.Measures {
		ids = append(ids, m.ID)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b)
		}
		pick := func(xs []uuid.UUID) uuid.UUID { return xs[next()%len(xs)] }
		before, _ := db.LastSeq()
		var changes []domain.Change
		for len(data) > 0 && len(changes) < 8 {
			d := domain.Decls[next()%len(domain.Decls)]
			rec := uuid.New()
			if next()%3 > 0 {
				rec = pick(ids)
			}
			author, stampDev := w.Cadre1.ID, dev
			if next()%7 == 0 {
				author = pick(people)
			}
			if next()%7 == 0 {
				stampDev = otherDev
			}
			fields := domain.Fields{}
			all := append(append([]domain.Field{}, d.Fields...), domain.MetaFields...)
			for n := 1 + next()%3; n > 0; n-- {
				fd := all[next()%len(all)]
				var v string
				switch next() % 9 {
				case 0:
					v = q(pick(households))
				case 1:
					v = q(pick(people))
				case 2:
					v = `"approved"`
				case 3:
					v = `"county"`
				case 4:
					v = `true`
				case 5:
					v = fmt.Sprint(next())
				case 6:
					v = `"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `"`
				case 7:
					if len(fd.Values) > 0 {
						v = `"` + fd.Values[next()%len(fd.Values)] + `"`
					} else {
						v = q(pick(plans))
					}
				default:
					v = `"文字"`
				}
				fields[fd.Name] = json.RawMessage(v)
			}
			if next()%11 == 0 {
				fields["zzz"] = json.RawMessage(`1`)
			}
			changes = append(changes, domain.Change{ID: uuid.New(), Kind: d.Kind, Record: rec, Author: author,
				Stamp:  domain.Stamp{Wall: time.Now().UnixMilli(), Logical: uint32(len(changes)), Device: stampDev},
				Fields: fields})
		}
		if len(changes) == 0 {
			return
		}
		status, _, bad := e.push(t, token, changes...)
		if status == http.StatusForbidden && len(bad.Error.Changes) > 0 {
			// The device sets the named changes aside and pushes the rest.
			named := map[string]bool{}
			for _, id := range bad.Error.Changes {
				named[id] = true
			}
			var rest []domain.Change
			for _, c := range changes {
				if !named[c.ID.String()] {
					rest = append(rest, c)
				}
			}
			if len(rest) > 0 {
				if status, _, bad = e.push(t, token, rest...); status != http.StatusOK {
					t.Fatalf("the push without the refused changes: %d %+v", status, bad.Error)
				}
			}
		} else if status >= 500 {
			t.Fatalf("%d %+v", status, bad.Error)
		}
		stored := 0
		err := db.Log(before, func(en store.Entry) (bool, error) {
			if en.From != dev {
				return true, nil
			}
			stored++
			c := en.Change
			bad := func(why string) { t.Errorf("stored a change beyond the cadre's rights (%s): %+v", why, c) }
			if c.Author != w.Cadre1.ID || c.Stamp.Device != dev {
				bad("not in their name")
			}
			switch c.Kind {
			case domain.KindPlace, domain.KindAssignment, domain.KindReview, domain.KindConflict:
				bad("roster, review or conflict")
			case domain.KindCadre:
				if c.Record != w.Cadre1.ID || c.Fields["rank"] != nil {
					bad("a cadre record")
				}
			default:
				if !mine[en.Household] {
					bad("outside their households")
				}
			}
			if s := string(c.Fields["status"]); c.Kind == domain.KindPlan && (s == `"approved"` || s == `"returned"`) {
				bad("an approval")
			}
			for _, name := range []string{"author", "cadre", "reviewer", "reported_by", "resolved_by"} {
				if v, ok := c.Fields[name]; ok && string(v) != q(w.Cadre1.ID) && string(v) != q(uuid.Nil) {
					bad("another's name in " + name)
				}
			}
			if v, ok := c.Fields["device"]; ok && string(v) != q(dev) && string(v) != q(uuid.Nil) {
				bad("another device")
			}
			if _, ok := c.Fields["zzz"]; ok {
				bad("a made-up field")
			}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d changes pushed, %d stored", len(changes), stored)
	})
}
