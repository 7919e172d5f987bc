package office

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
)

// ImportResult is what a roster import found (a dry run) or did.
type ImportResult struct {
	Summary []string `json:"summary"` // lines of counts: new households, cadres, ...
	Bad     []string `json:"bad"`     // every bad row: where and why
	Records int      `json:"records"` // records to write, or written
	Marked  []byte   `json:"-"`       // the file as XLSX with the bad rows marked; nil if none
}

// Importer checks (apply false) or applies a roster file named name within
// the account's scope (a town or the city).
type Importer func(name string, data []byte, scope uuid.UUID, apply bool) (*ImportResult, error)

// upload is a roster file between its dry run and its confirmation.
type upload struct {
	name    string
	data    []byte
	account string
	result  *ImportResult
	expires time.Time
}

// uploads keeps uploaded files for an hour, in memory: a confirmation
// after a restart asks for the file again.
type uploads struct {
	mu    gosync.Mutex
	files map[string]*upload
}

func (u *uploads) put(up *upload, now time.Time) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.files == nil {
		u.files = map[string]*upload{}
	}
	for k, v := range u.files {
		if now.After(v.expires) {
			delete(u.files, k)
		}
	}
	// An account keeps its newest maxUploads files: each may be 20 MB (and
	// its marked copy), and they stay an hour.
	var mine []string
	for k, v := range u.files {
		if v.account == up.account {
			mine = append(mine, k)
		}
	}
	slices.SortFunc(mine, func(a, b string) int { return u.files[a].expires.Compare(u.files[b].expires) })
	for len(mine) >= maxUploads {
		delete(u.files, mine[0])
		mine = mine[1:]
	}
	token := randomToken()
	u.files[token] = up
	return token
}

// Uploads keeps roster files between their dry run and their confirmation
// where every instance of the server finds them (pgstore.Office): behind a
// load balancer the confirmation may reach another instance than the dry
// run. A token is the console's random secret; marked is the file with its
// bad rows marked (nil if none).
type Uploads interface {
	PutUpload(token, account, name string, data, marked []byte, expires, now time.Time) error
	// Upload returns the live upload of token made by account; ok false if
	// there is none.
	Upload(token, account string, now time.Time) (name string, data, marked []byte, ok bool, err error)
	MarkUpload(token string, marked []byte) error
	DropUpload(token string) error
}

// keepUpload keeps up until its confirmation and returns its token.
func (c *Console) keepUpload(up *upload, now time.Time) (string, error) {
	if c.shared == nil {
		return c.uploads.put(up, now), nil
	}
	token := randomToken()
	var marked []byte
	if up.result != nil {
		marked = up.result.Marked
	}
	return token, c.shared.PutUpload(token, up.account, up.name, up.data, marked, up.expires, now)
}

// upload returns the upload of token made by account, nil if there is none.
func (c *Console) upload(token, account string, now time.Time) (*upload, error) {
	if c.shared == nil {
		return c.uploads.get(token, account, now), nil
	}
	name, data, marked, ok, err := c.shared.Upload(token, account, now)
	if err != nil || !ok {
		return nil, err
	}
	return &upload{name: name, data: data, account: account, result: &ImportResult{Marked: marked}}, nil
}

// markUpload keeps res as the latest check of the upload of token.
func (c *Console) markUpload(token string, up *upload, res *ImportResult) error {
	if c.shared == nil {
		up.result = res
		return nil
	}
	return c.shared.MarkUpload(token, res.Marked)
}

func (c *Console) dropUpload(token string) error {
	if c.shared == nil {
		c.uploads.drop(token)
		return nil
	}
	return c.shared.DropUpload(token)
}

// maxUploads is how many uploaded files waiting for confirmation an account
// keeps; an older one must be uploaded again.
const maxUploads = 3

func (u *uploads) get(token, account string, now time.Time) *upload {
	u.mu.Lock()
	defer u.mu.Unlock()
	up := u.files[token]
	if up == nil || up.account != account || now.After(up.expires) {
		return nil
	}
	return up
}

func (u *uploads) drop(token string) {
	u.mu.Lock()
	delete(u.files, token)
	u.mu.Unlock()
}

// maxRoster is the largest roster file the console accepts.
const maxRoster = 20 << 20

type importData struct {
	On      bool
	Name    string
	Token   string
	Result  *ImportResult
	Applied bool
}

func (c *Console) importForm(w http.ResponseWriter, r *http.Request, u *user) {
	c.render(w, "import", http.StatusOK, page{Title: "导入花名册 Import a roster", User: u, Data: importData{On: c.importer != nil}})
}

func (c *Console) importCheck(w http.ResponseWriter, r *http.Request, u *user) {
	if c.importer == nil {
		c.fail(w, r, u, domain.Errorf(domain.ENOTFOUND, "import", "此服务器未启用导入", "imports are off on this server"))
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		c.fail(w, r, u, domain.Errorf(domain.EINVALID, "file", "请选择 CSV 或 XLSX 文件", "choose a CSV or XLSX file"))
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxRoster+1))
	if err != nil || len(data) > maxRoster {
		c.fail(w, r, u, domain.Errorf(domain.EINVALID, "file", "文件过大（上限 20 MB）", "the file is too large (20 MB at most)"))
		return
	}
	name := strings.ToValidUTF8(filepath.Base(hdr.Filename), "_")
	res, err := c.importer(name, data, u.Account.Place, false)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	token, err := c.keepUpload(&upload{name: name, data: data, account: u.Account.Name, result: res, expires: c.now().Add(time.Hour)}, c.now())
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "import-check", name, fmt.Sprintf("%d records, %d bad rows", res.Records, len(res.Bad)))
	c.render(w, "import", http.StatusOK, page{Title: "导入花名册 Import a roster", User: u,
		Data: importData{On: true, Name: name, Token: token, Result: res}})
}

func (c *Console) importApply(w http.ResponseWriter, r *http.Request, u *user) {
	token := r.PostFormValue("token")
	up, err := c.upload(token, u.Account.Name, c.now())
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	if up == nil {
		c.fail(w, r, u, domain.Errorf(domain.ENOTFOUND, "token", "上传的文件已过期，请重新上传", "the upload has expired: upload the file again"))
		return
	}
	// Checked again against the roster as it is now: it may have changed
	// since the dry run.
	res, err := c.importer(up.name, up.data, u.Account.Place, true)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	applied := len(res.Bad) == 0
	if applied {
		err = c.dropUpload(token)
		c.record(u, "import", up.name, fmt.Sprintf("%d records written", res.Records))
	} else {
		err = c.markUpload(token, up, res)
	}
	if err != nil {
		c.log.Error("office: import upload", "err", err)
	}
	c.render(w, "import", http.StatusOK, page{Title: "导入花名册 Import a roster", User: u,
		Data: importData{On: true, Name: up.name, Token: token, Result: res, Applied: applied}})
}

func (c *Console) importMarked(w http.ResponseWriter, r *http.Request, u *user) {
	up, err := c.upload(r.URL.Query().Get("token"), u.Account.Name, c.now())
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	if up == nil || up.result == nil || up.result.Marked == nil {
		c.fail(w, r, u, domain.Errorf(domain.ENOTFOUND, "token", "没有可下载的标注文件，请重新上传", "there is no marked file to download: upload the file again"))
		return
	}
	name := strings.TrimSuffix(up.name, filepath.Ext(up.name)) + "-错误标注.xlsx"
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", attachment(name))
	w.Write(up.result.Marked)
}
