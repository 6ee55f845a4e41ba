"""The reminder service (issue 14, seed 002 "Automat przypomnień"): SMS and e-mail reminders
of callbacks to customers and agents, and the status actions that send a template (seed 001).

Pure parts (SMS length and encoding, templates, when to send) sit apart from the channels
(SMTP, the SMS gateways) and the service loop, which reads and writes through the store.
"""
