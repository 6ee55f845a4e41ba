"""The AMI side: framing, outcome mapping, the panoramisk client shell, a simulated PBX."""
