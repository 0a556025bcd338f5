#!/usr/bin/env python3
"""A slow HTTP proxy in front of one of the suite's plain registries, so that
a test can act in the middle of a pull (Ctrl-C, the registry going away).

    slow-proxy.py UPSTREAM_HOST:PORT PORTFILE [BYTES_PER_SEC]

Listens on 127.0.0.1 on a free port (written to PORTFILE once listening) and
forwards every request to UPSTREAM (see BIG below); blob bodies are sent in 4 KiB pieces at
about BYTES_PER_SEC (default 64 KiB/s), everything else at once."""
import http.client
import os
import http.server
import sys
import time

UPSTREAM, PORTFILE = sys.argv[1], sys.argv[2]
# With BIG_MANIFEST set, every manifest is answered with this many bytes of
# valid JSON instead (a registry of our own would refuse to store it).
BIG = int(os.environ.get("BIG_MANIFEST", "0"))
RATE = int(sys.argv[3]) if len(sys.argv) > 3 else 64 * 1024
CHUNK = 4096


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def big_manifest(self):
        body = b'{"schemaVersion":2,"pad":"' + b"a" * BIG + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self, method):
        if BIG and "/manifests/" in self.path:
            return self.big_manifest()
        conn = http.client.HTTPConnection(UPSTREAM, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request(method, self.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method == "HEAD":
            return
        slow = "/blobs/" in self.path
        for off in range(0, len(body), CHUNK if slow else max(len(body), 1)):
            self.wfile.write(body[off:off + (CHUNK if slow else len(body))])
            self.wfile.flush()
            if slow:
                time.sleep(CHUNK / RATE)

    def do_GET(self):
        self.forward("GET")

    def do_HEAD(self):
        self.forward("HEAD")

    def log_message(self, fmt, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
