"""``dosim dev``: the local development server, and the other ``dosim`` commands' helpers.

The server (needs the ``dev`` extra: ``pip install 'dosim[dev]'``) serves a Worker over
real HTTP on 127.0.0.1 with real time, keeps every object's storage in SQLite files
under ``<app>/.dosim/state/``, reloads the app when its Python files change, and shows
a read-only inspector at ``/__dosim/``. One module per job:

=====================  ==============================================================
``server``             :class:`~dosim.dev.server.DevServer`: builds the app, serves it
``realtime``           drives the app's virtual clock from the wall clock
``state``              where state lives; applying migrations to it
``bridge``             HTTP request/response conversion, body limit, error pages
``httpprotocol``       uvicorn's HTTP protocol with the header limit and read timeouts
``websocket_seam``     bridges real WebSockets to the simulated client ends
``requestlog``         one log line per request, with the objects it touched
``tracebuffer``        the recent trace events, for the inspector's live view
``names``              object names seen, remembered across restarts (display only)
``web``                the small ASGI layer: requests, responses, routes, WebSockets
``inspector``          the ``/__dosim/`` page and its JSON API
``reload``             watching files (polling, standard library) and rebuilding the app
``ports``              checking the port is free before start-up, with a hint
``templates``          ``dosim new``: copying a starter app
``runner``             ``dosim run``: a Python file with top-level ``await``, as the sandbox
=====================  ==============================================================

Only ``server``, ``httpprotocol`` and ``stopping`` import the ``dev`` extra's packages
(uvicorn and h11; uvicorn finds ``websockets`` itself); the rest is stdlib, so ``dosim
new`` and ``dosim run`` work without it.
(``dosim migrate --check`` lives in the core, in :mod:`dosim.migrations`.) The simulator
core never imports this package.
"""
