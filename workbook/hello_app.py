"""The yardstick of `make bench LESSON=11`: the smallest FastAPI app there is.

One route, no middleware, no dependencies. Served by the same uvicorn as the
stage, what it answers per second is the most any FastAPI app could answer there.
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
