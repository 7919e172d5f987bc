package store_test

import (
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
	sameFields   = storetest.SameFields
	names        = storetest.Names
	wantNames    = storetest.WantNames
)

type village = storetest.Village
