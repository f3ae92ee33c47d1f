from mlops_assets.cli import main

raise SystemExit(main())
