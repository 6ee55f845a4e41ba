"""A simulated PBX that speaks AMI over TCP the way the dialer dialplan on Asterisk does."""
