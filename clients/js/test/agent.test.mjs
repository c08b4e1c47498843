// The JavaScript reference agent against a real streamb node (the built
// binary, loopback only): registration, answers, failures, batching,
// refusal, failover, reports, the CLI, and the key header.
//
//     cd clients/js && node --experimental-websocket --test test/
//
// STREAMB_BINARY and STREAMB_SOURCE_DIR choose the binary and the checkout
// (default: this checkout, and its build/streamb). Every wait is bounded;
// every node started here is killed in an after hook.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Agent, AgentRefused, Answer, agentTicket } from "../streamb-agent.mjs";

const SOURCE_DIR = process.env.STREAMB_SOURCE_DIR
  || fileURLToPath(new URL("../../..", import.meta.url));
const BINARY =
  process.env.STREAMB_BINARY || path.join(SOURCE_DIR, "build", "streamb");
const CONFIG = path.join(SOURCE_DIR, "config", "streamb.json");
const CLI = fileURLToPath(new URL("../cli.mjs", import.meta.url));
const PREFIX = "/api/v1/stream-b-coordination";

const NODE_START_MS = 12000;
const TEST_MS = 15000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something truthy; throws after `ms`. */
async function waitFor(probe, ms, what) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`${what} within ${ms} ms; last: ${
        last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(50);
  }
}

/** A streamb node on free loopback ports, killed by `kill()`. */
async function startNode(configPath = CONFIG) {
  const proc = spawn(
    BINARY,
    ["run", "--config", configPath, "--http-port", "0", "--actor-port", "0"],
    { cwd: SOURCE_DIR, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const killOnExit = () => proc.kill("SIGKILL");
  process.on("exit", killOnExit);
  const port = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`the node did not serve within ${NODE_START_MS} ms:\n${stderr}`));
    }, NODE_START_MS);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /serving http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${BINARY}: ${e.message}`));
    });
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the node exited (${code ?? signal}):\n${stderr}`));
    });
  });
  proc.stdout.resume();
  const base = `http://127.0.0.1:${port}`;
  return {
    port,
    base,
    ws: `ws://127.0.0.1:${port}/api/v1/agents/ws`,
    async kill() {
      process.off("exit", killOnExit);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
    async json(method, p, body, headers = {}) {
      const res = await fetch(base + p, {
        method,
        headers: { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}

/** Sends an event for one role only, so that tests do not see each other's. */
async function sendEvent(node, role, payload = { n: 1 }) {
  const r = await node.json("POST", `${PREFIX}/coordination/send-event`, {
    type: "database_coordination",
    target: { role },
    payload,
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.id;
}

async function eventRecord(node, id) {
  const r = await node.json("GET", `/api/v1/coordination/events/${id}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function waitCompleted(node, id, ms = 8000) {
  return waitFor(async () => {
    const rec = await eventRecord(node, id);
    return rec.state === "completed" ? rec : null;
  }, ms, `event ${id} completed`);
}

async function agentState(node, name) {
  const r = await node.json("GET", `${PREFIX}/agents/status`);
  return r.body.agents.find((a) => a.name === name)?.state ?? null;
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Runs an agent for the length of `body`; stops it whatever happens. */
async function withAgent(options, body) {
  const seen = [];
  const agent = new Agent({
    firstBackoffMs: 50,
    maxBackoffMs: 300,
    ...options,
    onConnection: (what, detail) => {
      seen.push({ what, detail });
      options.onConnection?.(what, detail);
    },
  });
  const running = agent.run();
  running.catch(() => {}); // a test that expects a rejection awaits it
  try {
    return await body(agent, running, seen);
  } finally {
    await agent.stop();
    await Promise.race([running.catch(() => {}), sleep(3000)]);
  }
}

/** Every WebSocket message an agent sends, for tests that read frames. */
function spyingWebSocket(sent) {
  return class extends WebSocket {
    send(data) {
      sent.push(JSON.parse(data));
      super.send(data);
    }
  };
}

describe("against a node", { timeout: 120000 }, () => {
  let node;
  before(async () => {
    node = await startNode();
  }, { timeout: NODE_START_MS + 3000 });
  after(async () => {
    await node?.kill();
  }, { timeout: 10000 });

  test("registers, gets an event and answers it with the handler's value",
       { timeout: TEST_MS }, async () => {
    const events = [];
    await withAgent({
      urls: node.ws,
      name: "js-1",
      role: "js-basic",
      subscriptions: ["database_coordination"],
      handler: async (event, ctx) => {
        events.push({ event, ctx });
        return { handledBy: "js-1", n: event.payload.n };
      },
    }, async (agent, _running, seen) => {
      assert.equal(await agent.waitRegistered(5000), "agent-js-1");
      assert.deepEqual(seen[0], { what: "registered", detail: "agent-js-1" });
      assert.equal(agent.heartbeatIntervalMs, 5000);
      assert.match(agent.session, /^[0-9a-f]{32}$/);
      const id = await sendEvent(node, "js-basic");
      const rec = await waitCompleted(node, id);
      assert.equal(rec.deliveries.length, 1);
      assert.equal(rec.deliveries[0].agent, "js-1");
      assert.equal(rec.deliveries[0].status, "ok");
      assert.deepEqual(rec.deliveries[0].response, { handledBy: "js-1", n: 1 });
      // The handler sees the event, not the delivery's fields.
      assert.equal(events.length, 1);
      const { event, ctx } = events[0];
      assert.equal(event.id, id);
      assert.equal(event.type, "database_coordination");
      assert.deepEqual(event.payload, { n: 1 });
      for (const k of ["v", "op", "attempt", "delivery", "deadline"])
        assert.equal(k in event, false, k);
      assert.equal(ctx.attempt, 1);
      assert.ok(ctx.deadline > Date.now());
      assert.equal(ctx.signal.aborted, false);
      await agent.stop();
      assert.equal(ctx.signal.aborted, true);
      // stop() left: the node knows at once.
      await waitFor(async () => (await agentState(node, "js-1")) === "disconnected",
                    3000, "js-1 disconnected");
    });
  });

  test("a handler that throws answers failed with its message; an Answer " +
       "sets the status", { timeout: TEST_MS }, async () => {
    await withAgent({
      urls: [node.ws],
      name: "js-fail",
      role: "js-fail",
      subscriptions: ["database_coordination"],
      handler: (event) => {
        if (event.payload.n === 1) throw new Error("the database is away");
        return new Answer("failed", { why: "explicit" });
      },
    }, async (agent) => {
      await agent.waitRegistered(5000);
      for (const [n, want] of [[1, { error: "the database is away" }],
                               [2, { why: "explicit" }]]) {
        const id = await sendEvent(node, "js-fail", { n });
        const rec = await waitFor(async () => {
          const r = await eventRecord(node, id);
          return r.deliveries[0]?.answeredAt ? r : null;
        }, 8000, `a delivery of ${id} answered`);
        assert.equal(rec.deliveries[0].status, "failed", JSON.stringify(rec));
        assert.deepEqual(rec.deliveries[0].response, want);
      }
    });
  });

  test("answers ready together go in one frame, and all complete",
       { timeout: TEST_MS }, async () => {
    const sent = [];
    const count = 5;
    const waiting = [];
    await withAgent({
      urls: [node.ws],
      name: "js-batch",
      role: "js-batch",
      subscriptions: ["database_coordination"],
      WebSocket: spyingWebSocket(sent),
      // Held until all have come (or 5 s), then released at once.
      handler: (event) => new Promise((resolve) => {
        waiting.push(() => resolve({ n: event.payload.n }));
        if (waiting.length === count) for (const w of waiting) w();
        setTimeout(() => resolve({ n: event.payload.n, late: true }), 5000);
      }),
    }, async (agent) => {
      await agent.waitRegistered(5000);
      const ids = [];
      for (let n = 0; n < count; n++) ids.push(await sendEvent(node, "js-batch", { n }));
      const recs = [];
      for (const id of ids) recs.push(await waitCompleted(node, id));
      recs.forEach((rec, n) =>
        assert.deepEqual(rec.deliveries[0].response, { n }));
      const answerFrames = sent.filter((f) => f.op === "answer");
      assert.equal(answerFrames.length, 1, JSON.stringify(answerFrames));
      assert.equal(answerFrames[0].v, 1);
      assert.equal(answerFrames[0].answers.length, count);
      for (const a of answerFrames[0].answers) {
        assert.equal(a.status, "ok");
        assert.equal(typeof a.delivery, "number");
      }
    });
  });

  test("answers are cut to the node's frame limit; one too big fails",
       { timeout: TEST_MS }, async () => {
    const sent = [];
    const count = 4;
    const waiting = [];
    const filler = "x".repeat(700);
    await withAgent({
      urls: [node.ws],
      name: "js-size",
      role: "js-size",
      subscriptions: ["database_coordination"],
      maxFrameBytes: 2000,
      WebSocket: spyingWebSocket(sent),
      handler: (event) => new Promise((resolve) => {
        const n = event.payload.n;
        // Event 0 answers more than a frame may carry.
        const result = n === 0 ? { big: filler.repeat(4) } : { n, filler };
        waiting.push(() => resolve(result));
        if (waiting.length === count) for (const w of waiting) w();
        setTimeout(() => resolve(result), 5000);
      }),
    }, async (agent) => {
      await agent.waitRegistered(5000);
      const ids = [];
      for (let n = 0; n < count; n++) ids.push(await sendEvent(node, "js-size", { n }));
      for (const id of ids.slice(1)) {
        const rec = await waitCompleted(node, id);
        assert.equal(rec.deliveries[0].response.filler, filler);
      }
      const first = await waitFor(async () => {
        const r = await eventRecord(node, ids[0]);
        return r.deliveries[0]?.answeredAt ? r : null;
      }, 8000, "the big answer's delivery answered");
      assert.equal(first.deliveries[0].status, "failed");
      assert.match(first.deliveries[0].response.error, /bytes/);
      const frames = sent.filter((f) => f.op === "answer");
      assert.ok(frames.length >= 2, `${frames.length} answer frames`);
      for (const f of frames)
        assert.ok(Buffer.byteLength(JSON.stringify(f)) <= 2000);
    });
  });

  test("events that waited for the agent are handled when it registers",
       { timeout: TEST_MS }, async () => {
    const options = {
      urls: [node.ws],
      name: "js-early",
      role: "js-early",
      subscriptions: ["database_coordination"],
      handler: () => ({ early: true }),
    };
    // Known to the node, then gone: its role's events wait for it.
    await withAgent(options, (agent) => agent.waitRegistered(5000));
    await waitFor(async () => (await agentState(node, "js-early")) === "disconnected",
                  3000, "js-early disconnected");
    const id = await sendEvent(node, "js-early");
    await sleep(200);
    assert.equal((await eventRecord(node, id)).state !== "completed", true);
    await withAgent(options, async (agent) => {
      await agent.waitRegistered(5000);
      const rec = await waitCompleted(node, id);
      assert.deepEqual(rec.deliveries.at(-1).response, { early: true });
    });
  });

  test("a registration refused for good rejects run() with AgentRefused",
       { timeout: TEST_MS }, async () => {
    await withAgent({
      urls: [node.ws],
      name: "js-refused",
      role: "js-refused",
      subscriptions: ["no_such_type"],
    }, async (agent, running, seen) => {
      const registered = agent.waitRegistered(5000);
      await assert.rejects(running, (e) => {
        assert.ok(e instanceof AgentRefused);
        assert.equal(e.code, "invalid_argument");
        assert.ok(e.detail.length > 0);
        return true;
      });
      await assert.rejects(registered, AgentRefused);
      assert.equal(seen.at(-1).what, "refused");
      assert.match(seen.at(-1).detail, /^invalid_argument: /);
    });
  });

  test("fails over from a closed port to the next node URL",
       { timeout: TEST_MS }, async () => {
    const dead = `ws://127.0.0.1:${await closedPort()}/api/v1/agents/ws`;
    await withAgent({
      urls: [dead, node.ws],
      name: "js-failover",
      role: "js-failover",
      subscriptions: ["database_coordination"],
      handler: () => ({ via: "second" }),
    }, async (agent, _running, seen) => {
      await agent.waitRegistered(8000);
      assert.equal(seen[0].what, "disconnected");
      assert.ok(seen[0].detail.startsWith(dead), seen[0].detail);
      assert.equal(seen[1].what, "registered");
      const rec = await waitCompleted(node, await sendEvent(node, "js-failover"));
      assert.deepEqual(rec.deliveries[0].response, { via: "second" });
    });
  });

  test("report(samples) reaches the service's monitor",
       { timeout: TEST_MS }, async () => {
    await withAgent({
      urls: [node.ws],
      name: "js-report",
      role: "js-report",
      subscriptions: ["webhook"],
    }, async (agent) => {
      await assert.rejects(
        new Agent({ urls: node.ws, name: "x", role: "x", subscriptions: [] })
          .report([]),
        /not registered/);
      await agent.waitRegistered(5000);
      await agent.report([
        { service: "twilio", endpoint: "/sms", latencyMs: 120, status: 200 },
      ]);
      await waitFor(async () => {
        const r = await node.json("GET", `${PREFIX}/metrics/realtime`);
        return r.body.services.twilio.calls === 1;
      }, 10000, "services.twilio.calls == 1");
    });
  });

  test("the CLI prints its registration and its events, answers, and " +
       "leaves on SIGTERM", { timeout: TEST_MS }, async () => {
    const child = spawn(process.execPath, [
      "--experimental-websocket", CLI,
      "--url", node.ws, "--name", "js-cli", "--role", "js-cli",
      "--subscribe", "database_coordination,webhook",
      "--answer", '{"findings":[]}',
    ], { stdio: ["ignore", "pipe", "pipe"] });
    const lines = [];
    let buffer = "";
    child.stdout.on("data", (d) => {
      buffer += d;
      let i;
      while ((i = buffer.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, i)));
        buffer = buffer.slice(i + 1);
      }
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = once(child, "exit");
    try {
      await waitFor(() => lines.length > 0, 8000, `a line (stderr: ${stderr})`);
      assert.deepEqual(lines[0], { agent: "js-cli", registered: "agent-js-cli" });
      const id = await sendEvent(node, "js-cli", { n: 7 });
      const line = await waitFor(() => lines.find((l) => l.event), 5000,
                                 "an event line");
      assert.equal(line.agent, "js-cli");
      assert.equal(line.event.id, id);
      assert.deepEqual(line.event.payload, { n: 7 });
      assert.equal("delivery" in line.event, false);
      const rec = await waitCompleted(node, id);
      assert.deepEqual(rec.deliveries[0].response,
                       { findings: [], handledBy: "js-cli" });
      child.kill("SIGTERM");
      const [code] = await exited;
      assert.equal(code, 0, stderr);
      await waitFor(async () => (await agentState(node, "js-cli")) === "disconnected",
                    3000, "js-cli disconnected");
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("the CLI exits 1 when refused", { timeout: TEST_MS }, async () => {
    const child = spawn(process.execPath, [
      "--experimental-websocket", CLI,
      "--url", node.ws, "--name", "bad name!", "--role", "r",
      "--subscribe", "webhook",
    ], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
    const [code] = await once(child, "exit");
    clearTimeout(timer);
    assert.equal(code, 1);
    const line = JSON.parse(out.trim().split("\n").at(-1));
    assert.equal(line.agent, "bad name!");
    assert.match(line.refused, /^invalid_argument: /);
  });
});

describe("against a node that needs an agent key", { timeout: 60000 }, () => {
  const hash = (s) => createHash("sha256").update(s).digest("hex");
  const agentKey = `js-agent-${randomBytes(16).toString("hex")}`;
  let node;
  let dir;
  before(async () => {
    const cfg = JSON.parse(fs.readFileSync(CONFIG, "utf8"));
    cfg.auth = { tokens: [], open_reads: true, allow_unauthenticated: false };
    cfg.agents.token_sha256 = hash(agentKey);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamb-js-"));
    const file = path.join(dir, "streamb.json");
    fs.writeFileSync(file, JSON.stringify(cfg));
    node = await startNode(file);
  }, { timeout: NODE_START_MS + 3000 });
  after(async () => {
    await node?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 10000 });

  test("the key goes as Authorization: Bearer and as the token",
       { timeout: TEST_MS }, async () => {
    const sent = [];
    await withAgent({
      urls: [node.ws],
      name: "js-keyed",
      role: "js-keyed",
      subscriptions: ["webhook"],
      key: agentKey,
      WebSocket: spyingWebSocket(sent),
    }, async (agent) => {
      assert.equal(await agent.waitRegistered(5000), "agent-js-keyed");
      assert.equal(sent[0].op, "register");
      assert.equal(sent[0].token, agentKey);
    });
  });

  test("a wrong key is refused at the upgrade, and the agent keeps trying",
       { timeout: TEST_MS }, async () => {
    await withAgent({
      urls: [node.ws],
      name: "js-wrong",
      role: "js-wrong",
      subscriptions: ["webhook"],
      key: "wrong",
    }, async (agent, _running, seen) => {
      await waitFor(() => seen.length >= 2, 5000, "two failed connections");
      for (const s of seen) {
        assert.equal(s.what, "disconnected");
        assert.match(s.detail, /connection failed/);
      }
      assert.equal(agent.registered, false);
    });
  });

  test("an agent ticket asked with the key opens the socket without a header",
       { timeout: TEST_MS }, async () => {
    const opened = [];
    class Recording extends WebSocket {
      constructor(url, ...rest) {
        super(url, ...rest);
        opened.push({ url, rest });
      }
    }
    // What a browser's Agent does with a key (see the test below).
    await withAgent({
      urls: [node.ws],
      name: "js-browser",
      role: "js-browser",
      subscriptions: ["webhook"],
      ticket: (url) => agentTicket(url, agentKey),
      token: agentKey,
      WebSocket: Recording,
    }, async (agent) => {
      assert.equal(await agent.waitRegistered(5000), "agent-js-browser");
      assert.match(new URL(opened[0].url).searchParams.get("ticket"),
                   /^sbt_/);
      assert.deepEqual(opened[0].rest, []);
    });
    // A key the node does not take is refused for good, not retried.
    await assert.rejects(agentTicket(node.ws, "wrong"), AgentRefused);
  });

  test("a ticket function is asked for every connection, into the URL",
       { timeout: TEST_MS }, async () => {
    const opened = [];
    class Recording extends WebSocket {
      constructor(url, ...rest) {
        super(url, ...rest);
        opened.push({ url, rest });
      }
    }
    let n = 0;
    await withAgent({
      urls: [node.ws],
      name: "js-ticket",
      role: "js-ticket",
      subscriptions: ["webhook"],
      ticket: async () => `t${++n}`,
      token: agentKey,
      WebSocket: Recording,
    }, async (_agent, _running, seen) => {
      await waitFor(() => seen.length >= 2, 5000, "two failed connections");
      assert.equal(new URL(opened[0].url).searchParams.get("ticket"), "t1");
      assert.equal(new URL(opened[1].url).searchParams.get("ticket"), "t2");
      // No key: no headers argument, as a browser's WebSocket needs.
      assert.deepEqual(opened[0].rest, []);
    });
  });
});

test("in a browser a key asks for an agent ticket before each connection",
     async () => {
  const versions = process.versions;
  // As in a browser: no process.versions.node.
  Object.defineProperty(process, "versions", { value: {}, configurable: true });
  try {
    const a = new Agent({ urls: "ws://127.0.0.1:1/", name: "b", role: "b",
                          subscriptions: [], key: "k" });
    assert.equal(typeof a.ticket, "function");
    assert.equal(a.token, "k");
    assert.equal(a._headers, false);
    // A ticket of its own is kept.
    const b = new Agent({ urls: "ws://127.0.0.1:1/", name: "b", role: "b",
                          subscriptions: [], key: "k", ticket: "t" });
    assert.equal(b.ticket, "t");
  } finally {
    Object.defineProperty(process, "versions", { value: versions,
                                                 configurable: true });
  }
});

/**
 * A stand-in for the node, for what a real node does only in races or
 * rarely: `script(frame, socket)` answers each frame the agent sends.
 */
function fakeNode(script) {
  const sockets = [];
  class FakeWebSocket extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
      setTimeout(() => {
        this.readyState = 1;
        this.dispatchEvent(new Event("open"));
      }, 1);
    }
    send(data) {
      const frame = JSON.parse(data);
      this.sent.push(frame);
      setTimeout(() => script(frame, this), 1);
    }
    push(frame) {
      if (this.readyState !== 1) return;
      this.dispatchEvent(new MessageEvent("message", {
        data: JSON.stringify({ v: 1, ...frame }) }));
    }
    close(code = 1000) {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      setTimeout(() => this.dispatchEvent(
        Object.assign(new Event("close"), { code })), 1);
    }
  }
  return { FakeWebSocket, sockets };
}

const welcome = (n) => ({ op: "welcome", agentId: "agent-f", session: `s${n}`,
                          heartbeatIntervalMs: 5000, node: "fake" });
const fakeEvent = (id, delivery) => ({
  op: "event", id, type: "webhook", priority: "normal", source: "x",
  createdAt: 1, target: "", payload: null, attempt: 1, delivery,
  deadline: Date.now() + 10000 });

describe("against a stand-in node", { timeout: 30000 }, () => {
  test("events before the welcome are handled after it", { timeout: TEST_MS },
       async () => {
    const order = [];
    const { FakeWebSocket, sockets } = fakeNode((frame, ws) => {
      if (frame.op === "register") {
        ws.push(fakeEvent("e1", 1));
        ws.push(welcome(1));
      }
    });
    await withAgent({
      urls: ["ws://fake/"], name: "f", role: "f", subscriptions: ["webhook"],
      WebSocket: FakeWebSocket,
      handler: (event) => {
        order.push(`event ${event.id}`);
        return { got: event.id };
      },
      onConnection: (what) => order.push(what),
    }, async () => {
      const answer = await waitFor(
        () => sockets[0].sent.find((f) => f.op === "answer"), 3000, "an answer");
      assert.deepEqual(order, ["registered", "event e1"]);
      assert.deepEqual(answer, { v: 1, op: "answer", eventId: "e1",
                                 delivery: 1, status: "ok",
                                 result: { got: "e1" } });
    });
  });

  test("not_registered closes and registers again; the node's leave is " +
       "told once", { timeout: TEST_MS }, async () => {
    let registrations = 0;
    const { FakeWebSocket, sockets } = fakeNode((frame, ws) => {
      if (frame.op !== "register") return;
      registrations += 1;
      ws.push(welcome(registrations));
      if (registrations === 1)
        ws.push({ op: "error", code: "not_registered", message: "gone",
                  frame: "heartbeat" });
      if (registrations === 2) {
        ws.push({ op: "leave", reason: "key revoked" });
        ws.close(1008);
      }
    });
    await withAgent({
      urls: ["ws://fake/"], name: "f", role: "f", subscriptions: ["webhook"],
      WebSocket: FakeWebSocket, firstBackoffMs: 10,
    }, async (_agent, _running, seen) => {
      await waitFor(() => registrations >= 3, 5000, "three registrations");
      const told = seen.slice(0, 4).map((s) => `${s.what}: ${s.detail}`);
      assert.deepEqual(told, [
        "registered: agent-f",
        "disconnected: closed (1000)",
        "registered: agent-f",
        "disconnected: the node ended the registration: key revoked",
      ]);
      assert.equal(sockets.length >= 3, true);
    });
  });

  test("heartbeats go every heartbeatIntervalMs", { timeout: TEST_MS },
       async () => {
    const { FakeWebSocket, sockets } = fakeNode((frame, ws) => {
      if (frame.op === "register")
        ws.push({ ...welcome(1), heartbeatIntervalMs: 100 });
    });
    await withAgent({
      urls: ["ws://fake/"], name: "f", role: "f", subscriptions: [],
      WebSocket: FakeWebSocket,
    }, async (agent) => {
      await agent.waitRegistered(2000);
      await sleep(450);
      const beats = sockets[0].sent.filter((f) => f.op === "heartbeat");
      assert.ok(beats.length >= 3 && beats.length <= 5, `${beats.length}`);
      assert.deepEqual(beats[0], { v: 1, op: "heartbeat" });
    });
    assert.deepEqual(sockets[0].sent.at(-1), { v: 1, op: "leave" });
  });
});
