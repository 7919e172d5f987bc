package query_test

import (
	"bangfu/store/storetest"
)

// The fixture is store's (storetest).
var (
	cst          = storetest.CST
	fixtureNow   = storetest.Now
	clockAt      = storetest.ClockAt
	mustOpenAt   = storetest.MustOpenAt
	idNumber     = storetest.IDNumber
	mustOpen     = storetest.MustOpen
	mustPut      = storetest.MustPut
	buildVillage = storetest.BuildVillage
	must         = storetest.Must
	sameFields   = storetest.SameFields
	names        = storetest.Names
	wantNames    = storetest.WantNames
)

type village = storetest.Village
