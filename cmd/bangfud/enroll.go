package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/office"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/server"
)

func (c *cli) enroll(args []string) error {
	fs := c.flags("enroll", "-data DIR|-db postgres://… -cadre NAME|ID [-ttl 72h]", `
为干部生成一次性注册码：在手机或平板上输入服务器地址和此码，设备即注册为该干部的设备。
注册码只能用一次，过期作废；服务器只保存它的散列值。同一台设备在有效期内可以用同一个码重试
（例如网络中断没有收到回复）。
Prints a one-time enrolment code for a cadre: typed on a phone or tablet with the server's
address, it enrols the device as that cadre's. A code works once and expires; the server
keeps only its hash. The same device may retry with the same code while it is valid (when
the answer was lost on a weak link).`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	server := serverFlag(fs)
	who := fs.String("cadre", "", "干部姓名或 ID / the cadre's name or ID")
	ttl := fs.Duration("ttl", 72*time.Hour, "有效期 / how long the code is valid")
	pgURL := dbFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *who == "" {
		return usagef("请用 -cadre 指定干部（姓名或 ID）", "name the cadre with -cadre (a name or an ID)")
	}
	if *ttl <= 0 {
		return usagef("-ttl 必须大于零", "-ttl must be positive")
	}
	if *server != "" {
		r, err := newRemote(*server)
		if err != nil {
			return err
		}
		var code office.APICode
		if err := r.postJSON("enrol", office.APIEnrol{Cadre: *who, TTLHours: int(max(1, ttl.Hours()))}, &code); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "干部 / cadre: %s (%s)\n", code.CadreName, code.Cadre)
		fmt.Fprintf(c.stdout, "注册码 / enrolment code: %s\n", code.Code)
		fmt.Fprintf(c.stdout, "有效期至 / valid until: %s（仅限使用一次 / single use）\n", code.Expires.Local().Format("2006-01-02 15:04 MST"))
		return nil
	}
	var db *store.DB
	var codes interface {
		CreateEnrolCode(uuid.UUID, time.Duration) (string, error)
		Now() time.Time
	}
	if *pgURL != "" {
		r, err := openReplica(*pgURL, "")
		if err != nil {
			return err
		}
		defer r.Close()
		if db, err = r.Mirror(); err != nil {
			return err
		}
		codes = r
	} else {
		var err error
		if db, err = openExisting(*dir); err != nil {
			return err
		}
		defer db.Close()
		codes = boltStorage(db)
	}
	cadre, err := findCadre(db, *who)
	if err != nil {
		return err
	}
	code, err := codes.CreateEnrolCode(cadre.ID, *ttl)
	if err != nil {
		return err
	}
	expires := codes.Now().Add(*ttl)
	fmt.Fprintf(c.stdout, "干部 / cadre: %s (%s)\n", plain(cadre.Name), cadre.ID)
	fmt.Fprintf(c.stdout, "注册码 / enrolment code: %s\n", code)
	fmt.Fprintf(c.stdout, "有效期至 / valid until: %s（仅限使用一次 / single use）\n", expires.Local().Format("2006-01-02 15:04 MST"))
	return nil
}

// findCadre finds a live cadre by ID or by name; a name two cadres share is
// an error that lists them with their IDs.
func findCadre(db *store.DB, who string) (*domain.Cadre, error) {
	if id, err := uuid.Parse(who); err == nil {
		r, err := db.Get(domain.KindCadre, id)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.Errorf(domain.ENOTFOUND, "cadre", "没有 ID 为 %[1]s 的干部", "no cadre has the ID %[1]s", id)
		}
		if err != nil {
			return nil, err
		}
		return r.(*domain.Cadre), nil
	}
	var same []*domain.Cadre
	err := db.Each(domain.KindCadre, func(r domain.Record) error {
		if c := r.(*domain.Cadre); c.Name == strings.TrimSpace(who) {
			same = append(same, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch len(same) {
	case 0:
		return nil, domain.Errorf(domain.ENOTFOUND, "cadre", "名册中没有叫“%[1]s”的干部", "no cadre named %[1]q is on the roster", who)
	case 1:
		return same[0], nil
	}
	var list []string
	for _, c := range same {
		list = append(list, plain(fmt.Sprintf("%s %s %s", c.ID, c.Phone, c.Unit)))
	}
	return nil, domain.Errorf(domain.EINVALID, "cadre", "有 %[1]d 名干部叫“%[2]s”，请用 ID 指定：\n  %[3]s",
		"%[1]d cadres are named %[2]q; give the ID instead:\n  %[3]s", len(same), who, strings.Join(list, "\n  "))
}

func (c *cli) devices(args []string) error {
	fs := c.flags("devices", "-data DIR", `
列出已注册的设备：设备 ID、名称、所属干部、注册时间、最近同步时间、是否已注销及原因。
名称中的控制字符（换行、终端转义等）以 \n、\x1b 这样的转义形式显示。
Lists enrolled devices: ID, name, cadre, when enrolled, last sync, and whether revoked and
why. Control characters in names (line breaks, terminal escapes) print as escapes (\n, \x1b).`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	server := serverFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	var devs []replica.Device
	names := map[uuid.UUID]string{}
	if *server != "" {
		r, err := newRemote(*server)
		if err != nil {
			return err
		}
		var list []office.APIDevice
		if err := r.getJSON("devices", &list); err != nil {
			return err
		}
		for _, d := range list {
			devs = append(devs, replica.Device{ID: d.ID, Cadre: d.Cadre, Name: d.Name, Enrolled: d.Enrolled, LastSync: d.LastSync, Revoked: d.Revoked})
			names[d.Cadre] = d.CadreName
		}
	} else {
		db, err := openExisting(*dir)
		if err != nil {
			return err
		}
		defer db.Close()
		if devs, err = boltStorage(db).Devices(); err != nil {
			return err
		}
		for _, d := range devs {
			if r, err := db.Get(domain.KindCadre, d.Cadre); err == nil {
				names[d.Cadre] = r.(*domain.Cadre).Name
			}
		}
	}
	if len(devs) == 0 {
		fmt.Fprintln(c.stdout, "还没有注册的设备 / no devices enrolled yet")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "设备 ID / device\t名称 / name\t干部 / cadre\t注册 / enrolled\t最近同步 / last sync\t状态 / state")
	for _, d := range devs {
		name := names[d.Cadre]
		if name == "" {
			name = d.Cadre.String()
		}
		state := "正常 / active"
		switch {
		case d.Revoked.IsZero():
		case d.Reason == replica.Replaced && d.Closed.IsZero():
			state = "已换新，待最后一次推送 / replaced, last push pending " + when(d.Revoked)
		case d.Reason == replica.Replaced:
			state = "已换新 / replaced " + when(d.Revoked)
		default:
			state = "已注销（丢失）/ revoked (lost) " + when(d.Revoked)
		}
		last := when(d.LastSync)
		if last == "" {
			last = "从未 / never"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, plain(d.Name), plain(name), when(d.Enrolled), last, state)
	}
	return tw.Flush()
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04")
}

func (c *cli) revoke(args []string) error {
	fs := c.flags("revoke", "-data DIR -reason lost|replaced DEVICE-ID", `
注销一台设备，注销是永久的：该设备 ID 不能再注册（设备重新注册时会使用新的 ID）。已同步的记录保留。
  -reason lost      手机丢失或被盗：设备下次连接服务器时被拒绝，并清除本机的全部数据。
  -reason replaced  换了新设备：旧设备下次连接时可以把尚未同步的记录推送一次（不再下载），之后被拒绝。
DEVICE-ID 可以是完整 ID，也可以是 bangfud devices 列出的 ID 的唯一前缀（至少 8 位）。
已按 replaced 注销、但尚未最后推送的设备，可以再按 lost 注销。
Revokes a device, for good: its ID cannot enrol again (a device that enrols again makes a new
ID). What it synced stays.
  -reason lost      the phone was lost or stolen: at its next contact the server refuses it
                    and it wipes its local data.
  -reason replaced  the cadre has a new device: at its next contact the old one may push what
                    it has not synced yet, once (it pulls nothing), and is refused from then on.
DEVICE-ID is the full ID or a unique prefix (8 characters or more) of one listed by bangfud
devices. A device revoked as replaced that has not made its last push yet may be revoked
again as lost. The console's audit log records who revoked what and why.`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	server := serverFlag(fs)
	why := fs.String("reason", "", "注销原因 / why: lost|replaced")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("请给出一个设备 ID", "give one device ID")
	}
	reason, err := replica.ParseReason(*why)
	if err != nil {
		return usagef("请用 -reason lost（丢失）或 -reason replaced（换新设备）说明注销原因",
			"say why with -reason lost or -reason replaced")
	}
	if *server != "" {
		r, err := newRemote(*server)
		if err != nil {
			return err
		}
		var d office.APIDevice
		if err := r.postJSON("revoke", office.APIRevoke{Device: pos[0], Reason: string(reason)}, &d); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "已注销设备 / revoked device: %s (%s), %s\n", d.ID, plain(d.Name), reason)
		return nil
	}
	db, err := openExisting(*dir)
	if err != nil {
		return err
	}
	defer db.Close()
	reg := boltStorage(db)
	devs, err := reg.Devices()
	if err != nil {
		return err
	}
	d, err := findDevice(devs, pos[0])
	if err != nil {
		return err
	}
	// A device replaced but not yet closed may still be declared lost.
	lostAfterAll := reason == replica.Lost && d.Reason == replica.Replaced && d.Closed.IsZero()
	if !d.Revoked.IsZero() && !lostAfterAll {
		fmt.Fprintf(c.stdout, "设备 %[1]s 已于 %[2]s 注销 / device %[1]s was already revoked at %[2]s\n", d.ID, when(d.Revoked))
		return nil
	}
	if err := reg.Revoke(d.ID, reason, db.Now()); err != nil {
		return err
	}
	db.Audit(store.AuditEntry{At: db.Now(), Action: "revoke", Target: fmt.Sprintf("%s（%s）", d.Name, d.ID), Detail: string(reason)})
	fmt.Fprintf(c.stdout, "已注销设备 / revoked device: %s (%s), %s\n", d.ID, plain(d.Name), reason)
	return nil
}

func (c *cli) lockouts(args []string) error {
	fs := c.flags("lockouts", "-data DIR [-all]", `
列出服务器因注册码错误次数过多而暂停注册的记录：某个地址被暂停，或所有地址都被暂停（有人在猜注册码）。
默认只列出仍在生效的；-all 列出全部。服务器日志中同时有一行 "enrolment locked"。
Lists the times the server stopped taking enrolments after too many wrong codes: from one
address, or from every address (someone is guessing codes). Only those still in force unless
-all. The server log has an "enrolment locked" line for each as well.`, lockedHelp)
	dir := dataFlag(fs)
	all := fs.Bool("all", false, "也列出已结束的 / list those that have ended too")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	db, err := openExisting(*dir)
	if err != nil {
		return err
	}
	defer db.Close()
	since := db.Now()
	if *all {
		since = time.Time{}
	}
	ls, err := boltStorage(db).Lockouts(since)
	if err != nil {
		return err
	}
	if len(ls) == 0 {
		fmt.Fprintln(c.stdout, "没有暂停注册的记录 / no enrolment lockouts")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "地址 / address\t开始 / from\t结束 / until\t错误次数 / wrong codes")
	for _, l := range ls {
		addr := plain(l.Address)
		if addr == "" {
			addr = "所有地址 / every address"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", addr, when(l.From), when(l.Until), l.Failures)
	}
	return tw.Flush()
}

// findDevice finds a device by its ID or a unique prefix of it.
func findDevice(devs []replica.Device, id string) (replica.Device, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) < 8 {
		return replica.Device{}, usagef("设备 ID 至少要 8 位", "a device ID needs at least 8 characters")
	}
	var found []replica.Device
	for _, d := range devs {
		if strings.HasPrefix(d.ID.String(), id) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return replica.Device{}, domain.Errorf(domain.ENOTFOUND, "device", "没有 ID 为 %[1]s 的设备（bangfud devices 可列出设备）",
			"no device has the ID %[1]s (bangfud devices lists them)", id)
	case 1:
		return found[0], nil
	}
	return replica.Device{}, domain.Errorf(domain.EINVALID, "device", "有 %[1]d 台设备的 ID 以 %[2]s 开头，请给出完整 ID",
		"%[1]d devices have IDs starting with %[2]s; give the full ID", len(found), id)
}

// boltStorage is the sync server's storage on db, a server's bbolt file: the
// replica and the device registry in its local buckets.
func boltStorage(db *store.DB) server.Bolt { return server.NewBolt(db) }
