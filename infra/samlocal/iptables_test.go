//go:build linux

package samlocal

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// iptables -t nat -S during a run, as recorded here (podman 4.3, CNI
// plugins 1.1.1): a Lambda container of the run's network with its port
// forwarded, a container of the machine's own podman network ("podman")
// with its port forwarded, and a chain of someone else's (DOCKER).
const (
	ourID   = "af0edcb92ff7322d753ceae71c9e3240e1094d36ab29259b224a63cc6854e4ea"
	theirID = "5eb9a2fc3d63859108c63f998963ae954a3d8c82b11639433acf17f114e0ddd4"
)

var natBefore = []string{
	"-P PREROUTING ACCEPT",
	"-P INPUT ACCEPT",
	"-P OUTPUT ACCEPT",
	"-P POSTROUTING ACCEPT",
	"-N DOCKER",
	"-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
}

var portmapShared = []string{
	"-N CNI-HOSTPORT-DNAT",
	"-N CNI-HOSTPORT-MASQ",
	"-N CNI-HOSTPORT-SETMARK",
	"-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
	"-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
	`-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ`,
	"-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
	`-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000`,
}

var ourForward = []string{
	"-N CNI-DN-de99071823565e0e7d225",
	"-A CNI-DN-de99071823565e0e7d225 -s 10.89.128.0/24 -d 127.0.0.1/32 -p tcp -m tcp --dport 18080 -j CNI-HOSTPORT-SETMARK",
	"-A CNI-DN-de99071823565e0e7d225 -s 127.0.0.1/32 -d 127.0.0.1/32 -p tcp -m tcp --dport 18080 -j CNI-HOSTPORT-SETMARK",
	"-A CNI-DN-de99071823565e0e7d225 -d 127.0.0.1/32 -p tcp -m tcp --dport 18080 -j DNAT --to-destination 10.89.128.4:8080",
	`-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"sessionguard-samlocal\" id: \"` + ourID + `\"" -m multiport --dports 18080 -j CNI-DN-de99071823565e0e7d225`,
}

var theirForward = []string{
	"-N CNI-DN-0b2fcd6ba7e6bd6ba3a4c",
	"-A CNI-DN-0b2fcd6ba7e6bd6ba3a4c -s 10.88.0.0/16 -d 127.0.0.1/32 -p tcp -m tcp --dport 18081 -j CNI-HOSTPORT-SETMARK",
	"-A CNI-DN-0b2fcd6ba7e6bd6ba3a4c -d 127.0.0.1/32 -p tcp -m tcp --dport 18081 -j DNAT --to-destination 10.88.0.7:8080",
	`-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"podman\" id: \"` + theirID + `\"" -m multiport --dports 18081 -j CNI-DN-0b2fcd6ba7e6bd6ba3a4c`,
}

// table puts iptables -S lines in its order: policies, chains, rules.
func table(parts ...[]string) []string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	rank := func(l string) int { return strings.Index("PNA", l[1:2]) }
	slices.SortStableFunc(all, func(a, b string) int { return rank(a) - rank(b) })
	return all
}

func TestIptablesTeardown(t *testing.T) {
	for _, tc := range []struct {
		name       string
		during     []string
		ids        []string
		portmapNew bool
		after      []string
	}{{
		name:       "the run alone made the shared chains: all its own goes",
		during:     table(natBefore, portmapShared, ourForward),
		ids:        []string{ourID},
		portmapNew: true,
		after:      table(natBefore),
	}, {
		name:       "the shared chains were there before: they stay",
		during:     table(natBefore, portmapShared, ourForward),
		ids:        []string{ourID},
		portmapNew: false,
		after:      table(natBefore, portmapShared),
	}, {
		name:       "another container forwards a port: its rules and the shared chains stay",
		during:     table(natBefore, portmapShared, ourForward, theirForward),
		ids:        []string{ourID},
		portmapNew: true,
		after:      table(natBefore, portmapShared, theirForward),
	}, {
		name:       "a container's chain left by someone else still jumps to the shared chains: they stay",
		during:     table(natBefore, portmapShared, ourForward, theirForward[:3]),
		ids:        []string{ourID},
		portmapNew: true,
		after:      table(natBefore, portmapShared, theirForward[:3]),
	}, {
		name:       "a rule that names one of the run's containers on another network goes",
		during:     table(natBefore, portmapShared, ourForward[:4], []string{strings.ReplaceAll(ourForward[4], `\"sessionguard-samlocal\"`, `\"podman\"`)}),
		ids:        []string{ourID},
		portmapNew: false,
		after:      table(natBefore, portmapShared),
	}, {
		name:       "nothing of the run's: nothing goes",
		during:     table(natBefore, portmapShared, theirForward),
		ids:        []string{ourID},
		portmapNew: false,
		after:      table(natBefore, portmapShared, theirForward),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ids := map[string]bool{}
			for _, id := range tc.ids {
				ids[id] = true
			}
			plan := iptablesTeardown(tc.during, NetworkName, ids, tc.portmapNew)
			got, err := applyPlan(tc.during, plan)
			if err != nil {
				t.Fatalf("plan %q: %v", plan, err)
			}
			if !slices.Equal(got, tc.after) {
				t.Errorf("after the plan %q:\n%s\nwant:\n%s", plan, strings.Join(got, "\n"), strings.Join(tc.after, "\n"))
			}
		})
	}
}

// applyPlan does to iptables -S lines what iptables would do with the
// plan's commands, and fails as it would: a rule to delete that is not
// there, a chain to delete that holds rules or is jumped to.
func applyPlan(lines []string, plan [][]string) ([]string, error) {
	lines = slices.Clone(lines)
	for _, cmd := range plan {
		switch cmd[0] {
		case "-D":
			i := slices.IndexFunc(lines, func(l string) bool {
				rest, ok := strings.CutPrefix(l, "-A ")
				return ok && slices.Equal(splitRule(rest), cmd[1:])
			})
			if i < 0 {
				return nil, fmt.Errorf("%q: no such rule", cmd)
			}
			lines = slices.Delete(lines, i, i+1)
		case "-F":
			lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "-A "+cmd[1]+" ") })
		case "-X":
			_, rules := parseRules(lines)
			for _, r := range rules {
				if r.chain == cmd[1] || r.target() == cmd[1] {
					return nil, fmt.Errorf("%q: the chain is in use (%s %q)", cmd, r.chain, r.args)
				}
			}
			i := slices.Index(lines, "-N "+cmd[1])
			if i < 0 {
				return nil, fmt.Errorf("%q: no such chain", cmd)
			}
			lines = slices.Delete(lines, i, i+1)
		default:
			return nil, fmt.Errorf("%q: not a teardown command", cmd)
		}
	}
	return lines, nil
}

func TestSplitRule(t *testing.T) {
	for _, tc := range []struct {
		rule string
		want []string
	}{
		{`OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT`,
			[]string{"OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"}},
		{`POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ`,
			[]string{"POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"}},
		{`CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"podman\" id: \"abc\"" -m multiport --dports 18080 -j CNI-DN-1`,
			[]string{"CNI-HOSTPORT-DNAT", "-p", "tcp", "-m", "comment", "--comment", `dnat name: "podman" id: "abc"`, "-m", "multiport", "--dports", "18080", "-j", "CNI-DN-1"}},
		{`X -m comment --comment "a \\ b \n"`,
			[]string{"X", "-m", "comment", "--comment", `a \ b \n`}},
		{`X  -j  ACCEPT `, []string{"X", "-j", "ACCEPT"}},
	} {
		if got := splitRule(tc.rule); !slices.Equal(got, tc.want) {
			t.Errorf("splitRule(%s) = %q; want %q", tc.rule, got, tc.want)
		}
	}
}
