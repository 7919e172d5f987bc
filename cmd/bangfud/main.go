// Command bangfud is the server side of 帮扶走访 (Bangfu Visits): the sync
// server and the office's admin tools, in one binary.
//
//	bangfud serve   -addr HOST:PORT -data DIR [-demo]   run the sync server
//	bangfud serve   -addr HOST:PORT -db postgres://…    … on PostgreSQL (several instances)
//	bangfud pgload  -data DIR -db postgres://…          copy a store into an empty PostgreSQL
//	bangfud demo    -data DIR                           write the demo village 王坪村
//	bangfud stats   -data DIR [-json]                   roster summary
//	bangfud import  -data DIR [-dry-run] FILE           import a roster (CSV or XLSX)
//	bangfud enroll  -data DIR -cadre NAME|ID            one-time enrolment code
//	bangfud devices -data DIR                           list enrolled devices
//	bangfud revoke  -data DIR -reason R DEVICE-ID       revoke a lost or replaced device
//	bangfud lockouts -data DIR                          enrolment lockouts
//	bangfud export  -data DIR -o FILE.xlsx              visits, plans, three-level check
//	bangfud account add|passwd|disable|list -data DIR   office console accounts
//	bangfud board   -data DIR -village NAME -o FILE.pdf  岗位监督栏
//	bangfud cards   -data DIR -village NAME [-group G] -o FILE.pdf  帮扶明白卡
//	bangfud backup  -o FILE -data DIR | -server URL -account NAME   a consistent copy
//	bangfud restore -data DIR FILE                      restore a backup (new epoch)
//	bangfud roster  -data DIR -o FILE.xlsx              the roster, to edit and import again
//	bangfud history -data DIR [-village NAME]           帮扶力量调整记录
//	bangfud rules   -data DIR -village NAME [-overdue N] a village's or town's rules
//
// Every command works on the store DIR/bangfu.db. bbolt lets one process open
// it: while the server runs, the admin commands refuse with a clear message
// (exit status 3) instead of waiting or corrupting it; stop the server first.
//
// The command only wires: it parses flags, opens the store and calls the
// packages that do the work (store, domain/demo, sync/server, and the roster
// and report packages under internal/).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK     = 0
	exitError  = 1 // the command failed; the message says why
	exitUsage  = 2 // bad flags or arguments
	exitLocked = 3 // the data directory is held by a running server
)

// command is one subcommand.
type command struct {
	name   string
	zh, en string // one line of help in each language
	run    func(c *cli, args []string) error
}

var commands = []command{
	{"serve", "运行同步服务器", "run the sync server", (*cli).serve},
	{"demo", "写入演示村（王坪村）", "write the demo village (王坪村)", (*cli).demo},
	{"stats", "显示花名册汇总", "print the roster summary", (*cli).stats},
	{"import", "从 CSV 或 XLSX 导入花名册", "import a roster from CSV or XLSX", (*cli).importRoster},
	{"enroll", "为干部生成一次性注册码", "print a one-time enrolment code for a cadre", (*cli).enroll},
	{"devices", "列出已注册的设备", "list enrolled devices", (*cli).devices},
	{"revoke", "注销设备（丢失或换新）", "revoke a device (lost or replaced)", (*cli).revoke},
	{"unlock", "为忘记 PIN 码的设备生成解锁码", "print an unlock code for a device whose PIN was forgotten", (*cli).unlock},
	{"lockouts", "列出暂停注册的记录", "list enrolment lockouts", (*cli).lockouts},
	{"export", "导出走访、计划和三级帮扶检查（XLSX）", "export visits, plans and the three-level check (XLSX)", (*cli).export},
	{"account", "管理办公室管理后台的账号", "manage office console accounts", (*cli).account},
	{"board", "打印村的岗位监督栏（PDF）", "print a village's supervision board (PDF)", (*cli).board},
	{"cards", "打印帮扶明白卡（PDF）", "print the households' assistance cards (PDF)", (*cli).cards},
	{"backup", "备份数据库（服务器运行时也可以）", "back up the database (the server may be running)", (*cli).backup},
	{"restore", "从备份恢复数据库", "restore the database from a backup", (*cli).restore},
	{"roster", "导出花名册（可在 Excel 中修改后重新导入）", "export the roster (edit it in Excel, import it again)", (*cli).exportRoster},
	{"rules", "显示或设置村、镇的帮扶规则（结对户数、走访提醒、审核职责）", "show or set a village's or town's rules (quotas, overdue days, approvers)", (*cli).rules},
	{"history", "列出帮扶力量调整记录", "list the history of the helpers (帮扶力量调整记录)", (*cli).history},
	{"pgload", "把 bbolt 数据库复制到空的 PostgreSQL 数据库", "copy the bbolt store into an empty PostgreSQL database", (*cli).pgload},
}

// cli is one run of the command: where it writes and how it is stopped.
type cli struct {
	stdout, stderr io.Writer
	// signals, if not nil, replaces the OS signals that stop the server.
	signals <-chan os.Signal
}

func main() {
	c := &cli{stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(c.main(os.Args[1:]))
}

// main runs the subcommand named by args[0] and returns the exit status.
func (c *cli) main(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		c.usage(c.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, cmd := range commands {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(c, args[1:])
		if err == nil || errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		// Errors quote names and file contents: plain text only.
		fmt.Fprintf(c.stderr, "bangfud %s: %s\n", cmd.name, plainLines(err.Error()))
		switch {
		case errors.As(err, new(*usageError)):
			fmt.Fprintf(c.stderr, "运行 / run: bangfud %s -h\n", cmd.name)
			return exitUsage
		case errors.As(err, new(*lockedError)):
			return exitLocked
		}
		return exitError
	}
	fmt.Fprintf(c.stderr, "bangfud: 未知的命令 %q (unknown command %q)\n\n", args[0], args[0])
	c.usage(c.stderr)
	return exitUsage
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprint(w, `bangfud — 帮扶走访的同步服务器与管理工具 / the Bangfu Visits sync server and admin tools

用法 / usage: bangfud COMMAND [flags] [args]

`)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-8s %s / %s\n", cmd.name, cmd.zh, cmd.en)
	}
	fmt.Fprint(w, `
每个命令都使用 DIR/bangfu.db。服务器运行时它独占数据库：管理命令（demo、stats、import、
enroll、devices、revoke、lockouts、export）会立即报错退出（状态码 3），请先停止服务器再执行；
或者不停服务器：enroll、devices、revoke、import、export、backup 加 -server URL，并在 BANGFUD_TOKEN
中给出办公室账号的命令行令牌（bangfud account token，或管理后台“备份”页），经管理后台接口执行。
办公室管理后台在同一端口的 /office/。
Every command uses DIR/bangfu.db. While the server runs it holds the database alone: the
admin commands (demo, stats, import, enroll, devices, revoke, lockouts, export) exit at once with
status 3; stop the server first — or keep it running: enroll, devices, revoke, import,
export and backup take -server URL with an office account's API token in BANGFUD_TOKEN
(bangfud account token, or the console's backup page) and go through the console's API.
The office console is at /office/ on the server's port.

bangfud COMMAND -h 显示该命令的说明 / shows that command's help.
`)
}

// usageError is a mistake in the command line.
type usageError struct{ zh, en string }

func (e *usageError) Error() string { return e.zh + " (" + e.en + ")" }

func usagef(zh, en string, args ...any) error {
	return &usageError{fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...)}
}

// flags returns a flag set for a subcommand whose help starts with the given
// synopsis and description; more, if not empty, follows the flag list.
func (c *cli) flags(name, synopsis, description, more string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "用法 / usage: bangfud %s %s\n\n%s\n\n", name, synopsis, strings.TrimSpace(description))
		fs.PrintDefaults()
		if more != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(more))
		}
	}
	return fs
}

// parseNone parses args for a command that takes flags only.
func parseNone(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err == nil && len(pos) > 0 {
		err = usagef("多余的参数 %q", "unexpected argument %q", pos[0])
	}
	return err
}

// parse parses args with fs, allowing flags after positional arguments
// ("import FILE -dry-run"), and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", "%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

const lockedHelp = `
服务器运行时请勿执行此命令：bbolt 只允许一个进程打开数据库，此命令会在约 1 秒内报错退出
（状态码 3），不会等待，也不会损坏数据。请先停止服务器（Ctrl+C 或 SIGTERM），执行后再启动。
Do not run this while the server runs: bbolt lets one process open the database, so this
command exits within about a second with status 3 — it neither waits nor corrupts
anything. Stop the server (Ctrl+C or SIGTERM), run the command, then start it again.`
