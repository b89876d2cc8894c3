"""``python -m costwarden`` is the same as the ``costwarden`` console script."""

from costwarden.cli.main import main

raise SystemExit(main())
