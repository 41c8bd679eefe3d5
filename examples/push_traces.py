#!/usr/bin/env python3
"""A minimal acknowledged producer for `assay worker` (pyzmq): the protocol in
README "Sending traces over ZeroMQ". Sends each JSONL line of a file as one
message, keeps what is not acknowledged, resends after a timeout.

Usage: push_traces.py tcp://127.0.0.1:5556 traces.jsonl
"""
import json, sys, time, zmq

endpoint, path = sys.argv[1], sys.argv[2]
sock = zmq.Context().socket(zmq.DEALER)
sock.connect(endpoint)
pending = {}                                   # msg_id -> (payload, time sent)
with open(path, "rb") as f:
    for n, line in enumerate(f, 1):
        if line.strip():
            pending[str(n).encode()] = (line.rstrip(b"\r\n"), 0.0)
while pending:
    now = time.monotonic()
    for msg_id, (payload, sent) in list(pending.items())[:1000]:
        if now - sent > 2.0:                   # first send, or resend after 2 s
            sock.send_multipart([msg_id, payload])
            pending[msg_id] = (payload, now)
    while sock.poll(50):
        msg_id, ack = sock.recv_multipart()
        for r in json.loads(ack)["rejected"]:
            print(f"line {msg_id.decode()}: {r['error']}", file=sys.stderr)
        pending.pop(msg_id, None)
print("all acknowledged")
