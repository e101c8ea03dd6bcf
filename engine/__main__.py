from engine.service.command import main

raise SystemExit(main())
