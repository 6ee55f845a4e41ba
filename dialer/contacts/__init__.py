"""Contacts coming in and moving: CSV reading, phone numbers, import with COPY, transfer.

May import only the kernel's ``model`` and ``errors`` (import and transfer take a connection handed to them);
must never import the store, the campaign package or the CLI. The store, the CLI and the API use it.
"""
