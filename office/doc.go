// Package office is the township office's web console (乡镇办公室管理后台): the
// pages a town's or the city's office staff use in a browser on a PC, served
// by bangfud on the running server's store, so that enrolling a cadre,
// revoking a lost phone or downloading the monthly workbook no longer means
// stopping sync for every village.
//
// # Pages
//
//	/office/login     log in (name and password; failures are slowed down)
//	/office/          towns and villages in the account's scope, at a glance
//	/office/devices   enrolled devices; revoke one as lost or replaced
//	/office/enrol     a one-time enrolment code for a cadre, to read out or print
//	/office/export    the monthly workbook (XLSX) for a month or a date range
//	/office/backup    a consistent copy of the running server's database
//	/office/audit     who did what, when
//
// # Security
//
// Accounts are made on the server machine (bangfud account add) and are
// scoped like devices: a town office's account sees its town, the city
// office's everything (Account). Passwords are kept as bcrypt hashes.
// A login starts a session whose token lives only in an HttpOnly,
// SameSite=Strict cookie; every form carries the session's CSRF token and a
// POST without it is refused; failed logins from one address or for one name
// are slowed down exponentially; every administrative action is written to
// the audit log shown on /office/audit. Pages are plain server-rendered HTML
// (html/template escapes everything) with one embedded stylesheet: nothing is
// fetched from the internet, so the console works on a LAN without it.
//
// # Storage
//
// What the console keeps or changes it reaches through Store (accounts,
// sessions, API tokens, the audit log, the device registry, writes, the
// backup); what it reads it reads from the *store.DB given to New. On bbolt
// both are the server's store: the accounts in its local buckets
// (BoltAccounts), the device registry too (server.BoltRegistry, handed over
// as Options.Registry), the audit log the store's own. On PostgreSQL (sync/server/pgstore) every
// instance serves the console: Store is the database every instance shares,
// the records read are the instance's mirror, brought up to date at each
// request (Options.Fresh), and roster files wait for their confirmation in
// the database (Options.Uploads).
//
// The console writes only through the store's own methods; what it cannot do
// itself (the workbook, which lives in bangfud) it is handed as a function in
// Options, so the package stays free of the command's internals.
package office
