from chartfix.cli import main

raise SystemExit(main())
