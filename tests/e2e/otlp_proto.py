"""A small OTLP protobuf encoder for the tests and benchmarks: an OTLP JSON
ExportTraceServiceRequest (as a dict) to its protobuf bytes, written from the
field numbers of the OTLP specification (no protobuf package needed)."""
import struct


def _varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def _ld(field, data):
    if isinstance(data, str):
        data = data.encode()
    return _key(field, 2) + _varint(len(data)) + data


def _fixed64(field, n):
    return _key(field, 1) + struct.pack("<Q", int(n))


def _any(v):
    if "stringValue" in v:
        return _ld(1, v["stringValue"])
    if "boolValue" in v:
        return _key(2, 0) + _varint(1 if v["boolValue"] else 0)
    if "intValue" in v:
        return _key(3, 0) + _varint(int(v["intValue"]))
    if "doubleValue" in v:
        return _key(4, 1) + struct.pack("<d", float(v["doubleValue"]))
    if "arrayValue" in v:
        return _ld(5, b"".join(_ld(1, _any(x)) for x in v["arrayValue"].get("values", [])))
    if "kvlistValue" in v:
        return _ld(6, b"".join(_ld(1, _kv(x)) for x in v["kvlistValue"].get("values", [])))
    return b""


def _kv(d):
    return _ld(1, d["key"]) + _ld(2, _any(d.get("value", {})))


def _span(s):
    out = _ld(1, bytes.fromhex(s["traceId"])) + _ld(2, bytes.fromhex(s["spanId"]))
    if s.get("parentSpanId"):
        out += _ld(4, bytes.fromhex(s["parentSpanId"]))
    out += _ld(5, s.get("name", ""))
    if s.get("kind"):
        out += _key(6, 0) + _varint(int(s["kind"]))
    out += _fixed64(7, s["startTimeUnixNano"])
    if s.get("endTimeUnixNano"):
        out += _fixed64(8, s["endTimeUnixNano"])
    for a in s.get("attributes", []):
        out += _ld(9, _kv(a))
    for e in s.get("events", []):
        ev = _fixed64(1, e.get("timeUnixNano", 0)) + _ld(2, e.get("name", ""))
        ev += b"".join(_ld(3, _kv(a)) for a in e.get("attributes", []))
        out += _ld(11, ev)
    st = s.get("status")
    if st:
        out += _ld(15, _ld(2, st.get("message", "")) + _key(3, 0) + _varint(int(st.get("code", 0))))
    if s.get("flags"):
        out += _key(16, 5) + struct.pack("<I", int(s["flags"]))
    return out


def encode_request(req):
    """OTLP JSON request (dict, hex ids) -> protobuf bytes."""
    out = b""
    for rs in req.get("resourceSpans", []):
        body = _ld(1, b"".join(_ld(1, _kv(a)) for a in rs.get("resource", {}).get("attributes", [])))
        for ss in rs.get("scopeSpans", []):
            scope = _ld(1, _ld(1, ss.get("scope", {}).get("name", "")))
            body += _ld(2, scope + b"".join(_ld(2, _span(s)) for s in ss.get("spans", [])))
        out += _ld(1, body)
    return out
