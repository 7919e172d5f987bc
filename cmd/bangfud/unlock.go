package main

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"bangfu/office"
	"bangfu/replica"
	"bangfu/store"
)

// escrowFile is the server's escrow key inside the data directory, beside
// the store and never in it: a backup of the store holds only sealed keys.
const escrowFile = "escrow.key"

func (c *cli) unlock(args []string) error {
	fs := c.flags("unlock", "(-data DIR | -db postgres://… | -server URL) [-ttl 24h] DEVICE-ID", `
为忘记应用 PIN 码的干部生成设备解锁码：干部在手机的锁定界面输入此码，手机从服务器取回本机的数据密钥，
设置新的 PIN 码，未同步的记录不会丢失。解锁码只对这一台设备有效，只能用一次，输错 5 次作废；
设备须仍在使用中（未注销），且已把数据密钥交给服务器保管（注册后自动完成）。
请先当面核实干部本人和手机，再生成解锁码。也可以改为给该干部生成新的注册码（bangfud enroll），
在同一台手机上重新注册，效果相同。每次取回密钥都记入管理后台的操作记录。
Prints an unlock code for a device whose cadre forgot the app's PIN: typed on the phone's lock
screen, it lets the phone take its data key back from the server and choose a new PIN, so
nothing that was never synced is lost. The code works for that device only, once, and stops
working after 5 wrong tries; the device must be live (not revoked) and have deposited its key
(the app does so after enrolment). Check the cadre and the phone in person first. Enrolling
the same phone again with a new enrolment code (bangfud enroll) does the same. Every release
of a key is written to the console's audit log.`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	server := serverFlag(fs)
	pgURL := dbFlag(fs)
	ttl := fs.Duration("ttl", 24*time.Hour, "有效期 / how long the code is valid")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("请给出一个设备 ID", "give one device ID")
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
		if err := r.postJSON("unlock", office.APIUnlock{Device: pos[0], TTLHours: int(max(1, ttl.Hours()))}, &code); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "干部 / cadre: %s (%s)\n", plain(code.CadreName), code.Cadre)
		fmt.Fprintf(c.stdout, "解锁码 / unlock code: %s\n", code.Code)
		fmt.Fprintf(c.stdout, "有效期至 / valid until: %s（仅限本设备使用一次 / this device, once）\n", code.Expires.Local().Format("2006-01-02 15:04 MST"))
		return nil
	}
	var db interface {
		Devices() ([]replica.Device, error)
		IssueUnlock(uuid.UUID, time.Duration) (string, error)
		Audit(store.AuditEntry) error
	}
	now := time.Now
	if *pgURL != "" {
		r, err := openRegistry(*pgURL)
		if err != nil {
			return err
		}
		defer r.Close()
		db = r
	} else {
		s, err := openExisting(*dir)
		if err != nil {
			return err
		}
		defer s.Close()
		db, now = boltStorage(s), s.Now
	}
	devs, err := db.Devices()
	if err != nil {
		return err
	}
	d, err := findDevice(devs, pos[0])
	if err != nil {
		return err
	}
	code, err := db.IssueUnlock(d.ID, *ttl)
	if err != nil {
		return err
	}
	db.Audit(store.AuditEntry{At: now(), Action: "unlock-code", Target: fmt.Sprintf("%s（%s）", d.Name, d.ID)})
	fmt.Fprintf(c.stdout, "设备 / device: %s (%s)\n", d.ID, plain(d.Name))
	fmt.Fprintf(c.stdout, "解锁码 / unlock code: %s\n", code)
	fmt.Fprintf(c.stdout, "有效期至 / valid until: %s（仅限本设备使用一次 / this device, once）\n", now().Add(*ttl).Local().Format("2006-01-02 15:04 MST"))
	return nil
}
