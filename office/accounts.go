package office

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"bangfu/domain"
)

// accountRow is an account as the accounts page shows it.
type accountRow struct {
	Account
	PlaceName string
}

type accountsData struct {
	Accounts []accountRow
	Places   []*domain.Place // the towns and city a city office may give accounts for
	City     bool
}

// accountsData lists the accounts the user may see: a city office every
// account, a town office those of its town.
func (c *Console) accountsData(u *user) (accountsData, error) {
	var d accountsData
	accts, err := c.st.Accounts()
	if err != nil {
		return d, err
	}
	sc := c.scope(u)
	for _, a := range accts {
		if a.Place == u.Account.Place || sc.sees(a.Place) {
			d.Accounts = append(d.Accounts, accountRow{Account: a, PlaceName: c.placeName(a.Place)})
		}
	}
	d.City = c.cityOnly(u) == nil
	if d.City {
		err = c.db.Each(domain.KindPlace, func(r domain.Record) error {
			if p := r.(*domain.Place); (p.Level == domain.Town || p.Level == domain.City) && sc.sees(p.ID) {
				d.Places = append(d.Places, p)
			}
			return nil
		})
	}
	return d, err
}

func (c *Console) accounts(w http.ResponseWriter, r *http.Request, u *user) {
	d, err := c.accountsData(u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.render(w, "accounts", http.StatusOK, page{Title: "账号 Accounts", User: u, Data: d})
}

// password changes the user's own password; the old one must be given. It
// ends the account's other sessions, and this one: the user logs in again.
func (c *Console) password(w http.ResponseWriter, r *http.Request, u *user) {
	if err := c.st.CheckPassword(u.Account.Name, r.PostFormValue("old")); err != nil {
		c.fail(w, r, u, domain.Errorf(domain.EUNAUTHORIZED, "old", "原密码不正确", "the current password is wrong"))
		return
	}
	if r.PostFormValue("new") != r.PostFormValue("again") {
		c.fail(w, r, u, domain.Errorf(domain.EINVALID, "again", "两次输入的新密码不一致", "the two new passwords differ"))
		return
	}
	if err := c.st.SetPassword(u.Account.Name, r.PostFormValue("new")); err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "password", u.Account.Name, "")
	http.SetCookie(w, &http.Cookie{Name: cookieName, Path: Prefix, MaxAge: -1})
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// addAccount lets a city office give a town (or the city) an account.
func (c *Console) addAccount(w http.ResponseWriter, r *http.Request, u *user) {
	if c.cityOnly(u) != nil {
		c.fail(w, r, u, domain.Errorf(domain.EFORBIDDEN, "account", "只有市级账号可以新建账号", "only a city office account may make accounts"))
		return
	}
	place, err := uuid.Parse(r.PostFormValue("place"))
	if err != nil || !c.scope(u).sees(place) {
		c.fail(w, r, u, domain.Errorf(domain.EINVALID, "place", "请选择镇或市", "choose a town or the city"))
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	display := strings.TrimSpace(r.PostFormValue("display"))
	if display == "" || utf8.RuneCountInString(display) > 40 {
		display = name
	}
	a := Account{Name: name, Display: display, Place: place, IDs: r.PostFormValue("ids") == "1"}
	if err := c.st.CreateAccount(a, r.PostFormValue("password")); err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "account", name+"（"+c.placeName(place)+"）", "")
	http.Redirect(w, r, Prefix+"accounts", http.StatusSeeOther)
}
