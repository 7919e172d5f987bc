package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/sync/protocol"
)

// sendAudit sends the store's audit entries the server has not had (the
// reveals of whole ID numbers) after a sync; a failure waits for the next.
func (c *Client) sendAudit(ctx context.Context, acct account) {
	v, err := c.db.Cursor(keyAudit)
	if err != nil {
		return
	}
	after, _ := strconv.ParseUint(v, 10, 64)
	for {
		es, err := c.db.AuditSince(after, protocol.MaxAuditEntries)
		if err != nil || len(es) == 0 {
			return
		}
		req := protocol.AuditRequest{V: protocol.Version}
		for _, e := range es {
			if slices.Contains(protocol.AuditActions, e.Action) { // not what the replica logs as an upstream
				req.Entries = append(req.Entries, protocol.AuditEntry{At: protocol.At(e.At), Action: e.Action, Target: e.Target, Detail: e.Detail})
			}
		}
		var resp protocol.EscrowResponse
		if len(req.Entries) > 0 {
			if _, err := c.do(ctx, http.MethodPost, acct.URL+protocol.PathAudit, acct.Token, &req, &resp); err != nil {
				c.log.Warn("cannot send the audit entries", "err", err)
				return
			}
		}
		after = es[len(es)-1].Seq
		if err := c.db.SetCursor(keyAudit, strconv.FormatUint(after, 10)); err != nil {
			return
		}
	}
}

// errNoAccount is returned by Deposit and Recover on a device not enrolled.
var errNoAccount = domain.Errorf(domain.EUNAUTHORIZED, "token", "设备尚未注册，请先注册设备", "this device is not enrolled; enrol it first")

// Deposit sends the device's data key (the key its store is encrypted with)
// to the server, which keeps it sealed under a key of its own and gives it
// back only to this device, once the township office has unlocked it
// (Recover): a cadre who forgets the app's PIN then loses nothing that was
// never synced. The key is never written anywhere by the client.
func (c *Client) Deposit(ctx context.Context, key []byte) error {
	c.mu.Lock()
	acct := c.acct
	c.mu.Unlock()
	if acct.Token == "" || acct.URL == "" {
		return errNoAccount
	}
	body := protocol.EscrowRequest{V: protocol.Version, Key: key}
	if err := body.Validate(); err != nil {
		return err
	}
	var resp protocol.EscrowResponse
	if _, err := c.do(ctx, http.MethodPost, acct.URL+protocol.PathEscrow, acct.Token, &body, &resp); err != nil {
		return fmt.Errorf("client: deposit the data key: %w", err)
	}
	c.log.Info("data key deposited with the server", "server", acct.URL)
	return nil
}

// Recover asks the server for the data key this device deposited. The
// server gives it only once the township office has acted: code is the
// unlock code it issued for this device, or empty when it enrolled the
// device again (Enroll with a new enrolment code first). What allowed it
// is used up. The caller clears the key when it has unlocked the store.
func (c *Client) Recover(ctx context.Context, code string) ([]byte, error) {
	c.mu.Lock()
	acct := c.acct
	c.mu.Unlock()
	if acct.Token == "" || acct.URL == "" {
		return nil, errNoAccount
	}
	body := protocol.ReleaseRequest{V: protocol.Version, Code: strings.TrimSpace(code)}
	if err := body.Validate(); err != nil {
		return nil, err
	}
	var resp protocol.ReleaseResponse
	if _, err := c.do(ctx, http.MethodPost, acct.URL+protocol.PathRelease, acct.Token, &body, &resp); err != nil {
		return nil, fmt.Errorf("client: recover the data key: %w", err)
	}
	c.log.Warn("data key recovered from the server", "server", acct.URL, "by_code", body.Code != "")
	return resp.Key, nil
}

// RecoverKey takes a locked device's data key back from the server at url,
// without the device's store (locked, it cannot be read): code is the unlock
// code the township office issued for device, or a new enrolment code for
// its cadre. An unlock code is tried first; if the server does not know it
// as one, the code enrols device again (named name) and the key is asked
// for with the new token, which the re-enrolment allows; enrolled says so.
// After unlocking the store, call Enroll with the same code and the
// device's real name: a retry of an enrolment keeps it, and stores the
// account. hc is the HTTP client (http.DefaultClient if nil).
func RecoverKey(ctx context.Context, hc *http.Client, url string, device uuid.UUID, name, code string) (key []byte, enrolled bool, err error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{http: hc, log: slog.Default()}
	url = strings.TrimRight(strings.TrimSpace(url), "/")
	code = strings.TrimSpace(code)
	body := protocol.ReleaseRequest{V: protocol.Version, Device: device, Code: code}
	if err := body.Validate(); err != nil {
		return nil, false, err
	}
	var resp protocol.ReleaseResponse
	_, err = c.do(ctx, http.MethodPost, url+protocol.PathRelease, "", &body, &resp)
	if err == nil {
		return resp.Key, false, nil
	}
	if !errors.Is(err, replica.ErrUnlockCode) {
		return nil, false, err
	}
	unlockErr := err
	enrol := protocol.EnrollRequest{V: protocol.Version, Code: code, Name: name, Device: device}
	if err := enrol.Validate(); err != nil {
		return nil, false, unlockErr
	}
	var er protocol.EnrollResponse
	if _, err := c.do(ctx, http.MethodPost, url+protocol.PathEnroll, "", &enrol, &er); err != nil {
		if errors.Is(err, replica.ErrCodeUnknown) {
			return nil, false, unlockErr // neither kind of code: say the unlock code is wrong
		}
		return nil, false, err
	}
	body.Device, body.Code = uuid.Nil, ""
	if _, err := c.do(ctx, http.MethodPost, url+protocol.PathRelease, er.Token, &body, &resp); err != nil {
		return nil, true, err
	}
	return resp.Key, true, nil
}
