# -*- coding: utf-8 -*-
"""Action plugin of portwall.portwall.ruleset: copies the profile and the
portwall binary to the host, runs the module, and confirms an applied change
over a new connection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex
import shutil
import time

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.hashing import checksum as local_checksum

display = Display()

# portwall confirm's exit statuses.
CONFIRMED = 0
NOTHING_PENDING = 4

ARGUMENT_SPEC = dict(
    profile=dict(type="path", required=True),
    host=dict(type="str"),
    netns=dict(type="str"),
    portwall=dict(type="path"),
    confirm_timeout=dict(type="int", default=30),
    target=dict(type="str", default="nftables"),
    firewalld_dir=dict(type="path", default="/etc/firewalld"),
    firewalld_bus=dict(type="str"),
    remote_dir=dict(type="path", default="/var/cache/portwall"),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        if task_vars is None:
            task_vars = dict()
        if self._task.async_val:
            raise AnsibleActionFail("portwall.portwall.ruleset does not run with async: the rollback timer runs on "
                                    "the host by itself, and the action confirms over a new connection; drop async/poll")
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            result.update(self._run(args, task_vars))
        finally:
            try:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            except AnsibleConnectionFailure as e:
                # A host that cannot be reached again: the result says so.
                # Forget the directory, or the task's cleanup tries again
                # and turns the result into this error.
                display.warning("could not remove the temporary directory on %s: %s" % (task_vars.get("inventory_hostname"), to_text(e)))
                self._connection._shell.tmpdir = None
        return result

    def _run(self, args, task_vars):
        try:
            profile = self._find_needle("files", args["profile"])
        except Exception as e:
            raise AnsibleActionFail("profile %s: %s" % (args["profile"], to_text(e)))
        binary = args["portwall"] or shutil.which("portwall")
        if not binary or not os.path.isfile(binary):
            raise AnsibleActionFail("no portwall binary on the controller (%s): set the portwall option to its path"
                                    % (args["portwall"] or "not in PATH"))

        shell = self._connection._shell
        tmpdir = shell.tmpdir or self._make_tmp_path()
        # Named as on the controller: portwall's messages and the diff
        # header show the name.
        remote_profile = shell.join_path(tmpdir, os.path.basename(profile))
        self._transfer_file(profile, remote_profile)
        self._fixup_perms2((tmpdir, remote_profile), execute=False)
        remote_bin = self._ensure_binary(binary, args["remote_dir"], tmpdir, task_vars)

        module_args = dict(
            profile=remote_profile,
            host=args["host"] or task_vars.get("inventory_hostname"),
            portwall=remote_bin,
            confirm_timeout=args["confirm_timeout"],
            target=args["target"],
            remote_dir=args["remote_dir"],
        )
        if args["netns"]:
            module_args["netns"] = args["netns"]
        if args["target"] == "firewalld":
            module_args["firewalld_dir"] = args["firewalld_dir"]
            if args["firewalld_bus"]:
                module_args["firewalld_bus"] = args["firewalld_bus"]
        res = self._execute_module(module_name="portwall.portwall.ruleset", module_args=module_args, task_vars=task_vars)
        # portwall's messages point into the profile (file:line:col): name
        # the controller's file, not the host's temporary copy.
        for k in ("msg", "stderr"):
            if isinstance(res.get(k), str):
                res[k] = res[k].replace(remote_profile, profile)
        if res.get("failed") or not res.get("pending"):
            return res
        res.update(self._confirm(remote_bin, args["netns"], res["pending"], res.get("summary", "")))
        return res

    def _ensure_binary(self, local, remote_dir, tmpdir, task_vars):
        """Copy the binary to remote_dir, named after its checksum, unless it
        is there already; replace atomically (many hosts may share a disk)."""
        shell = self._connection._shell
        sha = local_checksum(local)
        dest = shell.join_path(remote_dir, "portwall-" + sha[:16])
        if self._execute_remote_stat(dest, all_vars=task_vars, follow=False, checksum=True)["checksum"] == sha:
            return dest
        tmp_bin = shell.join_path(tmpdir, "portwall")
        self._transfer_file(local, tmp_bin)
        part = dest + ".part-" + os.path.basename(tmpdir.rstrip("/"))
        cmd = "mkdir -p -m 0755 {d} && cp {t} {p} && chmod 0755 {p} && mv -f {p} {dest}".format(
            d=shlex.quote(remote_dir), t=shlex.quote(tmp_bin), p=shlex.quote(part), dest=shlex.quote(dest))
        res = self._low_level_execute_command(cmd)
        if res.get("rc") != 0:
            raise AnsibleActionFail("copying portwall to %s failed: %s" % (dest, to_text(res.get("stderr")).strip()))
        return dest

    def _confirm(self, remote_bin, netns, pending, summary):
        """Reach the host again over a new connection and confirm; the host
        rolls back by itself if this does not happen in time."""
        until = time.monotonic() + max(0.0, float(pending.get("seconds_left") or 0) - 0.5)
        if self._connection.transport != "local":
            # ssh: stop the ControlPersist master, so that the next command
            # is a new login through the new rules.
            self._connection.reset()
        argv = [remote_bin, "confirm", "--id", pending["id"]]
        if netns:
            argv += ["--netns", netns]
        cmd = " ".join(shlex.quote(a) for a in argv)
        tries, last = 0, ""
        while True:
            tries += 1
            try:
                res = self._low_level_execute_command(cmd)
                rc, err = res.get("rc"), to_text(res.get("stderr")).strip()
                if rc == CONFIRMED:
                    return dict(changed=True, confirmed=True, rolled_back=False, portwall_rc=rc,
                                msg="applied and confirmed over a new connection: " + summary)
                if rc == NOTHING_PENDING:
                    # Too late: the host's timer rolled back already.
                    return dict(failed=True, changed=True, confirmed=False, rolled_back=True, portwall_rc=rc,
                                msg="not confirmed: " + err)
                last = "portwall confirm exited with %s: %s" % (rc, err)
            except AnsibleConnectionFailure as e:
                last = "cannot reach the host: %s" % to_text(e)
            if time.monotonic() >= until:
                break
            time.sleep(1)
        return dict(failed=True, changed=True, confirmed=False, rolled_back=True,
                    msg="not confirmed: could not confirm over a new connection (%d tries; last: %s); the host puts the "
                        "previous rules back by itself at %s" % (tries, last, pending.get("deadline")))
