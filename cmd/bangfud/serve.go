package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/office"
	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
)

// demoSeed is the seed of the demo village that serve -demo loads.
const demoSeed = 1

// photosDir is the directory, inside the data directory, that holds the
// photos' bytes (server.Disk).
const photosDir = "photos"

// The server's connection timeouts (see serve).
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

func (c *cli) serve(args []string) error {
	fs := c.flags("serve", "-addr HOST:PORT -data DIR|-db postgres://… [-escrow-key FILE] [-demo] [-tls-cert F -tls-key F] [-log-level L]", `
运行同步服务器：数据保存在 DIR/bangfu.db（内嵌 bbolt），提供 /v1/enroll、/v1/sync 和 /healthz；
同一端口的 /office/ 是办公室管理后台（浏览器打开 http://服务器地址/office/，账号用 bangfud account 创建）。
-demo：数据库为空时写入演示村（王坪村），并打印演示包社干部和驻村工作队长的一次性注册码，
用手机或平板输入服务器地址和注册码即可体验两种角色。收到 SIGINT（Ctrl+C）或 SIGTERM 时，
服务器不再接受新连接，等正在进行的同步完成（最多 -shutdown-timeout）后退出。
服务器运行期间独占数据库，管理命令（import、enroll 等）需先停止服务器。
Runs the sync server on DIR/bangfu.db (embedded bbolt), serving /v1/enroll, /v1/sync and
/healthz, and the office console at /office/ on the same port (accounts: bangfud account). -demo loads the demo village (王坪村) into an empty store and prints one-time
enrolment codes for the demo group cadre and the demo team leader, so a phone and a tablet
can try both roles at once. On SIGINT (Ctrl+C) or SIGTERM the server stops accepting
connections, lets the syncs in flight finish (at most -shutdown-timeout) and exits.
While it runs it holds the store alone: stop it before running an admin command.

-db postgres://…：数据保存在 PostgreSQL（代替 -data），多个实例可共用一个数据库，设备连哪个都行；
每个实例在 -mirror 文件（默认临时文件）中保留一份由数据库推导的副本。办公室管理后台在每个实例上都可用
（账号和登录保存在数据库中，各实例通用；账号用 bangfud account add -db 创建；备份请用 pg_dump）。
-db postgres://… keeps the records in PostgreSQL instead of -data: any number of instances
share one database and serve any device. Each instance keeps a copy derived from the database
in the -mirror file (a temporary one by default). The office console is served by every
instance (accounts and logins live in the database; make accounts with bangfud account add -db;
back up with pg_dump).
每个实例都要有同一个 -escrow-key 文件（第一个实例创建它；复制到其他实例所在机器，与数据库分开保存）：
数据库只记录该密钥的标识，用别的密钥或缺少密钥文件的实例拒绝启动。
Every instance needs the same -escrow-key file (the first instance makes it; copy it to the
others' machines, and keep it apart from the database and its dumps): the database records only
the key's ID, and an instance with another key, or none, refuses to start.

照片（/v1/photos/）保存在 DIR/photos/ 下，按内容的 SHA-256 命名；启动时删除没有记录引用的照片和一周未完成的上传。
与 -db 同用时，多个实例须共用同一个 -data 目录（例如网络文件系统），否则设备上传到一个实例的照片在另一个实例上取不到。
Photos (/v1/photos/) are kept under DIR/photos/, named by the SHA-256 of their bytes; at start the
server removes those no record names and uploads unfinished for a week. With -db, every instance
needs the same -data directory (a shared file system): a photo uploaded to one instance is
otherwise missing on the others.`, "")
	addr := fs.String("addr", ":8080", "监听地址 HOST:PORT（端口 0 表示任选）/ listen address HOST:PORT (port 0: any free port)")
	dir := dataFlag(fs)
	withDemo := fs.Bool("demo", false, "数据库为空时写入演示村并打印注册码 / load the demo village into an empty store and print enrolment codes")
	cert := fs.String("tls-cert", "", "TLS 证书文件（PEM）/ TLS certificate file (PEM)")
	key := fs.String("tls-key", "", "TLS 私钥文件（PEM）/ TLS key file (PEM)")
	level := fs.String("log-level", "info", "日志级别 / log level: debug|info|warn|error")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "停止时等待进行中同步的最长时间 / how long shutdown waits for syncs in flight")
	pgURL := dbFlag(fs)
	keyFile := fs.String("escrow-key", "", "保管设备数据密钥的密钥文件（默认 DIR/escrow.key）；与 -db 同用时各实例须用同一个文件的副本 / the key file sealing devices' data keys (default DIR/escrow.key); with -db every instance needs a copy of the same file")
	mirror := fs.String("mirror", "", "与 -db 同用：本实例的副本文件（默认临时文件）/ with -db: this instance's mirror file (a temporary one by default)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if (*cert == "") != (*key == "") {
		return usagef("-tls-cert 和 -tls-key 要一起给出", "-tls-cert and -tls-key go together")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usagef("-log-level 只能是 debug、info、warn 或 error", "-log-level must be debug, info, warn or error")
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: lvl}))

	var db *store.DB
	var rep *pgstore.Replica
	var err error
	if *pgURL != "" {
		if rep, err = openReplica(*pgURL, *mirror); err != nil {
			return err
		}
		defer rep.Close()
	} else {
		if db, err = openStore(*dir); err != nil {
			return err
		}
		defer db.Close()
	}
	if *keyFile == "" {
		*keyFile = filepath.Join(*dir, escrowFile)
	}
	escrowKey, err := loadEscrowKey(*keyFile, rep)
	if err != nil {
		return err
	}

	// Photos' bytes: files under the data directory (shared by every
	// instance on one PostgreSQL database). What no live record names any
	// more, and uploads abandoned for a week, go now.
	photos, err := server.OpenDisk(filepath.Join(*dir, photosDir))
	if err != nil {
		return err
	}
	var st server.Store = server.NewBolt(db)
	if rep != nil {
		st = rep
	}
	if n, p, err := server.New(st, server.Options{Logger: log, Photos: photos}).SweepPhotos(); err != nil {
		log.Warn("photo sweep failed", "err", err)
	} else if n+p > 0 {
		log.Info("photo sweep", "removed_photos", n, "removed_partial_uploads", p)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return domain.Errorf(domain.EUNAVAILABLE, "addr", "无法监听 %[1]s：%[2]v", "cannot listen on %[1]s: %[2]v", *addr, err)
	}
	scheme := "http"
	if *cert != "" {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()

	// Catch the signals before the demo loads, so that Ctrl+C during the
	// load stops the server cleanly after the batch in progress.
	sig := c.signals
	if sig == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		sig = ch
	}
	if *withDemo {
		load := func() error { return c.serveDemo(db, log, ln.Addr(), scheme) }
		if rep != nil {
			load = func() error { return c.serveDemoPG(rep, log, ln.Addr(), scheme) }
		}
		if err := load(); err != nil {
			ln.Close()
			return err
		}
	}

	h, where := http.Handler(nil), ""
	if rep != nil {
		mirror, err := rep.Mirror()
		if err != nil {
			ln.Close()
			return err
		}
		h, where = pgHandler(rep, mirror, log, *cert != "", escrowKey, photos), "postgres"
	} else {
		h, where = handler(db, log, *cert != "", escrowKey, photos), filepath.Clean(db.Path())
	}
	srv := &http.Server{
		Handler: h,
		// Headers must arrive within ReadHeaderTimeout; a body that sends
		// nothing for server.DefaultBodyStall is closed by the handler,
		// which also caps it at server.DefaultBodyTimeout. ReadTimeout and
		// WriteTimeout bound a whole request and answer on a slow link (a
		// full page is about 1.5 MB compressed); IdleTimeout closes kept-
		// alive connections nobody uses; MaxHeaderBytes keeps headers small.
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       server.DefaultBodyTimeout,
		WriteTimeout:      server.DefaultBodyTimeout + 5*time.Minute,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() {
		if *cert != "" {
			done <- srv.ServeTLS(ln, *cert, *key)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	fmt.Fprintf(c.stderr, "listening on %s\n", url)
	log.Info("server started", "addr", ln.Addr().String(), "data", where, "tls", *cert != "")

	select {
	case err := <-done:
		// Serve failed on its own (a bad certificate, say).
		return fmt.Errorf("服务器停止 (the server stopped): %w", err)
	case s := <-sig:
		log.Info("shutting down: finishing syncs in flight", "signal", s.String(), "timeout", grace.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("shutdown deadline passed: closing the remaining connections", "err", err)
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("serve", "err", err)
	}
	if db != nil {
		if err := db.Close(); err != nil {
			return fmt.Errorf("关闭数据库失败 (closing the store failed): %w", err)
		}
	}
	log.Info("server stopped")
	return nil
}

// loadEscrowKey reads the key that seals the data keys phones deposit (a
// forgotten PIN) from path, beside the store and never in it or its
// backups, making it if it does not exist. On PostgreSQL (rep not nil)
// every instance must hold the same key: the database records its ID, and
// once it has one an instance whose file is missing does not make a new
// key (its deposits could not be released elsewhere), and one with another
// key does not start.
func loadEscrowKey(path string, rep *pgstore.Replica) ([]byte, error) {
	if rep == nil {
		return server.LoadEscrowKey(path)
	}
	id, err := rep.EscrowKeyID()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); id != nil && errors.Is(err, os.ErrNotExist) {
		return nil, domain.Errorf(domain.ECONFLICT, "escrow-key",
			"此数据库已由另一个实例设定保管密钥，但 %[1]s 不存在：请把第一个实例的保管密钥文件复制到 %[1]s，或用 -escrow-key 指定",
			"another instance has set this database's escrow key, but %[1]s does not exist: copy the first instance's escrow key file to %[1]s, or name it with -escrow-key", path)
	}
	key, err := server.LoadEscrowKey(path)
	if err != nil {
		return nil, err
	}
	if err := rep.UseEscrowKey(server.EscrowKeyID(key)); err != nil {
		return nil, err
	}
	return key, nil
}

// handler serves the sync endpoints and, under /office/, the office console
// on the same port; "/" sends a browser to the console.
func handler(db *store.DB, log *slog.Logger, secure bool, escrowKey []byte, photos server.Photos) http.Handler {
	mux := http.NewServeMux()
	st := server.NewBolt(db)
	mux.Handle(office.Prefix, office.New(db, office.Options{Logger: log, Secure: secure, Registry: st.BoltRegistry,
		Export: consoleExport(db, photos), Import: consoleImport(db, db.Put)}))
	mux.Handle("GET /{$}", http.RedirectHandler(office.Prefix, http.StatusSeeOther))
	mux.Handle("/", server.New(st, server.Options{Logger: log, EscrowKey: escrowKey, Photos: photos}))
	return mux
}

// serveDemo loads the demo village into an empty store and prints enrolment
// codes for the demo group cadre and team leader with the server's URLs.
func (c *cli) serveDemo(db *store.DB, log *slog.Logger, addr net.Addr, scheme string) error {
	d := demo.Village(demoSeed, time.Now())
	empty, err := isEmpty(db)
	if err != nil {
		return err
	}
	if empty {
		start := time.Now()
		if err := writeDemo(db, d, newProgress(c.stderr)); err != nil {
			return err
		}
		log.Info("demo village loaded", "households", d.Counts.Households, "people", d.Counts.People,
			"visits", d.Counts.Visits, "took", time.Since(start).Round(time.Millisecond).String())
	}
	return c.printDemo(log, d, db, server.NewBoltRegistry(db), addr, scheme)
}

// printDemo prints the server's URLs and a one-time enrolment code for the
// demo's group cadre and team leader, found in roster and issued by codes.
func (c *cli) printDemo(log *slog.Logger, d *demo.Data, roster *store.DB, codes interface {
	CreateEnrolCode(cadre uuid.UUID, ttl time.Duration) (string, error)
}, addr net.Addr, scheme string) error {
	w := c.stdout
	fmt.Fprintln(w, "演示 / demo: 王坪村")
	fmt.Fprintln(w, "服务器地址 / server URL:")
	for _, u := range serverURLs(addr, scheme) {
		fmt.Fprintf(w, "  %s\n", u)
	}
	for _, who := range []struct {
		zh, en string
		cadre  *domain.Cadre
	}{{"包社干部（手机）", "group cadre (phone)", d.GroupCadre}, {"驻村工作队长（平板）", "team leader (tablet)", d.TeamLeader}} {
		cadre, err := demoCadre(roster, who.cadre)
		if err != nil {
			log.Warn("demo cadre not in the store: no enrolment code", "cadre", who.cadre.Name, "err", err)
			continue
		}
		code, err := codes.CreateEnrolCode(cadre.ID, 72*time.Hour)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s / %s: %s — 一次性注册码 / one-time enrolment code: %s\n", who.zh, who.en, plain(cadre.Name), code)
	}
	fmt.Fprintln(w, "注册码 72 小时内有效，只能用一次；重启 -demo 会生成新码。/ Codes are valid for 72 h, once; restarting with -demo prints new ones.")
	return nil
}

// demoCadre finds a demo cadre in the store: by ID, or by name and phone when
// the store was loaded by another version of the generator.
func demoCadre(db *store.DB, want *domain.Cadre) (*domain.Cadre, error) {
	if r, err := db.Get(domain.KindCadre, want.ID); err == nil {
		return r.(*domain.Cadre), nil
	}
	var found *domain.Cadre
	err := db.Each(domain.KindCadre, func(r domain.Record) error {
		if c := r.(*domain.Cadre); c.Name == want.Name && c.Phone == want.Phone {
			found = c
		}
		return nil
	})
	if err == nil && found == nil {
		err = domain.ErrNotFound
	}
	return found, err
}

// serverURLs returns the URLs a device can reach the server at: the listen
// address itself, or for an unspecified host every non-loopback address of
// the machine (what a phone on the same network types) and localhost.
func serverURLs(addr net.Addr, scheme string) []string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return []string{scheme + "://" + addr.String()}
	}
	port := fmt.Sprint(tcp.Port)
	var out []string
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.To4() == nil {
				continue
			}
			out = append(out, scheme+"://"+net.JoinHostPort(ipn.IP.String(), port))
		}
	}
	out = append(out, scheme+"://"+net.JoinHostPort("localhost", port))
	return out
}
