"""The web app: server-rendered pages for people, beside the API in the same server."""
