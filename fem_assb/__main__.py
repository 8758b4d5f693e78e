from fem_assb.cli import main

raise SystemExit(main())
