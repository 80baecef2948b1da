// forge-cue: the official CUE implementation (cuelang.org/go) as Forge's CUE engine
// (DESIGN.md §4, docs/cue.md). Forge's Node code cannot link Go, so this small program runs
// beside it as a long-lived helper process speaking JSON lines over stdin/stdout; the Node side
// (src/pipeline/cue-engine.ts) serialises calls, stops a call over its time limit by killing the
// process and starts a fresh one on the next call.
//
//	forge-cue serve [--memory-limit-mib N]   one JSON request per stdin line, one answer per stdout line
//	forge-cue version                        the CUE version this binary was built with
//	forge-cue export DIR PACKAGE             one export, as `serve` would answer it (for people and benchmarks)
//	forge-cue bench DIR PACKAGE N            N exports in one process, printing each one's time (docs/cue.md)
//	forge-cue publish REGISTRY DIR VERSION   tests only: publish the CUE module in DIR to an OCI registry
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/mod/modconfig"
	"cuelang.org/go/mod/modfile"
	"cuelang.org/go/mod/modregistry"
	"cuelang.org/go/mod/module"
	"cuelang.org/go/mod/modzip"
	"cuelang.org/go/tools/fix"
)

// Registry is where CUE module dependencies (`deps` in cue.mod/module.cue) come from.
type Registry struct {
	// CUERegistry has CUE_REGISTRY semantics (`cue help registryconfig`); empty: CUE's default.
	CUERegistry string `json:"cueRegistry,omitempty"`
	// CacheDir has CUE_CACHE_DIR semantics; empty: CUE's default (the user cache directory).
	CacheDir string `json:"cacheDir,omitempty"`
	// Host, Username, Password: basic credentials offered to one registry host (Forge's own).
	Host     string `json:"host,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// Request is one line on stdin.
type Request struct {
	ID int    `json:"id"`
	Op string `json:"op"` // "export", "version" or "stats" (peak memory, for bench/render.ts)
	// Dir is the CUE module root (absolute); Package the argument `./svc/.forge:project`.
	Dir     string `json:"dir,omitempty"`
	Package string `json:"package,omitempty"`
	// Overlays: absolute path → content read instead of the file on disk.
	Overlays map[string]string `json:"overlays,omitempty"`
	Registry *Registry         `json:"registry,omitempty"`
	// Internal: absolute paths of overlay files that are Forge's own (the schema check). No
	// position in them is reported: an error is placed at the user's value it concerns instead.
	Internal []string `json:"internal,omitempty"`
}

// Problem is one CUE error: where it is and which value it concerns.
type Problem struct {
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
	// File is relative to the request's Dir when inside it; Line and Column are 1-based (0: unknown).
	File   string   `json:"file,omitempty"`
	Line   int      `json:"line,omitempty"`
	Column int      `json:"column,omitempty"`
	Also   []string `json:"also,omitempty"` // further positions, "file:line:column"
	// Label: for a field the schema refuses ("<not a field of …>"), the field's name as written
	// (an error inside a choice of forms does not have it in its path).
	Label string `json:"label,omitempty"`
}

// Response is one line on stdout.
type Response struct {
	ID       int             `json:"id"`
	OK       bool            `json:"ok"`
	Value    json.RawMessage `json:"value,omitempty"`
	Problems []Problem       `json:"problems,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	// Fatal is set when the helper is about to exit: "memory" (over its limit).
	Fatal   string `json:"fatal,omitempty"`
	Version string `json:"version,omitempty"`
}

func cueVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "cuelang.org/go" {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: forge-cue serve|version|export|bench|publish ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "version":
		fmt.Println(cueVersion())
	case "serve":
		serve(os.Args[2:])
	case "export":
		if len(os.Args) != 4 {
			fatalUsage()
		}
		res := export(Request{Op: "export", Dir: abs(os.Args[2]), Package: os.Args[3]})
		_ = json.NewEncoder(os.Stdout).Encode(res)
		if !res.OK {
			os.Exit(1)
		}
	case "bench":
		if len(os.Args) != 5 {
			fatalUsage()
		}
		n, _ := strconv.Atoi(os.Args[4])
		for i := 0; i < n; i++ {
			t0 := time.Now()
			res := export(Request{Op: "export", Dir: abs(os.Args[2]), Package: os.Args[3]})
			fmt.Printf("%d %.2f ms ok=%v\n", i, float64(time.Since(t0).Microseconds())/1000, res.OK)
		}
	case "publish":
		if len(os.Args) != 5 {
			fatalUsage()
		}
		if err := publish(os.Args[2], os.Args[3], os.Args[4]); err != nil {
			fmt.Fprintln(os.Stderr, "forge-cue publish:", err)
			os.Exit(1)
		}
	default:
		fatalUsage()
	}
}

func fatalUsage() {
	fmt.Fprintln(os.Stderr, "usage: forge-cue serve [--memory-limit-mib N] | version | export DIR PACKAGE | bench DIR PACKAGE N | publish REGISTRY DIR VERSION")
	os.Exit(2)
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

var out = struct {
	sync.Mutex
	w *bufio.Writer
}{w: bufio.NewWriterSize(os.Stdout, 1<<16)}

func reply(res Response) {
	data, err := json.Marshal(res)
	if err != nil {
		data, _ = json.Marshal(Response{ID: res.ID, Problems: []Problem{{Message: "cannot encode the result as JSON: " + err.Error()}}})
	}
	out.Lock()
	defer out.Unlock()
	_, _ = out.w.Write(data)
	_ = out.w.WriteByte('\n')
	_ = out.w.Flush()
}

// serve answers requests one at a time until stdin closes. With a memory limit, the Go runtime
// collects harder as it nears it (GOMEMLIMIT) and a watchdog ends the process once past it, after
// answering the request in flight, so a CUE bomb cannot take the machine's memory. (A soft limit
// below the hard one made the collector thrash: a bomb then took seconds to reach the limit.)
func serve(args []string) {
	limitMiB := 0
	for i := 0; i < len(args); i++ {
		if args[i] == "--memory-limit-mib" && i+1 < len(args) {
			limitMiB, _ = strconv.Atoi(args[i+1])
			i++
		}
	}
	var current struct {
		sync.Mutex
		id int
	}
	if limitMiB > 0 {
		limit := uint64(limitMiB) << 20
		debug.SetMemoryLimit(int64(limit))
		go func() {
			sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
			for range time.Tick(20 * time.Millisecond) {
				metrics.Read(sample)
				if sample[0].Value.Uint64()-sample[1].Value.Uint64() > limit {
					current.Lock()
					reply(Response{ID: current.id, Fatal: "memory", Problems: []Problem{{Message: fmt.Sprintf("CUE evaluation used more than %d MiB and was stopped", limitMiB)}}})
					os.Exit(3)
				}
			}
		}()
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req Request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				reply(Response{Problems: []Problem{{Message: "bad request: " + jerr.Error()}}})
			} else {
				current.Lock()
				current.id = req.ID
				current.Unlock()
				switch req.Op {
				case "version":
					reply(Response{ID: req.ID, OK: true, Version: cueVersion()})
				case "stats":
					reply(Response{ID: req.ID, OK: true, Value: json.RawMessage(fmt.Sprintf(`{"max_rss_kib":%d}`, peakRSSKiB()))})
				case "export":
					res := export(req)
					res.ID = req.ID
					if !res.OK {
						res.Version = cueVersion() // named in every render error
					}
					reply(res)
				default:
					reply(Response{ID: req.ID, Problems: []Problem{{Message: fmt.Sprintf("unknown op %q", req.Op)}}})
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// registries are kept per configuration: their module cache and connections are reused.
var registries = map[string]modconfig.Registry{}

func registryFor(r *Registry) (modconfig.Registry, error) {
	if r == nil {
		r = &Registry{}
	}
	key, _ := json.Marshal(r)
	if reg, ok := registries[string(key)]; ok {
		return reg, nil
	}
	env := os.Environ()
	if r.CacheDir != "" {
		env = append(env, "CUE_CACHE_DIR="+r.CacheDir)
	}
	cfg := &modconfig.Config{Env: env, CUERegistry: r.CUERegistry, ClientType: "forge"}
	if r.Host != "" && r.Username != "" {
		cfg.Transport = &basicAuth{host: r.Host, username: r.Username, password: r.Password, next: http.DefaultTransport}
	}
	// Lazy: a bad CUE_REGISTRY or cache directory only matters to a module that has deps.
	reg := &modconfig.LazyRegistry{New: func() (modconfig.CachedRegistry, error) { return modconfig.NewRegistry(cfg) }}
	registries[string(key)] = reg
	return reg, nil
}

// basicAuth offers Forge's registry credentials to Forge's registry host; other hosts use CUE's
// own logins and the Docker configuration, as the cue command would.
type basicAuth struct {
	host, username, password string
	next                     http.RoundTripper
}

func (b *basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == b.host && req.Header.Get("Authorization") == "" {
		req = req.Clone(req.Context())
		req.SetBasicAuth(b.username, b.password)
	}
	return b.next.RoundTrip(req)
}

// legacyModule reads a cue.mod/module.cue that has no language.version as `cue mod fix` would,
// returning the fixed file's text and a warning saying how to fix it; ("", "", nil) when the
// file is absent or valid. A file that has a language.version but is not valid (a version newer
// than this engine or not written v<major>.<minor>.<patch>, a misspelt or unknown field, an
// invalid module path) is not legacy: its problems are returned, each with its position and a
// hint, and nothing is evaluated.
func legacyModule(dir string, overlays map[string]string) (string, string, []Problem) {
	path := filepath.Join(dir, "cue.mod", "module.cue")
	data, err := os.ReadFile(path)
	if o, ok := overlays[path]; ok {
		data, err = []byte(o), nil
	}
	if err != nil {
		return "", "", nil
	}
	_, perr := modfile.ParseNonStrict(data, path)
	if perr == nil {
		return "", "", nil
	}
	if !errors.Is(perr, modfile.ErrNoLanguageVersion) {
		return "", "", moduleProblems(perr, data, path, dir)
	}
	fixed, err := modfile.FixLegacy(data, path)
	if err != nil {
		return "", "", moduleProblems(err, data, path, dir)
	}
	text, err := modfile.Format(fixed)
	if err != nil {
		return "", "", nil
	}
	return string(text), fmt.Sprintf(
		"cue.mod/module.cue has no language.version: Forge reads it as `cue mod fix` would (language: version: %q) "+
			"and its CUE files as `cue fix` would (list arithmetic as list.Concat / list.Repeat). "+
			"To fix the repository, run `cue mod fix && cue fix ./...` in %s (or write cue.mod/module.cue as below and "+
			"replace list arithmetic with list.Concat / list.Repeat):\n%s",
		fixed.Language.Version, dir, strings.TrimRight(string(text), "\n")), nil
}

// moduleFields are the fields of cue.mod/module.cue (`cue help modules`).
var moduleFields = []string{"module", "language", "source", "deps", "custom"}

// moduleProblems turns the module file parser's refusal into problems placed in the file, each
// with a hint: the parser's own positions when it gives some in the file, else the field the
// refusal is about (language.version, module), else the file's first line.
func moduleProblems(err error, data []byte, path, dir string) []Problem {
	file := rel(path, dir)
	msg := strings.TrimSpace(err.Error())
	msg = strings.ReplaceAll(msg, "invalid module file "+path+": ", "")
	msg = strings.ReplaceAll(msg, path+": ", "")
	ctx := cuecontext.New()
	f, _ := parser.ParseFile(path, data)
	var v cue.Value
	if f != nil {
		v = ctx.BuildFile(f)
	}
	at := func(sel string) (int, int) {
		if !v.Exists() {
			return 1, 1
		}
		if x := v.LookupPath(cue.ParsePath(sel)); x.Exists() && x.Pos().IsValid() {
			return x.Pos().Line(), x.Pos().Column()
		}
		return 1, 1
	}
	// Fields that are not module fields: named with the one meant, when there is a near one.
	var list []Problem
	if v.Exists() {
		it, _ := v.Fields(cue.Optional(true))
		for it != nil && it.Next() {
			name := it.Selector().String()
			known := false
			for _, k := range moduleFields {
				known = known || k == name
			}
			if known {
				continue
			}
			hint := "its fields are module, language, source, deps and custom (data of your own goes under custom: {…}; cue help modules)"
			if near := nearest(name, moduleFields); near != "" {
				hint = fmt.Sprintf("did you mean `%s`? %s", near, hint)
			}
			pos := it.Value().Pos()
			line, col := 1, 1
			if pos.IsValid() {
				line, col = pos.Line(), pos.Column()
			}
			list = append(list, Problem{Message: fmt.Sprintf("`%s` is not a field of cue.mod/module.cue; %s", name, hint), Path: name, File: file, Line: line, Column: col})
		}
	}
	if len(list) > 0 {
		return list
	}
	p := Problem{Message: msg, File: file, Line: 1, Column: 1}
	switch {
	case strings.Contains(msg, "too new"):
		p.Path = "language.version"
		p.Line, p.Column = at("language.version")
		p.Message += fmt.Sprintf("; Forge's CUE engine is %s: write language.version %q or older, or upgrade Forge", cueVersion(), cue.LanguageVersion())
	case strings.Contains(msg, "not valid semantic version"):
		p.Path = "language.version"
		p.Line, p.Column = at("language.version")
		p.Message += fmt.Sprintf(`; write it as v<major>.<minor>.<patch>, e.g. language: version: %q`, cue.LanguageVersion())
	case strings.Contains(msg, "module path") || strings.Contains(msg, "module field") || strings.Contains(msg, "no module"):
		p.Path = "module"
		p.Line, p.Column = at("module")
		p.Message += `; a module path is a lower-case domain name and path with an optional major version, e.g. module: "example.com/mono@v0" (cue help modules)`
	default:
		for _, pos := range errors.Positions(err) {
			if pos.IsValid() && pos.Filename() == path {
				p.Line, p.Column = pos.Line(), pos.Column()
				break
			}
		}
		p.Message += "; see `cue help modules` for what cue.mod/module.cue may hold"
	}
	return []Problem{p}
}

// nearest is the candidate within edit distance 2 of name (case-insensitive), else "".
func nearest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		row := make([]int, len(b)+1)
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(prev[j]+1, row[j-1]+1, prev[j-1]+cost)
		}
		prev = row
	}
	return prev[len(b)]
}

// parseFixed parses a file of a legacy module and rewrites what CUE no longer accepts
// (list arithmetic) as `cue fix` does; positions stay those of the user's file.
func parseFixed(name string, src interface{}, cfg parser.Config) (f *ast.File, err error) {
	f, err = parser.ParseFile(name, src, cfg)
	if err != nil || cfg.Mode&(parser.PackageClauseOnly|parser.ImportsOnly) != 0 {
		return f, err // a partial file: the fix would drop imports it sees no use of
	}
	defer func() {
		if recover() != nil {
			f, err = parser.ParseFile(name, src, cfg) // fix gave up: evaluate the file as written
		}
	}()
	return fix.File(f), nil
}

// export evaluates one package as `cue export --out json` does: every value concrete, hidden
// fields and definitions left out. A failure lists each CUE error with its position and path.
func export(req Request) (res Response) {
	defer func() {
		if p := recover(); p != nil {
			res = Response{Problems: []Problem{{Message: fmt.Sprintf("the CUE evaluator panicked: %v", p)}}}
		}
	}()
	reg, err := registryFor(req.Registry)
	if err != nil {
		return Response{Problems: []Problem{{Message: err.Error()}}}
	}
	overlay := map[string]load.Source{}
	for p, c := range req.Overlays {
		overlay[p] = load.FromString(c)
	}
	fixed, warning, modProblems := legacyModule(req.Dir, req.Overlays)
	if len(modProblems) > 0 {
		res.Problems = modProblems
		return res
	}
	if fixed != "" {
		overlay[filepath.Join(req.Dir, "cue.mod", "module.cue")] = load.FromString(fixed)
		res.Warnings = append(res.Warnings, warning)
	}
	cfg := &load.Config{Dir: req.Dir, Overlay: overlay, Registry: reg}
	if fixed != "" {
		cfg.ParseFile = parseFixed
	}
	internal := map[string]bool{}
	for _, f := range req.Internal {
		internal[f] = true
	}
	insts := load.Instances([]string{req.Package}, cfg)
	if len(insts) != 1 {
		res.Problems = []Problem{{Message: fmt.Sprintf("expected one CUE instance for %s, got %d", req.Package, len(insts))}}
		return res
	}
	if err := insts[0].Err; err != nil {
		res.Problems = problems(err, req.Dir, cue.Value{}, internal, token.NoPos, insts[0].Files)
		return res
	}
	if escapes := embedEscapes(insts[0].Files, req.Dir, internal); len(escapes) > 0 {
		res.Problems = escapes
		return res
	}
	// Where an error with no position of the user's is placed: the package clause of the
	// package's first file that is the user's.
	fallback := token.NoPos
	for _, f := range insts[0].Files {
		if internal[f.Filename] {
			continue
		}
		for _, d := range f.Decls {
			if pkg, ok := d.(*ast.Package); ok {
				fallback = pkg.Pos()
				break
			}
		}
		if fallback.IsValid() {
			break
		}
	}
	ctx := cuecontext.New()
	v := ctx.BuildInstance(insts[0])
	if err := v.Err(); err != nil {
		res.Problems = problems(err, req.Dir, v, internal, fallback, insts[0].Files)
		return res
	}
	if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
		res.Problems = problems(err, req.Dir, v, internal, fallback, insts[0].Files)
		return res
	}
	data, err := v.MarshalJSON()
	if err != nil {
		res.Problems = problems(err, req.Dir, v, internal, fallback, insts[0].Files)
		return res
	}
	res.OK = true
	res.Value = data
	return res
}

// problems flattens a CUE error into one Problem per error, each with a position: the error's
// own, else that of the value at its path, so no message is ever without a place to look.
// Positions in internal files (Forge's schema overlay) are never reported: the user's value the
// error concerns is, found at the error's path or the nearest enclosing value the user wrote.
// An error still without a place (a required field the package leaves out) is placed at the
// package clause of the user's first file. A disjunct refused by the schema's "must be absent" (`x?: _|_`) has no user position and says
// nothing the disjunction's own error does not: it is left out.
func problems(err error, dir string, root cue.Value, internal map[string]bool, fallback token.Pos, files []*ast.File) []Problem {
	var list []Problem
	cfg := &errors.Config{Cwd: dir, OmitPath: true}
	for _, e := range errors.Errors(err) {
		p := Problem{Path: strings.Join(e.Path(), "."), Message: strings.TrimSpace(errors.StringWithConfig(e, cfg))}
		var positions []token.Pos
		onlyInternal := false
		for _, pos := range errors.Positions(e) {
			if pos.IsValid() && internal[pos.Filename()] {
				onlyInternal = true
				continue
			}
			positions = append(positions, pos)
		}
		if len(positions) > 0 {
			onlyInternal = false
		}
		if len(positions) == 0 && root.Exists() && len(e.Path()) > 0 {
			positions = append(positions, userPosition(root, e.Path(), internal)...)
		}
		if len(positions) == 0 && onlyInternal && fallback.IsValid() {
			positions = append(positions, fallback) // a required field no file of the package sets
		}
		if onlyInternal && strings.HasPrefix(p.Message, "incomplete value") {
			p.Message += " (a field Forge's schema requires; docs/configuration.md)"
		}
		if onlyInternal && strings.Contains(p.Message, "explicit error (_|_ literal) in source") {
			continue
		}
		seen := map[string]bool{}
		for _, pos := range positions {
			if !pos.IsValid() {
				continue
			}
			at := where(pos, dir)
			if seen[at] {
				continue
			}
			seen[at] = true
			if p.File == "" {
				p.File, p.Line, p.Column = rel(pos.Filename(), dir), pos.Line(), pos.Column()
			} else {
				p.Also = append(p.Also, at)
			}
		}
		if p.Message == "" {
			p.Message = "the CUE evaluator gave no message"
		}
		if strings.Contains(p.Message, `"<not a field of `) && len(positions) > 0 {
			p.Label = labelAt(files, positions, internal)
		}
		list = append(list, p)
	}
	if len(list) == 0 {
		list = append(list, Problem{Message: strings.TrimSpace(err.Error())})
	}
	return list
}

// labelAt is the label of the user's field whose value is at one of positions, else "".
func labelAt(files []*ast.File, positions []token.Pos, internal map[string]bool) string {
	same := func(a, b token.Pos) bool {
		return a.IsValid() && b.IsValid() && a.Filename() == b.Filename() && a.Line() == b.Line() && a.Column() == b.Column()
	}
	label := ""
	for _, f := range files {
		if internal[f.Filename] {
			continue
		}
		ast.Walk(f, func(n ast.Node) bool {
			field, ok := n.(*ast.Field)
			if !ok || label != "" {
				return label == ""
			}
			at := field.Value.Pos()
			if s, ok := field.Value.(*ast.StructLit); ok && !s.Lbrace.IsValid() && len(s.Elts) > 0 {
				at = s.Elts[0].Pos() // `archiv: path: "x"`: the value starts at its first field
			}
			for _, pos := range positions {
				if same(at, pos) {
					if name, _, err := ast.LabelName(field.Label); err == nil {
						label = name
					}
				}
			}
			return label == ""
		}, nil)
		if label != "" {
			break
		}
	}
	return label
}

// userPosition is where the user wrote the value at path, or the nearest value enclosing it
// (a field the schema requires and the user left out is placed at the struct that lacks it),
// looking only at positions outside internal files.
func userPosition(root cue.Value, path []string, internal map[string]bool) []token.Pos {
	for n := len(path); n > 0; n-- {
		v := root.LookupPath(selectorPath(path[:n]))
		if !v.Exists() {
			continue
		}
		var found []token.Pos
		var visit func(v cue.Value)
		visit = func(v cue.Value) {
			if pos := v.Pos(); pos.IsValid() && !internal[pos.Filename()] {
				found = append(found, pos)
			}
			if op, args := v.Expr(); op == cue.AndOp || op == cue.OrOp {
				for _, a := range args {
					visit(a)
				}
			}
		}
		visit(v)
		if len(found) > 0 {
			return found[:1]
		}
	}
	return nil
}

// embedEscapes refuses an @embed whose file, or a file its glob matches, is a symbolic link
// leading outside the CUE module: CUE itself refuses ".." and absolute paths but opens files
// with os.Open, which follows links, so `.forge/x.json -> /etc/passwd` would be read.
func embedEscapes(files []*ast.File, moduleRoot string, internal map[string]bool) []Problem {
	root, err := filepath.EvalSymlinks(moduleRoot)
	if err != nil {
		return nil
	}
	var list []Problem
	for _, f := range files {
		if internal[f.Filename] {
			continue
		}
		ast.Walk(f, func(n ast.Node) bool {
			a, ok := n.(*ast.Attribute)
			if !ok || !strings.HasPrefix(a.Text, "@embed(") {
				return true
			}
			for _, arg := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(a.Text, "@embed("), ")"), ",") {
				k, v, ok := strings.Cut(strings.TrimSpace(arg), "=")
				if !ok || (k != "file" && k != "glob") {
					continue
				}
				v = strings.Trim(strings.TrimSpace(v), `"`)
				if v == "" || filepath.IsAbs(v) || v == ".." || strings.HasPrefix(v, "../") {
					continue // CUE's own error says why
				}
				matches := []string{filepath.Join(filepath.Dir(f.Filename), v)}
				if k == "glob" {
					matches, _ = filepath.Glob(matches[0])
				}
				for _, m := range matches {
					real, err := filepath.EvalSymlinks(m)
					if err != nil {
						continue // missing: CUE's own error says so
					}
					if r, err := filepath.Rel(root, real); err != nil || r == ".." || strings.HasPrefix(r, "../") {
						pos := a.Pos()
						list = append(list, Problem{
							Message: fmt.Sprintf("cannot embed %q: it is a symbolic link leading outside the CUE module", rel(m, moduleRoot)),
							File:    rel(pos.Filename(), moduleRoot), Line: pos.Line(), Column: pos.Column(),
						})
					}
				}
			}
			return true
		}, nil)
	}
	return list
}

// selectorPath turns an error's path (["deployment", "resources", "0"]) back into selectors:
// numbers index lists, #names are definitions, anything else is a field.
func selectorPath(path []string) cue.Path {
	sels := make([]cue.Selector, 0, len(path))
	for _, p := range path {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 {
			sels = append(sels, cue.Index(n))
		} else if strings.HasPrefix(p, "#") {
			sels = append(sels, cue.Def(p))
		} else {
			sels = append(sels, cue.Str(p))
		}
	}
	return cue.MakePath(sels...)
}

func rel(file, dir string) string {
	if r, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return file
}

func where(pos token.Pos, dir string) string {
	return fmt.Sprintf("%s:%d:%d", rel(pos.Filename(), dir), pos.Line(), pos.Column())
}

// publish uploads the module in dir (its cue.mod/module.cue names it) at version to the
// registry (CUE_REGISTRY syntax, e.g. 127.0.0.1:5000), for tests that import it.
func publish(registry, dir, version string) error {
	data, err := os.ReadFile(filepath.Join(dir, "cue.mod", "module.cue"))
	if err != nil {
		return err
	}
	mf, err := modfile.Parse(data, "module.cue")
	if err != nil {
		return err
	}
	mv, err := module.NewVersion(mf.QualifiedModule(), version)
	if err != nil {
		return err
	}
	var zip bytes.Buffer
	if err := modzip.CreateFromDir(&zip, mv, dir); err != nil {
		return err
	}
	resolver, err := modconfig.NewResolver(&modconfig.Config{CUERegistry: registry, Env: os.Environ()})
	if err != nil {
		return err
	}
	r := bytes.NewReader(zip.Bytes())
	return modregistry.NewClientWithResolver(resolver).PutModule(context.Background(), mv, r, int64(zip.Len()))
}
