"""``prism serve``: the HTTP feed service over the published snapshots (Starlette + uvicorn).

Reads only what ``sinks`` published (complete, sealed snapshots); no Dagster.
"""
