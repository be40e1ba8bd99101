"""The code location's definitions, one module per domain, loaded automatically by `dg.load_defs` (the `dg`
project layout: `dg check defs`, `dg dev`). Each module holds one `dg.Definitions` of its domain's assets, checks,
jobs, schedules and sensors; the objects themselves live in the domain packages beside the code they run."""
