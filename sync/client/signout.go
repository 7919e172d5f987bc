package client

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// SignOut forgets the device token and cadre, keeping the server's address
// and the cursors, so that enrolling again with the same server carries on
// where it stopped. It refuses while changes wait to be sent: sync first.
func (c *Client) SignOut() error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.mu.Lock()
	upstream, aside := c.acct.Server, maps.Clone(c.aside)
	c.mu.Unlock()
	n, err := c.pending(upstream, aside)
	if err != nil {
		c.log.Error("sign out: cannot count the changes waiting", "err", err)
		return domain.Errorf(domain.EUNAVAILABLE, "pending", "无法读取未同步的更改数，未退出：%v",
			"cannot read how many changes wait to be synced, so not signing out: %v", err)
	}
	if n > 0 {
		return domain.Errorf(domain.ECONFLICT, "pending", "还有 %d 条更改未同步，请先同步再退出",
			"%d changes have not been synced yet; sync before signing out", n)
	}
	c.mu.Lock()
	acct := account{URL: c.acct.URL, Server: c.acct.Server}
	c.mu.Unlock()
	v, _ := json.Marshal(acct)
	if err := c.db.SetLocal(store.KeyAccount, string(v), nil); err != nil {
		return fmt.Errorf("client: sign out: %w", err)
	}
	c.mu.Lock()
	c.acct = acct
	c.status.Enrolled, c.status.Cadre, c.status.Err = false, uuid.Nil, nil
	c.mu.Unlock()
	c.log.Info("signed out", "server", acct.URL)
	c.publish()
	return nil
}
