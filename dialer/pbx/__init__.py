"""The PBX adapters behind ``dialer.ports.PbxPort``: today the AMI pool of one or more Asterisk servers.

May import ``ami`` (client, pool, errors), the kernel and ``dialer.observability``;
only ``dialer.app`` builds it.
"""
