package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/office"
	"bangfu/store"
	"bangfu/store/query"
)

func (c *cli) board(args []string) error {
	fs := c.flags("board", "-data DIR -village NAME -o FILE.pdf", `
打印一个村的岗位监督栏（PDF，A4 横向）：联系领导、村两委、驻村工作队和各社的包社干部及电话。
Prints a village's supervision board (岗位监督栏) as a PDF, A4 landscape: its leads, the village
committee, the work team, and each group's cadre with phone numbers.`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	village := fs.String("village", "", "村名或 ID / the village's name or ID")
	out := fs.String("o", "", "输出文件（.pdf）/ output file (.pdf)")
	server := serverFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *server != "" {
		return c.remotePDF(*server, "board.pdf", *village, "", *out)
	}
	db, v, err := c.openVillage(*dir, *village, *out)
	if err != nil {
		return err
	}
	defer db.Close()
	b, err := office.BoardOf(db, v.ID, db.Now())
	if err != nil {
		return err
	}
	return c.writePDF(*out, func(w io.Writer) error { return office.WriteBoardPDF(w, b) })
}

func (c *cli) cards(args []string) error {
	fs := c.flags("cards", "-data DIR -village NAME [-group NAME] -o FILE.pdf", `
打印帮扶明白卡（PDF，A4，每页两张）：每户的帮扶干部、电话和一户一策措施。-group 只打印一个社。
Prints the households' assistance cards (帮扶明白卡) as a PDF, two to an A4 page: each
household's helpers with phones and its plan's measures. -group prints one group (社) only.`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	village := fs.String("village", "", "村名或 ID / the village's name or ID")
	group := fs.String("group", "", "社名，如 一社 / a group's name, e.g. 一社")
	out := fs.String("o", "", "输出文件（.pdf）/ output file (.pdf)")
	server := serverFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *server != "" {
		return c.remotePDF(*server, "cards.pdf", *village, *group, *out)
	}
	db, v, err := c.openVillage(*dir, *village, *out)
	if err != nil {
		return err
	}
	defer db.Close()
	var gid uuid.UUID
	if *group != "" {
		groups, err := query.Places(db, domain.Group, v.ID)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.Name == *group {
				gid = g.ID
			}
		}
		if gid == uuid.Nil {
			return domain.Errorf(domain.ENOTFOUND, "group", "%[1]s没有“%[2]s”", "%[1]s has no group %[2]q", v.Name, *group)
		}
	}
	cards, err := office.CardsOf(db, v.ID, gid, db.Now())
	if err != nil {
		return err
	}
	return c.writePDF(*out, func(w io.Writer) error { return office.WriteCardsPDF(w, cards) })
}

// remotePDF fetches a board or the cards (endpoint) of village, or of one
// group of it, from a running server's console API.
func (c *cli) remotePDF(server, endpoint, village, group, out string) error {
	if err := checkPDFArgs(village, out); err != nil {
		return err
	}
	r, err := newRemote(server)
	if err != nil {
		return err
	}
	q := url.Values{"village": {village}}
	if group != "" {
		q.Set("group", group)
	}
	b, err := r.call(http.MethodGet, endpoint+"?"+q.Encode(), nil, nil)
	if err != nil {
		return err
	}
	return c.writePDF(out, func(w io.Writer) error { _, err := w.Write(b); return err })
}

func checkPDFArgs(village, out string) error {
	if out == "" || !strings.EqualFold(filepath.Ext(out), ".pdf") {
		return usagef("请用 -o 指定输出文件（.pdf）", "name the output file (.pdf) with -o")
	}
	if village == "" {
		return usagef("请用 -village 指定村", "name the village with -village")
	}
	return nil
}

// openVillage checks the output name, opens the store and finds the village.
func (c *cli) openVillage(dir, village, out string) (*store.DB, *domain.Place, error) {
	if err := checkPDFArgs(village, out); err != nil {
		return nil, nil, err
	}
	db, err := openExisting(dir)
	if err != nil {
		return nil, nil, err
	}
	id, idErr := uuid.Parse(village)
	var found []*domain.Place
	vs, err := query.Places(db, domain.Village, uuid.Nil)
	for _, p := range vs {
		if p.Name == village || (idErr == nil && p.ID == id) {
			found = append(found, p)
		}
	}
	switch {
	case err != nil:
	case len(found) == 0:
		err = domain.Errorf(domain.ENOTFOUND, "village", "没有名为“%[1]s”的村", "there is no village named %[1]q", village)
	case len(found) > 1:
		err = domain.Errorf(domain.EINVALID, "village", "有多个村叫“%[1]s”，请用 ID 指定", "several villages are named %[1]q; give the ID", village)
	}
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, found[0], nil
}

// writePDF writes a PDF through writeFile and says so.
func (c *cli) writePDF(out string, write func(io.Writer) error) error {
	if err := writeFile(out, write); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "已生成 / written: %s\n", out)
	return nil
}

// writeFile writes out through a temporary file beside it, renamed when
// complete, so that a failed export never leaves half a file under the name
// asked for.
func writeFile(out string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".bangfud-*"+filepath.Ext(out))
	if err != nil {
		return fmt.Errorf("无法创建输出文件 (cannot create the output file): %w", err)
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("无法写入 %s (cannot write %s): %w", out, out, err)
	}
	return nil
}
