"""Downloads: BEIR zips by URL or task name, MTEB tasks through mteb's loader (`harness data`)."""
