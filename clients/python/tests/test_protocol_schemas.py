"""The WebSocket agent protocol v1 (docs/agent-protocol.md) against its JSON
Schemas (docs/agent-protocol/*.schema.json): the schemas are valid, the
examples in the schemas and in the document fit them, and a real node's
frames fit them too; every frame this test sends is checked against the
client schemas before it goes out.

    /usr/bin/python3 -m unittest discover -s clients/python/tests

Needs python3-jsonschema and python3-websockets (Debian packages) and a
built node: STREAMB_BINARY, else build/streamb of this checkout.
"""

import asyncio
import json
import os
import pathlib
import re
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import jsonschema
import websockets

REPO = pathlib.Path(__file__).resolve().parents[3]
SCHEMA_DIR = REPO / "docs" / "agent-protocol"
DOC = REPO / "docs" / "agent-protocol.md"
BINARY = os.environ.get("STREAMB_BINARY", str(REPO / "build" / "streamb"))
CONFIG = REPO / "config" / "streamb.json"

CLIENT_FRAMES = ("register", "heartbeat", "answer", "report", "leave")
NODE_FRAMES = ("welcome", "event", "error", "node-leave")

# Every bound in seconds: nothing here may hang.
NODE_START_S = 20
RECV_S = 5
TEST_S = 60
HTTP_S = 5


def load_schemas():
    out = {}
    for name in CLIENT_FRAMES + NODE_FRAMES:
        path = SCHEMA_DIR / f"{name}.schema.json"
        with open(path, encoding="utf-8") as f:
            out[name] = json.load(f)
    return out


SCHEMAS = load_schemas()
VALIDATORS = {name: jsonschema.Draft202012Validator(s)
              for name, s in SCHEMAS.items()}


def client_schema_of(frame):
    op = frame.get("op")
    if op not in CLIENT_FRAMES:
        raise AssertionError(f"not a client frame: {frame!r}")
    return op


def node_schema_of(frame):
    op = frame.get("op")
    if op == "leave":
        return "node-leave"
    if op not in NODE_FRAMES:
        raise AssertionError(f"not a node frame: {frame!r}")
    return op


def doc_examples():
    """The JSON objects of the ```json blocks of docs/agent-protocol.md
    that are frames (they have "v" and "op"), with their line numbers."""
    text = DOC.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```json\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, m.start()) + 2
        for i, chunk in enumerate(m.group(1).splitlines()):
            chunk = chunk.strip()
            if not chunk.startswith("{"):
                continue
            obj = json.loads(chunk)
            if isinstance(obj, dict) and "v" in obj and "op" in obj:
                out.append((line + i, obj))
    return out


def unique_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("repeated key")
    return dict(pairs)


class SchemaTest(unittest.TestCase):
    """The schemas themselves and the documented examples."""

    def test_schemas_are_valid(self):
        ids = set()
        for name, s in SCHEMAS.items():
            with self.subTest(schema=name):
                jsonschema.Draft202012Validator.check_schema(s)
                for key in ("$schema", "$id", "title", "description",
                            "required", "examples"):
                    self.assertIn(key, s)
                self.assertEqual(s["type"], "object")
                self.assertIs(s["additionalProperties"], True)
                self.assertIn("v", s["required"])
                self.assertIn("op", s["required"])
                self.assertNotIn(s["$id"], ids)
                ids.add(s["$id"])

    def test_schema_examples_fit(self):
        for name, s in SCHEMAS.items():
            self.assertTrue(s["examples"], name)
            for i, example in enumerate(s["examples"]):
                with self.subTest(schema=name, example=i):
                    VALIDATORS[name].validate(example)

    def test_doc_examples_fit(self):
        examples = doc_examples()
        seen = set()
        for line, frame in examples:
            with self.subTest(line=line):
                if frame["op"] == "leave" and "reason" in frame:
                    name = "node-leave"
                else:
                    name = frame["op"]
                self.assertIn(name, SCHEMAS, f"line {line}: unknown op")
                VALIDATORS[name].validate(frame)
                seen.add(name)
        # The document shows every frame.
        self.assertEqual(seen, set(SCHEMAS))

    def test_schemas_refuse_what_the_node_refuses(self):
        bad = {
            "register": [
                {"v": 1, "op": "register", "name": "a", "role": "r"},
                {"v": 2, "op": "register", "name": "a", "role": "r",
                 "subscriptions": []},
                {"v": 1, "op": "register", "name": "a b", "role": "r",
                 "subscriptions": []},
                {"v": 1, "op": "register", "name": "a", "role": "r",
                 "subscriptions": ["bogus"]},
                {"v": 1, "op": "register", "name": "a", "role": "r",
                 "subscriptions": ["cost_alert"] * 65},
                {"v": 1, "op": "register", "name": "a", "role": "r",
                 "subscriptions": [], "token": 5},
            ],
            "heartbeat": [{"op": "heartbeat"}, {"v": "1", "op": "heartbeat"}],
            "answer": [
                {"v": 1, "op": "answer", "eventId": "e", "status": "ok"},
                {"v": 1, "op": "answer", "eventId": "e", "status": "done",
                 "delivery": 1},
                {"v": 1, "op": "answer", "eventId": "e", "status": "ok",
                 "delivery": -1},
                {"v": 1, "op": "answer", "answers": []},
                {"v": 1, "op": "answer", "answers": [1]},
                {"v": 1, "op": "answer", "answers": [
                    {"eventId": "e", "status": "ok"}]},
            ],
            "report": [
                {"v": 1, "op": "report"},
                {"v": 1, "op": "report", "samples": [1]},
                {"v": 1, "op": "report", "samples": [
                    {"service": "maps", "endpoint": "/x", "latencyMs": 1}]},
                {"v": 1, "op": "report", "samples": [
                    {"service": "maps", "endpoint": "/x", "latencyMs": 1,
                     "status": 700}]},
            ],
            "event": [{"v": 1, "op": "event", "id": "x"}],
            "error": [{"v": 1, "op": "error", "code": "malformed"}],
            "node-leave": [{"v": 1, "op": "leave"}],
        }
        for name, frames in bad.items():
            for i, frame in enumerate(frames):
                with self.subTest(schema=name, frame=i):
                    self.assertFalse(VALIDATORS[name].is_valid(frame))


class Node:
    """A real node on free ports, its output in a temporary file."""

    def __init__(self):
        self.out = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.err = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [BINARY, "run", "--config", str(CONFIG), "--http-port", "0",
             "--actor-port", "0"],
            cwd=str(REPO), stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=self.err)
        self.base = self._wait_serving()
        self.ws_url = self.base.replace("http://", "ws://", 1) \
            + "/api/v1/agents/ws"

    def _wait_serving(self):
        deadline = time.monotonic() + NODE_START_S
        while time.monotonic() < deadline:
            self.out.seek(0)
            m = re.search(r"serving (http://127\.0\.0\.1:\d+)", self.out.read())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        self.err.seek(0)
        raise RuntimeError("the node did not start: " + self.err.read()[-2000:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.out.close()
        self.err.close()

    def http(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path, data=data, method=method,
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=HTTP_S) as res:
                return res.status, json.loads(res.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


@unittest.skipUnless(os.access(BINARY, os.X_OK), f"no node binary at {BINARY}")
class RealNodeTest(unittest.TestCase):
    """Frames of a real node (config/streamb.json: no keys, open to
    loopback) against the node schemas."""

    def setUp(self):
        self.node = Node()
        self.sent = []
        self.received = []

    def tearDown(self):
        self.node.stop()

    # -- helpers -----------------------------------------------------------

    def run_async(self, coro):
        asyncio.run(asyncio.wait_for(coro, TEST_S))

    def connect(self, **kw):
        return websockets.connect(self.node.ws_url, open_timeout=RECV_S,
                                  close_timeout=2, **kw)

    async def send(self, ws, frame):
        """Sends a client frame, checked against its schema first."""
        VALIDATORS[client_schema_of(frame)].validate(frame)
        self.sent.append(frame)
        await ws.send(json.dumps(frame, separators=(",", ":")))

    async def recv(self, ws, timeout=RECV_S):
        """The next node frame, checked against its schema."""
        text = await asyncio.wait_for(ws.recv(), timeout)
        self.assertIsInstance(text, str, "node frames are text frames")
        frame = json.loads(text)
        VALIDATORS[node_schema_of(frame)].validate(frame)
        self.received.append(frame)
        return frame

    async def recv_op(self, ws, op, timeout=RECV_S):
        """Frames until one of `op` (the others are returned too)."""
        deadline = time.monotonic() + timeout
        others = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"no {op} frame within {timeout} s; got {others}")
            frame = await self.recv(ws, left)
            if frame["op"] == op:
                return frame, others
            others.append(frame)

    async def expect_nothing(self, ws, seconds=0.3):
        try:
            frame = await asyncio.wait_for(ws.recv(), seconds)
        except asyncio.TimeoutError:
            return
        self.fail(f"unexpected frame {frame}")

    async def register(self, ws, name, role="database",
                       subscriptions=("database_coordination",), **extra):
        await self.send(ws, dict({"v": 1, "op": "register", "name": name,
                                  "role": role,
                                  "subscriptions": list(subscriptions)},
                                 **extra))
        welcome, early = await self.recv_op(ws, "welcome")
        # Events waiting for the agent may come before the welcome.
        for f in early:
            self.assertEqual(f["op"], "event", f)
        self.assertEqual(welcome["agentId"], "agent-" + name)
        return welcome

    async def http(self, method, path, body=None):
        return await asyncio.to_thread(self.node.http, method, path, body)

    async def wait_event_state(self, event_id, state):
        deadline = time.monotonic() + RECV_S
        while True:
            status, rec = await self.http(
                "GET", "/api/v1/coordination/events/" + event_id)
            if status == 200 and rec["state"] == state:
                return rec
            if time.monotonic() > deadline:
                self.fail(f"event {event_id} not {state}: {status} {rec}")
            await asyncio.sleep(0.05)

    async def agent_status(self, name):
        status, body = await self.http(
            "GET", "/api/v1/stream-b-coordination/agents/status")
        self.assertEqual(status, 200, body)
        for a in body["agents"]:
            if a["name"] == name:
                return a
        self.fail(f"no agent {name} in agents/status")

    # -- tests -------------------------------------------------------------

    def test_welcome_event_answer_report_leave(self):
        async def go():
            async with self.connect() as ws:
                welcome = await self.register(ws, "schema-db-1")
                self.assertEqual(welcome["node"], "local")
                await self.send(ws, {"v": 1, "op": "heartbeat"})
                await self.expect_nothing(ws)

                status, body = await self.http(
                    "POST",
                    "/api/v1/stream-b-coordination/coordination/send-event",
                    {"type": "database_coordination", "payload": {"n": 1}})
                self.assertEqual(status, 202, body)
                event, others = await self.recv_op(ws, "event")
                self.assertEqual(others, [])
                self.assertEqual(event["id"], body["id"])
                self.assertEqual(event["type"], "database_coordination")
                self.assertEqual(event["payload"], {"n": 1})
                self.assertEqual(event["priority"], "normal")
                self.assertEqual(event["target"], "")
                self.assertEqual(event["attempt"], 1)
                self.assertGreater(event["deadline"], event["createdAt"])

                result = {"checked": True,
                          "findings": ["Add an index on orders.customer_id"]}
                await self.send(ws, {"v": 1, "op": "answer",
                                     "eventId": event["id"],
                                     "delivery": event["delivery"],
                                     "status": "ok", "result": result})
                rec = await self.wait_event_state(event["id"], "completed")
                self.assertEqual(rec["deliveries"][0]["agent"], "schema-db-1")
                self.assertEqual(rec["deliveries"][0]["status"], "ok")
                self.assertEqual(rec["deliveries"][0]["response"], result)

                # Two events answered in one "answers" frame.
                ids = []
                for n in (2, 3):
                    status, body = await self.http(
                        "POST",
                        "/api/v1/stream-b-coordination/coordination/send-event",
                        {"type": "database_coordination", "payload": {"n": n},
                         "priority": "high", "target": "agent:schema-db-1"})
                    self.assertEqual(status, 202, body)
                    ids.append(body["id"])
                events = []
                while len(events) < 2:
                    e, _ = await self.recv_op(ws, "event")
                    self.assertEqual(e["target"], "agent:schema-db-1")
                    self.assertEqual(e["priority"], "high")
                    events.append(e)
                self.assertEqual(sorted(e["id"] for e in events), sorted(ids))
                await self.send(ws, {"v": 1, "op": "answer", "answers": [
                    {"eventId": e["id"], "delivery": e["delivery"],
                     "status": "ok"} for e in events]})
                for i in ids:
                    await self.wait_event_state(i, "completed")

                await self.send(ws, {"v": 1, "op": "report", "samples": [
                    {"service": "maps", "endpoint": "/geocode",
                     "latencyMs": 12.5, "status": 200, "costUsd": 0.005},
                    {"service": "stripe", "endpoint": "/v1/charges",
                     "latencyMs": 10000, "status": "timeout"}]})
                await self.expect_nothing(ws)
                deadline = time.monotonic() + RECV_S
                while (await self.agent_status("schema-db-1"))[
                        "samplesReported"] < 2:
                    self.assertLess(time.monotonic(), deadline)
                    await asyncio.sleep(0.05)

                await self.send(ws, {"v": 1, "op": "leave"})
                await self.expect_nothing(ws)
                self.assertEqual(
                    (await self.agent_status("schema-db-1"))["state"],
                    "disconnected")
                # The connection stays open: heartbeats are refused now.
                await self.send(ws, {"v": 1, "op": "heartbeat"})
                err = await self.recv(ws)
                self.assertEqual(err["code"], "not_registered")

        self.run_async(go())
        # Every client frame was sent (and checked), every node frame but
        # the node's leave (next test) was received (and checked).
        self.assertEqual({f["op"] for f in self.sent}, set(CLIENT_FRAMES))
        self.assertEqual({f["op"] for f in self.received},
                         {"welcome", "event", "error"})

    def test_error_frames(self):
        async def go():
            # A second connection, never registered.
            async with self.connect() as ws, self.connect() as ws2:
                await self.send(ws2, {"v": 1, "op": "heartbeat"})
                err = await self.recv(ws2)
                self.assertEqual(
                    (err["code"], err["frame"]), ("not_registered", "heartbeat"))

                # Not frames: sent as they are, and checked to be refused by
                # the client schemas too (except a repeated key, which JSON
                # Schema cannot see: Python keeps the last value).
                raw = [
                    ("this is not JSON", "malformed", None),
                    ("[1,2]", "malformed", None),
                    ('{"v":1,"op":"heartbeat","op":"leave"}', "malformed", None),
                    ('{"op":"heartbeat"}', "unsupported_version", "heartbeat"),
                    ('{"v":2,"op":"register"}', "unsupported_version",
                     "register"),
                    ('{"v":1,"op":"subscribe"}', "unknown_op", None),
                    ('{"v":1,"op":"register","name":"x","role":"r"}',
                     "invalid_frame", "register"),
                    ('{"v":1,"op":"answer","answers":[]}', "invalid_frame",
                     "answer"),
                ]
                for text, code, frame in raw:
                    try:
                        obj = json.loads(text, object_pairs_hook=unique_keys)
                    except ValueError:
                        obj = None
                    if isinstance(obj, dict) and obj.get("op") in SCHEMAS:
                        self.assertFalse(VALIDATORS[obj["op"]].is_valid(obj),
                                         text)
                    await ws.send(text)
                    err = await self.recv(ws)
                    self.assertEqual(err["op"], "error", text)
                    self.assertEqual(err["code"], code, text)
                    self.assertEqual(err.get("frame"), frame, text)

                # Valid frames, refused for the connection's state.
                for frame in ({"v": 1, "op": "answer", "eventId": "x",
                               "delivery": 1, "status": "ok"},
                              {"v": 1, "op": "report", "samples": []}):
                    await self.send(ws, frame)
                    err = await self.recv(ws)
                    self.assertEqual((err["code"], err["frame"]),
                                     ("not_registered", frame["op"]))

                # Refused by the hub.
                await self.send(ws, {"v": 1, "op": "register",
                                     "name": "schema.db-2", "role": "database",
                                     "subscriptions": []})
                await self.send(ws, {"v": 1, "op": "register",
                                     "name": "schema.db-2", "role": "database",
                                     "subscriptions": []})
                first = await self.recv(ws)
                second = await self.recv(ws)
                # A welcome, and for the second register register_pending
                # (usually: the hub had not answered yet) or
                # already_registered, in either order.
                by_op = {first["op"]: first, second["op"]: second}
                self.assertIn("welcome", by_op, [first, second])
                self.assertIn(by_op["error"]["code"],
                              ("register_pending", "already_registered"))
                await self.send(ws, {"v": 1, "op": "register",
                                     "name": "schema.db-2", "role": "database",
                                     "subscriptions": []})
                err = await self.recv(ws)
                self.assertEqual(err["code"], "already_registered")
                await self.send(ws2, {"v": 1, "op": "register",
                                      "name": "schema.db-2", "role": "database",
                                      "subscriptions": []})
                err = await self.recv(ws2)
                self.assertEqual((err["code"], err["frame"]),
                                 ("conflict", "register"))

                # The sample parser's refusals.
                for samples, code in (
                        ([{"service": "maps", "endpoint": "/x",
                           "latencyMs": 1}], None),
                        ([{"service": "nope", "endpoint": "/x",
                           "latencyMs": 1, "status": 200}], "unknown_service")):
                    frame = {"v": 1, "op": "report", "samples": samples}
                    if code is None:
                        self.assertFalse(VALIDATORS["report"].is_valid(frame))
                        await ws.send(json.dumps(frame))
                        code = "invalid_sample"
                    else:
                        await self.send(ws, frame)
                    err = await self.recv(ws)
                    self.assertEqual((err["code"], err["frame"]),
                                     (code, "report"))
                    self.assertRegex(err["message"], r"\(\$\[0\][^)]*\)$")

                # A message over ws_max_message_bytes (64 KiB): close 1009.
                await ws2.send("x" * (64 * 1024 + 1))
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    await asyncio.wait_for(ws2.recv(), RECV_S)
                self.assertEqual(ws2.close_code, 1009)

        self.run_async(go())

    def test_node_leave_when_the_key_is_revoked(self):
        async def go():
            # The config allows everything without a key: an admin call.
            status, key = await self.http(
                "POST", "/api/v1/admin/keys",
                {"role": "agent", "name": "schema-fleet"})
            self.assertEqual(status, 201, key)
            headers = {"Authorization": "Bearer " + key["key"]}
            async with self.connect(extra_headers=headers) as ws:
                # The connection was opened with the key: another token is
                # refused, and without one the key itself is used.
                await self.send(ws, {"v": 1, "op": "register",
                                     "name": "schema-db-3", "role": "database",
                                     "subscriptions": [], "token": "other"})
                err = await self.recv(ws)
                self.assertEqual((err["code"], err["frame"]),
                                 ("unauthorized", "register"))
                await self.register(ws, "schema-db-3", subscriptions=())
                status, body = await self.http(
                    "DELETE", "/api/v1/admin/keys/" + key["id"])
                self.assertEqual(status, 200, body)
                leave, others = await self.recv_op(ws, "leave")
                self.assertEqual(others, [])
                self.assertIn("revoked", leave["reason"])
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), RECV_S)
                self.assertEqual(ws.close_code, 1008)
                self.assertIn("revoked", ws.close_reason)

        self.run_async(go())


if __name__ == "__main__":
    unittest.main()
