package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/office"
	"bangfu/store"
)

const accountHelp = `
子命令 / subcommands:
  add      -name N -place 镇或市 [-display 姓名] [-ids]   新建账号（密码从标准输入读一行）
                                                        new account (password: one line on stdin)
  passwd   -name N                                      改密码（从标准输入读一行），并结束其所有登录
                                                        new password (one line on stdin); ends its sessions
  disable  -name N                                      停用账号（并作废其命令行令牌）/ disable an account (and its tokens)
  token    -name N                                      生成命令行令牌（见 BANGFUD_TOKEN）/ an API token for -server
  list                                                  列出账号 / list accounts

PostgreSQL 服务器（serve -db）：用 -db postgres://… 代替 -data，账号存于数据库，各实例通用，
服务器运行时也可使用全部子命令。
On a PostgreSQL server (serve -db): -db postgres://… instead of -data; the accounts live in the
database, valid at every instance, and every subcommand works while the instances run.

例 / example:
  printf '%s\n' 'a-long-password' | bangfud account add -data data -name fuhan -place 枹罕镇 -display 张主任
账号的范围是一个镇（只看本镇）或市（看全部）。-ids：可在导出中看到完整身份证号（否则打码）。
An account's scope is a town (that town only) or the city (everything). -ids: may see whole
ID numbers in exports (masked otherwise).

服务器运行时，list、add、disable 可加 -server（令牌在 BANGFUD_TOKEN 中）：list 列出该账号辖区的账号，
add 和 disable 须是市级账号的令牌。passwd 和 token 只在服务器停止时用（或在管理后台修改本人密码、生成令牌）。
While the server runs, list, add and disable take -server (token in BANGFUD_TOKEN): list shows the
accounts in the token's scope; add and disable need a city account's token. passwd and token work
on a stopped server only (or in the console: one's own password, an API token).` + lockedHelp

func (c *cli) account(args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(c.stderr, strings.TrimSpace(`用法 / usage: bangfud account add|passwd|disable|token|list -data DIR ...
管理办公室管理后台（/office/）的账号。Manages the accounts of the office console (/office/).`)+"\n"+accountHelp)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return usagef("请给出子命令 add、passwd、disable、token 或 list", "give a subcommand: add, passwd, disable, token or list")
	}
	sub, args := args[0], args[1:]
	fs := c.flags("account "+sub, "-data DIR ...", "管理办公室管理后台的账号 / manage office console accounts", accountHelp)
	dir := dataFlag(fs)
	name := fs.String("name", "", "账号名 / account name")
	place := fs.String("place", "", "镇或市的名称或 ID / the town's or city's name or ID")
	display := fs.String("display", "", "使用人姓名 / the person's name")
	ids := fs.Bool("ids", false, "可看完整身份证号 / may see whole ID numbers")
	server := serverFlag(fs)
	url := dbFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if sub != "list" && *name == "" {
		return usagef("请用 -name 指定账号名", "name the account with -name")
	}
	if *server != "" {
		return c.remoteAccount(*server, sub, office.APIAccount{Name: *name, Display: *display, Place: *place, IDs: *ids})
	}
	// db holds the records (on PostgreSQL, a mirror of them); accts the
	// accounts.
	var db *store.DB
	var accts office.Accounts
	if *url != "" {
		rep, err := openReplica(*url, "")
		if err != nil {
			return err
		}
		defer rep.Close()
		if db, err = rep.Mirror(); err != nil {
			return err
		}
		accts = rep.Office()
	} else {
		var err error
		if db, err = openExisting(*dir); err != nil {
			return err
		}
		defer db.Close()
		accts = office.NewBoltStore(db, boltStorage(db))
	}
	switch sub {
	case "add":
		p, err := findOffice(db, *place)
		if err != nil {
			return err
		}
		pw, err := readPassword(os.Stdin)
		if err != nil {
			return err
		}
		if *display == "" {
			*display = *name
		}
		if err := accts.CreateAccount(office.Account{Name: *name, Display: *display, Place: p.ID, IDs: *ids}, pw); err != nil {
			return err
		}
		accts.Audit(store.AuditEntry{At: db.Now(), Action: "account", Target: *name, Detail: "bangfud account add", Place: p.ID})
		fmt.Fprintf(c.stdout, "已建账号 / account created: %s（%s，%s）\n", *name, *display, p.Name)
	case "passwd":
		pw, err := readPassword(os.Stdin)
		if err != nil {
			return err
		}
		if err := accts.SetPassword(*name, pw); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "已修改密码 / password changed: %s\n", *name)
	case "disable":
		if err := accts.DisableAccount(*name, db.Now()); err != nil {
			return err
		}
		if err := accts.RevokeTokens(*name); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "已停用 / disabled: %s\n", *name)
	case "token":
		token, err := accts.CreateToken(*name, db.Now())
		if err != nil {
			return err
		}
		accts.Audit(store.AuditEntry{At: db.Now(), Account: *name, Action: "token", Target: *name, Detail: "bangfud account token"})
		fmt.Fprintf(c.stderr, "命令行令牌（只显示这一次）/ API token (shown once); use: %s=TOKEN bangfud devices -server URL\n", tokenEnv)
		fmt.Fprintln(c.stdout, token)
	case "list":
		list, err := accts.Accounts()
		if err != nil {
			return err
		}
		var rows []office.APIAccount
		for _, a := range list {
			scope := a.Place.String()
			if r, err := db.Get(domain.KindPlace, a.Place); err == nil {
				scope = r.(*domain.Place).Name
			}
			rows = append(rows, office.APIAccount{Name: a.Name, Display: a.Display, PlaceName: scope, IDs: a.IDs, Disabled: a.Disabled})
		}
		return c.printAccounts(rows)
	default:
		return usagef("未知的子命令 %q", "unknown subcommand %q", sub)
	}
	return nil
}

// printAccounts lists accounts as account list prints them.
func (c *cli) printAccounts(rows []office.APIAccount) error {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "账号 / name\t姓名 / person\t范围 / scope\t身份证号 / IDs\t状态 / state")
	for _, a := range rows {
		state := "正常 / active"
		if !a.Disabled.IsZero() {
			state = "已停用 / disabled " + when(a.Disabled)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Display, a.PlaceName, map[bool]string{true: "完整 / whole", false: "打码 / masked"}[a.IDs], state)
	}
	return tw.Flush()
}

// remoteAccount runs account list, add or disable through a running
// server's console API.
func (c *cli) remoteAccount(server, sub string, a office.APIAccount) error {
	if sub != "list" && sub != "add" && sub != "disable" {
		return usagef("account %[1]s 不能加 -server：请在服务器停止时运行，或在管理后台操作", "account %[1]s does not take -server: run it on a stopped server, or use the console", sub)
	}
	r, err := newRemote(server)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		var rows []office.APIAccount
		if err := r.getJSON("accounts", &rows); err != nil {
			return err
		}
		return c.printAccounts(rows)
	case "add":
		if a.Place == "" {
			return usagef("请用 -place 指定镇或市", "name the town or city with -place")
		}
		if a.Password, err = readPassword(os.Stdin); err != nil {
			return err
		}
		var got office.APIAccount
		if err := r.postJSON("accounts", a, &got); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "已建账号 / account created: %s（%s，%s）\n", got.Name, got.Display, got.PlaceName)
	case "disable":
		var got office.APIAccount
		if err := r.postJSON("accounts/disable", office.APIAccount{Name: a.Name}, &got); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "已停用 / disabled: %s\n", got.Name)
	}
	return nil
}

// readPassword reads one line from r.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return "", usagef("请在标准输入给出密码（一行）", "give the password on standard input (one line)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// findOffice finds the town or city an account administers, by name or ID.
func findOffice(db *store.DB, which string) (*domain.Place, error) {
	if which == "" {
		return nil, usagef("请用 -place 指定镇或市", "name the town or city with -place")
	}
	id, idErr := uuid.Parse(which)
	var found []*domain.Place
	err := db.Each(domain.KindPlace, func(r domain.Record) error {
		p := r.(*domain.Place)
		if (p.Level == domain.Town || p.Level == domain.City) && ((idErr == nil && p.ID == id) || p.Name == which) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, domain.Errorf(domain.ENOTFOUND, "place", "名册中没有叫“%[1]s”的镇或市", "no town or city named %[1]q is on the roster", which)
	case 1:
		return found[0], nil
	}
	return nil, domain.Errorf(domain.EINVALID, "place", "有多个叫“%[1]s”的地方，请用 ID 指定", "several places are named %[1]q; give the ID", which)
}
