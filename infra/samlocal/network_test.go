//go:build linux

package samlocal

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/needs"
)

func TestFreeSubnet(t *testing.T) {
	for _, tc := range []struct {
		routes []string
		want   string
	}{
		{nil, "10.89.128.0/24"},
		{[]string{
			"default via 172.16.0.1 dev eth0",
			"10.88.0.0/16 dev cni-podman0 proto kernel scope link src 10.88.0.1",
			"172.16.0.0/24 dev eth0 proto kernel scope link src 172.16.0.5",
			"local 172.16.0.5 dev eth0 table local proto kernel scope host src 172.16.0.5",
		}, "10.89.128.0/24"},
		{[]string{
			"10.89.128.0/24 dev br1 proto kernel scope link src 10.89.128.1",
			"local 10.89.129.9 dev eth1 table local proto kernel scope host src 10.89.129.9",
			"broadcast 10.89.130.255 dev br2 table local proto kernel scope link src 10.89.130.1",
		}, "10.89.131.0/24"},
		{[]string{"10.89.128.0/17 via 172.16.0.9 dev eth0"}, ""},
		{[]string{"10.0.0.0/8 dev wg0"}, ""},
	} {
		got, err := freeSubnet(tc.routes)
		if tc.want == "" {
			if err == nil {
				t.Errorf("freeSubnet(%q) = %v; want an error", tc.routes, got)
			}
			continue
		}
		if err != nil || got != netip.MustParsePrefix(tc.want) {
			t.Errorf("freeSubnet(%q) = %v, %v; want %s", tc.routes, got, err, tc.want)
		}
	}
}

// The network's definition names its own bridge and keeps its leases in
// the run's folder; no masquerading, no firewall plugin.
func TestNetworkConfig(t *testing.T) {
	var conf struct {
		Name    string `json:"name"`
		Plugins []struct {
			Type   string `json:"type"`
			Bridge string `json:"bridge"`
			IPMasq bool   `json:"ipMasq"`
			IPAM   struct {
				DataDir string                `json:"dataDir"`
				Ranges  [][]map[string]string `json:"ranges"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(networkConfig(netip.MustParsePrefix("10.89.131.0/24"), "/run/x/ipam"), &conf); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, p := range conf.Plugins {
		types = append(types, p.Type)
	}
	b := conf.Plugins[0]
	if conf.Name != NetworkName || !slices.Equal(types, []string{"bridge", "portmap"}) || b.Bridge != bridgeName || b.IPMasq ||
		b.IPAM.DataDir != "/run/x/ipam" || b.IPAM.Ranges[0][0]["gateway"] != "10.89.131.1" {
		t.Errorf("networkConfig = %+v", conf)
	}
}

func TestRestoreForwarding(t *testing.T) {
	for _, tc := range []struct {
		set        bool
		now, after string
	}{
		{set: true, now: "1\n", after: "0\n"},  // the run's value: turned off again
		{set: true, now: "0\n", after: "0\n"},  // someone turned it off since
		{set: false, now: "1\n", after: "1\n"}, // it was on before the run
	} {
		path := filepath.Join(t.TempDir(), "ip_forward")
		os.WriteFile(path, []byte(tc.now), 0o600)
		if err := restoreForwarding(path, &runState{IPForwardSet: tc.set}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != tc.after {
			t.Errorf("IPForwardSet %v, ip_forward %q: after restoreForwarding %q; want %q", tc.set, tc.now, b, tc.after)
		}
	}
}

// fakeHost answers commands with recorded output and records the
// commands that change something.
type fakeHost struct {
	answers map[string]string // by command line; absent: an error
	changes []string
}

func (h *fakeHost) run(name string, args ...string) ([]byte, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	if out, ok := h.answers[line]; ok {
		return []byte(out), nil
	}
	if slices.Contains(args, "-S") || slices.Contains(args, "show") {
		return nil, errors.New(line + ": no such device")
	}
	h.changes = append(h.changes, line)
	return nil, nil
}

// removeNetwork deletes the run's rules, its bridge and the links on it,
// and its containers' CNI results; other links and results stay.
func TestRemoveNetwork(t *testing.T) {
	h := &fakeHost{answers: map[string]string{
		"iptables -w -t filter -S":             "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n",
		"iptables -w -t nat -S":                strings.Join(table(natBefore, portmapShared, ourForward, theirForward), "\n"),
		"ip -o link show dev " + bridgeName:    "148: sg-samlocal0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n",
		"ip -o link show master " + bridgeName: "150: veth0841c66d@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master sg-samlocal0\n",
	}}
	results := t.TempDir()
	for _, f := range []string{NetworkName + "-" + ourID + "-eth0", "podman-" + theirID + "-eth0"} {
		os.WriteFile(filepath.Join(results, f), nil, 0o600)
	}
	if errs := removeNetwork(h.run, &runState{Containers: []string{ourID}, PortmapNew: true}, results); errs != nil {
		t.Fatal(errs)
	}
	want := []string{
		`iptables -w -t nat -D CNI-HOSTPORT-DNAT -p tcp -m comment --comment dnat name: "sessionguard-samlocal" id: "` + ourID + `" -m multiport --dports 18080 -j CNI-DN-de99071823565e0e7d225`,
		"iptables -w -t nat -F CNI-DN-de99071823565e0e7d225",
		"iptables -w -t nat -X CNI-DN-de99071823565e0e7d225",
		"ip link delete veth0841c66d",
		"ip link delete " + bridgeName,
	}
	if !slices.Equal(h.changes, want) {
		t.Errorf("removeNetwork ran\n%s\nwant\n%s", strings.Join(h.changes, "\n"), strings.Join(want, "\n"))
	}
	left, _ := os.ReadDir(results)
	if len(left) != 1 || left[0].Name() != "podman-"+theirID+"-eth0" {
		t.Errorf("CNI results left: %v; want only the other network's", left)
	}
}

// The same against the kernel's own iptables and links, in a network
// namespace of the test's: the run's rules, chains, bridge and veth go;
// another network's port forwarding, bridge and veth stay.
func TestRemoveNetworkInANetworkNamespace(t *testing.T) {
	needs.Parts(t, needs.Engine)
	if os.Geteuid() != 0 {
		t.Fatal("needs root: a network namespace, iptables")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatal(err)
		}
	}
	ns := "sessionguard-samlocal-test-" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", ns).Run() })
	in := func(name string, args ...string) ([]byte, error) {
		return hostRun("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	}
	must := func(name string, args ...string) {
		t.Helper()
		if _, err := in(name, args...); err != nil {
			t.Fatal(err)
		}
	}
	during := table(portmapShared, ourForward, theirForward)
	for _, l := range during {
		if c, ok := strings.CutPrefix(l, "-N "); ok {
			must("iptables", "-w", "-t", "nat", "-N", c)
		}
	}
	for _, l := range during {
		if r, ok := strings.CutPrefix(l, "-A "); ok {
			must("iptables", append([]string{"-w", "-t", "nat", "-A"}, splitRule(r)...)...)
		}
	}
	for _, br := range []string{bridgeName, "cni-podman0"} {
		must("ip", "link", "add", br, "type", "bridge")
		must("ip", "link", "add", "veth-"+br[:3], "type", "veth", "peer", "name", "peer-"+br[:3])
		must("ip", "link", "set", "veth-"+br[:3], "master", br)
	}
	if errs := removeNetwork(in, &runState{Containers: []string{ourID}, PortmapNew: true}, t.TempDir()); errs != nil {
		t.Fatal(errs)
	}
	out, err := in("iptables", "-w", "-t", "nat", "-S")
	if err != nil {
		t.Fatal(err)
	}
	// iptables prints the chains in an order of its own.
	got, want := lines(out), table(natBefore[:4], portmapShared, theirForward)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("nat after removeNetwork:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, err = in("ip", "-o", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	got = linkNames(out)
	slices.Sort(got)
	if want := []string{"cni-podman0", "lo", "peer-cni", "veth-cni"}; !slices.Equal(got, want) {
		t.Errorf("links after removeNetwork: %v; want %v", got, want)
	}
}
