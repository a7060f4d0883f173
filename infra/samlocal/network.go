//go:build linux

package samlocal

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// The run's own network. Every container of the run joins it (it is the
// engine's default network, and the SAM CLI is given it with
// --docker-network), so nothing of the machine's own podman networks is
// used, and everything CNI's plugins make for it carries its name: the
// bridge, and the comments of the iptables rules of each container.
const (
	NetworkName = "sessionguard-samlocal"
	bridgeName  = "sg-samlocal0"
)

// cniResults is where CNI keeps each container's result
// (<network>-<container id>-<interface>); podman does not let a run move
// it. A container removed normally takes its file with it.
const cniResults = "/var/lib/cni/results"

// ipForward is the kernel's IP forwarding switch, which CNI's bridge
// plugin turns on for a network with a gateway.
const ipForward = "/proc/sys/net/ipv4/ip_forward"

// The /24s the run's network may take, the first that no route of the
// host overlaps (podman's own networks start at 10.88.0.0/16 and
// 10.89.0.0/24).
var subnetRange = netip.MustParsePrefix("10.89.128.0/17")

// networkConfig is the run's network as podman's CNI backend reads it
// from its network_config_dir: a bridge of its own with a gateway (the SAM
// CLI reaches each container's emulator through the port podman forwards
// to it), addresses leased by host-local in ipamDir, and port forwarding.
// No masquerading and no firewall plugin: the containers reach nothing
// beyond the host, and of the host only the loopback ports forward.go
// opens inside them.
func networkConfig(subnet netip.Prefix, ipamDir string) []byte {
	gateway := subnet.Addr().Next()
	b, _ := json.MarshalIndent(map[string]any{
		"cniVersion": "0.4.0",
		"name":       NetworkName,
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": bridgeName, "isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{
					"type": "host-local", "dataDir": ipamDir,
					"routes": []any{map[string]string{"dst": "0.0.0.0/0"}},
					"ranges": [][]any{{map[string]string{"subnet": subnet.String(), "gateway": gateway.String()}}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}, "", "  ")
	return b
}

// freeSubnet picks the run's /24: the first of subnetRange that overlaps
// no route of ip -4 route show table all (which includes each address of
// the host, in the local table).
func freeSubnet(routes []string) (netip.Prefix, error) {
	var used []netip.Prefix
	for _, l := range routes {
		f := strings.Fields(l)
		if len(f) > 1 && routeTypes[f[0]] {
			f = f[1:]
		}
		if len(f) == 0 || f[0] == "default" {
			continue
		}
		dst := f[0]
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if p, err := netip.ParsePrefix(dst); err == nil {
			used = append(used, p.Masked())
		}
	}
	for p := subnetRange.Addr(); subnetRange.Contains(p); p = next24(p) {
		candidate := netip.PrefixFrom(p, 24)
		free := true
		for _, u := range used {
			if u.Overlaps(candidate) {
				free = false
				break
			}
		}
		if free {
			return candidate, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("samlocal: no /24 of %s is free of the host's routes", subnetRange)
}

var routeTypes = map[string]bool{"unicast": true, "local": true, "broadcast": true, "multicast": true, "anycast": true,
	"unreachable": true, "blackhole": true, "prohibit": true, "throw": true, "nat": true}

func next24(p netip.Addr) netip.Addr {
	a := p.As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += 256
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// The tables CNI's plugins write to.
var netTables = []string{"filter", "nat"}

// portmapPresent reports whether CNI's shared port-forwarding chains are
// on the machine already (then they are not the run's to remove).
func portmapPresent(run runner) (bool, error) {
	out, err := run("iptables", "-w", "-t", "nat", "-S")
	if err != nil {
		return false, err
	}
	chains, _ := parseRules(lines(out))
	return chains[portmapChains[0]], nil
}

// removeNetwork removes what the run's network left on the host: the
// iptables rules and chains made for its containers (iptablesTeardown),
// the links of its bridge and the bridge, and its containers' CNI result
// files; other networks, links and chains are left as they are.
func removeNetwork(run runner, st *runState, resultsDir string) []error {
	var errs []error
	ids := map[string]bool{}
	for _, id := range st.Containers {
		ids[id] = true
	}
	for _, t := range netTables {
		out, err := run("iptables", "-w", "-t", t, "-S")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, args := range iptablesTeardown(lines(out), NetworkName, ids, st.PortmapNew) {
			if _, err := run("iptables", append([]string{"-w", "-t", t}, args...)...); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if _, err := run("ip", "-o", "link", "show", "dev", bridgeName); err == nil {
		out, err := run("ip", "-o", "link", "show", "master", bridgeName)
		if err != nil {
			errs = append(errs, err)
		}
		for _, name := range append(linkNames(out), bridgeName) {
			if _, err := run("ip", "link", "delete", name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	results, _ := filepath.Glob(filepath.Join(resultsDir, NetworkName+"-*"))
	for _, f := range results {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errs
}

// linkNames reads ip -o link show: "7: veth0841c66d@if2: <…> …".
func linkNames(out []byte) []string {
	var names []string
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		names = append(names, name)
	}
	return names
}

// forwardingOff reports whether IP forwarding is off; the run turns it
// on itself then, before CNI's bridge plugin would, so that it knows it
// changed it.
func forwardingOff(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("samlocal: %w", err)
	}
	return strings.TrimSpace(string(b)) == "0", nil
}

// restoreForwarding turns IP forwarding off again if the run turned it
// on and it is still on: if someone turned it off since, it stays off.
// (Someone who turned it on while the run had it on cannot be told
// apart.)
func restoreForwarding(path string, st *runState) error {
	if !st.IPForwardSet {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if strings.TrimSpace(string(b)) != "1" {
		return nil
	}
	if err := os.WriteFile(path, []byte("0\n"), 0); err != nil {
		return fmt.Errorf("turn IP forwarding off again: %w", err)
	}
	return nil
}

// network writes the run's network for podman, on a subnet no route of
// the host uses, and turns IP forwarding on if it is off (recorded, so
// that teardown turns it off again).
func (e *Engine) network() error {
	out, err := hostRun("ip", "-4", "route", "show", "table", "all")
	if err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	subnet, err := freeSubnet(lines(out))
	if err != nil {
		return err
	}
	conf := networkConfig(subnet, e.files.ipam())
	if err := os.WriteFile(filepath.Join(e.files.netConf(), NetworkName+".conflist"), conf, 0o600); err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	off, err := forwardingOff(ipForward)
	if err != nil || !off {
		return err
	}
	if err := e.record(func(st *runState) { st.IPForwardSet = true }); err != nil {
		return err
	}
	if err := os.WriteFile(ipForward, []byte("1\n"), 0); err != nil {
		return fmt.Errorf("samlocal: turn on IP forwarding: %w", err)
	}
	return nil
}
