//go:build linux

package samlocal

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The record a run keeps reads back as written, and clearState leaves
// nothing of the run's in the state folder.
func TestRunStateRecord(t *testing.T) {
	d := stateFiles(t.TempDir())
	if st, err := d.load(); st != nil || err != nil {
		t.Fatalf("load with no record = %v, %v; want nil, nil", st, err)
	}
	st := &runState{Pid: 42, Service: 43, Socket: "/tmp/x/podman.sock", Containers: []string{ourID}, PortmapNew: true, IPForwardSet: true,
		Binfmt: binfmtState{Registered: true, Mounted: true}}
	if err := d.save(st); err != nil {
		t.Fatal(err)
	}
	got, err := d.load()
	if err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("load = %+v, %v; want %+v", got, err, st)
	}
	os.MkdirAll(d.netConf(), 0o700)
	os.WriteFile(filepath.Join(d.netConf(), NetworkName+".conflist"), []byte("{}"), 0o600)
	os.MkdirAll(filepath.Join(d.ipam(), NetworkName), 0o700)
	os.WriteFile(d.conf(), nil, 0o600)
	if err := clearState(d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(string(d)); !errors.Is(err, os.ErrNotExist) {
		left, _ := os.ReadDir(string(d))
		t.Errorf("the state folder is still there: %v %v", err, left)
	}
}
