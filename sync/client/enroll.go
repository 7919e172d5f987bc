package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// account is what enrolment stores.
type account struct {
	URL    string    `json:"url"`
	Token  string    `json:"token"`
	Cadre  uuid.UUID `json:"cadre"`
	Server uuid.UUID `json:"server"`
}

// urlSpace derives an upstream ID from its URL for a client given a token
// without enrolling (the upstream's ID is learnt at enrolment).
var urlSpace = uuid.MustParse("a4f1e7c2-3b5d-4e8f-9a60-2c7d1b3e5f48")

// Enroll trades a one-time code for a device token at the server at url, and
// stores the account. name is how people will recognise the device. Enrolling
// with another server starts its cursors afresh, so everything the device
// holds that did not come from the new server is pushed to it.
func (c *Client) Enroll(ctx context.Context, url, code, name string) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	url = strings.TrimRight(strings.TrimSpace(url), "/")
	body := protocol.EnrollRequest{V: protocol.Version, Code: strings.TrimSpace(code), Name: strings.TrimSpace(name), Device: c.db.Device()}
	if err := body.Validate(); err != nil {
		return err
	}
	var resp protocol.EnrollResponse
	t0 := c.raw()
	if _, err := c.do(ctx, http.MethodPost, url+protocol.PathEnroll, "", &body, &resp); err != nil {
		c.setErr(err)
		return err
	}
	if resp.Device != c.db.Device() {
		err := domain.Errorf(domain.EINVALID, "device", "服务器的注册回复与本设备不符", "the server's enrolment answer is for another device")
		c.setErr(err)
		return err
	}
	server := resp.Server
	if server == uuid.Nil {
		server = uuid.NewSHA1(urlSpace, []byte(url))
	}
	acct := account{URL: url, Token: resp.Token, Cadre: resp.Cadre, Server: server}
	c.mu.Lock()
	prev := c.acct.Server
	c.mu.Unlock()
	v, _ := json.Marshal(acct)
	state := map[string]string{}
	if prev != server {
		// Another upstream, another scope: what was out of scope at the
		// old one is offered to the new one.
		state[keyPush], state[keyPull], state[keyAside] = "", "", ""
	}
	if err := c.db.SetLocal(store.KeyAccount, string(v), state); err != nil {
		return fmt.Errorf("client: enroll: %w", err)
	}
	c.setOffset(resp.Now.Time, t0, c.raw())
	c.mu.Lock()
	c.acct = acct
	if prev != server {
		c.aside = map[uuid.UUID]uint64{}
	}
	c.status.Enrolled, c.status.Server, c.status.Cadre = true, url, resp.Cadre
	c.status.Err, c.status.Reachable = nil, true
	c.mu.Unlock()
	c.log.Info("enrolled", "server", url, "cadre", resp.Cadre, "device", c.db.Device())
	c.publish()
	c.Trigger()
	return nil
}
