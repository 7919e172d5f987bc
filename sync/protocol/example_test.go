package protocol_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/protocol"
)

// Example shows one sync round trip: a device builds a sync request from a
// domain change, a server reads it and answers, and the device reads the
// answer.
func Example() {
	// The server: read the request, check its stamps, answer.
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := protocol.BearerToken(r); !ok {
			protocol.WriteError(w, r, domain.Errorf(domain.EUNAUTHORIZED, "token", "请先注册设备", "enrol the device first"))
			return
		}
		var req protocol.SyncRequest
		if err := protocol.ReadRequest(r, &req); err != nil {
			protocol.WriteError(w, r, err)
			return
		}
		changes, _ := protocol.DecodeChanges(req.Changes) // checked by ReadRequest
		serverNow := time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)
		if err := protocol.CheckStamps(changes, serverNow); err != nil {
			protocol.WriteError(w, r, err)
			return
		}
		for _, c := range changes {
			fmt.Printf("server: %s %s sets %d fields\n", c.Kind, c.Record, len(c.Fields))
		}
		protocol.WriteJSON(w, r, http.StatusOK, protocol.SyncResponse{
			V: protocol.Version, Now: protocol.At(serverNow), Acked: req.Through, Cursor: "c1.17",
		})
	}))
	defer server.Close()

	// The device: a visit written offline, its log entry number 17.
	device := uuid.MustParse("e8ee74b2-a4d1-5b83-bee2-da00caf76bb8")
	change := domain.Change{
		ID:     uuid.MustParse("0512d472-e047-5563-89f0-3c39d1d203e1"),
		Kind:   domain.KindVisit,
		Record: uuid.MustParse("eeeb15de-f0f5-5357-938f-31e632ac136d"),
		Author: uuid.MustParse("707e175b-2706-5699-bab9-1f7791da67a0"),
		Stamp:  domain.Stamp{Wall: time.Date(2025, 3, 1, 7, 10, 0, 0, time.UTC).UnixMilli(), Device: device},
		Fields: domain.Fields{"notes": json.RawMessage(`"家中4口人，饮水安全"`), "water": json.RawMessage(`"safe"`)},
	}
	wire, err := protocol.EncodeChanges([]domain.Change{change})
	if err != nil {
		fmt.Println(err)
		return
	}
	req, err := protocol.NewRequest(context.Background(), http.MethodPost, server.URL+protocol.PathSync, "device-token",
		protocol.SyncRequest{V: protocol.Version, Cursor: "", Through: 17, Changes: wire})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println("retry later:", protocol.Transient(err))
		return
	}
	var answer protocol.SyncResponse
	if err := protocol.ReadResponse(resp, &answer); err != nil {
		fmt.Println(domain.Message(err, "en"), "- retry later:", protocol.Transient(err))
		return
	}
	fmt.Printf("device: acked through %d, %d changes to apply, cursor %q, more %v, server time %s\n",
		answer.Acked, len(answer.Changes), answer.Cursor, answer.More, answer.Now.Format(time.RFC3339))
	// Output:
	// server: visit eeeb15de-f0f5-5357-938f-31e632ac136d sets 2 fields
	// device: acked through 17, 0 changes to apply, cursor "c1.17", more false, server time 2025-03-01T08:30:00Z
}

// ExampleCheckStamps shows the error a device gets when its clock runs
// ahead, and how it recognises it.
func ExampleCheckStamps() {
	serverNow := time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)
	fast := domain.Change{
		ID:    uuid.MustParse("0512d472-e047-5563-89f0-3c39d1d203e1"),
		Stamp: domain.Stamp{Wall: serverNow.Add(2 * time.Hour).UnixMilli()},
	}
	err := protocol.CheckStamps([]domain.Change{fast}, serverNow)
	fmt.Println(protocol.StatusCode(err), errors.Is(err, protocol.ErrClockAhead))
	fmt.Println(domain.Message(err, "zh"))
	// Output:
	// 400 true
	// 第 0 条更改（0512d472-e047-5563-89f0-3c39d1d203e1）的时间比服务器快 2h0m0s，超过允许的 5m0s：请校准设备时间后重新同步
}
