"""The PBX adapters behind ``dialer.ports.PbxPort``: today the AMI pool of one or more Asterisk servers.

May import ``ami``'s client, pool and errors, the kernel and ``dialer.observability``; only ``dialer.app``
builds it, and the campaign package must never import it (the runner sees only the port).
"""
