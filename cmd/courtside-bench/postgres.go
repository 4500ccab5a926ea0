package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"courtside"
	"courtside/storage"
	"courtside/storage/pgtest"
)

// The PostgreSQL section: the same binary on SQLite and on PostgreSQL, one instance and two on
// one database, measured side by side in one run. The section starts a throwaway PostgreSQL
// cluster from Debian's binaries with PostgreSQL's own durability (fsync and synchronous commit
// on, as SQLite runs with synchronous=FULL), in the same file system as the SQLite files, and
// stops it at its end; every measured database is a new one, made by `courtside init`.

// pgClients is how many clients run each write workload.
const pgClients = 8

// The configurations of the write workloads, in report order; the first is the one the others
// are compared with.
const (
	pgSQLite = "SQLite, 1 instance"
	pgOne    = "PostgreSQL, 1 instance"
	pgTwo    = "PostgreSQL, 2 instances"
)

// pgConfig is one configuration of the write workloads: a database, its instances, and what the
// clients need to write through them.
type pgConfig struct {
	name      string
	pg        bool
	env       *fanoutEnv   // the SMTP sink, the first instance, its GraphQL client, the fan-out hearing
	instances []*Server    // every instance, env.srv first
	gqls      []*gqlClient // a GraphQL client per instance
	works     []*writeWorkload
	puts      []*davTarget // a calendar per client, reached through instance client % instances
	putNext   []int        // the next event each client PUTs
	mon       *sql.DB      // a read-only view for the waits
	closeMon  func()
	loads     map[string][]float64 // the 1-minute load average at the start of each phase, by workload
}

// close stops the configuration's instances and its sink.
func (c *pgConfig) close() {
	if c.closeMon != nil {
		c.closeMon()
	}
	for _, s := range c.instances[min(1, len(c.instances)):] {
		s.Stop()
	}
	if c.env != nil {
		c.env.close()
	}
}

// pgTarget returns the index of the hearing that client moves at its k-th reschedule, out of n
// targets: each client walks the targets congruent to it modulo clients, so that a hearing is
// only ever moved by one client (and through one instance), and no two clients move one hearing
// at once.
func pgTarget(client, k, clients, n int) int {
	per := n / clients
	return client + clients*(k%per)
}

// pgPhase runs clients clients for d, each running op one after another (op's k counts the
// client's operations), and returns every operation's time and how long the phase took.
func pgPhase(ctx context.Context, clients int, d time.Duration, op func(ctx context.Context, client, k int) error) (Sample, time.Duration, error) {
	per := make([]Sample, clients) // each client appends to its own
	took, err := runClients(ctx, clients, d, func(ctx context.Context, c, k int) error {
		s := time.Now()
		if err := op(ctx, c, k); err != nil {
			return err
		}
		per[c] = append(per[c], time.Since(s))
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	var all Sample
	for _, p := range per {
		all = append(all, p...)
	}
	return all, took, nil
}

// monitor opens a read-only view of the database db for the section's waits: the SQLite file
// read-only, or the PostgreSQL database through storage's reader pool, which rebinds the `?`
// placeholders the waits are written with.
func (b *Bench) monitor(db string) (*sql.DB, func(), error) {
	if !storage.IsPostgresURL(db) {
		ro, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: db}).EscapedPath()+"?mode=ro&_busy_timeout=10000")
		if err != nil {
			return nil, nil, err
		}
		ro.SetMaxOpenConns(2)
		return ro, func() { ro.Close() }, nil
	}
	s := storage.NewDB(db)
	if err := s.Open(); err != nil {
		return nil, nil, err
	}
	return s.Reader, func() { s.Close() }, nil
}

// settle waits until the configuration's event router has handled every event and its delivery
// worker has sent every delivery.
func (c *pgConfig) settle(ctx context.Context) error {
	if err := waitBacklog(ctx, c.mon); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if err := waitDeliveries(ctx, c.mon); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// startPGConfig sets a configuration up on the database db (a new SQLite file or a new
// PostgreSQL database): the fan-out world on its first instance (startFanoutOn), the write path's
// docket of the same case, a calendar per PUT client, and the second instance when instances is 2.
func (b *Bench) startPGConfig(ctx context.Context, name, short, db string, instances int) (_ *pgConfig, err error) {
	c := &pgConfig{name: name, pg: storage.IsPostgresURL(db), loads: map[string][]float64{}}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if c.env, err = b.startFanoutOn(ctx, short, db); err != nil {
		return nil, err
	}
	c.instances = []*Server{c.env.srv}
	for len(c.instances) < instances {
		srv, err := b.startServerEnv(ctx, db, c.env.serverEnv)
		if err != nil {
			return nil, err
		}
		c.instances = append(c.instances, srv)
	}
	if c.mon, c.closeMon, err = b.monitor(db); err != nil {
		return nil, err
	}
	if err := b.importCaseDocket(ctx, c.env, short, b.Sizes.WriteHearings); err != nil {
		return nil, err
	}
	targets, err := caseTargets(ctx, c.env.g, c.env.hearingID, b.Sizes.WriteHearings)
	if err != nil {
		return nil, err
	}
	for _, srv := range c.instances {
		g := &gqlClient{url: srv.URL + "/graphql", client: newClient(), tokens: c.env.g.tokens}
		c.gqls = append(c.gqls, g)
		c.works = append(c.works, &writeWorkload{g: g, targets: targets})
	}
	out, err := b.cli(ctx, "", "token", "create", "--db", db, "--username", "bench-adv", "--kind", "app", "--label", "bench")
	if err != nil {
		return nil, err
	}
	auth := basicAuth("bench-adv", strings.TrimSpace(out))
	mk := xmlHead + `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>put</D:displayname></D:prop></D:set></C:mkcalendar>`
	for cl := 0; cl < pgClients; cl++ {
		t := &davTarget{name: name, base: c.instances[cl%len(c.instances)].URL, coll: fmt.Sprintf("/dav/calendars/bench-adv/put-%d/", cl),
			auth: auth, client: newClient()}
		r, err := t.do(ctx, "MKCALENDAR", t.coll, map[string]string{"Content-Type": "application/xml"}, []byte(mk))
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusCreated {
			return nil, fmt.Errorf("%s: MKCALENDAR %s answered %d: %s", name, t.coll, r.status, snippet(r.body))
		}
		c.puts = append(c.puts, t)
	}
	c.putNext = make([]int, pgClients)
	return c, c.settle(ctx)
}

// pgRun is one configuration's operations of one workload over every round.
type pgRun struct {
	config string
	ops    Sample
	took   time.Duration // the phases' time together
	load   []float64     // the 1-minute load average at the start of each phase
}

// rate returns the operations per second over the phases.
func (r pgRun) rate() float64 { return Ratio(float64(len(r.ops)), r.took.Seconds()) }

// pgWorkload is a write workload of the section: one operation by one client.
type pgWorkload struct {
	name string
	op   func(c *pgConfig) func(ctx context.Context, client, k int) error
}

// pgWorkloads are the two write workloads: a reschedule through GraphQL (each move tells the
// case's two victims) and a PUT of a new event into a personal calendar through CalDAV.
func pgWorkloads() []pgWorkload {
	return []pgWorkload{
		{"rescheduleHearing (GraphQL)", func(c *pgConfig) func(context.Context, int, int) error {
			return func(ctx context.Context, client, k int) error {
				w := c.works[client%len(c.works)]
				_, err := w.write(ctx, pgTarget(client, k, pgClients, len(w.targets)))
				return err
			}
		}},
		{"PUT of a new event (CalDAV)", func(c *pgConfig) func(context.Context, int, int) error {
			return func(ctx context.Context, client, k int) error {
				i := c.putNext[client]
				if i >= courtside.MaxCalendarObjects {
					return fmt.Errorf("%s: client %d filled its calendar (%d events): shorten the phase", c.name, client, i)
				}
				c.putNext[client]++
				return c.puts[client].put(ctx, i, courtside.MaxCalendarObjects, 12, 0)
			}
		}},
	}
}

// postgres measures the write workloads, the fan-out and the CalDAV reads on SQLite and on
// PostgreSQL.
func (b *Bench) postgres(ctx context.Context) (*Section, error) {
	sizes := b.Sizes
	load0 := loadAverages()
	b.Log("postgres: starting a PostgreSQL cluster")
	cluster, err := pgtest.StartDurable()
	if err != nil {
		return notMeasured("", "no PostgreSQL cluster could be started ("+err.Error()+")"), nil
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			b.Log("postgres: %v", err)
		}
	}()
	newDB := func() (string, error) {
		u, _, err := cluster.CreateDatabase(ctx, "")
		return u, err
	}
	pgVersion := "unknown"
	if u, err := newDB(); err == nil {
		if db, err := sql.Open("pgx", u); err == nil {
			db.QueryRowContext(ctx, `SHOW server_version`).Scan(&pgVersion)
			db.Close()
		}
	}

	// The three configurations, each on a database of its own.
	var configs []*pgConfig
	defer func() {
		for _, c := range configs {
			c.close()
		}
	}()
	for _, spec := range []struct {
		name, short string
		pg          bool
		instances   int
	}{{pgSQLite, "pg-sqlite", false, 1}, {pgOne, "pg-one", true, 1}, {pgTwo, "pg-two", true, 2}} {
		db := filepath.Join(b.Dir, spec.short+".db")
		if spec.pg {
			if db, err = newDB(); err != nil {
				return nil, err
			}
		}
		b.Log("postgres: setting up %s", spec.name)
		c, err := b.startPGConfig(ctx, spec.name, spec.short, db, spec.instances)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.name, err)
		}
		configs = append(configs, c)
	}

	// The write workloads: in each round, each configuration's phase in turn, the order rotating
	// from round to round; every phase starts with the router caught up and no delivery pending.
	workloads := pgWorkloads()
	runs := map[string]map[string]*pgRun{} // workload, configuration
	for _, wl := range workloads {
		runs[wl.name] = map[string]*pgRun{}
		for _, c := range configs {
			runs[wl.name][c.name] = &pgRun{config: c.name}
		}
	}
	for round := 0; round < sizes.PGRounds; round++ {
		for _, wl := range workloads {
			for j := range configs {
				c := configs[(j+round)%len(configs)]
				if err := c.settle(ctx); err != nil {
					return nil, err
				}
				r := runs[wl.name][c.name]
				r.load = append(r.load, loadAverage())
				ops, took, err := pgPhase(ctx, pgClients, sizes.PGPhase, wl.op(c))
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", wl.name, c.name, err)
				}
				r.ops, r.took = append(r.ops, ops...), r.took+took
				b.Log("postgres: round %d, %s, %s: %s/s", round+1, wl.name, c.name, fmtRate(Ratio(float64(len(ops)), took.Seconds())))
			}
		}
	}

	// The fan-out: reschedules of the fan-out hearing one after another, in blocks that take the
	// configurations in turn, through the configuration's instances in turn.
	fan, err := b.pgFanout(ctx, configs)
	if err != nil {
		return nil, err
	}

	// The CalDAV reads of the hearings calendar, SQLite against PostgreSQL with one instance.
	for _, c := range configs {
		c.close()
	}
	configs = nil
	reads, err := b.pgReads(ctx, newDB)
	if err != nil {
		return nil, err
	}
	return pgSection(sizes, pgVersion, workloads, runs, fan, reads, load0, loadAverages()), nil
}

// pgFan is one configuration's fan-out figures.
type pgFan struct {
	config              string
	answered, committed Sample
	load                []float64
}

// pgFanout times sizes.PGReschedules reschedules of the fan-out hearing per configuration, from
// sending the mutation to its four deliveries committed, as the write-path section does: each
// reschedule waits for the four messages of the one before to reach the sink.
func (b *Bench) pgFanout(ctx context.Context, configs []*pgConfig) ([]*pgFan, error) {
	type state struct {
		conn   *sql.Conn
		lastID int64
		seen   int
		i      int
	}
	fans := make([]*pgFan, len(configs))
	states := make([]*state, len(configs))
	for j, c := range configs {
		if err := c.settle(ctx); err != nil {
			return nil, err
		}
		conn, err := c.mon.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		st := &state{conn: conn, seen: len(c.env.sink.Messages())}
		if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM deliveries`).Scan(&st.lastID); err != nil {
			return nil, err
		}
		fans[j], states[j] = &pgFan{config: c.name}, st
	}
	base := time.Date(2031, 3, 3, 14, 0, 0, 0, time.UTC)
	n := b.Sizes.PGReschedules
	done := func() bool {
		for _, f := range fans {
			if len(f.committed) < n {
				return false
			}
		}
		return true
	}
	for block := 0; !done(); block++ {
		for j := range configs {
			j := (j + block) % len(configs)
			c, st, f := configs[j], states[j], fans[j]
			f.load = append(f.load, loadAverage())
			for k := 0; k < writeBlock && len(f.committed) < n; k++ {
				st.i++
				g := c.gqls[st.i%len(c.gqls)]
				start := base.Add(time.Duration(st.i%2) * 24 * time.Hour).Add(time.Duration(st.i%7) * time.Minute)
				t0 := time.Now()
				seq, err := g.reschedule(ctx, c.env.hearingID, start)
				if err != nil {
					return nil, fmt.Errorf("%s: reschedule %d: %w", c.name, st.i, err)
				}
				answered := time.Since(t0)
				keys, at, err := waitCommitted(ctx, st.conn, c.pg, c.env.hearingID, seq, &st.lastID)
				if err == nil {
					_, err = waitReceived(ctx, c.env.sink, keys, &st.seen)
				}
				if err != nil {
					return nil, fmt.Errorf("%s: reschedule %d: %w", c.name, st.i, err)
				}
				f.answered, f.committed = append(f.answered, answered), append(f.committed, at.Sub(t0))
			}
		}
	}
	b.Log("postgres: fan-out, %d reschedules per configuration", n)
	return fans, nil
}

// pgRead is one engine's CalDAV reads of the hearings calendar.
type pgRead struct {
	engine  string
	samples map[string]Sample // by operation
	load    []float64
	drained time.Duration // how long the server took to render the imported calendar at start
}

// pgReads sets up the hearings section's world at sizes.PGHearings hearings on SQLite and on
// PostgreSQL (one instance each) and measures PROPFIND Depth 1, the one-month calendar-query and
// sync-collection after one change on the advocate's hearings calendar in interleaved rounds.
func (b *Bench) pgReads(ctx context.Context, newDB func() (string, error)) ([]*pgRead, error) {
	n, months := b.Sizes.PGHearings, b.Sizes.CalendarMonths
	from := time.Now().UTC().Truncate(24 * time.Hour).Add(24*time.Hour + 14*time.Hour)
	type engine struct {
		read   *pgRead
		scale  *calScale
		srv    *Server
		ro     *sql.DB
		closeR func()
		g      *gqlClient
	}
	var engines []*engine
	defer func() {
		for _, e := range engines {
			if e.closeR != nil {
				e.closeR()
			}
			if e.srv != nil {
				e.srv.Stop()
			}
		}
	}()
	for _, name := range []string{"SQLite", "PostgreSQL"} {
		dir := filepath.Join(b.Dir, "pg-reads-"+strings.ToLower(name))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		db := filepath.Join(dir, "courtside.db")
		if name == "PostgreSQL" {
			var err error
			if db, err = newDB(); err != nil {
				return nil, err
			}
		}
		if err := b.initDB(ctx, db); err != nil {
			return nil, err
		}
		e := &engine{read: &pgRead{engine: name, samples: map[string]Sample{}}, scale: newCalScale(n)}
		engines = append(engines, e)
		b.Log("postgres: CalDAV reads, loading %d hearings into %s", n, name)
		if _, err := b.loadCalendarScales(ctx, dir, db, from, months, []*calScale{e.scale}); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var err error
		if e.srv, err = b.startServer(ctx, db); err != nil {
			return nil, err
		}
		if e.ro, e.closeR, err = b.monitor(db); err != nil {
			return nil, err
		}
		t0 := time.Now()
		for {
			pending, err := calendarPending(ctx, e.ro)
			if err != nil {
				return nil, err
			}
			if pending == 0 {
				break
			}
			if time.Since(t0) > 30*time.Minute {
				return nil, fmt.Errorf("%s: the calendar projection still has %d events to handle after 30 min", name, pending)
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		e.read.drained = time.Since(t0)
		b.Log("postgres: %s rendered the calendars in %s", name, e.read.drained)
		s := e.scale
		s.advocate = &davTarget{name: name, base: e.srv.URL, coll: "/dav/calendars/" + s.adv + "/hearings/", auth: basicAuth(s.adv, s.advApp), client: newClient()}
		e.g = &gqlClient{url: e.srv.URL + "/graphql", client: newClient(), tokens: map[string]string{s.pros: s.prosAPI}}
	}
	ops := calOps(from, n, months)
	for _, e := range engines {
		for _, op := range ops {
			if _, _, err := op.send(ctx, e.scale.advocate); err != nil { // warm-up, and the first sync token
				return nil, err
			}
		}
	}
	for round := 1; round <= b.Sizes.PGReadRounds; round++ {
		for _, e := range engines {
			e.read.load = append(e.read.load, loadAverage())
		}
		for k, op := range ops {
			for j := range engines {
				e := engines[(j+round+k)%len(engines)]
				if op.short == "sync" {
					if err := b.rescheduleOne(ctx, e.g, e.ro, e.scale, round); err != nil {
						return nil, fmt.Errorf("%s: %w", e.read.engine, err)
					}
				}
				_, took, err := op.send(ctx, e.scale.advocate)
				if err != nil {
					return nil, err
				}
				e.read.samples[op.name] = append(e.read.samples[op.name], took)
			}
		}
	}
	b.Log("postgres: CalDAV reads, %d rounds", b.Sizes.PGReadRounds)
	out := make([]*pgRead, len(engines))
	for i, e := range engines {
		out[i] = e.read
	}
	return out, nil
}

// medianLoad renders the median of load averages, or "unknown".
func medianLoad(l []float64) string {
	if len(l) == 0 {
		return "unknown"
	}
	c := append([]float64(nil), l...)
	sort.Float64s(c)
	return fmt.Sprintf("%.2f", c[len(c)/2])
}

// pgWriteTable renders one write workload's runs, each beside the first's (SQLite's).
func pgWriteTable(workload string, rs []*pgRun) Table {
	t := Table{Caption: fmt.Sprintf("%s, %d clients:", workload, pgClients),
		Header: []string{"configuration", "operations", "operations/s", "p50", "p99", "operations/s ÷ SQLite's", "p50 ÷ SQLite's", "p99 ÷ SQLite's", "load average (median of the phases)"}}
	if len(rs) == 0 {
		return t
	}
	base := rs[0]
	for _, r := range rs {
		t.Rows = append(t.Rows, []string{r.config, fmtInt(len(r.ops)), fmtRate(r.rate()), fmtDur(r.ops.Median()), fmtDur(r.ops.P99()),
			fmtRatio(Ratio(r.rate(), base.rate())), fmtRatio(Ratio(float64(r.ops.Median()), float64(base.ops.Median()))),
			fmtRatio(Ratio(float64(r.ops.P99()), float64(base.ops.P99()))), medianLoad(r.load)})
	}
	return t
}

// pgFanTable renders the fan-out of each configuration beside the first's (SQLite's).
func pgFanTable(fans []*pgFan) Table {
	t := Table{Caption: "Fan-out of a reschedule, from sending the mutation to its answer and to its four deliveries committed:",
		Header: []string{"configuration", "reschedules", "answered p50", "answered p99", "committed p50", "committed p90",
			"committed p99", "committed max", "committed p99 ÷ SQLite's", "load average (median of the blocks)"}}
	if len(fans) == 0 {
		return t
	}
	base := fans[0]
	for _, f := range fans {
		t.Rows = append(t.Rows, []string{f.config, fmtInt(len(f.committed)), fmtDur(f.answered.Median()), fmtDur(f.answered.P99()),
			fmtDur(f.committed.Median()), fmtDur(f.committed.P90()), fmtDur(f.committed.P99()), fmtDur(f.committed.Quantile(1)),
			fmtRatio(Ratio(float64(f.committed.P99()), float64(base.committed.P99()))), medianLoad(f.load)})
	}
	return t
}

// pgReadTable renders the CalDAV reads, PostgreSQL's beside SQLite's: reads[0] is SQLite's.
func pgReadTable(n int, reads []*pgRead, opNames []string) Table {
	t := Table{Caption: fmt.Sprintf("CalDAV reads of the advocate's hearings calendar at %s hearings, one instance each:", fmtInt(n)),
		Header: []string{"operation", "SQLite p50", "SQLite p99", "PostgreSQL p50", "PostgreSQL p99", "p50 PostgreSQL ÷ SQLite", "p99 PostgreSQL ÷ SQLite", "samples (SQLite / PostgreSQL)"}}
	if len(reads) < 2 {
		return t
	}
	s, p := reads[0].samples, reads[1].samples
	for _, op := range opNames {
		t.Rows = append(t.Rows, []string{op, fmtDur(s[op].Median()), fmtDur(s[op].P99()), fmtDur(p[op].Median()), fmtDur(p[op].P99()),
			fmtRatio(Ratio(float64(p[op].Median()), float64(s[op].Median()))), fmtRatio(Ratio(float64(p[op].P99()), float64(s[op].P99()))),
			fmt.Sprintf("%d / %d", len(s[op]), len(p[op]))})
	}
	return t
}

// compared renders a ratio of two figures, "0.62×", saying "about the same" within 10%.
func compared(r float64) string {
	if r >= 0.9 && r <= 1.1 {
		return fmtRatio(r) + ", about the same as"
	}
	return fmtRatio(r)
}

// pgReading is the paragraph that says what the section's figures mean: writes are one at a
// time across the instances of a database, so what a second instance changes is shown, not
// assumed. rates are the write workloads' operations per second by workload and configuration;
// fanP99 the fan-out's committed p99 by configuration.
func pgReading(workloads []string, rates map[string]map[string]float64, fanP99 map[string]time.Duration) string {
	var b strings.Builder
	b.WriteString("What these figures mean. On PostgreSQL every write transaction, whichever instance runs it, takes the database's " +
		"write lock, so writes are one at a time across every instance, as SQLite's single writer makes them on one machine: " +
		"a second instance adds capacity for reads (CalDAV, feeds, GraphQL queries) and keeps the service going when a host " +
		"fails, not write throughput. In this run, on one machine whose two cores the instances, PostgreSQL and the clients share, ")
	var parts []string
	for _, w := range workloads {
		r := rates[w]
		parts = append(parts, fmt.Sprintf("%s ran at %s/s on SQLite, %s/s on PostgreSQL with one instance (%s SQLite's) and %s/s with two "+
			"(%s one instance's)", w, fmtRate(r[pgSQLite]), fmtRate(r[pgOne]), compared(Ratio(r[pgOne], r[pgSQLite])),
			fmtRate(r[pgTwo]), compared(Ratio(r[pgTwo], r[pgOne]))))
	}
	b.WriteString(strings.Join(parts, "; "))
	fmt.Fprintf(&b, ". The fan-out's p99 from a reschedule to its deliveries committed was %s on SQLite, %s on PostgreSQL with one "+
		"instance and %s with two, where the router that plans the notices may be the other instance's, woken by NOTIFY. "+
		"These figures come from one machine, where a second instance only shares the same two cores with the first, "+
		"PostgreSQL and the clients: they show what a second instance costs and gives there, not what hosts of their own "+
		"would give. Whatever the hosts, writes take turns under the one write lock, and on PostgreSQL every statement of "+
		"a write is a round trip to another process, where SQLite's runs inside the server.",
		fmtDur(fanP99[pgSQLite]), fmtDur(fanP99[pgOne]), fmtDur(fanP99[pgTwo]))
	return b.String()
}

// pgSection writes the section from what it measured.
func pgSection(sizes Sizes, pgVersion string, workloads []pgWorkload, runs map[string]map[string]*pgRun, fans []*pgFan,
	reads []*pgRead, load0, load1 string) *Section {
	configNames := []string{pgSQLite, pgOne, pgTwo}
	opNames := []string{"PROPFIND Depth 1", "calendar-query, one month", "sync-collection after one change"}
	sec := &Section{Intro: fmt.Sprintf("The same binary on SQLite and on PostgreSQL %s (a cluster the section starts from Debian's "+
		"binaries, with PostgreSQL's default durability: fsync and synchronous commit on, as SQLite runs with synchronous=FULL; "+
		"on 127.0.0.1, its files on the same disk as the SQLite files), side by side in one run. Three configurations, each on a "+
		"new database made by `courtside init` with the fan-out section's world (SMTP sink, users, the hearing with four "+
		"people to notify) and %d more hearings of its case imported with the CLI: SQLite with one `courtside serve`; "+
		"PostgreSQL with one; PostgreSQL with two on the same database, the clients split between them. "+
		"*Writes*: %d clients, each running one operation after another for %s per phase, in %d rounds, each round giving "+
		"each configuration a phase in an order that rotates, and every phase starting with the event router caught up and "+
		"no delivery pending: `rescheduleHearing` through GraphQL (each client moving hearings of its own by a day and back; "+
		"each move tells the case's two victims by e-mail) and a CalDAV PUT of a new event (If-None-Match: *) into a "+
		"personal calendar of the advocate's, one calendar per client. *Fan-out*: %d reschedules of the fan-out hearing per "+
		"configuration, one after another, in blocks of %d that take the configurations in turn (with two instances, "+
		"through each in turn); committed is from sending the mutation to its four deliveries existing (looked for every "+
		"%s on SQLite through `PRAGMA data_version`, every %s on PostgreSQL by a query), each waiting for the four "+
		"messages of the one before to reach the sink, as in the write-path section. *Reads*: the hearings section's world "+
		"at %s hearings (an advocate accompanying every one) on a SQLite file and on a PostgreSQL database, one instance "+
		"each, in %d interleaved rounds of PROPFIND Depth 1, calendar-query over one month and sync-collection after one "+
		"change (a reschedule, once every handler has handled it). Times are whole requests.",
		pgVersion, sizes.WriteHearings, pgClients, sizes.PGPhase, sizes.PGRounds, sizes.PGReschedules, writeBlock,
		fmtDur(fanoutPoll), fmtDur(fanoutPollPG), fmtInt(sizes.PGHearings), sizes.PGReadRounds)}

	rates := map[string]map[string]float64{}
	var wlNames []string
	for _, wl := range workloads {
		wlNames = append(wlNames, wl.name)
		rates[wl.name] = map[string]float64{}
		var rs []*pgRun
		for _, c := range configNames {
			if r := runs[wl.name][c]; r != nil {
				rs = append(rs, r)
				rates[wl.name][c] = r.rate()
			}
		}
		sec.Tables = append(sec.Tables, pgWriteTable(wl.name, rs))
		one, two, lite := runs[wl.name][pgOne], runs[wl.name][pgTwo], runs[wl.name][pgSQLite]
		if one != nil && two != nil && lite != nil {
			sec.Targets = append(sec.Targets, Target{Figure: fmt.Sprintf("%s throughput, %d clients: PostgreSQL ÷ SQLite", wl.name, pgClients),
				Value: fmt.Sprintf("one instance %s (%s/s), two instances %s (%s/s), SQLite %s/s; p99 %s, %s and %s",
					fmtRatio(Ratio(one.rate(), lite.rate())), fmtRate(one.rate()), fmtRatio(Ratio(two.rate(), lite.rate())), fmtRate(two.rate()),
					fmtRate(lite.rate()), fmtDur(one.ops.P99()), fmtDur(two.ops.P99()), fmtDur(lite.ops.P99())),
				Goal: "none set", Measured: true, Reported: true})
		}
	}
	fanP99 := map[string]time.Duration{}
	for _, f := range fans {
		fanP99[f.config] = f.committed.P99()
	}
	if len(fans) == 3 {
		sec.Targets = append(sec.Targets, Target{Figure: "fan-out p99, reschedule to deliveries committed: PostgreSQL beside SQLite",
			Value: fmt.Sprintf("SQLite %s, PostgreSQL one instance %s (%s), two instances %s (%s)", fmtDur(fanP99[pgSQLite]),
				fmtDur(fanP99[pgOne]), fmtRatio(Ratio(float64(fanP99[pgOne]), float64(fanP99[pgSQLite]))),
				fmtDur(fanP99[pgTwo]), fmtRatio(Ratio(float64(fanP99[pgTwo]), float64(fanP99[pgSQLite])))),
			Goal: "none set", Measured: true, Reported: true})
	}
	sec.Tables = append(sec.Tables, pgFanTable(fans))
	if len(reads) == 2 {
		var parts []string
		for _, op := range opNames {
			parts = append(parts, fmt.Sprintf("%s %s (%s against %s)", op, fmtRatio(Ratio(float64(reads[1].samples[op].Median()), float64(reads[0].samples[op].Median()))),
				fmtDur(reads[1].samples[op].Median()), fmtDur(reads[0].samples[op].Median())))
		}
		sec.Targets = append(sec.Targets, Target{Figure: fmt.Sprintf("CalDAV reads of the hearings calendar at %s hearings, p50: PostgreSQL ÷ SQLite", fmtInt(sizes.PGHearings)),
			Value: strings.Join(parts, "; "), Goal: "none set", Measured: true, Reported: true})
		sec.Tables = append(sec.Tables, pgReadTable(sizes.PGHearings, reads, opNames))
		sec.Notes = append(sec.Notes, fmt.Sprintf("For the reads, each server started with the import's events to handle and rendered the "+
			"calendars before the rounds: SQLite's in %s, PostgreSQL's in %s. Load average (1 minute, median of the rounds): SQLite's "+
			"rounds %s, PostgreSQL's %s (the rounds interleave, so both saw the same machine).",
			reads[0].drained.Round(time.Second), reads[1].drained.Round(time.Second), medianLoad(reads[0].load), medianLoad(reads[1].load)))
	}
	sec.Notes = append(sec.Notes, pgReading(wlNames, rates, fanP99),
		fmt.Sprintf("Load average (1, 5, 15 min) at the start of the section %s, at its end %s, on %d cores shared with other work: "+
			"the write phases keep both cores busy by themselves, so their absolute figures move with the machine's load; the "+
			"configurations' phases alternate within each round, so their ratios saw the same machine.", load0, load1, runtime.NumCPU()))
	return sec
}
