package resolve

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/cairnfs/cairn/registry"
	"github.com/cairnfs/cairn/registry/cairnpkg"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// Sentinel errors.
var (
	// ErrUnsatisfiable: no choice of versions satisfies every constraint. The message names the
	// constraints that clash and who imposes them.
	ErrUnsatisfiable = errors.New("unsatisfiable extension requirements")
	// ErrCycle: the chosen extensions depend on each other in a cycle.
	ErrCycle = errors.New("dependency cycle")
)

// MaxAttempts bounds the backtracking search (candidate versions tried, in total).
const MaxAttempts = 100_000

// DefaultTimeout bounds the search in time when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Request asks for an extension.
type Request struct {
	ID string
	// Constraint is a semver range (Masterminds syntax: "^1.2", ">=1.0, <2.0", "~1.4.2");
	// empty means any release. Prereleases are chosen only if the range names one
	// (">=2.0.0-0"), as with dependencies.
	Constraint string
}

// Options narrows which releases may be chosen.
type Options struct {
	// HostABI, if set, skips releases whose ABI range does not admit it.
	HostABI string
	// Kernel, if set, skips releases whose kernel range does not admit it.
	Kernel string
	// Timeout bounds the search (default DefaultTimeout): a registry index is untrusted input,
	// and one shaped against backtracking must not burn CPU for minutes.
	Timeout time.Duration
}

// Action is what a Step does.
type Action string

// Actions.
const (
	Install   Action = "install"
	Upgrade   Action = "upgrade"
	Downgrade Action = "downgrade"
	Keep      Action = "keep"
)

// Constraint is one requirement on an extension and who imposes it.
type Constraint struct {
	Range    string
	Contract string // an exported contract the chosen version must list, or ""
	// By is "id@version" of the dependent, "id@version (installed)" for an installed one that
	// is kept, or "" for a user request.
	By string
}

// Step is one extension in a Plan.
type Step struct {
	ID      string
	Version string
	// From is the installed version, "" if the extension is new.
	From   string
	Action Action
	// Release is the index entry of Version; nil when keeping an installed version the index
	// does not list.
	Release     *registry.Release
	Requested   bool
	Constraints []Constraint
}

// Plan is the outcome of Resolve: every requested and installed extension and every
// dependency, in install order (each step's dependencies come before it).
type Plan struct {
	Steps []Step
}

// Changes returns the steps that install, upgrade or downgrade something.
func (p *Plan) Changes() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Action != Keep {
			out = append(out, s)
		}
	}
	return out
}

// String renders the plan one step per line: "install dev.a.b 1.2.0", "upgrade dev.c.d 1.0.0 -> 1.1.0".
func (p *Plan) String() string {
	var b strings.Builder
	for _, s := range p.Steps {
		switch s.Action {
		case Upgrade, Downgrade:
			fmt.Fprintf(&b, "%s %s %s -> %s\n", s.Action, s.ID, s.From, s.Version)
		default:
			fmt.Fprintf(&b, "%s %s %s\n", s.Action, s.ID, s.Version)
		}
	}
	return b.String()
}

// Resolve chooses a version for every requested extension, every installed one, and every
// dependency of a choice, such that all constraints hold:
//
//   - a requested extension gets the highest release matching its request;
//   - an installed extension keeps its version if it still fits, else the highest that does;
//   - a dependency gets the highest release matching every dependent's range (and exporting
//     the contract it names);
//   - with opts.HostABI or opts.Kernel set, releases that cannot run on this host are skipped.
//
// installed maps id → installed version. The dependencies of an installed extension are taken
// from the index entry of its installed version; one the index does not list constrains
// nothing and is assumed to export what it is asked for. The search backtracks (bounded by
// MaxAttempts); when it fails, the error is the first conflict met on the preferred path,
// wrapping ErrUnsatisfiable (and registry.ErrNotFound for an unknown id). A solution whose
// dependencies form a cycle fails with ErrCycle.
func Resolve(idx *registry.Index, requests []Request, installed map[string]string, opts Options) (*Plan, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	s := &solver{idx: idx, installed: installed, opts: opts, cons: map[string][]cons{}, chosen: map[string]*cand{}, requested: map[string]bool{},
		deadline: time.Now().Add(opts.Timeout), allOf: map[string][]*cand{}, ranges: map[string]*semver.Constraints{}, checked: map[checkKey]bool{}, fitting: map[string][]*cand{}}
	for _, r := range requests {
		rng := r.Constraint
		if rng == "" {
			rng = "*"
		}
		c, err := semver.NewConstraint(rng)
		if err != nil {
			return nil, fmt.Errorf("%w: %s@%s: bad version range: %v", ErrUnsatisfiable, r.ID, r.Constraint, err)
		}
		s.requested[r.ID] = true
		s.addCons(r.ID, cons{Constraint: Constraint{Range: rng}, c: c})
	}
	ids := make([]string, 0, len(installed))
	for id := range installed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, err := semver.NewVersion(installed[id]); err != nil {
			return nil, fmt.Errorf("installed %s@%s: bad version: %v", id, installed[id], err)
		}
		s.touch(id)
	}
	if err := s.solve(); err != nil {
		if s.stopped != nil && s.firstConflict != nil {
			return nil, fmt.Errorf("%w; the first conflict: %v", err, strings.TrimPrefix(s.firstConflict.Error(), ErrUnsatisfiable.Error()+": "))
		}
		return nil, err
	}
	return s.plan()
}

type cons struct {
	Constraint
	c *semver.Constraints
}

// cand is a candidate version of one extension.
type cand struct {
	v       *semver.Version
	rel     *registry.Release // nil: installed, not in the index
	deps    []manifest.Dependency
	exports []string
}

func (c *cand) exportsAll(contract string) bool {
	return contract == "" || c.rel == nil || slices.Contains(c.exports, contract)
}

type solver struct {
	idx       *registry.Index
	installed map[string]string
	opts      Options
	requested map[string]bool

	order    []string // ids in discovery order
	cons     map[string][]cons
	chosen   map[string]*cand
	undo     []func()
	attempts int
	stopped  error // set once the search gave up
	// firstConflict is the first dead end met, reported with a gave-up error.
	firstConflict error
	deadline      time.Time

	// Caches: a release's candidate and a range's parsed form do not change during a search.
	allOf   map[string][]*cand
	ranges  map[string]*semver.Constraints
	checked map[checkKey]bool
	fitting map[string][]*cand
}

// constraint parses a version range once per search.
func (s *solver) constraint(rng string) (*semver.Constraints, error) {
	if c, ok := s.ranges[rng]; ok {
		return c, nil
	}
	c, err := semver.NewConstraint(rng)
	if err != nil {
		return nil, err
	}
	s.ranges[rng] = c
	return c, nil
}

// giveUp reports whether the search has used its attempts or its time.
func (s *solver) giveUp() error {
	s.attempts++
	if s.attempts > MaxAttempts {
		return fmt.Errorf("%w: gave up after %d attempts (too many interlocking version ranges)", ErrUnsatisfiable, MaxAttempts)
	}
	if s.attempts%256 == 0 && time.Now().After(s.deadline) {
		return fmt.Errorf("%w: gave up after %s and %d attempts (too many interlocking version ranges)", ErrUnsatisfiable, s.opts.Timeout, s.attempts)
	}
	return nil
}

func (s *solver) touch(id string) {
	if _, ok := s.cons[id]; !ok {
		s.cons[id] = nil
		s.order = append(s.order, id)
		s.undo = append(s.undo, func() {
			delete(s.cons, id)
			s.order = s.order[:len(s.order)-1]
		})
	}
}

func (s *solver) addCons(id string, c cons) {
	s.touch(id)
	s.cons[id] = append(s.cons[id], c)
	s.undo = append(s.undo, func() { s.cons[id] = s.cons[id][:len(s.cons[id])-1] })
}

func (s *solver) rollback(mark int) {
	for len(s.undo) > mark {
		s.undo[len(s.undo)-1]()
		s.undo = s.undo[:len(s.undo)-1]
	}
}

func (s *solver) solve() error {
	id := ""
	for _, o := range s.order {
		if s.chosen[o] == nil {
			id = o
			break
		}
	}
	if id == "" {
		return nil
	}
	cands := s.candidates(id)
	if len(cands) == 0 {
		return s.explain(id, nil)
	}
	var first error
	for _, c := range cands {
		if err := s.giveUp(); err != nil {
			s.stopped = err
			return err
		}
		mark := len(s.undo)
		s.chosen[id] = c
		s.undo = append(s.undo, func() { delete(s.chosen, id) })
		err := s.choose(id, c)
		if err == nil {
			if err = s.solve(); err == nil {
				return nil
			}
		}
		if first == nil {
			first = err
		}
		if s.firstConflict == nil {
			s.firstConflict = err
		}
		s.rollback(mark)
		if s.stopped != nil {
			return s.stopped
		}
	}
	return first
}

// choose adds the dependencies of id@c as constraints and checks the ones already chosen.
func (s *solver) choose(id string, c *cand) error {
	by := id + "@" + c.v.String()
	if iv, ok := s.installed[id]; ok {
		if v, _ := semver.NewVersion(iv); v != nil && v.Equal(c.v) {
			by += " (installed)"
		}
	}
	for _, d := range c.deps {
		dc, err := s.constraint(d.Version)
		if err != nil {
			return fmt.Errorf("%w: %s: dependency %s@%s: bad range: %v", ErrUnsatisfiable, by, d.ID, d.Version, err)
		}
		s.addCons(d.ID, cons{Constraint: Constraint{Range: d.Version, Contract: d.Contract, By: by}, c: dc})
		if have := s.chosen[d.ID]; have != nil && !s.fits(d.ID, have) {
			return s.explain(d.ID, have)
		}
	}
	return nil
}

// fits reports whether candidate c of id satisfies every constraint on id.
func (s *solver) fits(id string, c *cand) bool {
	for _, k := range s.cons[id] {
		if !s.check(k.c, c) || !c.exportsAll(k.Contract) {
			return false
		}
	}
	return true
}

// check is k.Check(c.v), remembered: semver formats an error for every failed check, which
// dominated the search (the same pairs are checked again on every backtrack).
func (s *solver) check(k *semver.Constraints, c *cand) bool {
	key := checkKey{k, c}
	if ok, done := s.checked[key]; done {
		return ok
	}
	ok := k.Check(c.v)
	s.checked[key] = ok
	return ok
}

type checkKey struct {
	k *semver.Constraints
	c *cand
}

// all returns every candidate of id that can run here, in order of preference, before
// constraints: newest first, except that an installed version comes first when the extension
// was not requested (keep what is installed unless something needs otherwise).
func (s *solver) all(id string) []*cand {
	if c, ok := s.allOf[id]; ok {
		return c
	}
	c := s.listAll(id)
	s.allOf[id] = c
	return c
}

func (s *solver) listAll(id string) []*cand {
	var instV *semver.Version
	if iv, ok := s.installed[id]; ok {
		instV, _ = semver.NewVersion(iv)
	}
	var out []*cand
	var inst *cand
	listed := false
	rs := s.idx.Releases(id)
	for i := range rs {
		r := &rs[i]
		v := r.SemVer()
		if v == nil {
			continue
		}
		isInst := instV != nil && v.Equal(instV)
		listed = listed || isInst
		if !s.runs(r) {
			continue
		}
		c := &cand{v: v, rel: r, deps: r.Dependencies, exports: r.Exports}
		if isInst {
			inst = c
		}
		out = append(out, c)
	}
	if instV != nil && !listed {
		// Installed from elsewhere: nothing known about it but its version.
		inst = &cand{v: instV}
		i := 0
		for i < len(out) && out[i].v.GreaterThan(instV) {
			i++
		}
		out = slices.Insert(out, i, inst)
	}
	if inst != nil && !s.requested[id] {
		out = slices.DeleteFunc(out, func(c *cand) bool { return c == inst })
		out = append([]*cand{inst}, out...)
	}
	return out
}

// runs reports whether release r can run on this host (opts).
func (s *solver) runs(r *registry.Release) bool {
	m := &manifest.Manifest{ID: "x", Version: r.Version, ABI: r.ABI, Kernel: r.Kernel}
	if s.opts.HostABI != "" && cairnpkg.CheckABI(m, s.opts.HostABI) != nil {
		return false
	}
	if s.opts.Kernel != "" && cairnpkg.CheckKernel(m, s.opts.Kernel) != nil {
		return false
	}
	return true
}

// candidates returns the candidates of id that fit its constraints, remembered per set of
// constraints (a backtracking search asks the same question again and again).
func (s *solver) candidates(id string) []*cand {
	var key strings.Builder
	key.WriteString(id)
	for _, k := range s.cons[id] {
		key.WriteByte(0)
		key.WriteString(k.Range)
		key.WriteByte(1)
		key.WriteString(k.Contract)
	}
	if out, ok := s.fitting[key.String()]; ok {
		return out
	}
	var out []*cand
	for _, c := range s.all(id) {
		if s.fits(id, c) {
			out = append(out, c)
		}
	}
	s.fitting[key.String()] = out
	return out
}

// explain returns the error for id when no candidate fits (have == nil), or when the chosen
// candidate have stops fitting after a new constraint. The message is built only when someone
// reads it: a search meets thousands of conflicts and reports one.
func (s *solver) explain(id string, have *cand) error {
	return &conflict{s: s, id: id, have: have, cs: slices.Clone(s.cons[id])}
}

// conflict is a lazily explained dead end of the search.
type conflict struct {
	s    *solver
	id   string
	have *cand
	cs   []cons
	err  error
}

func (c *conflict) resolved() error {
	if c.err == nil {
		c.err = c.s.explainNow(c.id, c.have, c.cs)
	}
	return c.err
}

func (c *conflict) Error() string { return c.resolved().Error() }
func (c *conflict) Unwrap() error { return c.resolved() }

func (s *solver) explainNow(id string, have *cand, cs []cons) error {
	avail := s.all(id)
	if len(avail) == 0 {
		who := describeAll(id, cs)
		if len(s.idx.Releases(id)) == 0 {
			return fmt.Errorf("%w: %s: %w", ErrUnsatisfiable, who, registry.ErrNotFound)
		}
		var why []string
		for _, r := range s.idx.Releases(id) {
			why = append(why, fmt.Sprintf("%s needs ABI %s", r.Version, r.ABI))
		}
		return fmt.Errorf("%w: %s: no release runs on this host (ABI %s, kernel %s): %s",
			ErrUnsatisfiable, who, orDash(s.opts.HostABI), orDash(s.opts.Kernel), strings.Join(why, ", "))
	}
	matches := func(k ...cons) bool {
		for _, c := range avail {
			ok := true
			for _, kk := range k {
				if !kk.c.Check(c.v) || !c.exportsAll(kk.Contract) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	for _, k := range cs {
		if !matches(k) {
			return fmt.Errorf("%w: %s: no such version (available: %s)%s", ErrUnsatisfiable, describe(id, k), versions(avail), prereleaseHint(avail, k))
		}
	}
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			if !matches(cs[i], cs[j]) {
				return fmt.Errorf("%w: %s, but %s", ErrUnsatisfiable, describe(id, cs[i]), needs(cs[j]))
			}
		}
	}
	if have != nil {
		last := cs[len(cs)-1]
		return fmt.Errorf("%w: %s@%s was chosen, but %s", ErrUnsatisfiable, id, have.v, needs(last))
	}
	var parts []string
	for _, k := range cs {
		parts = append(parts, fmt.Sprintf("%s (%s)", rangeText(k), byText(k)))
	}
	return fmt.Errorf("%w: no version of %s satisfies all of: %s (available: %s)", ErrUnsatisfiable, id, strings.Join(parts, ", "), versions(avail))
}

// describe renders "dev.a.b@^2 needed by dev.x.y@1.0.0" or "dev.a.b@^2 requested".
func describe(id string, k cons) string {
	name := id + "@" + rangeText(k)
	if k.Range == "*" && k.Contract == "" {
		name = id
	}
	if k.By == "" {
		return name + " requested"
	}
	return name + " needed by " + k.By
}

func describeAll(id string, cs []cons) string {
	if len(cs) == 0 {
		return id + " (installed)"
	}
	return describe(id, cs[0])
}

// needs renders "dev.c.d@1.0.0 needs <2" or "the request needs <2".
func needs(k cons) string {
	if k.By == "" {
		return "the request needs " + rangeText(k)
	}
	return k.By + " needs " + rangeText(k)
}

func byText(k cons) string {
	if k.By == "" {
		return "requested"
	}
	return "needed by " + k.By
}

func rangeText(k cons) string {
	if k.Contract != "" {
		return k.Range + " exporting " + k.Contract
	}
	return k.Range
}

// versions lists the versions of cs, at most 10 of them.
func versions(cs []*cand) string {
	const most = 10
	var vs []string
	for _, c := range cs[:min(len(cs), most)] {
		vs = append(vs, c.v.String())
	}
	if len(cs) > most {
		vs = append(vs, fmt.Sprintf("… %d more", len(cs)-most))
	}
	return strings.Join(vs, ", ")
}

func prereleaseHint(avail []*cand, k cons) string {
	for _, c := range avail {
		if c.v.Prerelease() == "" {
			continue
		}
		pc, err := semver.NewConstraint(k.Range)
		if err != nil {
			continue
		}
		pc.IncludePrerelease = true
		if pc.Check(c.v) {
			return fmt.Sprintf("; %s is a prerelease: ask for it explicitly (e.g. >=%s)", c.v, c.v)
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plan orders the choices, dependencies first, and refuses cycles.
func (s *solver) plan() (*Plan, error) {
	ids := make([]string, 0, len(s.chosen))
	for id := range s.chosen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	p := &Plan{}
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case done:
			return nil
		case visiting:
			i := slices.Index(stack, id)
			var path []string
			for _, x := range append(stack[i:], id) {
				path = append(path, x+"@"+s.chosen[x].v.String())
			}
			return fmt.Errorf("%w: %s", ErrCycle, strings.Join(path, " → "))
		}
		state[id] = visiting
		stack = append(stack, id)
		c := s.chosen[id]
		deps := slices.Clone(c.deps)
		slices.SortFunc(deps, func(a, b manifest.Dependency) int { return strings.Compare(a.ID, b.ID) })
		for _, d := range deps {
			if err := visit(d.ID); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
		p.Steps = append(p.Steps, s.step(id, c))
		return nil
	}
	for _, id := range ids {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (s *solver) step(id string, c *cand) Step {
	st := Step{ID: id, Version: c.v.String(), Release: c.rel, Requested: s.requested[id], Action: Install}
	for _, k := range s.cons[id] {
		st.Constraints = append(st.Constraints, k.Constraint)
	}
	if iv, ok := s.installed[id]; ok {
		st.From = iv
		old, _ := semver.NewVersion(iv)
		switch c.v.Compare(old) {
		case 0:
			st.Action, st.From = Keep, iv
		case 1:
			st.Action = Upgrade
		default:
			st.Action = Downgrade
		}
	}
	return st
}
