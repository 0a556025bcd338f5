#!/usr/bin/python3
"""A misbehaving front for the suite's plain registry, for review.bats.

Two listening ports on 127.0.0.1: FRONT plays the registry (it proxies to the
upstream plain registry), ELSEWHERE is another origin (same host, other port)
that also proxies to upstream and logs, one line a request,
"METHOD PATH auth=yes|no" to --log: whether an Authorization header came.

  fake-registry.py --ports FILE --upstream HOST:PORT --log FILE [options]

FILE receives "FRONT ELSEWHERE" once both listen. Options:
  --basic USER:PASS   FRONT demands Basic credentials (401 otherwise)
  --uploads-elsewhere upload Locations FRONT hands out point at ELSEWHERE
  --blobs-elsewhere   FRONT answers blob GETs with 307 to ELSEWHERE
  --elsewhere-challenges  ELSEWHERE answers blob GETs with a 401 Bearer
                      challenge of its own (realm: its /token, which gives one)
  --trickle-manifests FRONT sends manifest bodies one byte a second
  --token-server MODE FRONT demands a Bearer token whose realm is ELSEWHERE's
                      /token, which trickles (MODE trickle) or answers 503

Python's standard library only.
"""

import argparse
import base64
import http.client
import http.server
import sys
import threading
import time

HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}
ARGS = None
PORTS = {}
LOG_LOCK = threading.Lock()


def log(line):
    with LOG_LOCK, open(ARGS.log, "a") as f:
        f.write(line + "\n")


class Base(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def body_in(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, status, headers=(), body=b"", trickle=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if not trickle:
            self.wfile.write(body)
            return
        for i in range(len(body)):
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            time.sleep(1)

    def proxy(self, trickle=False):
        """Forwards to upstream; upstream's Locations are turned toward
        ELSEWHERE or FRONT as the options say."""
        data = self.body_in()
        up = http.client.HTTPConnection(ARGS.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP and k.lower() != "authorization"}
        up.request(self.command, self.path, body=data if data or self.command in ("PUT", "POST", "PATCH") else None,
                   headers=headers)
        r = up.getresponse()
        body = r.read()
        out = []
        for k, v in r.getheaders():
            if k.lower() in HOP:
                continue
            if k.lower() == "location":
                v = self.relocate(v)
            out.append((k, v))
        up.close()
        self.answer(r.status, out, body, trickle)

    def relocate(self, loc):
        path = loc
        if loc.startswith("http://"):
            path = "/" + loc.split("/", 3)[3] if loc.count("/") >= 3 else "/"
        port = PORTS["elsewhere"] if self.moves_uploads() else self.server.server_port
        return "http://127.0.0.1:%d%s" % (port, path)

    def moves_uploads(self):
        return False

    def handle_any(self):
        raise NotImplementedError

    def do_GET(self):
        self.guard()

    def do_HEAD(self):
        self.guard()

    def do_POST(self):
        self.guard()

    def do_PUT(self):
        self.guard()

    def do_PATCH(self):
        self.guard()

    def guard(self):
        try:
            self.handle_any()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Front(Base):
    def moves_uploads(self):
        return ARGS.uploads_elsewhere

    def refuse(self):
        """401 with the challenge the options ask for; True when sent."""
        auth = self.headers.get("Authorization") or ""
        if ARGS.token_server:
            if auth.startswith("Bearer "):
                return False
            realm = "http://127.0.0.1:%d/token" % PORTS["elsewhere"]
            ch = 'Bearer realm="%s",service="fake"' % realm
        elif ARGS.basic:
            want = "Basic " + base64.b64encode(ARGS.basic.encode()).decode()
            if auth == want:
                return False
            ch = 'Basic realm="fake"'
        else:
            return False
        self.body_in()
        self.answer(401, [("WWW-Authenticate", ch), ("Content-Type", "application/json")],
                    b'{"errors":[{"code":"UNAUTHORIZED","message":"fake"}]}')
        return True

    def handle_any(self):
        if self.refuse():
            return
        if ARGS.blobs_elsewhere and self.command == "GET" and "/blobs/sha256:" in self.path:
            loc = "http://127.0.0.1:%d%s" % (PORTS["elsewhere"], self.path)
            self.answer(307, [("Location", loc)])
            return
        self.proxy(trickle=ARGS.trickle_manifests and "/manifests/" in self.path)


class Elsewhere(Base):
    def moves_uploads(self):
        return ARGS.uploads_elsewhere

    def handle_any(self):
        log("%s %s auth=%s" % (self.command, self.path.split("?")[0],
                               "yes" if self.headers.get("Authorization") else "no"))
        if ARGS.elsewhere_challenges and "/blobs/sha256:" in self.path:
            realm = "http://127.0.0.1:%d/token" % PORTS["elsewhere"]
            self.answer(401, [("WWW-Authenticate", 'Bearer realm="%s",service="x"' % realm)])
            return
        if self.path.startswith("/token"):
            if ARGS.elsewhere_challenges:
                self.answer(200, [("Content-Type", "application/json")], b'{"token":"t"}')
            elif ARGS.token_server == "trickle":
                self.answer(200, [("Content-Type", "application/json")],
                            b'{"token":"' + b"x" * 200 + b'"}', trickle=True)
            else:
                self.answer(503, [("Content-Type", "application/json")], b"{}")
            return
        self.proxy()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--ports", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--basic")
    p.add_argument("--uploads-elsewhere", action="store_true")
    p.add_argument("--blobs-elsewhere", action="store_true")
    p.add_argument("--elsewhere-challenges", action="store_true")
    p.add_argument("--trickle-manifests", action="store_true")
    p.add_argument("--token-server", choices=["trickle", "fail"])
    ARGS = p.parse_args()
    open(ARGS.log, "a").close()
    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    front.daemon_threads = other.daemon_threads = True
    PORTS["elsewhere"] = other.server_port
    threading.Thread(target=other.serve_forever, daemon=True).start()
    with open(ARGS.ports + ".tmp", "w") as f:
        f.write("%d %d\n" % (front.server_port, other.server_port))
    import os
    os.rename(ARGS.ports + ".tmp", ARGS.ports)
    front.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
