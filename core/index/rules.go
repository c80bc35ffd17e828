package index

import (
	"github.com/cairnfs/cairn/core/ignore"
	"github.com/cairnfs/cairn/core/store"
)

// RulesFor builds the walk rules of a location from its config: core/ignore's defaults, hidden
// files if asked, the location's extra patterns; nil (index everything) with NoIgnore.
func RulesFor(cfg store.LocationConfig) (Rules, error) {
	if cfg.NoIgnore {
		return nil, nil
	}
	opts := ignore.DefaultOptions()
	opts.IgnoreHidden = cfg.IgnoreHidden
	opts.Extra = cfg.Ignore
	m, err := ignore.New(opts)
	if err != nil {
		return nil, err
	}
	return ignoreRules{m}, nil
}

// ignoreRules adapts *ignore.Matcher to Rules.
type ignoreRules struct{ m *ignore.Matcher }

func (r ignoreRules) Match(name string, isDir bool) (bool, string) { return r.m.Match(name, isDir) }

func (r ignoreRules) Enter(name string, listing []string, read func(string) ([]byte, error)) (Rules, []string, error) {
	c, warns, err := r.m.Enter(name, listing, read)
	if err != nil {
		return nil, warns, err
	}
	return ignoreRules{c}, warns, nil
}
