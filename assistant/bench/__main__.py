"""``python -m assistant.bench``: run the benchmarks (see :mod:`.main`)."""

from .main import main

main()
