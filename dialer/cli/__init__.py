"""The ``dialer`` command line: argument parsing, the store commands, the demo and its progress display.

A top layer: may import anything in ``dialer``; nothing in ``dialer`` may import it (``dialer.app`` included).
"""
