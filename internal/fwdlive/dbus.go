package fwdlive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

// firewalld's D-Bus names (firewalld.dbus(5)).
const (
	busName     = "org.fedoraproject.FirewallD1"
	objPath     = "/org/fedoraproject/FirewallD1"
	configPath  = "/org/fedoraproject/FirewallD1/config"
	iface       = "org.fedoraproject.FirewallD1"
	ifaceZone   = iface + ".zone"
	ifacePolicy = iface + ".policy"
	ifaceConfig = iface + ".config"
)

// CallTimeout bounds one call to firewalld; a reload of a large
// configuration on a busy machine takes seconds.
const CallTimeout = 2 * time.Minute

// daemon is a connection to a running firewalld.
type daemon struct {
	conn *dbus.Conn
	fw   dbus.BusObject
	cfg  dbus.BusObject
}

// connect reaches firewalld on the bus; nil (and no error) when it is not
// running: no bus to connect to, or nobody owns firewalld's name.
func connect(ctx context.Context, bus string) (*daemon, error) {
	conn, err := dbus.Dial(bus, dbus.WithContext(ctx))
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		// No system bus: firewalld, which needs one, cannot run.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("D-Bus (%s): %w", bus, err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("D-Bus (%s): %w", bus, err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("D-Bus (%s): %w", bus, err)
	}
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, busName).Store(&has); err != nil {
		conn.Close()
		return nil, fmt.Errorf("D-Bus (%s): %w", bus, err)
	}
	if !has {
		conn.Close()
		return nil, nil
	}
	return &daemon{conn: conn, fw: conn.Object(busName, objPath), cfg: conn.Object(busName, configPath)}, nil
}

func (d *daemon) close() { d.conn.Close() }

// call calls method on obj and stores the results in out.
func (d *daemon) call(ctx context.Context, obj dbus.BusObject, method string, args []any, out ...any) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	c := obj.CallWithContext(ctx, method, 0, args...)
	if c.Err != nil {
		var de dbus.Error
		if errors.As(c.Err, &de) && len(de.Body) > 0 {
			return fmt.Errorf("firewalld: %s", fmt.Sprint(de.Body[0]))
		}
		return fmt.Errorf("firewalld: %s: %w", method[strings.LastIndexByte(method, '.')+1:], c.Err)
	}
	if len(out) == 0 {
		return nil
	}
	return c.Store(out...)
}

// state is RUNNING, or FAILED when firewalld fell back to its stock
// configuration.
func (d *daemon) state() (string, error) {
	v, err := d.fw.GetProperty(iface + ".state")
	if err != nil {
		return "", fmt.Errorf("firewalld: state: %w", err)
	}
	s, _ := v.Value().(string)
	return s, nil
}

func (d *daemon) defaultZone(ctx context.Context) (string, error) {
	var z string
	err := d.call(ctx, d.fw, iface+".getDefaultZone", nil, &z)
	return z, err
}

// reload loads the permanent configuration, as firewall-cmd --reload
// does; the daemon must be RUNNING afterwards.
func (d *daemon) reload(ctx context.Context) error {
	if err := d.call(ctx, d.fw, iface+".reload", nil); err != nil {
		return err
	}
	s, err := d.state()
	if err != nil {
		return err
	}
	if s != "RUNNING" {
		return fmt.Errorf("firewalld's state is %s after the reload (it fell back to its stock configuration)", s)
	}
	return nil
}

// kind is one of the object kinds portwall writes, as firewalld's API
// names its methods.
type kind struct {
	name string // zone, policy, service
	// Runtime: list the names, get one's settings.
	list, get dbus.BusObject
	listM     string
	getM      string
	// Permanent: list the names, find one, get its settings.
	confListM, confByNameM, confGetM string
	// ignore are settings the runtime may hold without a change to the
	// object: interfaces that NetworkManager binds at run time.
	ignore []string
}

func (d *daemon) kinds() []kind {
	return []kind{
		{name: "zone", list: d.fw, listM: ifaceZone + ".getZones", get: d.fw, getM: ifaceZone + ".getZoneSettings2",
			confListM: ifaceConfig + ".getZoneNames", confByNameM: ifaceConfig + ".getZoneByName", confGetM: ifaceConfig + ".zone.getSettings2",
			ignore: []string{"interfaces"}},
		{name: "policy", list: d.fw, listM: ifacePolicy + ".getPolicies", get: d.fw, getM: ifacePolicy + ".getPolicySettings",
			confListM: ifaceConfig + ".getPolicyNames", confByNameM: ifaceConfig + ".getPolicyByName", confGetM: ifaceConfig + ".policy.getSettings"},
		{name: "service", list: d.fw, listM: iface + ".listServices", get: d.fw, getM: iface + ".getServiceSettings2",
			confListM: ifaceConfig + ".getServiceNames", confByNameM: ifaceConfig + ".getServiceByName", confGetM: ifaceConfig + ".service.getSettings2"},
	}
}

// runtimeDiff compares the running configuration of portwall's objects
// (those named portwall*) with firewalld's permanent configuration, and
// the runtime's default zone with the permanent one, and returns one line
// per difference.
func (d *daemon) runtimeDiff(ctx context.Context, permanentDefault string) ([]string, error) {
	var out []string
	for _, k := range d.kinds() {
		var rt, pm []string
		if err := d.call(ctx, k.list, k.listM, nil, &rt); err != nil {
			return nil, err
		}
		if err := d.call(ctx, d.cfg, k.confListM, nil, &pm); err != nil {
			return nil, err
		}
		names := map[string]bool{}
		for _, n := range append(rt, pm...) {
			if strings.HasPrefix(n, "portwall") {
				names[n] = true
			}
		}
		sorted := make([]string, 0, len(names))
		for n := range names {
			sorted = append(sorted, n)
		}
		slices.Sort(sorted)
		for _, n := range sorted {
			inRT, inPM := slices.Contains(rt, n), slices.Contains(pm, n)
			switch {
			case !inPM:
				out = append(out, fmt.Sprintf("runtime: %s %s is loaded, but has no permanent configuration (removed without a reload)", k.name, n))
				continue
			case !inRT:
				out = append(out, fmt.Sprintf("runtime: %s %s is not loaded (its file was written without a reload)", k.name, n))
				continue
			}
			var rs, ps map[string]dbus.Variant
			if err := d.call(ctx, k.get, k.getM, []any{n}, &rs); err != nil {
				return nil, err
			}
			var p dbus.ObjectPath
			if err := d.call(ctx, d.cfg, k.confByNameM, []any{n}, &p); err != nil {
				return nil, err
			}
			if err := d.call(ctx, d.conn.Object(busName, p), k.confGetM, nil, &ps); err != nil {
				return nil, err
			}
			rl, pl := settingLines(rs, k.ignore), settingLines(ps, k.ignore)
			for _, l := range rl {
				if !slices.Contains(pl, l) {
					out = append(out, fmt.Sprintf("runtime: %s %s has %s, its permanent configuration does not (a change without --permanent?)", k.name, n, l))
				}
			}
			for _, l := range pl {
				if !slices.Contains(rl, l) {
					out = append(out, fmt.Sprintf("runtime: %s %s lacks %s of its permanent configuration (not reloaded?)", k.name, n, l))
				}
			}
		}
	}
	rz, err := d.defaultZone(ctx)
	if err != nil {
		return nil, err
	}
	if permanentDefault == "" {
		permanentDefault = FallbackZone
	}
	if rz != permanentDefault {
		out = append(out, fmt.Sprintf("runtime: the default zone is %s, firewalld.conf says %s", rz, permanentDefault))
	}
	return out, nil
}

// settingNames are firewall-cmd's words for the settings' keys. Built on first use: a package-level map literal is built by
// every run's initialisation, whatever the run does.
var settingNames = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"rules_str": "rich rule", "ports": "port", "services": "service", "sources": "source", "protocols": "protocol",
		"source_ports": "source-port", "forward_ports": "forward-port", "icmp_blocks": "icmp-block", "includes": "include",
		"icmp_block_inversion": "icmp-block-inversion", "ingress_zones": "ingress-zone", "egress_zones": "egress-zone",
	}
})

// settingLines writes an object's settings (firewalld's a{sv}) as sorted
// lines "key value", one per list item; empty and false values, which
// firewalld sometimes leaves out, are left out.
func settingLines(s map[string]dbus.Variant, ignore []string) []string {
	var out []string
	for k, v := range s {
		if slices.Contains(ignore, k) {
			continue
		}
		if n, ok := settingNames()[k]; ok {
			k = n
		}
		switch x := v.Value().(type) {
		case string:
			if x != "" {
				out = append(out, k+" "+x)
			}
		case bool:
			if x {
				out = append(out, k+" yes")
			}
		case []string:
			for _, i := range x {
				out = append(out, k+" "+i)
			}
		case [][]any:
			for _, i := range x {
				var parts []string
				for _, p := range i {
					parts = append(parts, fmt.Sprint(p))
				}
				out = append(out, k+" "+strings.Join(parts, "/"))
			}
		case []any:
			for _, i := range x {
				out = append(out, fmt.Sprintf("%s %v", k, i))
			}
		default:
			out = append(out, fmt.Sprintf("%s %v", k, x))
		}
	}
	slices.Sort(out)
	return out
}
