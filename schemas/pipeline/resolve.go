package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// Catalog tells Resolve what stages exist (implemented over the extension registry).
type Catalog interface {
	Stage(id string) (StageInfo, bool)
}

// StageInfo describes an installed stage.
type StageInfo struct {
	ID        string
	Extension string
	Version   int
	// Consumes and Produces are as in manifests: "content", "filetype", "filetype=image",
	// "sidecar:thumb", ...
	Consumes, Produces []string
	// ConfigSchema is the JSON Schema of the step config; nil means only an absent or empty
	// config is valid.
	ConfigSchema json.RawMessage
}

// KernelInputs are what the kernel provides to every pipeline without a stage.
var KernelInputs = []string{"content", "discover"}

// Satisfies reports whether a stage producing produced satisfies an input consumed: equal
// names, or "filetype" for "filetype=image" (a producer of a thing satisfies every
// qualified form of it).
func Satisfies(produced, consumed string) bool {
	if produced == consumed {
		return true
	}
	base, _, qualified := strings.Cut(consumed, "=")
	return qualified && produced == base
}

// Resolve checks every step against the catalog — unknown stages, configs not valid against the
// stage's schema, consumed inputs that no other step produces (the kernel provides "content" and
// "discover"), duplicate stages, dependency cycles — and returns the steps in dependency order:
// a step comes after every step producing what it consumes, and otherwise steps keep the order
// they were written in. All problems are reported, as *Error values (joined).
func (p *Pipeline) Resolve(c Catalog) ([]Step, error) {
	var errs []*Error
	fail := func(s Step, format string, args ...any) {
		errs = append(errs, &Error{File: p.Source, Line: s.Line, Pipeline: p.Name, Stage: s.Stage, Reason: fmt.Sprintf(format, args...)})
	}
	if len(p.Stages) == 0 {
		return nil, &Error{File: p.Source, Line: p.Line, Pipeline: p.Name, Reason: "no stages"}
	}
	infos := make([]StageInfo, len(p.Stages))
	known := make([]bool, len(p.Stages))
	seen := map[string]int{}
	for i, s := range p.Stages {
		if j, dup := seen[s.Stage]; dup {
			fail(s, "stage listed twice in one pipeline (first at line %d)", p.Stages[j].Line)
			continue
		}
		seen[s.Stage] = i
		info, ok := c.Stage(s.Stage)
		if !ok {
			fail(s, "unknown stage: no installed extension provides it")
			continue
		}
		infos[i], known[i] = info, true
		if err := checkConfig(info, s.Config); err != nil {
			at := s
			if s.ConfigLine > 0 {
				at.Line = s.ConfigLine
			}
			fail(at, "config: %v", err)
		}
	}
	// Edges: deps[i] are the steps that must run before step i.
	deps := make([][]int, len(p.Stages))
	for i, s := range p.Stages {
		if !known[i] {
			continue
		}
		for _, in := range infos[i].Consumes {
			if kernelInput(in) {
				continue
			}
			found := false
			for j := range p.Stages {
				if j == i || !known[j] {
					continue
				}
				for _, out := range infos[j].Produces {
					if Satisfies(out, in) {
						found = true
						deps[i] = appendOnce(deps[i], j)
						break
					}
				}
			}
			if !found {
				fail(s, "consumes %q, which no other stage of the pipeline produces (add a stage that produces it)", in)
			}
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, join(errs)
	}
	order, cycle := topoSort(deps)
	if cycle != nil {
		names := make([]string, len(cycle))
		for k, i := range cycle {
			names[k] = p.Stages[i].Stage
		}
		return nil, &Error{File: p.Source, Line: p.Stages[cycle[0]].Line, Pipeline: p.Name,
			Reason: "dependency cycle: " + strings.Join(names, " → ")}
	}
	out := make([]Step, len(order))
	for k, i := range order {
		out[k] = p.Stages[i]
	}
	return out, nil
}

func kernelInput(in string) bool {
	for _, k := range KernelInputs {
		if Satisfies(k, in) {
			return true
		}
	}
	return false
}

func appendOnce(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// topoSort orders the nodes so that each comes after its deps, picking the earliest-written
// ready node each time (stable). When the graph has a cycle it returns one, as node indices
// with the first repeated at the end.
func topoSort(deps [][]int) (order, cycle []int) {
	n := len(deps)
	done := make([]bool, n)
	for len(order) < n {
		next := -1
		for i := 0; i < n && next < 0; i++ {
			if done[i] {
				continue
			}
			ready := true
			for _, j := range deps[i] {
				if !done[j] {
					ready = false
					break
				}
			}
			if ready {
				next = i
			}
		}
		if next < 0 {
			return nil, findCycle(deps, done)
		}
		done[next] = true
		order = append(order, next)
	}
	return order, nil
}

// findCycle walks unfinished dependencies from the first unfinished node until a node repeats.
func findCycle(deps [][]int, done []bool) []int {
	start := -1
	for i := range done {
		if !done[i] {
			start = i
			break
		}
	}
	pos := map[int]int{}
	var path []int
	for i := start; i >= 0; {
		if at, ok := pos[i]; ok {
			// path[at:] is the cycle of "depends on" links; report it in run order.
			cyc := append([]int{}, path[at:]...)
			for l, r := 0, len(cyc)-1; l < r; l, r = l+1, r-1 {
				cyc[l], cyc[r] = cyc[r], cyc[l]
			}
			// Start at the earliest-written stage of the cycle.
			m := 0
			for k := range cyc {
				if cyc[k] < cyc[m] {
					m = k
				}
			}
			cyc = append(cyc[m:], cyc[:m]...)
			return append(cyc, cyc[0])
		}
		pos[i] = len(path)
		path = append(path, i)
		next := -1
		for _, j := range deps[i] {
			if !done[j] {
				next = j
				break
			}
		}
		i = next
	}
	return []int{start, start}
}

// checkConfig validates a step's config against the stage's JSON Schema. An absent config is
// validated as {} (so a schema with required properties rejects it).
func checkConfig(info StageInfo, config json.RawMessage) error {
	empty := len(bytes.TrimSpace(config)) == 0 || bytes.Equal(bytes.TrimSpace(config), []byte("{}"))
	if len(info.ConfigSchema) == 0 {
		if !empty {
			return fmt.Errorf("stage %s (extension %s) takes no config", info.ID, info.Extension)
		}
		return nil
	}
	sch, err := manifest.CompileConfigSchema(info.ConfigSchema, "cairn:stage/"+info.ID+"/config.schema.json")
	if err != nil {
		return fmt.Errorf("compiling the config schema of stage %s: %w", info.ID, err)
	}
	if empty {
		config = json.RawMessage("{}")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return fmt.Errorf("reading the config: %w", err)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("does not match the schema of stage %s: %s", info.ID, oneLine(err))
	}
	return nil
}

// oneLine flattens the jsonschema library's multi-line error into "at /path: reason; ...".
func oneLine(err error) string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return strings.Join(strings.Fields(err.Error()), " ")
	}
	var leaves []string
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		msg := u.Error.String()
		if strings.HasPrefix(msg, "validation failed") {
			continue
		}
		loc := u.InstanceLocation
		if loc == "" {
			loc = "/"
		}
		leaves = append(leaves, "at "+loc+": "+msg)
	}
	if len(leaves) == 0 {
		return strings.Join(strings.Fields(err.Error()), " ")
	}
	sort.Strings(leaves) // the library's order varies from run to run (properties are a map)
	if len(leaves) > 8 {
		leaves = append(leaves[:8], "…")
	}
	return strings.Join(leaves, "; ")
}
