#!/usr/bin/python
# -*- coding: utf-8 -*-
"""portwall.portwall.ruleset: diff or apply a host's portwall table (runs on the host)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ruleset
short_description: Apply a portwall profile's firewall rules to a host, confirmed over a new connection
version_added: "1.0.0"
description:
  - Compares the host's live firewall rules with what a portwall profile gives
    the host (C(portwall diff)), and in check mode reports C(changed) exactly
    when they differ, with C(--diff) showing the live and the desired rules.
  - With I(target=nftables) (the default) the rules are portwall's table
    C(inet portwall). With I(target=firewalld) they are firewalld's
    configuration on a host that runs firewalld (RHEL, Rocky, Alma) - portwall's
    files C(portwall*.xml) under C(/etc/firewalld) and its C(DefaultZone), compared
    by meaning - and the running daemon, which must run what those files say.
  - Otherwise applies the profile's table with a confirmation timeout
    (C(portwall apply --plan --confirm-timeout --no-wait)), exactly the change
    the diff showed, or nothing. The action plugin then drops the connection,
    reaches the host again over a new one and runs C(portwall confirm). A host
    that cannot be reached again is not confirmed, and its rollback timer (a
    process of its own on the host, independent of Ansible) puts the previous
    table (for firewalld - portwall's previous files and default zone, then a
    reload) back when the timeout passes; the task fails.
  - The profile and the portwall binary are copied from the controller; the
    binary is kept under I(remote_dir), named after its checksum, and copied
    only when it changed.
options:
  profile:
    description:
      - Path of the portwall profile (TOML) on the controller.
      - A relative path is looked up like the copy module's C(src) (the role's
        C(files/), then the playbook's directory).
    type: path
    required: true
  host:
    description:
      - The profile's host name for this machine.
      - Defaults to the inventory name.
    type: str
  netns:
    description:
      - Work in this network namespace (C(/var/run/netns/NAME)) instead of the
        host's own. Used by the tests, where each managed "host" is a namespace.
    type: str
  portwall:
    description:
      - Path of the portwall binary on the controller, copied to the host.
      - Defaults to C(portwall) found in the controller's C(PATH).
    type: path
  confirm_timeout:
    description:
      - Seconds within which the controller must reach the host again and
        confirm; otherwise the host rolls back by itself.
    type: int
    default: 30
  target:
    description:
      - The firewall the rules are applied to - C(nftables) (portwall's own table)
        or C(firewalld) (the host's firewalld, which must be installed; it need
        not run - the files then apply when it starts).
    type: str
    default: nftables
    choices: [nftables, firewalld]
  firewalld_dir:
    description:
      - With I(target=firewalld) - firewalld's configuration directory on the host
        (C(firewalld --system-config)).
    type: path
    default: /etc/firewalld
  firewalld_bus:
    description:
      - With I(target=firewalld) - the D-Bus address of the system bus firewalld
        listens on. Defaults to the host's system bus. Used by the tests, where
        each managed "host" runs a private firewalld.
    type: str
  remote_dir:
    description:
      - Directory on the host that keeps the copied portwall binary.
    type: path
    default: /var/cache/portwall
notes:
  - Do not use C(async) with this module; the rollback timer runs on the host
    by itself, and the confirmation needs the action plugin's new connection.
  - Needs root (or CAP_NET_ADMIN) on the host, so usually C(become).
  - Check mode is supported and never changes the host (the binary and profile
    are still copied, to compare).
author:
  - portwall developers
"""

EXAMPLES = r"""
- name: Show what would change (run with --check --diff)
  portwall.portwall.ruleset:
    profile: site.toml
  check_mode: true

- name: Apply, confirmed over a new connection within 30 s
  portwall.portwall.ruleset:
    profile: site.toml
    portwall: /usr/local/bin/portwall
    confirm_timeout: 30
  become: true

- name: The same on a host that runs firewalld
  portwall.portwall.ruleset:
    profile: site.toml
    target: firewalld
  become: true
"""

RETURN = r"""
changed:
  description: Whether the live rules differed from the profile's (and, out of check mode, were replaced).
  returned: always
  type: bool
confirmed:
  description: The change was confirmed over a new connection and stays.
  returned: when a change was applied
  type: bool
rolled_back:
  description: The change was not confirmed; the host puts (or put) the previous table (or firewalld files) back by itself.
  returned: when a change was applied
  type: bool
added:
  description:
    - Rules and sets the change adds, in nft syntax.
    - For firewalld the elements it adds, each as C(zone portwall) then a colon and the element's XML.
  returned: always
  type: list
  elements: str
removed:
  description:
    - Rules and sets the change removes, in nft syntax.
    - For firewalld the elements it removes, each as C(zone portwall) then a colon and the element's XML.
  returned: always
  type: list
  elements: str
changes:
  description: Every change, as portwall diff --format json lists it (op, kind, chain, name, handle, live, desired; for firewalld op, kind, name, file, live, desired).
  returned: always
  type: list
  elements: dict
summary:
  description: portwall's summary, such as C(12 to add, 3 to remove, 0 to change).
  returned: always
  type: str
runtime:
  description: With I(target=firewalld) - how the running firewalld differs from its permanent configuration (a change made without C(--permanent), files not reloaded); applying reloads.
  returned: with target firewalld
  type: list
  elements: str
portwall_rc:
  description: Exit status of the last portwall command (diff 0 or 2, apply 0, confirm 0 or 4).
  returned: always
  type: int
msg:
  description: What happened, or portwall's own error text.
  returned: always
  type: str
pending:
  description: The transaction waiting for confirmation (id, seconds_left, deadline), as apply left it.
  returned: when a change was applied
  type: dict
"""

import json
import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

# Arguments each target adds to portwall diff and apply. A new target is one
# entry here and one in the target option's choices.
TARGET_ARGS = {
    "nftables": [],
    "firewalld": ["--target", "firewalld"],
}

# What the diff's before and after are, per target.
LIVE_HEADER = {
    "nftables": "live table inet portwall",
    "firewalld": "live firewalld configuration",
}


def changes_of(doc):
    added, removed = [], []
    for c in doc.get("changes") or []:
        what = c.get("kind", "") + (" " + c["name"] if c.get("name") else "")
        if c.get("op") in ("add", "change") and c.get("desired"):
            added.append(c["desired"] if c.get("kind") == "rule" else what + ": " + c["desired"])
        if c.get("op") in ("remove", "change") and c.get("live"):
            removed.append(c["live"] if c.get("kind") == "rule" else what + ": " + c["live"])
        if c.get("kind") == "table" and c.get("op") == "add":
            added.append("table inet " + c.get("name", ""))
    return added, removed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profile=dict(type="path", required=True),
            host=dict(type="str", required=True),
            netns=dict(type="str"),
            portwall=dict(type="path", required=True),
            confirm_timeout=dict(type="int", default=30),
            target=dict(type="str", default="nftables", choices=sorted(TARGET_ARGS)),
            firewalld_dir=dict(type="path", default="/etc/firewalld"),
            firewalld_bus=dict(type="str"),
            remote_dir=dict(type="path", default="/var/cache/portwall"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    binary = p["portwall"]
    where = ["--host", p["host"]] + TARGET_ARGS[p["target"]]
    if p["netns"]:
        where += ["--netns", p["netns"]]
    if p["target"] == "firewalld":
        where += ["--firewalld-dir", p["firewalld_dir"]]
        if p["firewalld_bus"]:
            where += ["--firewalld-bus", p["firewalld_bus"]]
    if p["confirm_timeout"] < 1:
        module.fail_json(msg="confirm_timeout must be at least 1 second")

    fd, plan = tempfile.mkstemp(prefix="portwall-plan-", suffix=".json", dir=module.tmpdir)
    os.close(fd)
    rc, out, err = module.run_command([binary, "diff", p["profile"], "--format", "json", "--save-plan", plan] + where)
    if rc not in (0, 2):
        module.fail_json(msg=err.strip() or out.strip() or "portwall diff exited with %d" % rc,
                         portwall_rc=rc, stdout=out, stderr=err, changed=False)
    doc = json.loads(out)
    added, removed = changes_of(doc)
    summary = doc.get("summary") or "%d to add, %d to remove, %d to change" % (doc.get("add", 0), doc.get("remove", 0), doc.get("change", 0))
    result = dict(changed=rc == 2, portwall_rc=rc, added=added, removed=removed,
                  changes=doc.get("changes") or [], summary=summary)
    if "runtime" in doc:
        result["runtime"] = doc.get("runtime") or []
    if module._diff and rc == 2:
        result["diff"] = dict(before=doc.get("live_table", ""), after=doc.get("desired_table", ""),
                              before_header="%s: %s" % (p["host"], LIVE_HEADER[p["target"]]),
                              after_header="%s: profile %s" % (p["host"], os.path.basename(p["profile"])))
    if rc == 0:
        module.exit_json(msg="no drift: the live rules match the profile", **result)
    if module.check_mode:
        module.exit_json(msg="drift: " + summary, **result)

    cmd = [binary, "apply", p["profile"], "--plan", plan, "--confirm-timeout", "%ds" % p["confirm_timeout"],
           "--no-wait", "--format", "json"] + where
    for attempt in range(3):
        started = time.time()
        rc, out, err = module.run_command(cmd)
        if rc == 0 or "changed since" not in err or attempt == 2:
            break
        # Another process wrote to the ruleset (to any table) between the
        # diff and the apply, and portwall refused the plan. Diff again, and
        # apply only if it shows the very same change.
        rc2, out2, _ = module.run_command([binary, "diff", p["profile"], "--format", "json", "--save-plan", plan] + where)
        if rc2 != 2 or (json.loads(out2).get("changes") or []) != result["changes"]:
            result["changed"] = False
            module.fail_json(msg="the live rules changed between the diff and the apply; nothing was applied: run again",
                             stdout=out, stderr=err, **result)
    result["portwall_rc"] = rc
    if rc != 0:
        # apply changes nothing when it fails.
        result["changed"] = False
        module.fail_json(msg=err.strip() or out.strip() or "portwall apply exited with %d" % rc,
                         stdout=out, stderr=err, **result)
    applied = json.loads(out)
    pending = applied.get("pending") or {}
    # The deadline counts from apply's start, which came after started:
    # what is left is at least this, measured on the host's own clock.
    left = p["confirm_timeout"] - (time.time() - started)
    result["pending"] = dict(id=pending.get("id"), deadline=pending.get("deadline"), seconds_left=round(left, 3))
    result["confirmed"] = False
    result["rolled_back"] = False
    module.exit_json(msg="applied, waiting for confirmation: " + summary, **result)


if __name__ == "__main__":
    main()
