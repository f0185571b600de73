# -*- coding: utf-8 -*-
# TEST ONLY: the local connection, except that once reset() was called (the
# portwall action drops the connection after applying, to confirm over a new
# one) every command fails as if the host could not be reached again. It
# simulates a host whose new rules cut the controller off.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lossy
short_description: TEST ONLY - local connection that is lost after a reset
description:
  - Runs commands on the controller, like the local connection.
  - After reset(), every command raises a connection failure.
author: portwall developers
options: {}
"""

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    transport = "lossy"

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._lost = False

    def reset(self):
        self._lost = True

    def exec_command(self, cmd, in_data=None, sudoable=True):
        if self._lost:
            raise AnsibleConnectionFailure("simulated: the host cannot be reached again")
        return super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
