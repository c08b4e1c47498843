/**
 * A streamb agent in JavaScript, for Node.js (20 with
 * `--experimental-websocket`, 22+ as is) and browsers: connects to a node's
 * WebSocket agent endpoint (GET /api/v1/agents/ws, protocol version 1),
 * registers, sends heartbeats, hands every event to your handler and sends
 * its answer back, and reconnects (to the next of the given nodes, with
 * capped backoff) when the connection drops. The same design as the Python
 * reference agent (clients/python/streamb_agent).
 *
 *     import { Agent } from "./streamb-agent.mjs";
 *
 *     const agent = new Agent({
 *       urls: ["ws://127.0.0.1:8080/api/v1/agents/ws"],
 *       name: "db-1", role: "database",
 *       subscriptions: ["database_coordination"],
 *       key: "sk_...",
 *       handler: async (event) => ({ done: true }), // an answer "ok"
 *     });
 *     await agent.run();
 *
 * A handler returns the answer's `result` (any JSON value), or an `Answer`
 * to set the status; a throw (or a rejected promise) becomes a "failed"
 * answer carrying its message.
 *
 * No dependencies: only the platform's WebSocket, URL, TextEncoder and
 * timers.
 *
 * @module streamb-agent
 */

export const PROTOCOL_VERSION = 1;

/**
 * The node's default `node.http.ws_max_message_bytes`: a bigger message
 * makes it close the connection (1009), which would lose every answer of
 * the frame, so batches are cut to fit.
 */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/** At most this many answers in one frame (the node refuses more). */
const MAX_ANSWERS_PER_FRAME = 1000;

/** Refusals worth retrying: the node is starting or its store is away. */
const RETRYABLE = new Set(["unavailable", "timeout", "register_pending"]);

/** Fields of the event frame that are the delivery's, not the event's. */
const DELIVERY_FIELDS = new Set(["v", "op", "attempt", "delivery", "deadline"]);

const encoder = new TextEncoder();

/** An answer with an explicit status ("ok" or "failed"). */
export class Answer {
  /**
   * @param {"ok"|"failed"} [status]
   * @param {*} [result] any JSON value; undefined and null send none
   */
  constructor(status = "ok", result = undefined) {
    if (status !== "ok" && status !== "failed")
      throw new RangeError("status must be 'ok' or 'failed'");
    this.status = status;
    this.result = result;
  }
}

/**
 * The node refused the registration for good (wrong token, a live agent of
 * that name, a bad name or subscription): retrying would not help, so
 * run() rejects with it instead of reconnecting.
 */
export class AgentRefused extends Error {
  /**
   * @param {string} code the node's stable error code
   * @param {string} message
   */
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = "AgentRefused";
    this.code = code;
    this.detail = message;
  }
}

/**
 * Whether the platform's WebSocket takes `{headers}`: Node's (undici) and
 * Bun's do; a browser's cannot send an Authorization header at all and
 * would read the object as a subprotocol name.
 */
function platformSendsHeaders() {
  return typeof globalThis.process?.versions?.node === "string";
}

/**
 * A one-time ticket for the agents' WebSocket at `wsUrl`, asked with an
 * agent key (POST /api/v1/agents/ws/ticket): how a browser, whose
 * WebSocket cannot send an Authorization header, opens it. A ticket opens
 * one connection; the registration on it must carry the same key.
 * Rejects with AgentRefused when the node refuses the key (401/403).
 * @param {string} wsUrl ws:// or wss:// URL of the agents' endpoint
 * @param {string} key an agent key
 * @param {typeof fetch} [fetchImpl]
 * @returns {Promise<string>}
 */
export async function agentTicket(wsUrl, key, fetchImpl = globalThis.fetch) {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === "wss:" ? "https:" : "http:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/ticket`;
  u.search = "";
  const res = await fetchImpl(u.toString(), {
    method: "POST",
    headers: { Authorization: `Bearer ${key}` },
  });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // reported below
  }
  if (res.status === 401 || res.status === 403)
    throw new AgentRefused(
      body?.error?.code ?? "unauthorized",
      body?.error?.message ?? `HTTP ${res.status}`);
  if (res.status !== 201 || typeof body?.ticket !== "string")
    throw new Error(`no agent ticket: HTTP ${res.status}`);
  return body.ticket;
}

function compact(obj) {
  return JSON.stringify(obj);
}

/**
 * @typedef {object} EventContext
 * @property {number} attempt which delivery of the event this is (1, 2, ...)
 * @property {number} delivery the delivery number the answer must carry
 * @property {number} deadline epoch ms by which the answer must arrive
 *   (a later one is ignored by the node)
 * @property {AbortSignal} signal aborted when the connection that brought
 *   the event is gone: its answer could no longer be delivered
 */

/**
 * @typedef {object} AgentOptions
 * @property {string|string[]} urls ws:// or wss:// agent endpoints, tried
 *   in turn
 * @property {string} name
 * @property {string} role
 * @property {string[]} subscriptions event types
 * @property {string} [key] an agent key: sent as `Authorization: Bearer`
 *   (Node), or in a browser used to ask a one-time agent ticket for every
 *   connection (agentTicket); also the registration token unless `token`
 *   is given
 * @property {string|(() => string|Promise<string>)} [ticket] a one-time
 *   ticket appended as `?ticket=`, for browsers; a ticket opens one
 *   connection, so give a function to get a new one for every connection
 * @property {string} [token] the registration token (default: `key`)
 * @property {(event: object, context: EventContext) => *} [handler]
 * @property {(what: string, detail: string) => void} [onConnection] told
 *   "registered" (the agent id), "disconnected", "refused" and "error"
 * @property {number} [firstBackoffMs] default 100
 * @property {number} [maxBackoffMs] default 2000
 * @property {number} [openTimeoutMs] default 5000
 * @property {number} [registerTimeoutMs] default 15000
 * @property {number} [maxFrameBytes] default 65536, the node's
 *   `node.http.ws_max_message_bytes`
 * @property {typeof WebSocket} [WebSocket] another WebSocket class (e.g.
 *   the `ws` package's); it must take `{headers}` when `key` is given
 */

export class Agent {
  /** @param {AgentOptions} options */
  constructor(options) {
    const o = options ?? {};
    const urls = typeof o.urls === "string" ? [o.urls] : [...(o.urls ?? [])];
    if (urls.length === 0) throw new TypeError("at least one node URL");
    // A typo in a URL would otherwise be retried forever as a failed
    // connection.
    for (const u of urls) {
      let parsed = null;
      try {
        parsed = new URL(u);
      } catch {
        // reported below
      }
      if (!parsed || (parsed.protocol !== "ws:" && parsed.protocol !== "wss:"))
        throw new TypeError(`not a ws:// or wss:// URL: ${u}`);
    }
    for (const k of ["name", "role"])
      if (typeof o[k] !== "string" || o[k] === "")
        throw new TypeError(`'${k}' is required`);
    if (!Array.isArray(o.subscriptions))
      throw new TypeError("'subscriptions' must be an array of event types");
    this.urls = urls;
    this.name = o.name;
    this.role = o.role;
    this.subscriptions = [...o.subscriptions];
    this.key = o.key ?? null;
    this.ticket = o.ticket ?? null;
    // The registration token: the agent key itself unless told otherwise.
    this.token = o.token ?? this.key;
    this.handler = o.handler ?? (() => undefined);
    this.onConnection = o.onConnection ?? (() => {});
    this.firstBackoffMs = o.firstBackoffMs ?? 100;
    this.maxBackoffMs = o.maxBackoffMs ?? 2000;
    this.openTimeoutMs = o.openTimeoutMs ?? 5000;
    this.registerTimeoutMs = o.registerTimeoutMs ?? 15000;
    this.maxFrameBytes = o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.WebSocket = o.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocket !== "function")
      throw new TypeError(
        "no WebSocket class: on Node 20 run with --experimental-websocket " +
          "(Node 22+ has it), or pass options.WebSocket");
    // A browser's WebSocket cannot send an Authorization header: with a
    // key and no ticket of its own, it asks the node for a one-time agent
    // ticket before every connection and registers with the key.
    this._headers = Boolean(this.key) && (Boolean(o.WebSocket) || platformSendsHeaders());
    if (this.key && !this._headers && this.ticket === null) {
      const key = this.key;
      this.ticket = (url) => agentTicket(url, key);
    }
    /** @type {string|null} */
    this.agentId = null;
    /** @type {string|null} */
    this.session = null;
    /** @type {number|null} */
    this.heartbeatIntervalMs = null;

    this._ws = null;
    this._running = false;
    this._stopping = false;
    this._wake = null; // ends the backoff sleep early on stop()
    this._waiters = []; // waitRegistered() callers
  }

  /** True while the node has this agent registered on a live connection. */
  get registered() {
    return this.session !== null;
  }

  /**
   * Connects, and reconnects, until stop(); rejects with AgentRefused when
   * the node refuses the registration for good.
   * @returns {Promise<void>}
   */
  async run() {
    if (this._running) throw new Error("this agent runs already");
    this._running = true;
    this._stopping = false;
    let backoff = this.firstBackoffMs;
    let index = 0;
    try {
      while (!this._stopping) {
        const url = this.urls[index % this.urls.length];
        try {
          await this._connection(url);
          backoff = this.firstBackoffMs;
        } catch (e) {
          if (e instanceof AgentRefused) {
            this._settleWaiters(e);
            throw e;
          }
          this._disconnected(`${url}: ${e?.message ?? e}`);
        }
        if (this._stopping) break;
        index += 1;
        // Jitter spreads the reconnections of many agents after a node
        // restart.
        await this._sleep(backoff * (0.5 + Math.random() * 0.5));
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      }
    } finally {
      this._running = false;
    }
  }

  /**
   * Resolves with the agent id once registered; rejects after `timeoutMs`,
   * or with AgentRefused when the registration is refused for good.
   * @param {number} [timeoutMs]
   * @returns {Promise<string>}
   */
  waitRegistered(timeoutMs = 15000) {
    if (this.session !== null) return Promise.resolve(this.agentId);
    return new Promise((resolve, reject) => {
      const w = { resolve, reject, timer: null };
      w.timer = setTimeout(() => {
        this._waiters = this._waiters.filter((x) => x !== w);
        reject(new Error(`not registered within ${timeoutMs} ms`));
      }, timeoutMs);
      this._waiters.push(w);
    });
  }

  /**
   * Reports call samples (objects in the form of POST /api/v1/calls); the
   * node refuses the whole report (an "error" frame) if one is invalid.
   * @param {object[]} samples
   */
  async report(samples) {
    this._send({ op: "report", samples: [...samples] });
  }

  /**
   * Leaves (the node gives this agent's deliveries to others at once) and
   * stops reconnecting; resolves once the connection is closed.
   * @returns {Promise<void>}
   */
  async stop() {
    this._stopping = true;
    this._wake?.();
    const ws = this._ws;
    if (!ws) return;
    const closed = new Promise((resolve) => {
      if (ws.readyState === 3) return resolve();
      ws.addEventListener("close", () => resolve(), { once: true });
      // A node that does not answer the close handshake must not hold us.
      setTimeout(resolve, 2000).unref?.();
    });
    try {
      if (ws.readyState === 1)
        ws.send(compact({ v: PROTOCOL_VERSION, op: "leave" }));
      ws.close(1000, "leave");
    } catch {
      // closing already
    }
    await closed;
  }

  // -- one connection ------------------------------------------------------

  async _url(url) {
    if (this.ticket === null) return url;
    const t =
      typeof this.ticket === "function" ? await this.ticket(url) : this.ticket;
    if (!t) return url;
    const u = new URL(url);
    u.searchParams.set("ticket", t);
    return u.toString();
  }

  _open(url) {
    const Ws = this.WebSocket;
    const ws = this._headers
      ? new Ws(url, { headers: { Authorization: `Bearer ${this.key}` } })
      : new Ws(url);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        try {
          ws.close();
        } catch {
          // not open yet
        }
        reject(new Error(`not open within ${this.openTimeoutMs} ms`));
      }, this.openTimeoutMs);
      const onOpen = () => {
        done();
        resolve(ws);
      };
      // The platform says nothing more: a refused handshake (401, 403,
      // 503) and a closed port look alike. Node 20's WebSocket fires only
      // "error" (no "close") when the handshake is refused.
      const onFail = (e) => {
        done();
        try {
          ws.close();
        } catch {
          // failed already
        }
        reject(new Error(e.type === "close"
          ? `connection failed (${e.code})`
          : "connection failed (refused, or not a WebSocket endpoint)"));
      };
      const done = () => {
        clearTimeout(timer);
        ws.removeEventListener("open", onOpen);
        ws.removeEventListener("close", onFail);
        ws.removeEventListener("error", onFail);
      };
      ws.addEventListener("open", onOpen);
      ws.addEventListener("close", onFail);
      ws.addEventListener("error", onFail);
    });
  }

  /**
   * One connection, from open to close: resolves when it closes after a
   * registration, rejects when it fails before one.
   */
  async _connection(url) {
    const ws = await this._open(await this._url(url));
    if (this._stopping) {
      ws.close(1000);
      return;
    }
    this._ws = ws;
    const c = {
      ws,
      registered: false,
      ended: false, // the node said leave: its close is not news
      early: [], // events that came before the welcome
      answers: [],
      flushing: false,
      heartbeat: null,
      abort: new AbortController(),
      finish: null,
    };
    try {
      await new Promise((resolve, reject) => {
        let over = false;
        let lostTimer = null;
        const registerTimer = setTimeout(() => {
          c.finish(new Error(`no welcome within ${this.registerTimeoutMs} ms`));
        }, this.registerTimeoutMs);
        c.finish = (error) => {
          if (over) return;
          over = true;
          clearTimeout(registerTimer);
          clearTimeout(lostTimer);
          if (error) reject(error);
          else resolve();
        };
        const onClose = (e) => {
          if (!c.registered) {
            c.finish(new Error(`closed (${e.code}) before the welcome`));
            return;
          }
          if (!c.ended) this._disconnected(`closed (${e.code})`);
          c.finish(null);
        };
        ws.addEventListener("message", (m) => {
          if (typeof m.data !== "string") return;
          let frame;
          try {
            frame = JSON.parse(m.data);
          } catch {
            return; // not JSON: no v1 node sends that
          }
          if (frame === null || typeof frame !== "object") return;
          if (c.registered) this._onFrame(c, frame);
          else this._beforeWelcome(c, frame);
        });
        ws.addEventListener("close", onClose);
        // A close normally follows an error; should none come, the
        // connection must still end, or run() would wait forever.
        ws.addEventListener("error", () => {
          lostTimer ??= setTimeout(() => onClose({ code: 1006 }), 2000);
        });
        const reg = {
          v: PROTOCOL_VERSION,
          op: "register",
          name: this.name,
          role: this.role,
          subscriptions: this.subscriptions,
        };
        if (this.token) reg.token = this.token;
        ws.send(compact(reg));
      });
    } finally {
      clearInterval(c.heartbeat);
      c.abort.abort();
      if (this._ws === ws) this._ws = null;
      this.session = null;
      if (ws.readyState < 2) ws.close(1000);
    }
  }

  _beforeWelcome(c, frame) {
    switch (frame.op) {
      case "welcome":
        c.registered = true;
        this.agentId = frame.agentId;
        this.session = frame.session;
        this.heartbeatIntervalMs = frame.heartbeatIntervalMs;
        c.heartbeat = setInterval(() => {
          if (c.ws.readyState === 1)
            c.ws.send(compact({ v: PROTOCOL_VERSION, op: "heartbeat" }));
        }, Math.max(100, frame.heartbeatIntervalMs));
        this._settleWaiters(null);
        this._tell("registered", this.agentId);
        // Their deadlines run already.
        for (const ev of c.early.splice(0)) this._handle(c, ev);
        return;
      case "event":
        // A node may hand over waiting events before its welcome
        // (docs/agent-protocol.md): keep them until it comes.
        c.early.push(frame);
        return;
      case "error": {
        if (frame.frame !== "register") return;
        const code = String(frame.code);
        const message = String(frame.message ?? "");
        if (RETRYABLE.has(code)) {
          c.finish(new Error(`registration: ${code}: ${message}`));
        } else {
          this._tell("refused", `${code}: ${message}`);
          c.finish(new AgentRefused(code, message));
        }
        return;
      }
      default:
        return;
    }
  }

  _onFrame(c, frame) {
    switch (frame.op) {
      case "event":
        this._handle(c, frame);
        return;
      case "leave":
        c.ended = true;
        this._disconnected(
          `the node ended the registration: ${frame.reason ?? ""}`);
        return;
      case "error":
        if (frame.code === "not_registered") {
          // The node forgot us (it restarted): start over.
          c.ws.close(1000);
          return;
        }
        this._tell("error", `${frame.code}: ${frame.message ?? ""}`);
        return;
      default:
        return; // a newer node's frame: nothing for this version
    }
  }

  async _handle(c, frame) {
    const event = {};
    for (const [k, v] of Object.entries(frame))
      if (!DELIVERY_FIELDS.has(k)) event[k] = v;
    const context = {
      attempt: frame.attempt,
      delivery: frame.delivery,
      deadline: frame.deadline,
      signal: c.abort.signal,
    };
    let answer;
    try {
      const out = await this.handler(event, context);
      answer = out instanceof Answer ? out : new Answer("ok", out);
    } catch (e) {
      // The handler's failure is the event's.
      answer = new Answer("failed", { error: e?.message ?? String(e) });
    }
    const a = {
      eventId: frame.id,
      delivery: frame.delivery,
      status: answer.status,
    };
    if (answer.result !== undefined && answer.result !== null)
      a.result = answer.result;
    this._queueAnswer(c, a);
  }

  /**
   * Answers ready together go in one frame: the first queues a flush for
   * after the current turn of the event loop, and all that come before it
   * ride along.
   */
  _queueAnswer(c, a) {
    if (c.abort.signal.aborted) return; // its connection is gone
    let text;
    try {
      text = compact(a);
    } catch (e) {
      // A result JSON cannot carry (a BigInt, a cycle) fails the event
      // rather than the connection.
      text = compact({
        eventId: a.eventId,
        delivery: a.delivery,
        status: "failed",
        result: { error: `the result is not JSON: ${e.message}` },
      });
    }
    const overhead = 64; // {"v":1,"op":"answer","answers":[...]} and more
    const size = encoder.encode(text).length;
    if (size + overhead > this.maxFrameBytes)
      text = compact({
        eventId: a.eventId,
        delivery: a.delivery,
        status: "failed",
        result: {
          error:
            `the answer is ${size} bytes; the node takes frames of at most ` +
            `${this.maxFrameBytes} (node.http.ws_max_message_bytes)`,
        },
      });
    c.answers.push(text);
    if (!c.flushing) {
      c.flushing = true;
      setTimeout(() => this._flush(c), 0);
    }
  }

  _flush(c) {
    c.flushing = false;
    const pending = c.answers;
    c.answers = [];
    if (c.ws.readyState !== 1) return;
    const budget = this.maxFrameBytes - 64;
    let batch = [];
    let bytes = 0;
    const send = () => {
      if (batch.length === 0) return;
      if (batch.length === 1)
        c.ws.send(`{"v":${PROTOCOL_VERSION},"op":"answer",${batch[0].slice(1)}`);
      else
        c.ws.send(
          `{"v":${PROTOCOL_VERSION},"op":"answer","answers":[` +
            batch.join(",") + "]}");
      batch = [];
      bytes = 0;
    };
    for (const text of pending) {
      const size = encoder.encode(text).length + 1;
      if (batch.length >= MAX_ANSWERS_PER_FRAME || bytes + size > budget)
        send();
      batch.push(text);
      bytes += size;
    }
    send();
  }

  _send(frame) {
    const ws = this._ws;
    if (!ws || this.session === null || ws.readyState !== 1)
      throw new Error("not registered");
    ws.send(compact({ v: PROTOCOL_VERSION, ...frame }));
  }

  _sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this._wake = () => {
        this._wake = null;
        done();
      };
    });
  }

  _settleWaiters(error) {
    const waiters = this._waiters;
    this._waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      if (error) w.reject(error);
      else w.resolve(this.agentId);
    }
  }

  _disconnected(detail) {
    if (this.session !== null || !this._stopping)
      this._tell("disconnected", detail);
    this.session = null;
  }

  /** A throwing callback must not take the connection with it. */
  _tell(what, detail) {
    try {
      this.onConnection(what, detail);
    } catch {
      // the user's callback
    }
  }
}
