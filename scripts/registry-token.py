#!/usr/bin/python3
"""The test suite's Bearer token server for docker-registry (distribution 2.8).

Python's standard library only. It serves HTTPS on 127.0.0.1:PORT/token and
answers the two ways clients ask for a token:

  GET  /token?service=S&scope=repository:NAME:pull,push   Authorization: Basic
  POST /token   form: grant_type=password&username=U&password=P&service=S&scope=...

With --refuse-get, GET gets 405 (a server that only does OAuth2 POST).
Wrong or missing credentials get 401 (so a client without them fails), an
unknown grant_type 400, a service other than ours 400. A valid user is granted
every action asked for. The token is a JWT signed RS256 by `openssl dgst
-sha256 -sign` (the standard library has no RSA); its header carries the
signing certificate in "x5c", which the registry checks against
auth.token.rootcertbundle (the same self-signed certificate). Claims: iss,
sub, aud, exp, nbf, iat, jti and access, the set distribution's token
verifier reads.

Every request is logged on stderr as one line: METHOD /token user=U scopes=S -> STATUS.

  registry-token.py --port P --tls-cert C --tls-key K --sign-cert C2 --sign-key K2
                    --issuer I --service S --user U --password PW
"""

import argparse
import base64
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import time
import urllib.parse

LIFETIME = 300


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def parse_scope(scope):
    """repository:lcctl/busybox:pull,push -> {type, name, actions}."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name:
        return None
    return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]}


class Signer:
    def __init__(self, cert_file, key_file):
        with open(cert_file) as f:
            pem = f.read()
        body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
        # x5c: standard base64 DER certificates, leaf first.
        self.x5c = [body]
        self.key_file = key_file

    def token(self, claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        signing_input = b64url(json.dumps(header).encode()) + b"." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key_file],
                             input=signing_input, stdout=subprocess.PIPE, check=True).stdout
        return (signing_input + b"." + b64url(sig)).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lcctl-token/1"

    def log_message(self, fmt, *args):
        pass  # one line per request is written by reply()

    def reply(self, status, body, who="-", scopes=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="lcctl-token"')
        # Logged before the body goes out: a client that has its answer may
        # end, and a test read this log, before a later write would be done.
        sys.stderr.write("%s %s user=%s scopes=%s -> %d\n" % (
            self.command, self.path.split("?")[0], who, ",".join(scopes) or "-", status))
        sys.stderr.flush()
        self.end_headers()
        self.wfile.write(data)

    def basic_credentials(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None, None
        try:
            user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        return user, password

    def issue(self, user, password, service, scopes, oauth):
        cfg = self.server.cfg
        if user is None:
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "credentials required"}]})
        if user != cfg.user or password != cfg.password:
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}, user)
        if service != cfg.service:
            return self.reply(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]}, user)
        access = [a for a in (parse_scope(s) for s in scopes) if a]
        now = int(time.time())
        claims = {"iss": cfg.issuer, "sub": user, "aud": cfg.service, "exp": now + LIFETIME,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(16), "access": access}
        token = self.server.signer.token(claims)
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        body = {"access_token": token, "expires_in": LIFETIME, "issued_at": issued}
        if not oauth:
            body["token"] = token
        self.reply(200, body, user, scopes)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
        if self.server.cfg.refuse_get:
            return self.reply(405, {"errors": [{"code": "UNSUPPORTED", "message": "use POST"}]})
        q = urllib.parse.parse_qs(url.query)
        user, password = self.basic_credentials()
        self.issue(user, password, q.get("service", [""])[0], q.get("scope", []), False)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
        if form.get("grant_type", [""])[0] != "password":
            return self.reply(400, {"error": "unsupported_grant_type"})
        scopes = [s for v in form.get("scope", []) for s in v.split(" ") if s]
        self.issue(form.get("username", [None])[0], form.get("password", [""])[0],
                   form.get("service", [""])[0], scopes, True)


class TLSServer(http.server.ThreadingHTTPServer):
    """Handshakes in each connection's own thread, so one silent client
    cannot hold up the others."""

    daemon_threads = True

    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            request = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ValueError):
            request.close()
            return
        try:
            super().finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


def main():
    p = argparse.ArgumentParser(description="Bearer token server for the lcctl test registry")
    for opt in ["port", "tls-cert", "tls-key", "sign-cert", "sign-key", "issuer", "service",
                "user", "password"]:
        p.add_argument("--" + opt, required=True)
    p.add_argument("--refuse-get", action="store_true", help="answer GET with 405 (POST only)")
    cfg = p.parse_args()
    server = TLSServer(("127.0.0.1", int(cfg.port)), Handler)
    server.cfg = cfg
    server.signer = Signer(cfg.sign_cert, cfg.sign_key)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
    server.ctx = ctx
    sys.stderr.write("token server on https://127.0.0.1:%s/token pid %d\n" % (cfg.port, os.getpid()))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
