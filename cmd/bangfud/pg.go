package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/office"
	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
)

// The server on PostgreSQL: serve -db postgres://…, any number of
// instances on one database (sync/server/pgstore).

// dbFlag adds the -db flag to fs.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "PostgreSQL 数据库（postgres://…），代替 -data 的 bbolt；多个服务器实例可共用 / a PostgreSQL database (postgres://…) instead of -data's bbolt; several server instances may share it")
}

// pgTimeout bounds connecting to PostgreSQL and migrating its schema.
const pgTimeout = time.Minute

// openReplica connects to the PostgreSQL database at url, with this
// instance's mirror at mirror (a temporary one if empty).
func openReplica(url, mirror string) (*pgstore.Replica, error) {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, usagef("-db 应是 postgres://… 形式的连接地址", "-db must be a connection URL, postgres://…")
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	r, err := pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{Mirror: mirror})
	if err != nil {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "db", "无法打开 PostgreSQL 数据库：%v", "cannot open the PostgreSQL database: %v", err)
	}
	return r, nil
}

// openRegistry connects to the PostgreSQL database at url for the device
// registry alone (unlock codes), without the replica and its mirror.
func openRegistry(url string) (*pgstore.DB, error) {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, usagef("-db 应是 postgres://… 形式的连接地址", "-db must be a connection URL, postgres://…")
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	db, err := pgstore.Open(ctx, url, pgstore.Options{Cadre: func(uuid.UUID) (bool, error) {
		return false, errors.New("the registry alone issues no enrolment codes")
	}})
	if err != nil {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "db", "无法打开 PostgreSQL 数据库：%v", "cannot open the PostgreSQL database: %v", err)
	}
	return db, nil
}

// pgHandler serves the sync endpoints on a replica and, under /office/,
// the office console: its accounts, sessions, registry and audit log in
// the database every instance shares, its pages read from this instance's
// mirror (brought up to date at each request), its writes (settings, a
// roster import) pushed into the shared log, a roster file kept in the
// database between its check and its confirmation, which may reach
// another instance.
func pgHandler(r *pgstore.Replica, mirror *store.DB, log *slog.Logger, secure bool, escrowKey []byte, photos server.Photos) http.Handler {
	mux := http.NewServeMux()
	fresh := func() error {
		_, err := r.Mirror()
		return err
	}
	st := r.Office()
	mux.Handle(office.Prefix, office.New(mirror, office.Options{Logger: log, Secure: secure, Store: st, Uploads: st, Logins: st, Fresh: fresh,
		Export: consoleExport(mirror, photos), Import: consoleImport(mirror, r.Put)}))
	mux.Handle("GET /{$}", http.RedirectHandler(office.Prefix, http.StatusSeeOther))
	mux.Handle("/", server.New(r, server.Options{Logger: log, EscrowKey: escrowKey, Photos: photos}))
	return mux
}

// serveDemoPG loads the demo village into an empty database, pushing it
// as a device would, and prints enrolment codes for the demo cadres.
func (c *cli) serveDemoPG(r *pgstore.Replica, log *slog.Logger, addr net.Addr, scheme string) error {
	d := demo.Village(demoSeed, time.Now())
	last, err := r.LastSeq()
	if err != nil {
		return err
	}
	if last == 0 {
		start := time.Now()
		n, err := pushDemo(r, d, newProgress(c.stderr))
		if err != nil {
			return err
		}
		log.Info("demo village loaded", "changes", n, "took", time.Since(start).Round(time.Millisecond).String())
	}
	mirror, err := r.Mirror()
	if err != nil {
		return err
	}
	return c.printDemo(log, d, mirror, r, addr, scheme)
}

// pushDemo writes d into a temporary bbolt store, as demo does, and pushes
// its log to r, so that the records arrive as any device's changes do.
func pushDemo(r server.Store, d *demo.Data, p *progress) (int, error) {
	dir, err := os.MkdirTemp("", "bangfu-demo-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	src, err := store.Open(filepath.Join(dir, dbFile), &store.Options{NoSync: true})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	if err := writeDemo(src, d, p); err != nil {
		return 0, err
	}
	return pushLog(r, src)
}

// pushLog pushes the whole log of src to r in batches.
func pushLog(r server.Store, src *store.DB) (int, error) {
	var batch []domain.Change
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rejected, err := r.ApplyGuarded(src.Device(), batch, nil)
		for i, e := range rejected {
			if e != nil && err == nil {
				err = fmt.Errorf("change %s rejected: %w", batch[i].ID, e)
			}
		}
		n += len(batch)
		batch = batch[:0]
		return err
	}
	err := src.Log(0, func(e store.Entry) (bool, error) {
		batch = append(batch, e.Change)
		if len(batch) == 1000 {
			return true, flush()
		}
		return true, nil
	})
	if err == nil {
		err = flush()
	}
	return n, err
}

func (c *cli) pgload(args []string) error {
	fs := c.flags("pgload", "-data DIR -db postgres://…", `
把 DIR/bangfu.db（bbolt）的全部记录和日志复制到一个空的 PostgreSQL 数据库，之后用
bangfud serve -db 运行服务器（可运行多个实例）。服务器标识随之迁移，设备的同步进度继续有效；
已注册的设备需要重新注册（bangfud enroll -db）。先用 bangfud import 在 bbolt 中导入花名册，再导入 PostgreSQL。
Copies every record and the log of DIR/bangfu.db (bbolt) into an empty PostgreSQL database,
to run the server with bangfud serve -db (as many instances as wanted). The server's ID moves
with it, so devices' sync positions stay valid; enrolled devices enrol again (bangfud enroll
-db). Import the roster into bbolt first (bangfud import), then load it.`, lockedHelp)
	dir := dataFlag(fs)
	url := dbFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return usagef("请用 -db 指定 PostgreSQL 数据库", "name the PostgreSQL database with -db")
	}
	src, err := openExisting(*dir)
	if err != nil {
		return err
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	n, err := pgstore.Load(ctx, *url, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "已复制 %d 条日志 / copied %d log entries\n", n, n)
	return nil
}
