#!/usr/bin/python3
"""A slow door to the plain test registry: an HTTP proxy of the suite's own.

A pull or push to a registry on 127.0.0.1 is over in a blink, too fast to
stop the registry (or interrupt the client) in the middle of it. This proxy
forwards every request to the upstream registry (plain HTTP) and sends both
bodies, the request's upstream and the response's back, at RATE bytes a
second in small slices. The suite's "slow" registry is one (scripts/registry.sh
down DIR slow stops it while a blob is half sent); tests start their own
(tests/bats/image_helpers.bash, start_slow_proxy) on a free port.

Two test modes replace the registry's answers:
  --deny-push         every upload (POST, PUT, PATCH) is answered 403 DENIED,
                      as by a registry that grants pulls only;
  --big-manifest N    every manifest is answered with N bytes of valid JSON,
                      at full speed (a registry of our own would refuse to
                      store it).
When the upstream cannot be reached or goes away during a request, the
client's connection is closed without an answer, as the registry's own
would be.

Python's standard library only. Two lines per request on stderr: when the
body starts, "begin METHOD PATH -> STATUS"; when it ends,
"METHOD PATH -> STATUS BYTES_SENT/LENGTH" (and "cut" if the client went away).

  registry-throttle.py --port P|0 [--port-file FILE] --upstream 127.0.0.1:UPORT
                       --rate BYTES_PER_SECOND [--deny-push] [--big-manifest N]

With --port 0 a free port is taken; --port-file gets the port once the proxy
listens (written whole: the file appears complete or not at all).
"""

import argparse
import http.client
import http.server
import os
import sys
import time

SLICE = 16384
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length", "expect"}
DENIED = b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'


class Pacer:
    """Paces a stream of slices at RATE bytes/s: each waits for its due time."""

    def __init__(self, rate):
        self.rate, self.sent, self.start = rate, 0, time.monotonic()

    def wait(self, n):
        delay = self.start + (self.sent + n) / self.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.sent += n


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lcctl-throttle/1"

    def log_message(self, fmt, *args):
        pass  # forward() writes one line per request

    def note(self, line):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def answer(self, status, ctype, body):
        """A whole answer of our own, at full speed."""
        self.send_response_only(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.note("%s %s -> %d (ours)" % (self.command, self.path, status))

    def forward(self):
        cfg = self.server.cfg
        upload = self.command in ("POST", "PUT", "PATCH")
        if upload and cfg.deny_push:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return self.answer(403, "application/json", DENIED)
        if cfg.big_manifest and "/manifests/" in self.path and not upload:
            body = b'{"schemaVersion":2,"pad":"' + b"a" * cfg.big_manifest + b'"}'
            return self.answer(200, "application/vnd.oci.image.manifest.v1+json", body)
        upstream = http.client.HTTPConnection(cfg.upstream, timeout=60)
        try:
            resp = self.send_upstream(upstream)
        except OSError as e:
            # the registry is gone: so is the client's connection
            self.note("%s %s -> upstream %s" % (self.command, self.path, e))
            self.close_connection = True
            upstream.close()
            return
        self.relay(resp)
        upstream.close()

    def send_upstream(self, upstream):
        """The request, its body read from the client and sent on at RATE."""
        length = int(self.headers.get("Content-Length") or 0)
        upstream.putrequest(self.command, self.path, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in HOP_BY_HOP:
                upstream.putheader(k, v)
        if length or self.command in ("POST", "PUT", "PATCH"):
            upstream.putheader("Content-Length", str(length))
        upstream.endheaders()
        pacer = Pacer(self.server.cfg.rate)
        left = length
        while left > 0:
            data = self.rfile.read(min(SLICE, left))
            if not data:
                raise ConnectionResetError("the client's body ended early")
            pacer.wait(len(data))
            upstream.send(data)
            left -= len(data)
        return upstream.getresponse()

    def relay(self, resp):
        """The upstream's answer, its body at RATE."""
        cfg = self.server.cfg
        self.send_response_only(resp.status, resp.reason)
        total = resp.getheader("Content-Length")
        for k, v in resp.getheaders():
            if k.lower() in HOP_BY_HOP:
                continue
            if k.lower() == "location":
                v = v.replace("http://" + cfg.upstream, "http://127.0.0.1:%d" % cfg.port)
            self.send_header(k, v)
        chunked = total is None and self.command != "HEAD"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif total is not None:
            self.send_header("Content-Length", total)
        self.end_headers()
        self.note("begin %s %s -> %d" % (self.command, self.path, resp.status))
        sent, state = self.copy(resp, chunked, cfg.rate)
        self.note("%s %s -> %d %d/%s%s" % (self.command, self.path, resp.status, sent,
                                           total or "?", state))

    def copy(self, resp, chunked, rate):
        """Body at RATE bytes/s."""
        if self.command == "HEAD":
            return 0, ""
        pacer = Pacer(rate)
        try:
            while True:
                data = resp.read(SLICE)
                if not data:
                    break
                pacer.wait(len(data))
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return pacer.sent, " cut"
        return pacer.sent, ""

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


def write_port(path, port):
    """The port file appears whole: written aside, then renamed."""
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description="throttling proxy for the lcctl test registry")
    p.add_argument("--port", type=int, required=True, help="0: any free port")
    p.add_argument("--port-file", help="where to write the port once listening")
    p.add_argument("--upstream", required=True)
    p.add_argument("--rate", type=int, required=True)
    p.add_argument("--deny-push", action="store_true")
    p.add_argument("--big-manifest", type=int, default=0, metavar="BYTES")
    cfg = p.parse_args()
    if cfg.rate <= 0:
        p.error("--rate must be positive")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    server.daemon_threads = True
    cfg.port = server.server_address[1]
    server.cfg = cfg
    if cfg.port_file:
        write_port(cfg.port_file, cfg.port)
    sys.stderr.write("throttle on 127.0.0.1:%d -> %s at %d B/s\n" % (cfg.port, cfg.upstream, cfg.rate))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
