"""`python -m mlops_assets.simulate simulate --days 3 ...`: the simulate subcommand alone."""

from mlops_assets.simulate.cli import main

raise SystemExit(main())
