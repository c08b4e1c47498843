"""A streamb agent in Python: connects to a node's WebSocket agent endpoint
(docs/agent-protocol.md), registers, sends heartbeats, hands every event to
your handler and sends its answer back, and reconnects (to the next of the
given nodes, with capped backoff) when the connection drops.

    import asyncio, streamb_agent

    async def handle(event):
        return {"done": True}          # an answer with status "ok"

    agent = streamb_agent.Agent(
        ["ws://127.0.0.1:8080/api/v1/agents/ws"], name="db-1",
        role="database", subscriptions=["database_coordination"],
        key="sk_...", handler=handle)
    asyncio.run(agent.run())

A handler may be a coroutine function or a plain function (run in a
thread, so that heartbeats go on while it works). It returns the answer's
`result` (any JSON value), or an `Answer` to set the status; an exception
becomes a "failed" answer carrying its message.
"""

import asyncio
import json
import random

import websockets

PROTOCOL_VERSION = 1

__all__ = ["Agent", "Answer", "AgentRefused", "PROTOCOL_VERSION"]


class Answer:
    """An answer with an explicit status ("ok" or "failed")."""

    def __init__(self, status="ok", result=None):
        if status not in ("ok", "failed"):
            raise ValueError("status must be 'ok' or 'failed'")
        self.status = status
        self.result = result


class AgentRefused(Exception):
    """The node refused the registration for good (wrong token, a live agent
    of that name, a bad name or subscription): retrying would not help."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# The node closes a connection that sends a larger message (1009):
# node.http.ws_max_message_bytes, 64 KiB by default.
MAX_FRAME_BYTES = 64 * 1024

# Refusals worth retrying: the node is starting or its store is away.
_RETRYABLE = {"unavailable", "timeout", "register_pending"}


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


class Agent:
    def __init__(self, urls, name, role, subscriptions, key=None, token=None,
                 handler=None, on_connection=None, first_backoff=0.1,
                 max_backoff=2.0, open_timeout=5.0,
                 max_frame_bytes=MAX_FRAME_BYTES):
        if isinstance(urls, str):
            urls = [urls]
        if not urls:
            raise ValueError("at least one node URL")
        self.urls = list(urls)
        self.name = name
        self.role = role
        self.subscriptions = list(subscriptions)
        self.key = key
        # The registration token: the agent key itself unless told otherwise.
        self.token = token if token is not None else key
        self.handler = handler or (lambda event: None)
        self.on_connection = on_connection or (lambda what, detail: None)
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.open_timeout = open_timeout
        self.max_frame_bytes = max_frame_bytes
        self.agent_id = None
        self.session = None
        self._ws = None
        self._stopping = False
        self._registered = asyncio.Event()

    # -- what users call -----------------------------------------------------

    async def run(self):
        """Connects, and reconnects, until stop(); raises AgentRefused when
        the node refuses the registration for good."""
        backoff = self.first_backoff
        index = 0
        while not self._stopping:
            url = self.urls[index % len(self.urls)]
            try:
                await self._session(url)
                backoff = self.first_backoff
            except AgentRefused:
                raise
            except (OSError, asyncio.TimeoutError,
                    websockets.exceptions.WebSocketException) as e:
                self._disconnected(f"{url}: {e}")
            if self._stopping:
                break
            index += 1
            # Jitter spreads the reconnections of many agents after a node
            # restart.
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, self.max_backoff)

    async def wait_registered(self, timeout):
        await asyncio.wait_for(self._registered.wait(), timeout)

    async def report(self, samples):
        """Reports call samples (objects in the form of POST /api/v1/calls)."""
        await self._send({"op": "report", "samples": list(samples)})

    async def stop(self):
        """Leaves (the node gives this agent's deliveries to others at once)
        and stops reconnecting."""
        self._stopping = True
        ws = self._ws
        if ws is not None:
            try:
                await ws.send(_dumps({"v": PROTOCOL_VERSION, "op": "leave"}))
                await ws.close()
            except websockets.exceptions.WebSocketException:
                pass

    # -- one connection ------------------------------------------------------

    async def _session(self, url):
        headers = {}
        if self.key:
            headers["Authorization"] = "Bearer " + self.key
        async with websockets.connect(
                url, extra_headers=headers, open_timeout=self.open_timeout,
                # Events carry webhooks of up to 1 MiB plus their frame.
                max_size=4 << 20, ping_interval=10, ping_timeout=10) as ws:
            self._ws = ws
            try:
                await self._register(ws)
                await self._serve(ws)
            finally:
                self._ws = None
                self.session = None
                self._registered.clear()

    async def _register(self, ws):
        frame = {"v": PROTOCOL_VERSION, "op": "register", "name": self.name,
                 "role": self.role, "subscriptions": self.subscriptions}
        if self.token:
            frame["token"] = self.token
        await ws.send(_dumps(frame))
        while True:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 15))
            if reply.get("op") == "welcome":
                self.agent_id = reply["agentId"]
                self.session = reply["session"]
                self.heartbeat_s = reply["heartbeatIntervalMs"] / 1000.0
                self._registered.set()
                self.on_connection("registered", self.agent_id)
                return
            if reply.get("op") == "error" and reply.get("frame") == "register":
                code, message = reply.get("code"), reply.get("message", "")
                if code in _RETRYABLE:
                    raise OSError(f"registration: {code}: {message}")
                self.on_connection("refused", f"{code}: {message}")
                raise AgentRefused(code, message)

    async def _serve(self, ws):
        answers = asyncio.Queue()
        tasks = [asyncio.ensure_future(self._heartbeats(ws)),
                 asyncio.ensure_future(self._send_answers(ws, answers))]
        handling = set()
        try:
            async for text in ws:
                frame = json.loads(text)
                op = frame.get("op")
                if op == "event":
                    t = asyncio.ensure_future(self._handle(frame, answers))
                    handling.add(t)
                    t.add_done_callback(handling.discard)
                elif op == "leave":
                    self._disconnected("the node ended the registration: "
                                       + frame.get("reason", ""))
                elif op == "error" and frame.get("code") == "not_registered":
                    # The node forgot us (it restarted): start over.
                    await ws.close()
                elif op == "error":
                    self.on_connection("error", f"{frame.get('code')}: "
                                       f"{frame.get('message')}")
            self._disconnected(f"closed ({ws.close_code})")
        finally:
            for t in tasks + list(handling):
                t.cancel()

    async def _heartbeats(self, ws):
        while True:
            await asyncio.sleep(self.heartbeat_s)
            await ws.send(_dumps({"v": PROTOCOL_VERSION, "op": "heartbeat"}))

    async def _handle(self, frame, answers):
        event = {k: v for k, v in frame.items()
                 if k not in ("v", "op", "attempt", "delivery", "deadline")}
        try:
            if asyncio.iscoroutinefunction(self.handler):
                out = await self.handler(event)
            else:
                loop = asyncio.get_running_loop()
                out = await loop.run_in_executor(None, self.handler, event)
            answer = out if isinstance(out, Answer) else Answer("ok", out)
        except Exception as e:  # the handler's failure is the event's
            answer = Answer("failed", {"error": str(e)})
        a = {"eventId": frame["id"], "delivery": frame["delivery"],
             "status": answer.status}
        if answer.result is not None:
            a["result"] = answer.result
        text = self._answer_text(a)
        if len(text.encode()) > self.max_frame_bytes - 64:
            # Too large for one frame: the node would close the connection.
            a = {"eventId": frame["id"], "delivery": frame["delivery"],
                 "status": "failed",
                 "result": {"error": "the answer exceeds the node's frame "
                                     "size limit"}}
            text = self._answer_text(a)
        await answers.put(text)

    @staticmethod
    def _answer_text(a):
        try:
            return _dumps(a)
        except (TypeError, ValueError) as e:
            return _dumps({"eventId": a["eventId"], "delivery": a["delivery"],
                           "status": "failed",
                           "result": {"error": f"result is not JSON: {e}"}})

    async def _send_answers(self, ws, answers):
        # Answers ready together go in one frame, up to the frame size limit.
        pending = None
        while True:
            batch = [pending if pending is not None else await answers.get()]
            pending = None
            size = len(batch[0]) + 64
            while not answers.empty() and len(batch) < 1000:
                nxt = answers.get_nowait()
                if size + len(nxt) + 1 > self.max_frame_bytes:
                    pending = nxt
                    break
                batch.append(nxt)
                size += len(nxt) + 1
            if len(batch) == 1:
                text = ('{"v":%d,"op":"answer",' % PROTOCOL_VERSION
                        + batch[0][1:])
            else:
                text = ('{"v":%d,"op":"answer","answers":[' % PROTOCOL_VERSION
                        + ",".join(batch) + "]}")
            await ws.send(text)

    async def _send(self, frame):
        ws = self._ws
        if ws is None or self.session is None:
            raise ConnectionError("not registered")
        await ws.send(_dumps(dict(frame, v=PROTOCOL_VERSION)))

    def _disconnected(self, detail):
        if self.session is not None or not self._stopping:
            self.on_connection("disconnected", detail)
        self.session = None
        self._registered.clear()
