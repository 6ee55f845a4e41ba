"""The web console: the agent desktop and the supervisor wallboard, served at ``/`` by the engine.

Why hand-written ES modules and CSS, no templates and no build: ``pip install`` must be all an
installation needs (no Node toolchain, no download at install or run time), and the console is
the HTTP API's first client, so every screen is a page of plain JavaScript that calls
``/api/v1`` exactly as any other client would; the server only hands out files. Server-side
templates would have put a second way of reading the engine's state beside the API. Modern
browsers load ES modules natively, so the source in ``static/js/`` is what runs.

Texts come from a JSON message catalogue per language (``static/i18n/en.json``, ``pl.json``;
a test checks both have every key and the same placeholders); the language follows a user
setting kept in the browser, else the browser's languages.
"""
