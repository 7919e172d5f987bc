package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"bangfu/domain"
	"bangfu/office"
	"bangfu/store"
)

const restoreHelp = `
恢复 / restore
==============
  1. 停止服务器。Stop the server.
  2. bangfud restore -data DIR 备份文件.db
     检查备份文件能否打开，把当前的 DIR/bangfu.db 改名保留为 bangfu.db.before-restore-时间，
     放入备份，并给它一个新的“纪元”（epoch）。
     Checks that the backup opens, keeps the current DIR/bangfu.db as
     bangfu.db.before-restore-TIME, puts the backup in its place and gives it a new epoch.
  3. 启动服务器。Start the server.
恢复后，每台设备下次同步时发现服务器的同步位置已变（纪元不同），会从头拉取，并把本机写过的全部
记录重新推送：服务器丢失的（备份之后同步的）补回，已有的按变更 ID 跳过，不会重复。
备份之后才注册的设备需要重新注册；备份之后在服务器上导入的花名册需要重新导入。
After a restore, every device finds at its next sync that the server's cursors changed (a new
epoch): it pulls from the start and pushes everything it wrote again — what the server lost
(synced after the backup) comes back, what it has is skipped by change ID, nothing repeats.
Devices enrolled after the backup must enrol again; rosters imported on the server after the
backup must be imported again.`

func (c *cli) backup(args []string) error {
	fs := c.flags("backup", "-o FILE (-data DIR | -server URL -account NAME)", `
备份数据库：得到 bangfu.db 的一致副本，可直接用于 bangfud restore。
-data：服务器已停止时，直接读数据目录。
-server：服务器运行时，通过办公室管理后台下载（市级账号；密码从标准输入读一行），同步不中断。
Writes a consistent copy of bangfu.db, ready for bangfud restore. With -data it reads a stopped
server's data directory; with -server it downloads it from the running server through the office
console (a city account; the password is one line on stdin), while devices keep syncing.`, restoreHelp)
	dir := fs.String("data", "", "数据目录（服务器已停止）/ data directory (server stopped)")
	srv := fs.String("server", "", "运行中的服务器地址，如 http://127.0.0.1:8080 / the running server's URL")
	acct := fs.String("account", "", "管理后台账号（市级）/ console account (city)")
	out := fs.String("o", "", "输出文件 / output file")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("请用 -o 指定输出文件", "name the output file with -o")
	}
	if (*dir == "") == (*srv == "") {
		return usagef("请给出 -data 或 -server 之一", "give one of -data and -server")
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".bangfud-backup-*")
	if err != nil {
		return fmt.Errorf("无法创建输出文件 (cannot create the output file): %w", err)
	}
	defer os.Remove(tmp.Name())
	var n int64
	if *dir != "" {
		db, err := openExisting(*dir)
		if err != nil {
			tmp.Close()
			return err
		}
		n, err = db.Backup(tmp)
		db.Close()
		if err != nil {
			tmp.Close()
			return err
		}
	} else {
		if *acct == "" {
			tmp.Close()
			return usagef("请用 -account 指定管理后台账号", "name the console account with -account")
		}
		pw, err := readPassword(os.Stdin)
		if err != nil {
			tmp.Close()
			return err
		}
		if n, err = remoteBackup(*srv, *acct, pw, tmp); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A backup that does not open is no backup: check it before naming it.
	if err := checkBackup(tmp.Name()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("无法写入 %s (cannot write %s): %w", *out, *out, err)
	}
	fmt.Fprintf(c.stdout, "已备份 / backed up: %s（%d 字节 bytes）\n", *out, n)
	return nil
}

// checkBackup opens a backup as a store and closes it.
func checkBackup(path string) error {
	db, err := store.Open(path, &store.Options{Timeout: lockTimeout})
	if err != nil {
		return domain.Errorf(domain.EINVALID, "backup", "备份文件无法打开：%[1]v", "the backup does not open: %[1]v", err)
	}
	return db.Close()
}

// remoteBackup logs into the console at base and downloads a backup to w.
func remoteBackup(base, name, password string, w io.Writer) (int64, error) {
	base = strings.TrimRight(base, "/")
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Minute}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	page := func(resp *http.Response, err error) (string, error) {
		if err != nil {
			return "", domain.Errorf(domain.EUNAVAILABLE, "server", "无法连接服务器：%[1]v", "cannot reach the server: %[1]v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return "", domain.Errorf(domain.EUNAUTHORIZED, "server", "服务器拒绝：%[1]s", "the server refused: %[1]s", resp.Status)
		}
		return string(b), nil
	}
	login, err := page(hc.Get(base + office.Prefix + "login"))
	if err != nil {
		return 0, err
	}
	m := csrf.FindStringSubmatch(login)
	if m == nil {
		return 0, domain.Errorf(domain.EINVALID, "server", "%[1]s 不是帮扶走访服务器", "%[1]s is not a Bangfu server", base)
	}
	home, err := page(hc.PostForm(base+office.Prefix+"login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {password}}))
	if err != nil {
		return 0, domain.Errorf(domain.EUNAUTHORIZED, "password", "登录失败（账号或密码不正确，或尝试过多）", "login failed (wrong name or password, or too many attempts)")
	}
	if m = csrf.FindStringSubmatch(home); m == nil {
		return 0, domain.Errorf(domain.EUNAUTHORIZED, "password", "登录失败", "login failed")
	}
	resp, err := hc.PostForm(base+office.Prefix+"backup", url.Values{"csrf": {m[1]}})
	if err != nil {
		return 0, domain.Errorf(domain.EUNAVAILABLE, "server", "下载备份失败：%[1]v", "downloading the backup failed: %[1]v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, domain.Errorf(domain.EFORBIDDEN, "backup", "服务器拒绝备份（%[1]s）：只有市级账号可以下载", "the server refused the backup (%[1]s): only a city account may download it", resp.Status)
	}
	return io.Copy(w, resp.Body)
}

func (c *cli) restore(args []string) error {
	flags := c.flags("restore", "-data DIR BACKUP.db", `
从备份恢复服务器数据库（服务器须已停止）。
Restores the server's database from a backup (the server must be stopped).`, restoreHelp)
	dir := dataFlag(flags)
	pos, err := parse(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("请给出一个备份文件", "give one backup file")
	}
	src := pos[0]
	if err := checkBackup(src); err != nil {
		return err
	}
	target := filepath.Join(*dir, dbFile)
	// Hold the current store while swapping, so a server started meanwhile
	// cannot open it; and refuse if one is running.
	var kept string
	if _, err := os.Stat(target); err == nil {
		cur, err := openStore(*dir)
		if err != nil {
			return err
		}
		cur.Close()
		kept = target + ".before-restore-" + time.Now().Format("20060102-150405")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	next := target + ".restoring"
	if err := os.WriteFile(next, data, 0o600); err != nil {
		return err
	}
	db, err := store.Open(next, &store.Options{Timeout: lockTimeout})
	if err != nil {
		os.Remove(next)
		return err
	}
	epoch, err := db.NewEpoch()
	seq, _ := db.LastSeq()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(next)
		return err
	}
	if kept != "" {
		if err := os.Rename(target, kept); err != nil {
			os.Remove(next)
			return err
		}
	}
	if err := os.Rename(next, target); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "已恢复 / restored: %s ← %s（日志 %d 条 / %d log entries, 纪元 epoch %x）\n", target, src, seq, seq, epoch)
	if kept != "" {
		fmt.Fprintf(c.stdout, "原数据库保留为 / the previous store is kept as: %s\n", kept)
	}
	fmt.Fprintln(c.stdout, "启动服务器后，各设备下次同步时会补推服务器丢失的记录。/ Start the server: at their next sync, devices push again what it lost.")
	return nil
}
