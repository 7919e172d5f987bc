package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"bangfu/domain"
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
	fs := c.flags("backup", "-o FILE (-data DIR | -server URL)", `
备份数据库：得到 bangfu.db 的一致副本，可直接用于 bangfud restore。
-data：服务器已停止时，直接读数据目录。
-server：服务器运行时，通过管理后台接口下载（市级账号的令牌在 BANGFUD_TOKEN 中），同步不中断。
Writes a consistent copy of bangfu.db, ready for bangfud restore. With -data it reads a stopped
server's data directory; with -server it downloads it from the running server through the console
API (a city account's token in BANGFUD_TOKEN), while devices keep syncing.`, restoreHelp)
	dir := fs.String("data", "", "数据目录（服务器已停止）/ data directory (server stopped)")
	server := serverFlag(fs)
	out := fs.String("o", "", "输出文件 / output file")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("请用 -o 指定输出文件", "name the output file with -o")
	}
	if (*dir == "") == (*server == "") {
		return usagef("请给出 -data 或 -server 之一", "give one of -data and -server")
	}
	var data []byte
	if *dir != "" {
		db, err := openExisting(*dir)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		_, err = db.Backup(&buf)
		db.Close()
		if err != nil {
			return err
		}
		data = buf.Bytes()
	} else {
		r, err := newRemote(*server)
		if err != nil {
			return err
		}
		if data, err = r.call(http.MethodGet, "backup", nil, nil); err != nil {
			return err
		}
	}
	// A backup that does not open is no backup: check it before naming it.
	tmp := *out + ".partial"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("无法写入 %s (cannot write %s): %w", *out, *out, err)
	}
	if err := checkBackup(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "已备份 / backed up: %s（%d 字节 bytes）\n", *out, len(data))
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
