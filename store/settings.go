package store

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// Settings are per-replica settings kept in the meta bucket. They are not
// synced: each office, tablet or phone keeps its own. They are the fallback
// of the rules that live in the data (domain.Rules on a village's or town's
// place, synced): a replica's settings hold only where no village or town
// sets rules, so a tablet that changed its overdue days before rules were
// data keeps them until its village sets its own.
type Settings struct {
	OverdueDays int           // a household not visited for this many days is overdue (default 30)
	Quotas      domain.Quotas // three-level rules (default domain.DefaultQuotas())
	// The device's own choices, kept here rather than in the app's
	// preferences, which two apps on one machine share: the language ("" for
	// the default), the device's name as the office sees it, and the theme
	// ("" for the default for the device, "light" or "dark").
	Language   string
	DeviceName string
	Theme      string
}

// DefaultOverdueDays is the default of Settings.OverdueDays.
const DefaultOverdueDays = 30

// DefaultSettings returns the settings of a replica that has none stored.
func DefaultSettings() Settings {
	return Settings{OverdueDays: DefaultOverdueDays, Quotas: domain.DefaultQuotas()}
}

// settingsJSON is the stored form of Settings.
type settingsJSON struct {
	OverdueDays int             `json:"overdue_days"`
	County      int             `json:"county"`
	Section     int             `json:"section"`
	Other       int             `json:"other"`
	Statuses    []domain.Status `json:"statuses"`
	Stationed   *int            `json:"stationed,omitempty"` // absent in files written before it: the default
	Language    string          `json:"language,omitempty"`
	DeviceName  string          `json:"device_name,omitempty"`
	Theme       string          `json:"theme,omitempty"`
}

// Validate checks the settings: OverdueDays from 1 to 365, quotas from 0 to
// 100, known statuses, a language code of at most 16 characters, a device
// name of at most 64, a theme of "", "light" or "dark".
func (s Settings) Validate() error {
	if len(s.Language) > 16 {
		return domain.Errorf(domain.EINVALID, "language", "未知的语言“%s”", "unknown language %q", s.Language)
	}
	if utf8.RuneCountInString(s.DeviceName) > 64 {
		return domain.Errorf(domain.EINVALID, "device_name", "设备名称太长（最多 64 个字）", "the device name is too long (at most 64 characters)")
	}
	switch s.Theme {
	case "", "light", "dark":
	default:
		return domain.Errorf(domain.EINVALID, "theme", "未知的主题“%s”", "unknown theme %q", s.Theme)
	}
	if s.OverdueDays < 1 || s.OverdueDays > 365 {
		return domain.Errorf(domain.EINVALID, "overdue_days", "走访提醒天数应在 1 到 365 之间（现为 %d）",
			"the days before a household is overdue must be between 1 and 365 (not %d)", s.OverdueDays)
	}
	for _, q := range []struct {
		v      int
		zh, en string
	}{{s.Quotas.County, "县级领导", "county-level"}, {s.Quotas.Section, "科级干部", "section-level"}, {s.Quotas.Other, "其他党员干部", "other"}} {
		if q.v < 0 || q.v > 100 {
			return domain.Errorf(domain.EINVALID, "quotas", "%[1]s结对户数应在 0 到 100 之间（现为 %[3]d）",
				"the %[2]s quota must be between 0 and 100 (not %[3]d)", q.zh, q.en, q.v)
		}
	}
	for _, st := range s.Quotas.Statuses {
		switch st {
		case domain.Registered, domain.Lifted, domain.Monitored, domain.Ordinary:
		default:
			return domain.Errorf(domain.EINVALID, "quotas", "未知的户类型“%s”", "unknown household status %q", st)
		}
	}
	return nil
}

// Settings returns the replica's settings, or DefaultSettings if none were set.
func (db *DB) Settings() (Settings, error) {
	var s Settings
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		s, err = readSettings(tx)
		return err
	})
	return s, err
}

// SetSettings validates and stores the replica's settings.
func (db *DB) SetSettings(s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	stationed := s.Quotas.Stationed
	v, err := json.Marshal(settingsJSON{OverdueDays: s.OverdueDays, County: s.Quotas.County,
		Section: s.Quotas.Section, Other: s.Quotas.Other, Statuses: s.Quotas.Statuses, Stationed: &stationed,
		Language: s.Language, DeviceName: s.DeviceName, Theme: s.Theme})
	if err != nil {
		return err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySettings, v) })
	if err != nil {
		return fmt.Errorf("store: set settings: %w", err)
	}
	return nil
}

// Rules returns the rules that hold in a village (domain.Effective): the
// village's own, else its town's, else the replica's settings with the
// default approvers. uuid.Nil: the replica's.
func (db *DB) Rules(village uuid.UUID) (domain.Rules, error) {
	var out domain.Rules
	err := db.View(func(t *Tx) error {
		out = t.Rules(village)
		return nil
	})
	return out, err
}

// PlanApprovers returns the roles that may approve a household's plan in a
// village: one lookup for whoever decides who may sign a plan off.
func (db *DB) PlanApprovers(village uuid.UUID) ([]domain.Role, error) {
	r, err := db.Rules(village)
	return r.Approvers, err
}

func readSettings(tx *bolt.Tx) (Settings, error) {
	v := tx.Bucket(bucketMeta).Get(keySettings)
	if v == nil {
		return DefaultSettings(), nil
	}
	var j settingsJSON
	if err := json.Unmarshal(v, &j); err != nil {
		return Settings{}, fmt.Errorf("store: read settings: %w", err)
	}
	statuses := append([]domain.Status(nil), j.Statuses...)
	stationed := domain.DefaultQuotas().Stationed
	if j.Stationed != nil {
		stationed = *j.Stationed
	}
	return Settings{OverdueDays: j.OverdueDays,
		Quotas:   domain.Quotas{County: j.County, Section: j.Section, Other: j.Other, Statuses: statuses, Stationed: stationed},
		Language: j.Language, DeviceName: j.DeviceName, Theme: j.Theme}, nil
}
