package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/explain"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// exitBlocked: query found traffic blocked (firewall-cmd --query-port
// answers with its exit status the same way).

func (e *env) queryCommand() *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "answer whether traffic is allowed, with the exit status: 0 allowed, 3 blocked",
		ArgsUsage: "PROFILE",
		Description: `Answers "is PORT open from SRC to DST?" from the profile's host rules, for
scripts: a line per host, direction and IP family asked, then "allowed" or
"blocked", and the exit status 0 (allowed), 3 (blocked) or 1 (an error).

SRC and DST are a host or group of the profile, "any", or one address. The
hosts asked are those DST names (their inbound rules must let every address
of SRC in) and those SRC names (their outbound rules must let them reach
every address of DST, when egress is filtered). A group asks for all of its
addresses: traffic allowed from part of a group is blocked, and the line
says which part is missing. Gateways between the hosts are not asked.

--port takes 443/tcp (or tcp/443), 53/udp, a bare number for TCP, a range
(7100-7150/tcp), icmp or icmpv6 (ping), icmp/TYPE, or a service name of the
catalog (https, ssh, dns: every port of it must be allowed).

Exit status: 0 allowed, 3 blocked, 1 an error.

Examples:
   portwall query examples/site.toml --from lan --to mail1 --port https
   portwall query examples/xeams.toml --from 203.0.113.9 --to xeams1 --port 25/tcp && echo open`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "the source: host, group, `SRC` address or any", Required: true},
			&cli.StringFlag{Name: "to", Usage: "the destination: host, group, `DST` address or any", Required: true},
			&cli.StringFlag{Name: "port", Usage: "`PORT[/PROTOCOL]`, icmp, icmpv6, icmp/TYPE or a service name", Required: true},
		},
		Action: e.query,
	}
}

func (e *env) query(c *cli.Context) error {
	r, err := e.resolve(c)
	if err != nil {
		return err
	}
	cat, err := loadCatalog(c)
	if err != nil {
		return err
	}
	ts, err := parseTraffic(cat, c.String("port"))
	if err != nil {
		return err
	}
	from, err := explain.NewSide(r.rs, c.String("from"))
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to, err := explain.NewSide(r.rs, c.String("to"))
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	checks, err := explain.Query(r.rs, from, to, ts)
	if err != nil {
		return err
	}
	allowed := true
	for _, ch := range checks {
		other := from.Name
		dir := "inbound " + ch.Traffic.String() + " from " + other
		if ch.Dir == ir.Out {
			dir = "outbound " + ch.Traffic.String() + " to " + to.Name
		}
		verdict := e.paint(green, "allowed")
		if !ch.Allowed {
			verdict, allowed = e.paint(red, "blocked"), false
		}
		e.info("%s %s, %s: %s: %s\n", ch.Host, ch.Family, dir, verdict, ch.Reason)
	}
	if !allowed {
		fmt.Fprintln(e.stdout, e.paint(red, "blocked"))
		return exitStatus(exitBlocked)
	}
	fmt.Fprintln(e.stdout, e.paint(green, "allowed"))
	return nil
}

// parseTraffic reads --port: what explain.ParsePort reads, a bare port
// number or range (TCP), PORT-PORT/PROTOCOL, or a catalog service.
func parseTraffic(cat *catalog.Catalog, spec string) ([]explain.Traffic, error) {
	if p, port, icmp, err := explain.ParsePort(spec); err == nil {
		return []explain.Traffic{{Protocol: p, Ports: ports.NewSet(ports.Single(port)), ICMPType: icmp}}, nil
	}
	num, pr, hasProto := strings.Cut(spec, "/")
	if _, err := strconv.Atoi(strings.SplitN(num, "-", 2)[0]); err == nil {
		r, err := ports.Parse(num)
		if err != nil {
			return nil, fmt.Errorf("port %q: %w", spec, err)
		}
		p := proto.TCP
		if hasProto {
			if p, err = proto.Parse(pr); err != nil || !p.HasPorts() {
				return nil, fmt.Errorf("port %q: want PORT/tcp or PORT/udp", spec)
			}
		}
		return []explain.Traffic{{Protocol: p, Ports: ports.NewSet(r)}}, nil
	}
	if s, ok := cat.Service(spec); ok {
		if len(s.Unsupported) > 0 {
			return nil, fmt.Errorf("service %q also needs %s, which portwall cannot express", spec, strings.Join(s.Unsupported, "; "))
		}
		var out []explain.Traffic
		for _, pp := range s.Ports() {
			out = append(out, explain.Traffic{Protocol: pp.Protocol, Ports: pp.Ports})
		}
		return out, nil
	}
	return nil, errors.New("port " + strconv.Quote(spec) + ": want PORT/PROTOCOL such as 443/tcp, a port number (TCP), icmp, icmpv6, icmp/TYPE, or a service name (portwall catalog list shows them)")
}
