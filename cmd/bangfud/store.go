package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"bangfu/domain"
	"bangfu/store"
)

// dbFile is the store's file name inside the data directory.
const dbFile = "bangfu.db"

// lockTimeout bounds how long a command waits for the store's file lock.
const lockTimeout = time.Second

// lockedError says that the server (or another bangfud) holds the store.
type lockedError struct{ dir string }

func (e *lockedError) Error() string {
	return fmt.Sprintf("数据目录 %[1]s 正被另一个进程使用：服务器正在运行（或另一个 bangfud 命令尚未结束），请先停止服务器再执行此命令。\n"+
		"the data directory %[1]s is in use by another process: the server is running (or another bangfud command is), stop it first, then run this command again.", e.dir)
}

// dataFlag adds the -data flag to fs.
func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "data", "数据目录，内含 bangfu.db / data directory, holding bangfu.db")
}

// openStore opens DIR/bangfu.db, failing fast with a lockedError when another
// process holds it.
func openStore(dir string) (*store.DB, error) {
	db, err := store.Open(filepath.Join(dir, dbFile), &store.Options{Timeout: lockTimeout})
	if errors.Is(err, store.ErrLocked) {
		return nil, &lockedError{dir: dir}
	}
	return db, err
}

// openExisting opens DIR/bangfu.db like openStore, but refuses a data
// directory without a store instead of creating an empty one: commands that
// only read or administer a roster have nothing to do there.
func openExisting(dir string) (*store.DB, error) {
	path := filepath.Join(dir, dbFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, domain.Errorf(domain.ENOTFOUND, "data", "%[1]s 中没有数据库（%[2]s）：请先运行 bangfud demo、bangfud import 或 bangfud serve，或用 -data 指定数据目录",
			"there is no store in %[1]s (%[2]s): run bangfud demo, bangfud import or bangfud serve first, or name the data directory with -data", dir, path)
	}
	return openStore(dir)
}

// isEmpty reports whether the store holds no records yet.
func isEmpty(db *store.DB) (bool, error) {
	seq, err := db.LastSeq()
	return seq == 0, err
}
