"""Decisions from the store, shared by the CLI (`harness ranks`, `harness pick`) and the board.

- ``load``: the current runs of the selected tasks, read-only, with the store's version;
- ``ranks``: mean, rank, 95% rank interval from a seeded two-level bootstrap, the tie groups;
- ``meta``: model metadata (parameters, licence, open weights, max tokens); unknown stays unknown;
- ``pick``: the best entry under a budget, its ties, and what relaxing each constraint buys;
- ``texts``: query and document texts (documents verified against the run's data checksum);
- ``hard``: the queries nearly every entry fails;
- ``hardware``: which machine each run's costs come from.
"""
