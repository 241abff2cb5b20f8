"""The web chat at http://127.0.0.1:7860: ``python ui.py`` (or ``make run``).

The app itself is built by :func:`assistant.serve.webui.create_app` (re-exported
here); this script only reads the settings from the environment and launches
it. ``assistant serve`` serves the same chat together with the JSON API.
"""

from __future__ import annotations

from assistant.cli import load_settings, reports_errors
from assistant.serve.access import ui_logins
from assistant.serve.server import LOGIN_MESSAGE
from assistant.serve.webui import APP_CSS, APP_JS, ChatHandlers, create_app

__all__ = ["ChatHandlers", "create_app", "main"]


@reports_errors
def main() -> None:
    """Launch the chat alone; a bad setting is a message and exit code, not a trace."""
    settings = load_settings()
    app = create_app(settings)
    app.launch(  # the queue is configured by create_app (size, concurrency)
        server_name=settings.ui_host,
        server_port=settings.ui_port,
        max_file_size=settings.max_upload_bytes,
        show_error=False,  # only the app's own messages reach a browser
        auth=ui_logins(settings),
        auth_message=LOGIN_MESSAGE,
        css=APP_CSS,
        js=APP_JS,
    )


if __name__ == "__main__":
    main()
