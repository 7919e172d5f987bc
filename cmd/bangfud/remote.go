package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"bangfu/domain"
	"bangfu/office"
)

// tokenEnv names the environment variable that holds an office account's
// API token for -server.
const tokenEnv = "BANGFUD_TOKEN"

const remoteHelp = `
服务器运行时 / while the server runs
  加 -server http://服务器:8080，并在环境变量 BANGFUD_TOKEN 中给出办公室账号的命令行令牌
  （管理后台“备份与命令行”页面生成，或服务器停止时用 bangfud account token -name 账号），
  命令即通过运行中服务器的管理后台接口执行，按该账号的辖区，并记入操作日志；不必停止服务器。
  Add -server http://HOST:8080 and put an office account's API token in BANGFUD_TOKEN (made on
  the console's backup page, or with bangfud account token on a stopped server): the command
  then runs through the running server's console API, within the account's scope, and is
  recorded in the audit log; the server keeps running.`

// serverFlag adds -server to fs.
func serverFlag(fs *flag.FlagSet) *string {
	return fs.String("server", "", "运行中服务器的地址（令牌在 BANGFUD_TOKEN 中）/ a running server's URL (token in BANGFUD_TOKEN)")
}

// remote is the console API of a running server.
type remote struct {
	base, token string
	hc          *http.Client
}

func newRemote(server string) (*remote, error) {
	token := strings.TrimSpace(os.Getenv(tokenEnv))
	if token == "" {
		return nil, usagef("使用 -server 时请在环境变量 %[1]s 中给出命令行令牌", "with -server, give an API token in the environment variable %[1]s", tokenEnv)
	}
	return &remote{base: strings.TrimRight(server, "/"), token: token, hc: &http.Client{Timeout: 30 * time.Minute}}, nil
}

// call sends a request to the API endpoint path and returns the answer's
// body; a refusal comes back as the *domain.Error the server gave.
func (r *remote) call(method, path string, body io.Reader, in any) ([]byte, error) {
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.base+office.APIPrefix+path, body)
	if err != nil {
		return nil, usagef("服务器地址不对：%[1]v", "bad server URL: %[1]v", err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "server", "无法连接服务器 %[1]s：%[2]v", "cannot reach the server %[1]s: %[2]v", r.base, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "server", "服务器的回答不完整：%[1]v", "the server's answer was cut short: %[1]v", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e office.APIError
		if json.Unmarshal(out, &e) == nil && e.Code != "" {
			return nil, &domain.Error{Code: e.Code, Zh: e.Zh, En: e.En}
		}
		return nil, domain.Errorf(domain.EUNAVAILABLE, "server", "服务器拒绝：%[1]s（是帮扶走访服务器吗？）", "the server refused: %[1]s (is it a Bangfu server?)", resp.Status)
	}
	return out, nil
}

func (r *remote) getJSON(path string, out any) error {
	b, err := r.call(http.MethodGet, path, nil, nil)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	return err
}

func (r *remote) postJSON(path string, in, out any) error {
	b, err := r.call(http.MethodPost, path, nil, in)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	return err
}
