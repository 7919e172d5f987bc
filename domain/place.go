package domain

import (
	"time"

	"github.com/google/uuid"
)

// Level is a place's level in the hierarchy.
type Level string

// The levels, from the top.
const (
	City           Level = "city"            // 市
	Town           Level = "town"            // 镇 / 街道
	Village        Level = "village"         // 村 (行政村)
	NaturalVillage Level = "natural_village" // 自然村
	Group          Level = "group"           // 社 (村民小组)
)

// parentLevel is the level a place's parent must have.
var parentLevel = map[Level]Level{
	Town:           City,
	Village:        Town,
	NaturalVillage: Village,
	Group:          Village,
}

// LevelName returns the Chinese and English names of a level.
func LevelName(l Level) (zh, en string) {
	switch l {
	case City:
		return "市", "city"
	case Town:
		return "镇", "town"
	case Village:
		return "村", "village"
	case NaturalVillage:
		return "自然村", "natural village"
	case Group:
		return "社", "group"
	}
	return string(l), string(l)
}

// Place is a city, town, village, natural village or group (社). Records point
// at places by ID, so a place can be renamed or moved.
type Place struct {
	Meta
	Level  Level     `json:"level"`
	Name   string    `json:"name"`
	Parent uuid.UUID `json:"parent"` // uuid.Nil for a city
	Code   string    `json:"code"`   // administrative code, optional
	// Rules, on a village or a town, are the settings that hold there
	// (rules.go); nil: those of the place above, or the defaults.
	Rules *Rules `json:"rules"`
}

// Kind returns KindPlace.
func (*Place) Kind() Kind { return KindPlace }

// Validate checks the place on its own.
func (p *Place) Validate(time.Time) error {
	if err := checkName("name", "地名", "place name", p.Name); err != nil {
		return err
	}
	if _, ok := parentLevel[p.Level]; !ok && p.Level != City {
		return Errorf(EINVALID, "level", "未知的地点级别 %q", "unknown place level %q", p.Level)
	}
	if p.Level != City && p.Parent == uuid.Nil {
		zh, en := LevelName(p.Level)
		return Errorf(EINVALID, "parent", "%[1]s“%[3]s”缺少上级", "%[2]s %[3]q has no parent", zh, en, p.Name)
	}
	if p.Rules != nil {
		if p.Level != Village && p.Level != Town {
			return Errorf(EINVALID, "rules", "只有村和镇可以设置帮扶规则", "only a village or a town has rules")
		}
		return p.Rules.Validate()
	}
	return nil
}

// ValidParent reports whether parent may hold p (a group's parent is a village).
func (p *Place) ValidParent(parent *Place) error {
	if want := parentLevel[p.Level]; parent.Level != want {
		zh, en := LevelName(p.Level)
		wzh, wen := LevelName(want)
		return Errorf(EINVALID, "parent", "%[1]s的上级必须是%[2]s", "a %[3]s's parent must be a %[4]s", zh, wzh, en, wen)
	}
	return nil
}

// Under reports whether the place id is scope or lies below it, following
// Parent through places. uuid.Nil as scope holds every place. The walk stops
// after 8 levels, so a cycle in bad data ends.
func Under(places map[uuid.UUID]*Place, id, scope uuid.UUID) bool {
	if scope == uuid.Nil {
		return true
	}
	for range 8 {
		if id == scope {
			return true
		}
		p := places[id]
		if p == nil {
			return false
		}
		id = p.Parent
	}
	return false
}
