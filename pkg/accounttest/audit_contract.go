package accounttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// The contract of the audit records (account.WithAudit, PutAudit, Events).

func auditRecord(under int64, typ account.EventType, at time.Time, id string) account.AuditRecord {
	return account.AuditRecord{Under: under, ID: id, Expires: at.Add(time.Hour),
		Event: account.Event{Time: at, Type: typ, UserID: under, Actor: account.ActorSelf, Outcome: account.OutcomeSuccess, SourceIP: "198.51.100.7"}}
}

func eventTypes(evs []account.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%s@%d", ev.Type, ev.Time.Sub(t0)/time.Second)
	}
	return out
}

// testAuditEvents: PutAudit stores records under their accounts; Events pages them newest
// first, with a position to continue from only while more remain, and the fields come back
// as stored.
func testAuditEvents(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("audit-a", ""))
	b := mustCreate(t, s, newAccount("audit-b", ""))
	var recs []account.AuditRecord
	for i := range 5 {
		recs = append(recs, auditRecord(a.UserID, account.EventLoginSucceeded, t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("%012x", i)))
	}
	if err := s.PutAudit(ctx, recs[:1]); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAudit(ctx, append(recs[1:], auditRecord(b.UserID, account.EventSessionEnded, t0, "0000000000bb"))); err != nil {
		t.Fatal(err)
	}
	var got []string
	after, pages := "", 0
	for {
		evs, next, err := s.Events(ctx, a.UserID, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, eventTypes(evs)...)
		if next == "" {
			break
		}
		after = next
	}
	want := "[login.succeeded@4 login.succeeded@3 login.succeeded@2 login.succeeded@1 login.succeeded@0]"
	if fmt.Sprint(got) != want || pages != 3 {
		t.Errorf("events of a in pages of 2: %v in %d pages, want %s in 3", got, pages, want)
	}
	evs, next, err := s.Events(ctx, b.UserID, "", 5)
	if err != nil || next != "" || len(evs) != 1 {
		t.Fatalf("events of b: %v %q %v, want one and no next", evs, next, err)
	}
	if ev := evs[0]; !ev.Time.Equal(t0) || ev.Type != account.EventSessionEnded || ev.UserID != b.UserID || ev.SourceIP != "198.51.100.7" || ev.Actor != account.ActorSelf {
		t.Errorf("event of b = %+v", ev)
	}
	if evs, _, err := s.Events(ctx, a.UserID, "", 5); err != nil || len(evs) != 5 {
		t.Errorf("exactly a page: %d events, %v", len(evs), err)
	}
}

// testAuditCarried: the records a write's context carries are stored with that write
// when it succeeds, and not at all when it fails; a new account's are bound to its id.
func testAuditCarried(t *testing.T, s account.Store) {
	ctx := context.Background()
	n := newAccount("audit-new", "")
	if err := s.CreateAccount(account.WithAudit(ctx, auditRecord(0, account.EventAccountCreated, t0, "000000000001")), n); err != nil {
		t.Fatal(err)
	}
	dup := newAccount("audit-new", "")
	if err := s.CreateAccount(account.WithAudit(ctx, auditRecord(0, account.EventAccountCreated, t0.Add(time.Second), "000000000002")), dup); err == nil {
		t.Fatal("duplicate created")
	}
	sess := &account.Session{UserID: n.UserID, TokenHash: "audit-session", CredVersion: n.CredVersion, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	at := func(i int, typ account.EventType) context.Context {
		return account.WithAudit(ctx, auditRecord(n.UserID, typ, t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("%012x", 10+i)))
	}
	if err := s.CreateSession(at(2, account.EventLoginSucceeded), sess, false); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(at(3, account.EventSessionEnded), n.UserID, sess.TokenHash); err != nil {
		t.Fatal(err)
	}
	pw := "$sha256$new"
	if err := s.ChangeCredentials(at(4, account.EventPasswordChanged), account.CredentialChange{UserID: n.UserID, PasswordHash: &pw, Now: t0}); err != nil {
		t.Fatal(err)
	}
	other := "$sha256$other"
	if err := s.ChangeCredentials(at(5, account.EventPasswordChanged), account.CredentialChange{UserID: n.UserID, PasswordHash: &other, IfPasswordHash: &other, Now: t0}); err == nil {
		t.Fatal("a stale IfPasswordHash changed the password")
	}
	if err := s.PutOTP(at(6, account.EventOTPIssued), &account.OTP{UserID: n.UserID, ReqIDHash: "r", UserHash: n.UserHash(), CodeMAC: "m", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	src := account.Source{Net: "198.51.100.9", Window: t0.Truncate(account.SourceWindow)}
	if err := s.AddSourceFailure(at(7, account.EventLoginFailed), src, t0.Add(account.SourceWindow)); err != nil {
		t.Fatal(err)
	}
	evs := wantCarried(t, s, n.UserID, "[login.failed@7 otp.issued@6 password.changed@4 session.ended@3 login.succeeded@2 account.created@0]")
	if evs[len(evs)-1].UserID != n.UserID {
		t.Errorf("account.created bound to %d, want %d", evs[len(evs)-1].UserID, n.UserID)
	}
}

// testAuditCarriedLifecycle: the account lifecycle's writes (PutVerification, ConfirmEmail,
// UpdateProfile) store the records their context carries when they succeed and not when
// they fail; UpdateProfile with records still answers the account as written.
func testAuditCarriedLifecycle(t *testing.T, s account.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, newAccount("audit-life", "audit-life@example.com"))
	at := func(i int, typ account.EventType) context.Context {
		return account.WithAudit(ctx, auditRecord(n.UserID, typ, t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("%012x", 20+i)))
	}
	v := verification("audit-new@example.com")
	v.UserID = n.UserID
	if err := s.PutVerification(at(1, account.EventEmailChangeRequested), v); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmEmail(at(2, account.EventEmailChanged), v, n, t0); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "confirm a used verification", s.ConfirmEmail(at(3, account.EventEmailVerified), v, n, t0), account.ErrTokenNotFound)
	base, err := s.AccountByID(ctx, n.UserID)
	if err != nil {
		t.Fatal(err)
	}
	c := account.ProfileChange{UserID: n.UserID, CredVersion: base.CredVersion, Now: t0.Add(time.Hour), Base: base,
		Profile: account.Profile{Bio: ptr("audited bio"), Name: ptr("")}}
	got, err := s.UpdateProfile(at(4, account.EventProfileUpdated), c)
	if err != nil {
		t.Fatal(err)
	}
	sameAccount(t, "UpdateProfile with records", got, c.Apply(base))
	stored, err := s.AccountByID(ctx, n.UserID)
	if err != nil {
		t.Fatal(err)
	}
	sameAccount(t, "stored after UpdateProfile with records", stored, c.Apply(base))
	stale := c
	stale.CredVersion++
	_, err = s.UpdateProfile(at(5, account.EventProfileUpdated), stale)
	wantCode(t, "stale UpdateProfile with records", err, account.ErrNotFound)
	wantCarried(t, s, n.UserID, "[profile.updated@4 email.changed@2 email.change_requested@1]")

	// Another field changed after the session check read base: the answer is still the
	// profile as stored, with both changes.
	base, err = s.AccountByID(ctx, n.UserID)
	if err != nil {
		t.Fatal(err)
	}
	other := account.ProfileChange{UserID: n.UserID, CredVersion: base.CredVersion, Now: t0.Add(2 * time.Hour), Base: base, Profile: account.Profile{Website: ptr("https://example.org/")}}
	if _, err := s.UpdateProfile(ctx, other); err != nil {
		t.Fatal(err)
	}
	mine := account.ProfileChange{UserID: n.UserID, CredVersion: base.CredVersion, Now: t0.Add(3 * time.Hour), Base: base, Profile: account.Profile{Name: ptr("Named Later")}}
	got, err = s.UpdateProfile(at(6, account.EventProfileUpdated), mine)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err = s.AccountByID(ctx, n.UserID); err != nil {
		t.Fatal(err)
	}
	sameAccount(t, "UpdateProfile with records after another field changed", got, stored)
	if got.Website != "https://example.org/" || got.Name != "Named Later" {
		t.Errorf("answer after another field changed: website %q, name %q", got.Website, got.Name)
	}
	wantCarried(t, s, n.UserID, "[profile.updated@6 profile.updated@4 email.changed@2 email.change_requested@1]")
}

// wantCarried checks the account's stored events, newest first, against want (eventTypes)
// and returns them.
func wantCarried(t *testing.T, s account.Store, id int64, want string) []account.Event {
	t.Helper()
	evs, _, err := s.Events(context.Background(), id, "", 20)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(eventTypes(evs)); got != want {
		t.Fatalf("carried events = %s, want %s", got, want)
	}
	return evs
}
