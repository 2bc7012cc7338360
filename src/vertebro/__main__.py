"""``python -m vertebro`` runs the command line."""

from vertebro.cli import main

main()
