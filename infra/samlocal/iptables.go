//go:build linux

package samlocal

import (
	"regexp"
	"strings"
)

// The chains CNI's port forwarding plugin (portmap) shares among all its
// networks: it creates them, and the rules in the built-in chains that
// jump to them, for the first container with a published port, and never
// removes them. Each container's forwarding is a rule in
// CNI-HOSTPORT-DNAT, commented with its network and id, that jumps to a
// chain of its own (CNI-DN-…).
var portmapChains = []string{"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"}

var builtinChains = map[string]bool{"INPUT": true, "FORWARD": true, "OUTPUT": true, "PREROUTING": true, "POSTROUTING": true}

// rule is one -A line of iptables -S.
type rule struct {
	chain string
	args  []string // after the chain
}

func (r rule) target() string {
	for i := 0; i+1 < len(r.args); i++ {
		if r.args[i] == "-j" || r.args[i] == "-g" {
			return r.args[i+1]
		}
	}
	return ""
}

func (r rule) comment() string {
	for i := 0; i+1 < len(r.args); i++ {
		if r.args[i] == "--comment" {
			return r.args[i+1]
		}
	}
	return ""
}

func (r rule) delete() []string { return append([]string{"-D", r.chain}, r.args...) }

// CNI's plugins comment a container's rules with its network and id:
// name: "podman" id: "<64 hex digits>".
var (
	commentNetwork   = regexp.MustCompile(`\bname: "([^"]*)"`)
	commentContainer = regexp.MustCompile(`\bid: "([^"]*)"`)
)

// ownedBy reports whether a rule was made for one of the run's
// containers: its comment names the run's network or one of its
// containers.
func (r rule) ownedBy(network string, ids map[string]bool) bool {
	c := r.comment()
	if m := commentNetwork.FindStringSubmatch(c); m != nil && m[1] == network {
		return true
	}
	m := commentContainer.FindStringSubmatch(c)
	return m != nil && ids[m[1]]
}

// forContainer reports whether a rule is some container's (it carries a
// container id), the run's or anyone else's.
func (r rule) forContainer() bool { return commentContainer.MatchString(r.comment()) }

// parseRules reads iptables -S output: the chains it declares (-N) and
// its rules (-A), in order.
func parseRules(lines []string) (chains map[string]bool, rules []rule) {
	chains = map[string]bool{}
	for _, l := range lines {
		if c, ok := strings.CutPrefix(l, "-N "); ok {
			chains[c] = true
			continue
		}
		rest, ok := strings.CutPrefix(l, "-A ")
		if !ok {
			continue
		}
		args := splitRule(rest)
		if len(args) == 0 {
			continue
		}
		rules = append(rules, rule{chain: args[0], args: args[1:]})
	}
	return chains, rules
}

// iptablesTeardown plans, for one table's iptables -S output, the
// commands (iptables -t table …) that remove what a run made there, and
// nothing else:
//   - every rule made for one of its containers (commented with the run's
//     network or one of its container ids), wherever it is;
//   - the chains those rules jumped to (a container's CNI-DN-…), once no
//     other rule jumps to them;
//   - CNI's shared port-forwarding chains and the jumps to them, only if
//     they were not there before the run (portmapNew), no other
//     container's forwarding is left in them, and no chain that stays
//     jumps to them.
func iptablesTeardown(lines []string, network string, ids map[string]bool, portmapNew bool) [][]string {
	chains, rules := parseRules(lines)
	var plan [][]string
	var left []rule
	targets := map[string]bool{}
	for _, r := range rules {
		if r.ownedBy(network, ids) {
			plan = append(plan, r.delete())
			if t := r.target(); chains[t] {
				targets[t] = true
			}
			continue
		}
		left = append(left, r)
	}
	drop := map[string]bool{}
	for c := range targets {
		if !jumpedTo(left, c) {
			drop[c] = true
		}
	}
	if portmapNew && chains[portmapChains[0]] {
		shared := map[string]bool{}
		for _, c := range portmapChains {
			if chains[c] {
				shared[c] = true
			}
		}
		used := false
		for _, r := range left {
			switch {
			case drop[r.chain]:
			case r.chain == portmapChains[0]:
				used = true // another container's forwarding
			case shared[r.chain] && r.forContainer():
				used = true
			case !builtinChains[r.chain] && !shared[r.chain] && shared[r.target()]:
				used = true // a chain that stays jumps to them
			}
		}
		if !used {
			for c := range shared {
				drop[c] = true
			}
		}
	}
	if len(drop) == 0 {
		return plan
	}
	// The jumps to the dropped chains from chains that stay, then the
	// chains themselves, in the order iptables -S printed them.
	for _, r := range left {
		if !drop[r.chain] && drop[r.target()] {
			plan = append(plan, r.delete())
		}
	}
	var order []string
	for _, l := range lines {
		if c, ok := strings.CutPrefix(l, "-N "); ok && drop[c] {
			order = append(order, c)
		}
	}
	for _, c := range order {
		plan = append(plan, []string{"-F", c})
	}
	for _, c := range order {
		plan = append(plan, []string{"-X", c})
	}
	return plan
}

// jumpedTo reports whether one of the rules jumps to chain.
func jumpedTo(rules []rule, chain string) bool {
	for _, r := range rules {
		if r.target() == chain {
			return true
		}
	}
	return false
}

// splitRule splits a rule of iptables -S output into arguments as a shell
// would: a double-quoted string is one argument, in which \" and \\ stand
// for " and \ (iptables prints CNI's comments so:
// --comment "dnat name: \"podman\" id: \"…\"").
func splitRule(r string) []string {
	var args []string
	var cur strings.Builder
	quoted, inArg, escaped := false, false, false
	for _, c := range r {
		switch {
		case escaped:
			if c != '"' && c != '\\' {
				cur.WriteByte('\\')
			}
			cur.WriteRune(c)
			escaped = false
		case c == '\\' && quoted:
			escaped = true
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
