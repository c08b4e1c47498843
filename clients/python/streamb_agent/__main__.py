"""python3 -m streamb_agent: a ready agent that prints every event it gets as
one JSON line and answers it (as streamb-agent does for C++):

    python3 -m streamb_agent --url ws://127.0.0.1:8080/api/v1/agents/ws \\
        --name db-1 --role database --subscribe database_coordination

The key comes from --key or STREAMB_AGENT_KEY. Exit status 1 when the node
refuses the registration for good, 0 on SIGINT/SIGTERM (after leaving).
"""

import argparse
import asyncio
import json
import os
import signal
import sys

from . import Agent, AgentRefused, Answer


def print_line(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m streamb_agent",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--url", action="append", required=True,
                   help="a node's ws:// or wss:// agent endpoint; repeat for "
                        "several nodes (tried in turn)")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--subscribe", required=True,
                   help="event types, comma-separated")
    p.add_argument("--key", default=os.environ.get("STREAMB_AGENT_KEY"),
                   help="an API key of role agent (also the registration "
                        "token unless --token is given)")
    p.add_argument("--token", default=None)
    p.add_argument("--reply", default="ok",
                   help="ok, fail, or delay:MS (answer ok after MS ms)")
    p.add_argument("--answer", default=None,
                   help="a JSON object every answer's result carries "
                        "(e.g. findings)")
    args = p.parse_args(argv)
    if args.answer is not None:
        extra = json.loads(args.answer)
        if not isinstance(extra, dict):
            p.error("--answer must be a JSON object")
        args.answer = extra
    if not (args.reply in ("ok", "fail") or args.reply.startswith("delay:")):
        p.error("--reply must be ok, fail or delay:MS")
    return args


async def main(args):
    delay = 0.0
    if args.reply.startswith("delay:"):
        delay = int(args.reply[6:]) / 1000.0

    async def handle(event):
        print_line({"agent": args.name, "event": event})
        if delay:
            await asyncio.sleep(delay)
        result = dict(args.answer or {}, handledBy=args.name)
        return Answer("failed" if args.reply == "fail" else "ok", result)

    def on_connection(what, detail):
        print_line({"agent": args.name, what: detail})

    agent = Agent(args.url, args.name, args.role,
                  [s for s in args.subscribe.split(",") if s],
                  key=args.key, token=args.token, handler=handle,
                  on_connection=on_connection)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = asyncio.ensure_future(agent.run())
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({runner, stopper},
                                 return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        try:
            runner.result()
        except AgentRefused:
            return 1
        return 0
    await agent.stop()
    runner.cancel()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args(sys.argv[1:]))))
