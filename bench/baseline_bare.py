"""Baseline: bare FastAPI, one route, no middleware. Served exactly like the baked app.

``uvicorn --app-dir bench baseline_bare:app --loop uvloop --http httptools --no-access-log``
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
