from at_tui.cli import main

raise SystemExit(main())
