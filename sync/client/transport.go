package client

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/protocol"
)

// raw returns the device's own clock, without the offset.
func (c *Client) raw() time.Time {
	clk := c.db.Clock()
	return clk.Wall().Add(-clk.Offset())
}

// setOffset sets the clock offset from the upstream's time now, read between
// t0 and t1 on the device's own clock.
func (c *Client) setOffset(now, t0, t1 time.Time) {
	if now.IsZero() {
		return
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	if err := c.db.SetClockOffset(now.Sub(mid).Round(time.Millisecond)); err != nil {
		c.log.Warn("cannot save the clock offset", "err", err)
	}
}

// do sends one request and reads the answer into out. Network failures are
// EUNAVAILABLE errors in plain words. It returns the answer's header, also
// for an error answer.
func (c *Client) do(ctx context.Context, method, url, token string, in, out any) (http.Header, error) {
	return c.send(ctx, method, url, token, in, func(r *http.Response) error { return protocol.ReadResponse(r, out) })
}

// send is do with the answer read by read.
func (c *Client) send(ctx context.Context, method, url, token string, in any, read func(*http.Response) error) (http.Header, error) {
	req, err := protocol.NewRequest(ctx, method, url, token, in)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(url, protocol.PathSync) {
		req.Header.Set(protocol.HeaderFeatures, protocol.FeatureEntered)
		// A sync may be sent twice (changes apply once by ID, the pull
		// reads from the cursor): the key lets the transport send it again
		// on a new connection when the server closed the idle one it went
		// out on, as it does when it restarts.
		req.Header.Set("Idempotency-Key", uuid.NewString())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.log.Debug("request failed", "url", url, "err", err)
		return nil, &domain.Error{Code: domain.EUNAVAILABLE, Field: "network",
			Zh: "无法连接服务器，请检查网络后重试", En: "cannot reach the server; check the network and try again"}
	}
	return resp.Header, read(resp)
}

// probe reports whether the upstream answers GET /healthz.
func (c *Client) probe(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var h protocol.Health
	_, err := c.do(ctx, http.MethodGet, url+protocol.PathHealth, "", nil, &h)
	return err == nil && h.OK
}
