package samlocal

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// netState is what the host's network looked like before the engine ran:
// podman's network plugins add a bridge, iptables chains (with rules in
// the built-in chains that jump to them) and turn on IP forwarding, and
// leave them all behind. restore removes what was not there before.
type netState struct {
	links     map[string]bool
	chains    map[string]map[string]bool // by table
	ipForward []byte
}

// The tables podman's network plugins write to.
var netTables = []string{"filter", "nat"}

const ipForward = "/proc/sys/net/ipv4/ip_forward"

func snapshotNet() (*netState, error) {
	s := &netState{links: map[string]bool{}, chains: map[string]map[string]bool{}}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("samlocal: list network links: %w", err)
	}
	for _, i := range ifs {
		s.links[i.Name] = true
	}
	for _, t := range netTables {
		rules, err := iptablesRules(t)
		if err != nil {
			return nil, err
		}
		s.chains[t] = chainsOf(rules)
	}
	if s.ipForward, err = os.ReadFile(ipForward); err != nil {
		return nil, fmt.Errorf("samlocal: %w", err)
	}
	return s, nil
}

func iptablesRules(table string) ([]string, error) {
	out, err := exec.Command("iptables", "-w", "-t", table, "-S").Output()
	if err != nil {
		return nil, fmt.Errorf("samlocal: iptables -t %s -S: %w", table, err)
	}
	return lines(out), nil
}

// chainsOf returns the chains declared in iptables -S output (-N lines).
func chainsOf(rules []string) map[string]bool {
	chains := map[string]bool{}
	for _, r := range rules {
		if c, ok := strings.CutPrefix(r, "-N "); ok {
			chains[c] = true
		}
	}
	return chains
}

// restore deletes the links of podman's networks and the iptables chains
// that appeared since the snapshot, and the rules of older chains that
// jump to them; it sets IP forwarding back.
func (s *netState) restore() []error {
	var errs []error
	for _, t := range netTables {
		rules, err := iptablesRules(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		added := map[string]bool{}
		for c := range chainsOf(rules) {
			if !s.chains[t][c] {
				added[c] = true
			}
		}
		if len(added) == 0 {
			continue
		}
		for _, r := range rules {
			rest, ok := strings.CutPrefix(r, "-A ")
			if !ok {
				continue
			}
			chain, _, _ := strings.Cut(rest, " ")
			if !added[chain] && jumpsTo(r, added) {
				if err := iptables(t, append([]string{"-D"}, splitRule(rest)...)...); err != nil {
					errs = append(errs, err)
				}
			}
		}
		for c := range added {
			if err := iptables(t, "-F", c); err != nil {
				errs = append(errs, err)
			}
		}
		for c := range added {
			if err := iptables(t, "-X", c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	ifs, err := net.Interfaces()
	if err != nil {
		errs = append(errs, err)
	}
	for _, i := range ifs {
		if !s.links[i.Name] && podmanLink(i.Name) {
			if out, err := exec.Command("ip", "link", "delete", i.Name).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("ip link delete %s: %w: %s", i.Name, err, out))
			}
		}
	}
	if now, err := os.ReadFile(ipForward); err == nil && string(now) != string(s.ipForward) {
		if err := os.WriteFile(ipForward, s.ipForward, 0); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", ipForward, err))
		}
	}
	return errs
}

// podmanLink reports whether a link is one podman's network plugins make:
// its bridge (cni-podman0, podman0 with netavark) or a container's veth.
func podmanLink(name string) bool {
	return strings.HasPrefix(name, "cni-podman") || strings.HasPrefix(name, "podman") || strings.HasPrefix(name, "veth")
}

func jumpsTo(rule string, chains map[string]bool) bool {
	f := strings.Fields(rule)
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g") && chains[f[i+1]] {
			return true
		}
	}
	return false
}

// splitRule splits a rule of iptables -S output into arguments, keeping
// quoted comments whole.
func splitRule(r string) []string {
	var args []string
	var cur strings.Builder
	quoted, inArg := false, false
	for _, c := range r {
		switch {
		case c == '"':
			quoted, inArg = !quoted, true
		case c == ' ' && !quoted:
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(c)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

func iptables(table string, args ...string) error {
	out, err := exec.Command("iptables", append([]string{"-w", "-t", table}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables -t %s %s: %w: %s", table, strings.Join(args, " "), err, out)
	}
	return nil
}

// execPath is the absolute path of a command on PATH.
func execPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("samlocal: %s: %w", name, err)
	}
	if p, err = filepath.Abs(p); err != nil {
		return "", errors.New("samlocal: " + err.Error())
	}
	return p, nil
}
