package store_test

import (
	"bangfu/store"
	"bangfu/store/storetest"
)

// The fixture is shared with the tests of the packages built on store.
var (
	cst          = storetest.CST
	fixtureNow   = storetest.Now
	clockAt      = storetest.ClockAt
	mustOpen     = storetest.MustOpen
	mustOpenAt   = storetest.MustOpenAt
	mustPut      = storetest.MustPut
	idNumber     = storetest.IDNumber
	buildVillage = storetest.BuildVillage
	must         = storetest.Must
)

type village = storetest.Village

// names returns the head names of rows, for messages.
func names(rows []store.HouseholdRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.HeadName
	}
	return out
}
