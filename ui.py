"""The web chat at http://127.0.0.1:7860: ``python ui.py`` (or ``make run``).

The app itself is built by :func:`assistant.webui.create_app` (re-exported
here); this script only reads the settings from the environment and launches
it. ``assistant serve`` serves the same chat together with the JSON API.
"""

from __future__ import annotations

from assistant.settings import Settings
from assistant.webui import ChatHandlers, create_app

__all__ = ["ChatHandlers", "create_app", "main"]


def main() -> None:
    settings = Settings()
    app = create_app(settings)
    app.queue().launch(
        server_name=settings.ui_host,
        server_port=settings.ui_port,
        max_file_size=settings.max_upload_bytes,
        show_error=True,
    )


if __name__ == "__main__":
    main()
