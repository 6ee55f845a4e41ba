"""Contacts coming in and moving: CSV reading, import with COPY, phone numbers, transfer.

May import the kernel (model, errors); ``dialer.store``, ``dialer.cli`` and the API use it. Must never import
``dialer.store``, ``dialer.campaign`` or ``dialer.cli``.
"""
