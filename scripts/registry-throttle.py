#!/usr/bin/python3
"""A slow door to the plain test registry: an HTTP proxy of the suite's own.

A pull from a registry on 127.0.0.1 is over in a blink, too fast to stop the
registry in the middle of it. This proxy forwards every request to the
upstream registry (plain HTTP) unchanged and sends response bodies back at
RATE bytes a second, in small slices, so a test can stop it (scripts/registry.sh
down DIR slow) while a blob is half sent, then start it again.

Python's standard library only. Two lines per request on stderr: when the
body starts, "begin METHOD PATH -> STATUS"; when it ends,
"METHOD PATH -> STATUS BYTES_SENT/LENGTH" (and "cut" if the client went away).

  registry-throttle.py --port P --upstream 127.0.0.1:UPORT --rate BYTES_PER_SECOND
"""

import argparse
import http.client
import http.server
import sys
import time

SLICE = 16384
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lcctl-throttle/1"

    def log_message(self, fmt, *args):
        pass  # forward() writes one line per request

    def forward(self):
        cfg = self.server.cfg
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(cfg.upstream, timeout=60)
        upstream.request(self.command, self.path, body=body, headers=headers)
        resp = upstream.getresponse()
        self.send_response_only(resp.status, resp.reason)
        total = resp.getheader("Content-Length")
        for k, v in resp.getheaders():
            if k.lower() in HOP_BY_HOP:
                continue
            if k.lower() == "location":
                v = v.replace("http://" + cfg.upstream, "http://127.0.0.1:%s" % cfg.port)
            self.send_header(k, v)
        chunked = total is None and self.command != "HEAD"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif total is not None:
            self.send_header("Content-Length", total)
        self.end_headers()
        sys.stderr.write("begin %s %s -> %d\n" % (self.command, self.path, resp.status))
        sys.stderr.flush()
        sent, state = self.copy(resp, chunked, cfg.rate)
        upstream.close()
        sys.stderr.write("%s %s -> %d %d/%s%s\n" % (self.command, self.path, resp.status, sent,
                                                     total or "?", state))
        sys.stderr.flush()

    def copy(self, resp, chunked, rate):
        """Body at RATE bytes/s: each slice waits for its due time."""
        sent, start = 0, time.monotonic()
        if self.command == "HEAD":
            return 0, ""
        try:
            while True:
                data = resp.read(SLICE)
                if not data:
                    break
                due = start + (sent + len(data)) / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
                sent += len(data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return sent, " cut"
        return sent, ""

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


def main():
    p = argparse.ArgumentParser(description="throttling proxy for the lcctl test registry")
    p.add_argument("--port", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--rate", type=int, required=True)
    cfg = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(cfg.port)), Handler)
    server.daemon_threads = True
    server.cfg = cfg
    sys.stderr.write("throttle on 127.0.0.1:%s -> %s at %d B/s\n" % (cfg.port, cfg.upstream, cfg.rate))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
