package office

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store/query"
)

// APIPrefix is where the console's API for the command line lives. A request
// carries an account's API token (bangfud account token, or the console's
// backup page) as "Authorization: Bearer bfa1...."; no cookie, so no CSRF.
//
//	GET  devices                      the devices in the account's scope (JSON)
//	POST revoke  {"device","reason"}  revoke one (ID or unique prefix; lost|replaced)
//	POST enrol   {"cadre","ttl_hours"} a one-time code for a cadre (name or ID)
//	GET  export?month=|from=&to=      the monthly workbook (XLSX)
//	GET  roster                       the roster that imports back (XLSX; accounts with IDs)
//	POST unlock {"device","ttl_hours"} an unlock code for a device whose PIN was forgotten
//	GET  backup                       the database (city accounts)
//	POST import?name=F[&apply=1]      check, or apply, a roster file (the body)
//	GET  accounts                     the accounts in scope (JSON)
//	POST accounts {"name","display","place","ids","password"}  a new account (city accounts)
//	POST accounts/disable {"name"}    disable an account in scope and its tokens (city accounts)
//	GET  stats                        the roster summary and coverage (city accounts)
//	GET  board.pdf?village=V          a village's 岗位监督栏 (name or ID, in scope)
//	GET  cards.pdf?village=V[&group=G] its 帮扶明白卡, or one group's (by name)
const APIPrefix = Prefix + "api/v1/"

// APIDevice is a device as the API lists it.
type APIDevice struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Cadre     uuid.UUID `json:"cadre"`
	CadreName string    `json:"cadre_name"`
	Enrolled  time.Time `json:"enrolled"`
	LastSync  time.Time `json:"last_sync"`
	Revoked   time.Time `json:"revoked"`
}

// APIRevoke is the body of POST revoke.
type APIRevoke struct {
	Device string `json:"device"`
	Reason string `json:"reason"`
}

// APIEnrol is the body of POST enrol.
type APIEnrol struct {
	Cadre    string `json:"cadre"`
	TTLHours int    `json:"ttl_hours"`
}

// APICode is the answer to POST enrol.
type APICode struct {
	Code      string    `json:"code"`
	Cadre     uuid.UUID `json:"cadre"`
	CadreName string    `json:"cadre_name"`
	Expires   time.Time `json:"expires"`
}

// APIError is the body of a refused API request.
type APIError struct {
	Code string `json:"code"`
	Zh   string `json:"zh"`
	En   string `json:"en"`
}

func (c *Console) routeAPI(m *http.ServeMux) {
	m.HandleFunc("GET "+APIPrefix+"devices", c.api(c.apiDevices))
	m.HandleFunc("POST "+APIPrefix+"revoke", c.api(c.apiRevoke))
	m.HandleFunc("POST "+APIPrefix+"enrol", c.api(c.apiEnrol))
	m.HandleFunc("POST "+APIPrefix+"unlock", c.api(c.apiUnlock))
	m.HandleFunc("GET "+APIPrefix+"export", c.api(c.apiExport))
	m.HandleFunc("GET "+APIPrefix+"roster", c.api(c.apiRoster))
	m.HandleFunc("GET "+APIPrefix+"backup", c.api(c.apiBackup))
	m.HandleFunc("POST "+APIPrefix+"import", c.api(c.apiImport))
	m.HandleFunc("GET "+APIPrefix+"stats", c.api(c.apiStats))
	m.HandleFunc("GET "+APIPrefix+"accounts", c.api(c.apiAccounts))
	m.HandleFunc("POST "+APIPrefix+"accounts", c.api(c.apiAddAccount))
	m.HandleFunc("POST "+APIPrefix+"accounts/disable", c.api(c.apiDisableAccount))
	m.HandleFunc("GET "+APIPrefix+"board.pdf", c.api(c.apiBoard))
	m.HandleFunc("GET "+APIPrefix+"cards.pdf", c.api(c.apiCards))
	m.HandleFunc(APIPrefix, c.api(func(w http.ResponseWriter, r *http.Request, u *user) {
		c.apiFail(w, domain.Errorf(domain.ENOTFOUND, "path", "没有这个接口", "no such endpoint"))
	}))
}

// api runs h for a request with a valid API token.
func (c *Console) api(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		acct, err := c.st.TokenAccount(strings.TrimSpace(token))
		if !ok || err != nil {
			c.apiFail(w, ErrSession)
			return
		}
		if err := c.refresh(); err != nil {
			c.apiFail(w, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRoster)
		h(w, r, &user{Session: Session{Account: acct}})
	}
}

func (c *Console) apiFail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	body := APIError{Code: domain.EINTERNAL, Zh: "服务器内部错误", En: "internal error"}
	var de *domain.Error
	if errors.As(err, &de) {
		body = APIError{Code: de.Code, Zh: de.Zh, En: de.En}
		status = map[string]int{domain.EINVALID: 400, domain.EUNAUTHORIZED: 401, domain.EFORBIDDEN: 403,
			domain.ENOTFOUND: 404, domain.ECONFLICT: 409}[de.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
	} else {
		c.log.Error("office api", "err", err)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func readJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return domain.Errorf(domain.EINVALID, "body", "请求格式不对：%[1]v", "malformed request: %[1]v", err)
	}
	return nil
}

func (c *Console) apiDevices(w http.ResponseWriter, r *http.Request, u *user) {
	devs, err := c.visibleDevices(u)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	out := make([]APIDevice, len(devs))
	for i, d := range devs {
		out[i] = APIDevice{ID: d.ID, Name: d.Name, Cadre: d.Cadre, CadreName: d.CadreName, Enrolled: d.Enrolled, LastSync: d.LastSync, Revoked: d.Revoked}
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *Console) apiRevoke(w http.ResponseWriter, r *http.Request, u *user) {
	var req APIRevoke
	if err := readJSON(r, &req); err != nil {
		c.apiFail(w, err)
		return
	}
	if _, ok := reasons[req.Reason]; !ok {
		c.apiFail(w, domain.Errorf(domain.EINVALID, "reason", "注销原因须为 lost（丢失）或 replaced（更换）", "the reason must be lost or replaced"))
		return
	}
	d, err := c.apiDevice(u, req.Device)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	if d.Revoked.IsZero() {
		if err := c.st.Revoke(d.ID, replica.Reason(req.Reason), c.now()); err != nil {
			c.apiFail(w, err)
			return
		}
		c.record(u, "revoke", fmt.Sprintf("%s（%s，%s）", d.Name, d.CadreName, d.ID), req.Reason)
		d.Revoked = c.now()
	}
	writeJSON(w, http.StatusOK, APIDevice{ID: d.ID, Name: d.Name, Cadre: d.Cadre, CadreName: d.CadreName, Enrolled: d.Enrolled, LastSync: d.LastSync, Revoked: d.Revoked})
}

// apiDevice finds the device of u's scope whose ID is id or starts with it
// (8 characters at least).
func (c *Console) apiDevice(u *user, id string) (deviceRow, error) {
	devs, err := c.visibleDevices(u)
	if err != nil {
		return deviceRow{}, err
	}
	id = strings.ToLower(strings.TrimSpace(id))
	var found []deviceRow
	for _, d := range devs {
		if len(id) >= 8 && strings.HasPrefix(d.ID.String(), id) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return deviceRow{}, domain.Errorf(domain.ENOTFOUND, "device", "本辖区没有 ID 为 %[1]s 的设备（ID 至少 8 位）", "no device in your scope has the ID %[1]s (8 characters at least)", id)
	case 1:
		return found[0], nil
	}
	return deviceRow{}, domain.Errorf(domain.EINVALID, "device", "有多台设备的 ID 以 %[1]s 开头，请给出完整 ID", "several devices have IDs starting with %[1]s; give the full ID", id)
}

// APIUnlock is the body of POST unlock: a device whose cadre forgot the
// app's PIN.
type APIUnlock struct {
	Device   string `json:"device"` // its ID or a prefix of 8 characters or more
	TTLHours int    `json:"ttl_hours"`
}

// apiUnlock issues an unlock code for a device of the account's scope
// (see Console.unlock); the answer is an APICode.
func (c *Console) apiUnlock(w http.ResponseWriter, r *http.Request, u *user) {
	var req APIUnlock
	if err := readJSON(r, &req); err != nil {
		c.apiFail(w, err)
		return
	}
	d, err := c.apiDevice(u, req.Device)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	ttl := unlockTTL
	if req.TTLHours > 0 {
		ttl = time.Duration(req.TTLHours) * time.Hour
	}
	code, err := c.st.IssueUnlock(d.ID, ttl)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	c.record(u, "unlock-code", fmt.Sprintf("%s（%s，%s）", d.Name, d.CadreName, d.ID), "api")
	writeJSON(w, http.StatusOK, APICode{Code: code, Cadre: d.Cadre, CadreName: d.CadreName, Expires: c.now().Add(ttl)})
}

func (c *Console) apiEnrol(w http.ResponseWriter, r *http.Request, u *user) {
	var req APIEnrol
	if err := readJSON(r, &req); err != nil {
		c.apiFail(w, err)
		return
	}
	cadres, err := c.visibleCadres(u)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	who := strings.TrimSpace(req.Cadre)
	var found []*domain.Cadre
	for _, cd := range cadres {
		if cd.ID.String() == strings.ToLower(who) || cd.Name == who {
			found = append(found, cd.Cadre)
		}
	}
	switch len(found) {
	case 0:
		c.apiFail(w, domain.Errorf(domain.ENOTFOUND, "cadre", "本辖区名册中没有“%[1]s”", "no cadre %[1]q on your roster", who))
		return
	case 1:
	default:
		var list []string
		for _, cd := range found {
			list = append(list, cd.ID.String()+" "+cd.Phone)
		}
		c.apiFail(w, domain.Errorf(domain.EINVALID, "cadre", "有多名干部叫“%[1]s”，请用 ID：%[2]s", "several cadres are named %[1]q; give the ID: %[2]s", who, strings.Join(list, "; ")))
		return
	}
	ttl := enrolTTL
	if req.TTLHours > 0 {
		ttl = time.Duration(req.TTLHours) * time.Hour
	}
	code, err := c.st.CreateEnrolCode(found[0].ID, ttl)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	c.record(u, "enrol", fmt.Sprintf("%s（%s）", found[0].Name, found[0].ID), "api")
	writeJSON(w, http.StatusOK, APICode{Code: code, Cadre: found[0].ID, CadreName: found[0].Name, Expires: c.now().Add(ttl)})
}

func (c *Console) apiExport(w http.ResponseWriter, r *http.Request, u *user) {
	if c.export == nil {
		c.apiFail(w, domain.Errorf(domain.ENOTFOUND, "export", "此服务器未启用导出", "exports are off on this server"))
		return
	}
	q := r.URL.Query()
	from, to, err := ParseRange(q.Get("month"), q.Get("from"), q.Get("to"))
	if err != nil {
		c.apiFail(w, err)
		return
	}
	var buf bytes.Buffer
	if err := c.export(&buf, ExportQuery{Scope: u.Account.Place, IDs: u.Account.IDs, From: from, To: to,
		Unit: c.placeName(u.Account.Place) + "办公室"}); err != nil {
		c.apiFail(w, err)
		return
	}
	c.record(u, "export", "api", fmt.Sprintf("%d bytes, %s", buf.Len(), idsWord(u.Account.IDs)))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Write(buf.Bytes())
}

func (c *Console) apiRoster(w http.ResponseWriter, r *http.Request, u *user) {
	data, err := c.roster(u)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	c.record(u, "export", "花名册 roster (api)", fmt.Sprintf("%d bytes, %s", len(data), idsWord(true)))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Write(data)
}

func (c *Console) apiBackup(w http.ResponseWriter, r *http.Request, u *user) {
	if err := c.mayBackup(u); err != nil {
		c.apiFail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	n, err := c.st.Backup(w)
	if err != nil && n == 0 {
		c.record(u, "backup-failed", "api", err.Error())
		c.apiFail(w, err)
		return
	}
	if err != nil {
		c.log.Error("office: backup", "err", err, "bytes", n)
		c.record(u, "backup-failed", "api", err.Error())
		return
	}
	c.record(u, "backup", "api", fmt.Sprintf("%d bytes", n))
}

func (c *Console) apiImport(w http.ResponseWriter, r *http.Request, u *user) {
	if c.importer == nil {
		c.apiFail(w, domain.Errorf(domain.ENOTFOUND, "import", "此服务器未启用导入", "imports are off on this server"))
		return
	}
	name := r.URL.Query().Get("name")
	data, err := io.ReadAll(r.Body)
	if err != nil {
		c.apiFail(w, domain.Errorf(domain.EINVALID, "file", "文件过大（上限 20 MB）", "the file is too large (20 MB at most)"))
		return
	}
	apply := r.URL.Query().Get("apply") == "1"
	res, err := c.importer(name, data, u.Account.Place, apply)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	if apply && len(res.Bad) == 0 {
		c.record(u, "import", name, fmt.Sprintf("%d records written (api)", res.Records))
	}
	res.Marked = nil
	writeJSON(w, http.StatusOK, res)
}

// apiVillage finds the village named (or with the ID) in the query's
// "village" among the villages of u's scope.
func (c *Console) apiVillage(r *http.Request, u *user) (*domain.Place, error) {
	want := r.URL.Query().Get("village")
	id, idErr := uuid.Parse(want)
	vs, err := query.Places(c.db, domain.Village, uuid.Nil)
	if err != nil {
		return nil, err
	}
	sc := c.scope(u)
	var found []*domain.Place
	for _, v := range vs {
		if (v.Name == want || (idErr == nil && v.ID == id)) && sc.sees(v.ID) {
			found = append(found, v)
		}
	}
	switch len(found) {
	case 0:
		return nil, domain.Errorf(domain.ENOTFOUND, "village", "没有名为“%[1]s”的村", "there is no village named %[1]q", want)
	case 1:
		return found[0], nil
	}
	return nil, domain.Errorf(domain.EINVALID, "village", "有多个村叫“%[1]s”，请用 ID 指定", "several villages are named %[1]q; give the ID", want)
}

func (c *Console) apiBoard(w http.ResponseWriter, r *http.Request, u *user) {
	v, err := c.apiVillage(r, u)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	b, err := BoardOf(c.db, v.ID, c.now())
	if err == nil {
		err = c.apiPDF(w, func(buf *bytes.Buffer) error { return WriteBoardPDF(buf, b) })
	}
	if err != nil {
		c.apiFail(w, err)
	}
}

func (c *Console) apiCards(w http.ResponseWriter, r *http.Request, u *user) {
	v, err := c.apiVillage(r, u)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	var group uuid.UUID
	if name := r.URL.Query().Get("group"); name != "" {
		groups, err := query.Places(c.db, domain.Group, v.ID)
		if err != nil {
			c.apiFail(w, err)
			return
		}
		for _, g := range groups {
			if g.Name == name {
				group = g.ID
			}
		}
		if group == uuid.Nil {
			c.apiFail(w, domain.Errorf(domain.ENOTFOUND, "group", "%[1]s没有“%[2]s”", "%[1]s has no group %[2]q", v.Name, name))
			return
		}
	}
	cards, err := CardsOf(c.db, v.ID, group, c.now())
	if err == nil {
		err = c.apiPDF(w, func(buf *bytes.Buffer) error { return WriteCardsPDF(buf, cards) })
	}
	if err != nil {
		c.apiFail(w, err)
	}
}

// apiPDF writes the PDF that write makes, whole or not at all.
func (c *Console) apiPDF(w http.ResponseWriter, write func(*bytes.Buffer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	_, err := w.Write(buf.Bytes())
	return err
}

// APIStats is the answer to GET stats: what bangfud stats prints.
type APIStats struct {
	Summary  *query.Figures  `json:"summary"`
	Coverage domain.Coverage `json:"coverage"`
}

// apiStats answers the roster summary of the whole store, so a city
// account's only.
func (c *Console) apiStats(w http.ResponseWriter, r *http.Request, u *user) {
	rec, err := c.db.Get(domain.KindPlace, u.Account.Place)
	if err != nil || rec.(*domain.Place).Level != domain.City {
		c.apiFail(w, domain.Errorf(domain.EFORBIDDEN, "stats", "汇总含全市数据，只有市级账号可以查看（镇的情况见管理后台概况页）",
			"the summary covers the whole city: only a city office account may see it (a town's figures are on the console's overview)"))
		return
	}
	var out APIStats
	out.Summary, err = query.Summary(c.db)
	if err == nil {
		out.Coverage, err = query.Coverage(c.db, uuid.Nil)
	}
	if err != nil {
		c.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// APIAccount is an account as GET accounts lists it, and (with Password,
// Place a name or ID) the body of POST accounts.
type APIAccount struct {
	Name      string    `json:"name"`
	Display   string    `json:"display"`
	Place     string    `json:"place"`
	PlaceName string    `json:"place_name,omitempty"`
	IDs       bool      `json:"ids"`
	Disabled  time.Time `json:"disabled,omitzero"`
	Password  string    `json:"password,omitempty"`
}

func (c *Console) apiAccounts(w http.ResponseWriter, r *http.Request, u *user) {
	d, err := c.accountsData(u)
	if err != nil {
		c.apiFail(w, err)
		return
	}
	out := []APIAccount{}
	for _, a := range d.Accounts {
		out = append(out, APIAccount{Name: a.Name, Display: a.Display, Place: a.Place.String(), PlaceName: a.PlaceName, IDs: a.IDs, Disabled: a.Disabled})
	}
	writeJSON(w, http.StatusOK, out)
}

var errCityAccounts = domain.Errorf(domain.EFORBIDDEN, "account", "只有市级账号可以新建或停用账号", "only a city office account may make or disable accounts")

// accountRequest reads a city office's request to add or disable an
// account, with the accounts and places of its scope; ok is false when it
// has answered already with why not.
func (c *Console) accountRequest(w http.ResponseWriter, r *http.Request, u *user) (req APIAccount, d accountsData, ok bool) {
	if c.cityOnly(u) != nil {
		c.apiFail(w, errCityAccounts)
		return req, d, false
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		c.apiFail(w, domain.Errorf(domain.EINVALID, "body", "请求格式不对：%[1]v", "bad request: %[1]v", err))
		return req, d, false
	}
	d, err := c.accountsData(u)
	if err != nil {
		c.apiFail(w, err)
		return req, d, false
	}
	return req, d, true
}

func (c *Console) apiAddAccount(w http.ResponseWriter, r *http.Request, u *user) {
	req, d, ok := c.accountRequest(w, r, u)
	if !ok {
		return
	}
	id, idErr := uuid.Parse(req.Place)
	var place *domain.Place
	for _, p := range d.Places {
		if p.Name == req.Place || (idErr == nil && p.ID == id) {
			if place != nil {
				c.apiFail(w, domain.Errorf(domain.EINVALID, "place", "有多个叫“%[1]s”的地方，请用 ID 指定", "several places are named %[1]q; give the ID", req.Place))
				return
			}
			place = p
		}
	}
	if place == nil {
		c.apiFail(w, domain.Errorf(domain.ENOTFOUND, "place", "辖区内没有叫“%[1]s”的镇或市", "no town or city named %[1]q in your scope", req.Place))
		return
	}
	name, display := strings.TrimSpace(req.Name), strings.TrimSpace(req.Display)
	if display == "" || utf8.RuneCountInString(display) > 40 {
		display = name
	}
	if err := c.st.CreateAccount(Account{Name: name, Display: display, Place: place.ID, IDs: req.IDs}, req.Password); err != nil {
		c.apiFail(w, err)
		return
	}
	c.record(u, "account", name+"（"+place.Name+"）", "api")
	writeJSON(w, http.StatusOK, APIAccount{Name: name, Display: display, Place: place.ID.String(), PlaceName: place.Name, IDs: req.IDs})
}

func (c *Console) apiDisableAccount(w http.ResponseWriter, r *http.Request, u *user) {
	req, d, ok := c.accountRequest(w, r, u)
	if !ok {
		return
	}
	found := false
	for _, a := range d.Accounts {
		found = found || a.Name == req.Name
	}
	if !found {
		c.apiFail(w, domain.Errorf(domain.ENOTFOUND, "name", "辖区内没有账号“%[1]s”", "no account %[1]q in your scope", req.Name))
		return
	}
	if err := c.st.DisableAccount(req.Name, c.now()); err != nil {
		c.apiFail(w, err)
		return
	}
	if err := c.st.RevokeTokens(req.Name); err != nil {
		c.apiFail(w, err)
		return
	}
	c.record(u, "account-disable", req.Name, "api")
	writeJSON(w, http.StatusOK, APIAccount{Name: req.Name})
}
