"""``python -m sipsniff``."""

from .cli import main

main()
