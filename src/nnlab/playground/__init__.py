"""``nnlab playground``: a browser playground on nnlab's own engine.

A Starlette app (``server.create_app``) served by uvicorn on 127.0.0.1. The page (static HTML, CSS
and plain JavaScript in ``static/``, nothing fetched from the internet) sends its settings over a
WebSocket; the server checks them (``settings``), builds the data (``data``) and trains with the
engine (``lab``), streaming snapshots back: the decision boundary, each hidden unit's output, the
weights and the loss and accuracy curves.
"""

from .settings import Limits, Settings, SettingsError, parse_compare, parse_settings

__all__ = ["Limits", "Settings", "SettingsError", "parse_compare", "parse_settings"]
