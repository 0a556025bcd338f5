#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/corpus/<target>/ (run from anywhere).

The seeds are small, valid inputs that take each fuzz target deep into its
decoder on the first run: framed gRPC messages, grpc-message values, protobuf
answers and event envelopes (the envelopes are the ones containerd 1.6 sent,
recorded in tests/unit/test_event.c), and a whole HTTP/2 server side of a
call: preface SETTINGS, SETTINGS ACK, HEADERS, DATA and trailers.

Only the standard library: protobuf and HPACK are written by hand here, the
simple forms only (varints, length-delimited fields, literal headers).
"""
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")

# --- protobuf ---------------------------------------------------------------


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(field, n):
    return varint(field << 3) + varint(n)


def f_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def timestamp(sec, nsec):
    return f_varint(1, sec) + f_varint(2, nsec)


def process(cid, pid, status, exit_status=0, exited=None):
    m = f_bytes(1, cid) + f_bytes(2, cid) + f_varint(3, pid) + f_varint(4, status)
    m += f_bytes(6, "/run/lcctl/%s/stdout" % cid) + f_varint(8, 1)
    if exited is not None:
        m += f_varint(9, exit_status) + f_bytes(10, timestamp(*exited))
    return m


def container(cid):
    spec = b'{"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"rootfs"}}'
    m = f_bytes(1, cid)
    m += f_bytes(2, f_bytes(1, "k") + f_bytes(2, "v"))
    m += f_bytes(2, f_bytes(1, "io.lcctl.x") + f_bytes(2, ""))
    m += f_bytes(4, f_bytes(1, "io.containerd.runc.v2"))
    m += f_bytes(5, f_bytes(1, "types.containerd.io/opencontainers/runtime-spec/1/Spec") +
                 f_bytes(2, spec))
    m += f_bytes(8, timestamp(1700000000, 5)) + f_bytes(9, timestamp(1700000001, 6))
    return m


def any_(url, value):
    return f_bytes(1, url) + f_bytes(2, value)


def envelope(topic, url, payload):
    return (f_bytes(1, timestamp(1700000000, 123)) + f_bytes(2, "default") +
            f_bytes(3, topic) + f_bytes(4, any_(url, payload)))


def recorded_envelopes():
    """The byte arrays of tests/unit/test_event.c, by name."""
    src = open(os.path.join(ROOT, "tests", "unit", "test_event.c")).read()
    out = {}
    for m in re.finditer(r"static const uint8_t (rec_\w+)\[\] = \{([^}]*)\}", src):
        out[m.group(1)] = bytes(int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]{2}", m.group(2)))
    return out


# Must follow the table in fuzz_protobuf.c: the first byte picks the entry.
PB_TYPES = [
    "VersionResponse", "GetResponse", "ListTasksResponse", "GetContainerResponse",
    "ListContainersResponse", "CreateTaskResponse", "StartResponse", "DeleteResponse",
    "WaitResponse", "ListPidsResponse", "CheckpointTaskResponse", "MetricsResponse",
    "ContentInfoResponse", "CgroupsV1Metrics", "CgroupsV2Metrics", "RuncOptions",
    "RuncProcessDetails", "Envelope", "TaskExit", "TaskOOM", "TaskCreate", "TaskStart",
    "TaskExecAdded", "TaskExecStarted", "TaskPaused", "TaskResumed", "TaskDelete",
    "TaskCheckpointed",
]


def pb_seed(type_name, body):
    return bytes([PB_TYPES.index(type_name)]) + body


def task_exit(cid, pid, status):
    return (f_bytes(1, cid) + f_bytes(2, cid) + f_varint(3, pid) + f_varint(4, status) +
            f_bytes(5, timestamp(1700000002, 7)))


def v2_metrics():
    return (f_bytes(1, f_varint(1, 3) + f_varint(2, 100)) +
            f_bytes(2, f_varint(1, 1500) + f_varint(2, 1000) + f_varint(3, 500)) +
            f_bytes(4, f_varint(32, 4 << 20) + f_varint(33, 64 << 20)))


# --- gRPC and HTTP/2 ----------------------------------------------------------


def grpc_frame(msg):
    return b"\0" + struct.pack(">I", len(msg)) + msg


def h2_frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def hpack(headers):
    """Literal header fields without indexing, new name, no Huffman."""
    out = bytearray()
    for name, value in headers:
        if (name, value) == (":status", "200"):
            out.append(0x88)  # static table entry 8
            continue
        out.append(0)
        for s in (name.encode(), value.encode()):
            assert len(s) < 127
            out.append(len(s))
            out += s
    return bytes(out)


def server_answer(stream, body, status=0, message=None, chunk=0):
    """HEADERS, the body as DATA frames, trailers."""
    out = h2_frame(HEADERS, END_HEADERS, stream,
                   hpack([(":status", "200"), ("content-type", "application/grpc")]))
    chunk = chunk or len(body) or 1
    for i in range(0, len(body), chunk):
        out += h2_frame(DATA, 0, stream, body[i:i + chunk])
    trailers = [("grpc-status", str(status))]
    if message is not None:
        trailers.append(("grpc-message", message))
    out += h2_frame(HEADERS, END_HEADERS | END_STREAM, stream, hpack(trailers))
    return out


# Opening of a server connection: SETTINGS as containerd sends them, then the
# acknowledgement of ours and a window update, as grpc-go does.
SERVER_PREFACE = (h2_frame(SETTINGS, 0, 0, struct.pack(">HI", 5, 16384)) +
                  h2_frame(SETTINGS, ACK, 0, b"") +
                  h2_frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 65535)))

# The option bits of fuzz_h2.c.
OPT_SETTINGS, OPT_STREAM, OPT_LINGER, OPT_CANCEL, OPT_STRICT = 1, 2, 4, 8, 16
OPT_HANGUP, OPT_CLIENT_STREAM, OPT_DEADLINE = 32, 64, 128


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    rec = recorded_envelopes()
    if "rec_exit_3" not in rec:
        sys.exit("tests/unit/test_event.c: recorded envelopes not found")
    get_resp = f_bytes(1, process("c1", 4242, 2))
    exited = f_bytes(1, process("c1", 4242, 3, 137, (1700000002, 9)))

    # grpc_reader: [limit] [number of chunk sizes] [sizes...] stream
    write("grpc_reader", "one_message", b"\xff\x00" + grpc_frame(get_resp))
    write("grpc_reader", "split_1_3_7",
          b"\xff\x03\x01\x03\x07" + grpc_frame(get_resp) + grpc_frame(exited))
    write("grpc_reader", "empty_and_tail",
          b"\x40\x02\x05\x02" + grpc_frame(b"") + grpc_frame(rec["rec_exit_3"]) + b"\0\0\0")
    write("grpc_reader", "too_large", b"\x01\x01\x04" + grpc_frame(bytes(64)))

    # percent: grpc-message values
    write("percent", "plain", b"container c1: not found")
    write("percent", "encoded", b"task%20%22c1%22%3A%20already%20exists%0A")
    write("percent", "utf8_and_bad", b"%E2%9C%93 ok %zz %4 %%41 end%")

    # protobuf: [type] message
    write("protobuf", "get_response", pb_seed("GetResponse", exited))
    write("protobuf", "list_tasks",
          pb_seed("ListTasksResponse", get_resp[:0] + f_bytes(1, process("a", 1, 2)) +
                  f_bytes(1, process("b", 2, 3, 1, (1700000003, 1)))))
    write("protobuf", "get_container", pb_seed("GetContainerResponse", f_bytes(1, container("c1"))))
    write("protobuf", "list_containers",
          pb_seed("ListContainersResponse", f_bytes(1, container("a")) + f_bytes(1, container("b"))))
    write("protobuf", "metrics",
          pb_seed("MetricsResponse",
                  f_bytes(1, f_bytes(1, timestamp(1700000000, 1)) + f_bytes(2, "c1") +
                          f_bytes(3, any_("io.containerd.cgroups.v2.Metrics", v2_metrics())))))
    write("protobuf", "v2_metrics", pb_seed("CgroupsV2Metrics", v2_metrics()))
    write("protobuf", "wait", pb_seed("WaitResponse", f_varint(1, 3) +
                                      f_bytes(2, timestamp(1700000002, 7))))
    write("protobuf", "task_exit", pb_seed("TaskExit", task_exit("c1", 4242, 3)))
    write("protobuf", "exec_started", pb_seed("TaskExecStarted",
                                              f_bytes(1, "c1") + f_bytes(2, "e1") + f_varint(3, 7)))
    for name in ("rec_exit_3", "rec_task_create", "rec_exec_added", "rec_oom", "rec_task_delete"):
        write("protobuf", "envelope_" + name[4:], pb_seed("Envelope", rec[name]))

    # h2: [options] the server's bytes
    write("h2", "unary_answer",
          bytes([0]) + SERVER_PREFACE + server_answer(1, grpc_frame(get_resp)))
    write("h2", "unary_error_trailers_only",
          bytes([0]) + SERVER_PREFACE +
          h2_frame(HEADERS, END_HEADERS | END_STREAM, 1,
                   hpack([(":status", "200"), ("content-type", "application/grpc"),
                          ("grpc-status", "5"), ("grpc-message", "task%20c1%20not%20found")])))
    events = b"".join(grpc_frame(rec[n]) for n in
                      ("rec_task_create", "rec_task_start", "rec_exit_3", "rec_task_delete"))
    stream3 = (h2_frame(HEADERS, END_HEADERS, 3,
                        hpack([(":status", "200"), ("content-type", "application/grpc")])) +
               b"".join(h2_frame(DATA, 0, 3, events[i:i + 50]) for i in range(0, len(events), 50)))
    write("h2", "stream_events_then_close",
          bytes([OPT_STREAM]) + SERVER_PREFACE + stream3 +
          server_answer(1, grpc_frame(exited), chunk=7))
    write("h2", "ping_rst_goaway",
          bytes([OPT_STREAM | OPT_LINGER]) + SERVER_PREFACE +
          h2_frame(PING, 0, 0, b"12345678") +
          h2_frame(RST_STREAM, 0, 3, struct.pack(">I", 2)) +
          h2_frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0) + b"shutting down"))
    write("h2", "client_stream_hangup",
          bytes([OPT_CLIENT_STREAM | OPT_LINGER | OPT_HANGUP]) + SERVER_PREFACE +
          server_answer(1, grpc_frame(get_resp)))
    write("h2", "deadline_while_streaming",
          bytes([OPT_DEADLINE | OPT_STREAM | OPT_LINGER]) + SERVER_PREFACE + stream3 +
          h2_frame(HEADERS, END_HEADERS, 1,
                   hpack([(":status", "200"), ("content-type", "application/grpc")])) +
          h2_frame(DATA, 0, 1, grpc_frame(get_resp)[:9]))
    write("h2", "linger_cancel",
          bytes([OPT_STREAM | OPT_LINGER | OPT_CANCEL | OPT_STRICT]) + SERVER_PREFACE + stream3)


if __name__ == "__main__":
    main()
