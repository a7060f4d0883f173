// Command bench runs the project's benchmarks in one go (`make bench`) and
// writes a Markdown report to stdout and bench/RESULTS.md: the
// authorizer's warm allow path against the bare signature check, cold
// start of the real binary, binary sizes, DynamoDB calls per decision and
// sign-in, the refresher's throughput, and the authorizer's peak memory
// under a burst of decisions.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
)

func main() {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out.Bytes())
	if err := os.MkdirAll("bench", 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join("bench", "RESULTS.md"), out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// refresherCases are BenchmarkRefresher's sub-benchmarks, in report order.
var refresherCases = []string{"http-json", "scim", "scim-changes", "graph", "graph-delta"}

// gobench runs go test -bench and returns, per benchmark, the median of
// each metric over the runs.
func gobench(pkg, pattern string, extra ...string) (map[string]map[string]float64, error) {
	args := append([]string{"test", "-run", "^$", "-bench", pattern, "-benchmem"}, extra...)
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, raw)
	}
	runs := map[string]map[string][]float64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		if runs[m[1]] == nil {
			runs[m[1]] = map[string][]float64{}
		}
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err == nil {
				runs[m[1]][fields[i+1]] = append(runs[m[1]][fields[i+1]], v)
			}
		}
	}
	out := map[string]map[string]float64{}
	for name, units := range runs {
		out[name] = map[string]float64{}
		for u, vs := range units {
			slices.Sort(vs)
			out[name][u] = vs[len(vs)/2]
		}
	}
	return out, nil
}

func run(w *bytes.Buffer) error {
	fmt.Fprintf(w, "# sessionguard benchmarks\n\n%s, %s/%s, %d CPUs, %s. One run of `make bench`; medians of repeated runs where noted.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())

	// 1. The warm allow path per algorithm, against the bare signature check.
	auth, err := gobench("./shared/authorizer", "^BenchmarkAuthorize$", "-count", "6")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## Authorizer: warm allow decision vs the bare signature check (median of 6 runs in one process)\n\n")
	fmt.Fprintf(w, "Real event JSON in, response out, decision log line written; the bare check is the standard library's verification of the same ~1.2 KB token over a key parsed in advance. JSON through jsontext (duplicate names refused), the simple response written by hand (IAM responses from aws-lambda-go's events types), logs through slog's JSON handler. Goal: at most 1.5x.\n\n")
	fmt.Fprintf(w, "| algorithm | bare ns/op | bare B/op | bare allocs | decision ns/op | decision B/op | decision allocs | ratio |\n|---|---|---|---|---|---|---|---|\n")
	worst := 0.0
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		b, d := auth["BenchmarkAuthorize/"+alg+"/bare-signature"], auth["BenchmarkAuthorize/"+alg+"/decision"]
		if b == nil || d == nil {
			return fmt.Errorf("no BenchmarkAuthorize results for %s", alg)
		}
		ratio := d["ns/op"] / b["ns/op"]
		worst = max(worst, ratio)
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | **%.2fx** |\n", alg, b["ns/op"], b["B/op"], b["allocs/op"],
			d["ns/op"], d["B/op"], d["allocs/op"], ratio)
	}
	verdict := "within"
	if worst > 1.5 {
		verdict = "NOT within"
	}
	fmt.Fprintf(w, "\nWorst ratio %.2fx: %s the 1.5x goal in this run. No verified-token cache was added (it would be one more cache to bound and invalidate; the path without it is what is measured).\n\n", worst, verdict)

	// 2. DynamoDB calls and the refresher, against moto.
	ddb, err := gobench("./shared/dynamostore", "^(BenchmarkRequestsPerDecision|BenchmarkRequestsPerSignIn)$", "-benchtime", "200x")
	if err != nil {
		return err
	}
	ref, err := gobench("./shared/dynamostore", "^BenchmarkRefresher$", "-benchtime", "3x")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## DynamoDB calls (moto, counted once per call by an SDK middleware)\n\n| path | calls |\n|---|---|\n")
	fmt.Fprintf(w, "| authorizer decision (200 requests a second apart on one session) | %.2f per decision (%.2f reads) |\n",
		ddb["BenchmarkRequestsPerDecision"]["dynamodb-calls/decision"], ddb["BenchmarkRequestsPerDecision"]["reads/decision"])
	fmt.Fprintf(w, "| sign-in through the sessions API (a user signing in 200 times) | %.2f per sign-in |\n\n", ddb["BenchmarkRequestsPerSignIn"]["dynamodb-calls/sign-in"])
	fmt.Fprintf(w, "## Refresher (one invocation, 1,000 due users; a directory answering after 20 ms; DynamoDB calls delayed 5 ms each by a fault proxy in front of dynalite; 32 directory requests and 16 result writes in flight)\n\n| directory | users/s | DynamoDB calls/user | directory requests/user |\n|---|---|---|---|\n")
	for _, d := range refresherCases {
		m := ref["BenchmarkRefresher/"+d]
		fmt.Fprintf(w, "| %s | %.1f | %.2f | %.3f |\n", d, m["users/s"], m["dynamodb-calls/user"], m["directory-requests/user"])
	}
	fmt.Fprintf(w, "\nThe rates are per invocation, measured on this machine's %d CPUs; the goal is at least 500 users/s. scim-changes and graph-delta read the directory's changes first (a meta.lastModified filter; users/delta); %.0f of each run's users were judged from the feed.\n\n",
		runtime.NumCPU(), ref["BenchmarkRefresher/graph-delta"]["from-changes/run"])
	fmt.Fprintf(w, "### Graph requests per run, steady state\n\n1,000 tracked users; per run 10 changed at the directory and 50 due by their interval.\n\n| | Graph requests per run |\n|---|---|\n")
	fmt.Fprintf(w, "| without users/delta (every user asked, the only way to see the 10 changes) | %.0f |\n", ref["BenchmarkRefresher/graph-steady-without-delta"]["graph-requests/run"])
	fmt.Fprintf(w, "| with users/delta (one delta page, the 50 due users in batches of 20) | %.0f |\n\n", ref["BenchmarkRefresher/graph-steady-with-delta"]["graph-requests/run"])

	// 3. Binary sizes, as built for Lambda.
	tmp, err := os.MkdirTemp("", "sessionguard-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(w, "## Binaries (linux/arm64, `-tags lambda.norpc -trimpath -ldflags=-s -w`)\n\n| function | size |\n|---|---|\n")
	fns := make([]string, 0, len(lambdarun.Functions))
	for fn := range lambdarun.Functions {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	for _, fn := range fns {
		exe := filepath.Join(tmp, "arm64", fn)
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", exe, "./functions/"+fn)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", fn, err, out)
		}
		st, _ := os.Stat(exe)
		fmt.Fprintf(w, "| %s | %.1f MB |\n", fn, float64(st.Size())/1e6)
	}

	// 4. Cold start and peak memory of the real authorizer binary.
	return coldStartAndMemory(w, tmp)
}

func coldStartAndMemory(w *bytes.Buffer, tmp string) error {
	ctx := context.Background()
	exe := filepath.Join(tmp, "host", "authorizer", "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", exe, "./functions/authorizer")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build authorizer: %v\n%s", err, out)
	}
	moto, err := dynamotest.Start()
	if err != nil {
		return err
	}
	defer moto.Stop()
	var colds []time.Duration
	for i := range 5 {
		sb, err := lambdarun.NewSandbox(ctx, moto.Endpoint, fmt.Sprintf("bench-cold-%d", i))
		if err != nil {
			return err
		}
		ev, err := sb.Event(ctx, "authorizer/http-api-v2.json")
		if err != nil {
			return err
		}
		start := time.Now()
		f, err := lambdarun.Start(exe, sb.Env)
		if err != nil {
			return err
		}
		res, err := f.Invoke(ctx, ev)
		colds = append(colds, time.Since(start))
		f.Stop()
		sb.Close()
		if err != nil || !strings.Contains(string(res.Payload), `"isAuthorized":true`) {
			return fmt.Errorf("cold-start decision: %s %v", res.Payload, err)
		}
	}
	slices.Sort(colds)
	fmt.Fprintf(w, "\n## Authorizer cold start (real binary under AWS's Runtime Interface Emulator, JWKS and DynamoDB on loopback)\n\n")
	fmt.Fprintf(w, "Emulator start to the first decision (the emulator starts the function on the first invoke; an allow; key set fetched at start): median %v of 5 (min %v, max %v).\n",
		colds[2].Round(time.Millisecond), colds[0].Round(time.Millisecond), colds[4].Round(time.Millisecond))

	// Peak memory under a burst of decisions.
	const burst = 10000
	sb, err := lambdarun.NewSandbox(ctx, moto.Endpoint, "bench-burst")
	if err != nil {
		return err
	}
	defer sb.Close()
	ev, err := sb.Event(ctx, "authorizer/http-api-v2.json")
	if err != nil {
		return err
	}
	f, err := lambdarun.Start(exe, sb.Env)
	if err != nil {
		return err
	}
	defer f.Stop()
	start := time.Now()
	for i := range burst {
		res, err := f.Invoke(ctx, ev)
		if err != nil || res.Error {
			return fmt.Errorf("decision %d: %s %v", i, res.Payload, err)
		}
	}
	took := time.Since(start)
	hwm, rss := procStatus(f.Pid(), "VmHWM"), procStatus(f.Pid(), "VmRSS")
	fmt.Fprintf(w, "\n## Authorizer memory under a burst of %d decisions\n\nPeak RSS (VmHWM) %s, RSS after the burst %s; the burst took %v (%.0f decisions/s, one DynamoDB read each against moto).\n",
		burst, hwm, rss, took.Round(time.Millisecond), burst/took.Seconds())
	return nil
}

// procStatus reads a field of /proc/<pid>/status.
func procStatus(pid int, field string) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}
