"""Services: one run of a capability (the reaper, the tag audit), wiring adapters to logic for handlers and the CLI."""
