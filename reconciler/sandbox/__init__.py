"""The embedded sandbox site: a stateful simulation of the Jira platform, JSM CSM and JSM Ops APIs.

It serves the URL layout of docs/CLI.md from one HTTP/1.1 server that keeps connections open, so the
real client talks to it over HTTP exactly as it talks to Atlassian Cloud. `app.py` is the WSGI application
(`SandboxSite`), `server.py` serves it, `seed.py` reads seeds, and one module per API family answers.
"""
