"""The web chat (Gradio). Until the chat-UI issue lands this is a placeholder
that points to the terminal chat instead of failing."""

from __future__ import annotations

import sys


def main() -> int:
    print(
        "The web chat is not built yet. Meanwhile ask in the terminal:\n"
        "  assistant chat        (or: make run)\n"
        '  assistant ask "微信小店的GMV增长了多少？"',
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
