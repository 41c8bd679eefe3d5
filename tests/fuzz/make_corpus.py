#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/):
traces from the demo generator (datasets/demo/generate.py, with its hostile
lines), the OTLP fixtures of tests/data/otlp (JSON, protobuf through
tests/e2e/otlp_proto.py, gzip), and hand-written edge cases. Deterministic;
run again only to change the seeds (README "Fuzzing and sanitizers").

  python3 tests/fuzz/make_corpus.py
"""
import gzip
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
MAX_SEED = 6000  # bytes: small seeds keep libFuzzer's max_len (and each run) small
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import otlp_proto  # noqa: E402


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data[:MAX_SEED])


def demo_lines():
    gen = os.path.join(ROOT, "datasets", "demo", "generate.py")
    out = subprocess.run([sys.executable, gen, "--n", "14", "--seed", "3", "--bad-lines", "18",
                          "--out", "-"], check=True, capture_output=True).stdout
    return [l for l in out.split(b"\n") if l.strip()]


TRACE_EDGES = {
    "empty": "",
    "object": "{}",
    "array": "[]",
    "minimal": '{"trace_id":"t","output":"o"}',
    "messages": '{"trace_id":"m","input":[{"role":"user","content":[{"type":"text","text":"hi"}]}],'
                '"output":[{"role":"assistant","content":"ok"}],"context":["a",{"content":"b"}]}',
    "openai_usage": '{"trace_id":"u","output":"o","usage":{"prompt_tokens":3,"completion_tokens":4,'
                    '"cost_usd":1e-6}}',
    "error_null_output": '{"trace_id":"e","output":null,"error":{"type":"timeout","message":"x"}}',
    "timestamp": '{"trace_id":"ts","output":"o","timestamp":"2026-02-28T23:59:59.999+01:00"}',
    "bad_day": '{"trace_id":"d","output":"o","timestamp":"2026-02-29T00:00:00Z"}',
    "numbers": '{"trace_id":"n","output":"o","latency_ms":-0.0,"ttft_ms":1e309,"x":123456789012345678901234567890}',
    "escapes": '{"trace_id":"\\u00e9\\ud83d\\ude00\\"\\\\\\/\\b\\f\\n\\r\\t","output":"\\ud800"}',
    "bom": '\ufeff{"trace_id":"b","output":"o"}',
    "duplicate_keys": '{"trace_id":"a","trace_id":"b","output":"o","output":"p"}',
    "metadata": '{"trace_id":"md","output":"o","metadata":{"feature":"f","prompt_version":4,'
                '"tags":["a","b"],"custom":{"k":[1,2.5,null,true]}}}',
    "deep": '{"trace_id":"deep","output":"o","metadata":{"x":' + "[" * 70 + "]" * 70 + "}}",
    "truncated": '{"trace_id":"t","output":"o',
    "trailing": '{"trace_id":"t","output":"o"} x',
    "nul_after": '{"trace_id":"t","output":"o"}\0garbage',  # was accepted (fuzz finding)
}


def traces():
    for i, line in enumerate(demo_lines()):
        write("trace_json", "demo_%02d.json" % i, line)
    for name, text in TRACE_EDGES.items():
        write("trace_json", name + ".json", text)


def otlp_fixtures():
    d = os.path.join(ROOT, "tests", "data", "otlp")
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        if len(data) <= MAX_SEED:
            yield name[:-len(".json")], data


OTLP_EDGES = {
    "empty_object": "{}",
    "no_spans": '{"resourceSpans":[]}',
    "base64_ids": '{"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"AAECAwQFBgcICQoLDA0ODw==",'
                  '"span_id":"AAECAwQFBgc","name":"s","start_time_unix_nano":1,"kind":"SPAN_KIND_CLIENT"}]}]}]}',
    "huge_numbers": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",'
                    '"spanId":"0102030405060708","name":"s","startTimeUnixNano":1e309,"endTimeUnixNano":'
                    + "9" * 40 + ',"attributes":[{"key":"k","value":{"intValue":"99999999999999999999"}}]}]}]}]}',
    "nested_values": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",'
                     '"spanId":"0102030405060708","name":"s","startTimeUnixNano":"5","attributes":[{"key":"k",'
                     '"value":{"arrayValue":{"values":[{"kvlistValue":{"values":[{"key":"a","value":'
                     '{"doubleValue":"NaN"}}]}},{"bytesValue":"AAE="},{"boolValue":true},{}]}}}],'
                     '"events":[{"name":"e","timeUnixNano":"7","attributes":[]}],"status":{"code":"STATUS_CODE_ERROR"}}]}]}]}',
}


def otlp():
    for name, data in otlp_fixtures():
        write("otlp_json", name + ".json", data)
        try:
            pb = otlp_proto.encode_request(json.loads(data))
        except Exception:  # truncated.json, or what the small encoder cannot express
            continue
        write("otlp_protobuf", name + ".pb", pb)
        write("otlp_gzip", name + ".pb.gz", gzip.compress(pb, mtime=0))
    for name, text in OTLP_EDGES.items():
        write("otlp_json", name + ".json", text)
    write("otlp_protobuf", "empty.pb", b"")
    write("otlp_protobuf", "truncated.pb", otlp_proto.encode_request(
        json.loads(dict(otlp_fixtures())["genai_chat"]))[:-7])
    write("otlp_protobuf", "bad_varint.pb", b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
    one = gzip.compress(b'{"resourceSpans":[]}', mtime=0)
    write("otlp_gzip", "empty.gz", b"")
    write("otlp_gzip", "two_members.gz", one + one)
    write("otlp_gzip", "cut_trailer.gz", one[:-3])
    write("otlp_gzip", "bad_crc.gz", one[:-8] + b"\0\0\0\0" + one[-4:])
    write("otlp_gzip", "not_gzip.gz", b"{}")


ZMQ_EDGES = {
    "one_trace": '{"trace_id":"a","output":"o"}',
    "array": '[{"trace_id":"a","output":"o"}, {"trace_id":"b","output":"]\\",["}]',
    "array_ws": ' \r\n[ 1 ,\t"x" , [2,[3]] , {"a":{"b":[]}} ]\n',
    "empty_array": "[]",
    "leading_comma": "[,1]",
    "trailing_comma": "[1,]",
    "double_comma": "[1,,2]",
    "unterminated": '[{"a":"]"}',
    "after_close": "[1] 2",
    "mismatched": "[1}",
    "escaped_quote": '["\\\\", "\\"]"]',
    "ack": '{"id":"m1","accepted":2,"rejected":[{"index":1,"error":"field \'output\': missing"}]}',
    "nul_after": "[0]" + "\0" * 40,  # fuzz finding: nlohmann stops at a NUL
    # fuzz finding: decode_ack threw on a non-string error
    "ack_error_number": '{"id":"x","accepted":0,"rejected":[{"index":0,"error":1}]}',
    "ack_total": '{"id":"m2","accepted":0,"rejected":[],"rejected_total":300,"error":"too many"}',
}


def zmq():
    lines = demo_lines()
    write("zmq_split", "demo_array.json", b"[" + b",".join(lines[:3]) + b"]")
    for i, line in enumerate(lines[:6]):
        write("zmq_split", "demo_%02d.json" % i, line)
    for name, text in ZMQ_EDGES.items():
        write("zmq_split", name + ".json", text)


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    traces()
    otlp()
    zmq()
    for t in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, t))
        size = sum(os.path.getsize(os.path.join(OUT, t, f)) for f in files)
        print("%-14s %3d files %7d bytes" % (t, len(files), size))
