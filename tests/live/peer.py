"""A second server process for the two-process Redis tests (run by them, not collected).

``peer.py publish URL PREFIX CHANNEL JSON``: publish one event through a RedisBroker.
``peer.py listen URL PREFIX CHANNEL``: subscribe, print ``ready``, print the first event's JSON.
"""

from __future__ import annotations

import asyncio
import sys

from lastmile.live import LiveEvent, RedisBroker


async def listen(broker: RedisBroker, channel: str) -> None:
    await broker.start()
    async with broker.subscribe(channel) as sub:
        print("ready", flush=True)
        event = await asyncio.wait_for(anext(sub), 10)
        print(event.to_json(), flush=True)
    await broker.stop()


def main(mode: str, url: str, prefix: str, channel: str, *rest: str) -> None:
    broker = RedisBroker(url, prefix)
    if mode == "publish":
        broker.publish(channel, LiveEvent.from_json(rest[0]))
    else:
        asyncio.run(listen(broker, channel))


if __name__ == "__main__":
    main(*sys.argv[1:])
