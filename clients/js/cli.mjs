#!/usr/bin/env node
/**
 * A ready agent that prints every event it gets as one JSON line and
 * answers it, as `python3 -m streamb_agent` and streamb-agent (C++) do:
 *
 *     node --experimental-websocket clients/js/cli.mjs \
 *         --url ws://127.0.0.1:8080/api/v1/agents/ws \
 *         --name db-1 --role database --subscribe database_coordination
 *
 * The key comes from --key or STREAMB_AGENT_KEY. Exit status 1 when the
 * node refuses the registration for good, 0 on SIGINT/SIGTERM (after
 * leaving), 2 on bad arguments.
 */

import { parseArgs } from "node:util";
import { Agent, AgentRefused, Answer } from "./streamb-agent.mjs";

const USAGE = `usage: cli.mjs --url URL [--url URL ...] --name N --role R
       --subscribe TYPE[,TYPE...] [--key K] [--token T]
       [--reply ok|fail|delay:MS] [--answer JSON]`;

function printLine(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function fail(message) {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: "string", multiple: true },
        name: { type: "string" },
        role: { type: "string" },
        subscribe: { type: "string" },
        key: { type: "string" },
        token: { type: "string" },
        reply: { type: "string", default: "ok" },
        answer: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    fail(e.message);
  }
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  for (const k of ["url", "name", "role", "subscribe"])
    if (values[k] === undefined) fail(`--${k} is required`);
  let extra = {};
  if (values.answer !== undefined) {
    try {
      extra = JSON.parse(values.answer);
    } catch (e) {
      fail(`--answer: ${e.message}`);
    }
    if (extra === null || typeof extra !== "object" || Array.isArray(extra))
      fail("--answer must be a JSON object");
  }
  const reply = values.reply;
  let delayMs = 0;
  if (reply.startsWith("delay:")) {
    delayMs = Number(reply.slice(6));
    if (!Number.isInteger(delayMs) || delayMs < 0)
      fail("--reply must be ok, fail or delay:MS");
  } else if (reply !== "ok" && reply !== "fail") {
    fail("--reply must be ok, fail or delay:MS");
  }
  return {
    urls: values.url,
    name: values.name,
    role: values.role,
    subscriptions: values.subscribe.split(",").filter((s) => s),
    key: values.key ?? process.env.STREAMB_AGENT_KEY ?? null,
    token: values.token ?? null,
    fail: reply === "fail",
    delayMs,
    extra,
  };
}

async function main() {
  const args = parse(process.argv.slice(2));
  if (typeof globalThis.WebSocket !== "function")
    fail("this Node has no WebSocket: run it with --experimental-websocket " +
         "(Node 20) or use Node 22+");

  const agent = new Agent({
    urls: args.urls,
    name: args.name,
    role: args.role,
    subscriptions: args.subscriptions,
    key: args.key,
    token: args.token ?? undefined,
    handler: async (event) => {
      printLine({ agent: args.name, event });
      if (args.delayMs)
        await new Promise((r) => setTimeout(r, args.delayMs));
      return new Answer(args.fail ? "failed" : "ok",
                        { ...args.extra, handledBy: args.name });
    },
    onConnection: (what, detail) => printLine({ agent: args.name, [what]: detail }),
  });

  let stopping = null;
  const stop = () => {
    stopping ??= agent.stop();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  let code = 0;
  try {
    await agent.run();
    await stopping;
  } catch (e) {
    if (!(e instanceof AgentRefused)) throw e;
    code = 1;
  }
  // Pipes are written synchronously on POSIX; the callback covers the rest.
  process.stdout.write("", () => process.exit(code));
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
