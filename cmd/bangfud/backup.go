package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"bangfu/cmd/bangfud/internal/vault"
	"bangfu/domain"
	"bangfu/store"
)

const restoreHelp = `
恢复 / restore
==============
  1. 停止服务器。Stop the server.
  2. bangfud restore -data DIR 备份文件.db（加密的备份：口令从标准输入读一行 /
     an encrypted backup: its passphrase as one line on standard input）
     检查备份文件能否打开，把当前的 DIR/bangfu.db 改名保留为 bangfu.db.before-restore-时间，
     放入备份，并给它一个新的“纪元”（epoch）。
     Checks that the backup opens, keeps the current DIR/bangfu.db as
     bangfu.db.before-restore-TIME, puts the backup in its place and gives it a new epoch.
     备份旁若有 备份文件.db.photos.tar（照片，加密的备份用同一口令加密），一并放回 DIR/photos/
     （已有的照片保留；每张照片按校验值检查）。
     When BACKUP.db.photos.tar lies beside the backup (its photos, encrypted with the same
     passphrase if the backup is), they are put back into DIR/photos/ (photos already there are
     kept; each is checked against its hash).
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
	fs := c.flags("backup", "-o FILE (-data DIR | -server URL) [-encrypt]", `
备份数据库：得到 bangfu.db 的一致副本，可直接用于 bangfud restore。
-data：服务器已停止时，直接读数据目录。
-server：服务器运行时，通过管理后台接口下载（可查看完整身份证号的市级账号的令牌在 BANGFUD_TOKEN 中），同步不中断。
-encrypt：用口令加密备份（从标准输入读一行，至少 12 个字符；Argon2id + XChaCha20-Poly1305）。
照片（数据目录/photos/）写在输出文件旁的 FILE.photos.tar 中（-encrypt 时同样加密）；经 -server 的备份不含照片。
备份含全部农户的完整身份证号、电话和健康状况：不加密的备份文件离开服务器前请务必加密。
口令丢失则备份无法恢复。服务器的 escrow.key（设备数据密钥的保管密钥）不在备份中，请另行妥善保存。
Writes a consistent copy of bangfu.db, ready for bangfud restore. With -data it reads a stopped
server's data directory; with -server it downloads it from the running server through the console
API (the token of a city account allowed whole IDs in BANGFUD_TOKEN), while devices keep syncing.
-encrypt encrypts it with a passphrase read as one line from standard input (12 characters or
more; Argon2id and XChaCha20-Poly1305). A backup holds every household's whole ID numbers, phones
and health: encrypt any backup that leaves the server. A lost passphrase cannot be recovered.
The server's escrow.key (which seals the devices' deposited data keys) is not in the backup:
keep a copy of it apart. The photos (DATA/photos/) go beside it in FILE.photos.tar, encrypted
too with -encrypt; a backup through -server holds no photos.`, restoreHelp)
	dir := fs.String("data", "", "数据目录（服务器已停止）/ data directory (server stopped)")
	server := serverFlag(fs)
	out := fs.String("o", "", "输出文件 / output file")
	encrypt := fs.Bool("encrypt", false, "用口令加密（口令从标准输入读一行）/ encrypt with a passphrase (one line on stdin)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("请用 -o 指定输出文件", "name the output file with -o")
	}
	if (*dir == "") == (*server == "") {
		return usagef("请给出 -data 或 -server 之一", "give one of -data and -server")
	}
	var pass []byte
	if *encrypt {
		pw, err := readPassword(os.Stdin)
		if err != nil {
			return err
		}
		if len(pw) < vault.MinPassphrase {
			return usagef("口令至少要 %[1]d 个字符", "the passphrase needs at least %[1]d characters", vault.MinPassphrase)
		}
		pass = []byte(pw)
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
	if pass != nil {
		if err := c.encryptedBackup(*out, data, pass); err != nil {
			return err
		}
		return c.photosBackup(*dir, *out, pass)
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
	fmt.Fprintln(c.stdout, "注意：备份未加密，含完整身份证号；离开服务器前请用 -encrypt。/ Note: the backup is not encrypted and holds whole ID numbers; use -encrypt for any copy that leaves the server.")
	return c.photosBackup(*dir, *out, nil)
}

// photosBackup writes the photos of the data directory dir beside the
// backup out (see photos.go); a backup through -server (dir "") holds none.
func (c *cli) photosBackup(dir, out string, pass []byte) error {
	if dir == "" {
		fmt.Fprintf(c.stdout, "照片不在经 -server 下载的备份中：请另行复制服务器的 数据目录/%[1]s（照片写入后不再改变，服务器运行时复制也一致）。/ "+
			"Photos are not in a backup made through -server: copy the server's DATA/%[1]s apart (photos never change once written, so copying it while the server runs is consistent).\n", photosDir)
		return nil
	}
	files, size, err := backupPhotos(dir, out+photosSuffix, pass)
	if err != nil || files == 0 {
		return err
	}
	fmt.Fprintf(c.stdout, "照片已备份 / photos backed up: %s（%d 个文件 files, %d 字节 bytes）\n", out+photosSuffix, files, size)
	return nil
}

// encryptedBackup checks that data opens as a store (in a file in the
// system's temporary directory, on the server's own disk, removed at
// once), writes it to out encrypted with pass, and decrypts what it wrote
// to check it before naming it.
func (c *cli) encryptedBackup(out string, data, pass []byte) error {
	plain, err := os.CreateTemp("", "bangfu-backup-check-*.db")
	if err != nil {
		return err
	}
	defer os.Remove(plain.Name())
	_, err = plain.Write(data)
	if cerr := plain.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := checkBackup(plain.Name()); err != nil {
		return err
	}
	os.Remove(plain.Name())
	tmp := out + ".partial"
	err = writeFile(tmp, func(w io.Writer) error { return vault.Encrypt(w, bytes.NewReader(data), pass) })
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("无法写入 %s (cannot write %s): %w", out, out, err)
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	sum := sha256.New()
	err = vault.Decrypt(sum, f, pass)
	f.Close()
	if err != nil || !bytes.Equal(sum.Sum(nil), sha256Sum(data)) {
		os.Remove(tmp)
		return domain.Errorf(domain.EINTERNAL, "backup", "加密后的备份校验失败：%[1]v", "the encrypted backup does not check: %[1]v", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "已备份（已加密）/ backed up (encrypted): %s（%d 字节 bytes）\n", out, len(data))
	return nil
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
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
	encrypted, err := isEncrypted(src)
	if err != nil {
		return err
	}
	var pass []byte
	if encrypted {
		pw, err := readPassword(os.Stdin)
		if err != nil {
			return usagef("备份已加密：请在标准输入给出口令（一行）", "the backup is encrypted: give its passphrase on standard input (one line)")
		}
		pass = []byte(pw)
	} else if err := checkBackup(src); err != nil {
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
	next := target + ".restoring"
	if encrypted {
		err = decryptTo(next, src, pass)
	} else {
		err = copyFile(next, src)
	}
	if err != nil {
		os.Remove(next)
		return err
	}
	if encrypted {
		if err := checkBackup(next); err != nil {
			os.Remove(next)
			return err
		}
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
	if _, err := os.Stat(src + photosSuffix); err == nil {
		n, err := restorePhotos(*dir, src+photosSuffix, pass)
		if err != nil {
			return fmt.Errorf("数据库已恢复，但照片恢复失败 (the store is restored, but its photos are not): %w", err)
		}
		fmt.Fprintf(c.stdout, "照片已恢复 / photos restored: %d 个文件 files ← %s\n", n, src+photosSuffix)
	}
	if kept != "" {
		fmt.Fprintf(c.stdout, "原数据库保留为 / the previous store is kept as: %s\n", kept)
	}
	fmt.Fprintln(c.stdout, "启动服务器后，各设备下次同步时会补推服务器丢失的记录。/ Start the server: at their next sync, devices push again what it lost.")
	return nil
}

// isEncrypted reports whether the file at path is an encrypted backup.
func isEncrypted(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, len(vault.Magic))
	n, _ := io.ReadFull(f, head)
	return vault.IsEncrypted(head[:n]), nil
}

// decryptTo decrypts the encrypted backup src into a new file dst.
func decryptTo(dst, src string, pass []byte) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = vault.Decrypt(out, bufio.NewReader(in), pass)
	if errors.Is(err, vault.ErrPassphrase) {
		err = domain.Errorf(domain.EUNAUTHORIZED, "passphrase", "口令不对，或备份文件已损坏、不完整", "the passphrase is wrong, or the backup was changed or cut short")
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyFile copies src to a new file dst.
func copyFile(dst, src string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o600)
}
