#!/usr/bin/env python3
"""A receiving SMTP server for the tests (aiosmtpd): STARTTLS on one port, implicit TLS on another,
AUTH PLAIN/LOGIN with one user, and each message's exact DATA bytes written to a file of its own
in --dir (written to a temporary name, then renamed, so a reader never sees half a message).
Prints "ready" once both ports listen; stops on SIGTERM/SIGINT."""

import argparse
import os
import signal
import ssl
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        name = uuid.uuid4().hex
        tmp = os.path.join(self.folder, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(os.path.join(self.folder, name + ".rcpt"), "w") as f:
            f.write("\n".join(envelope.rcpt_tos))
        os.rename(tmp, os.path.join(self.folder, name + ".eml"))
        return "250 OK stored"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok)
    return check


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--starttls-port", type=int, required=True)
    p.add_argument("--tls-port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    auth = authenticator(a.user, a.password)
    common = dict(hostname="127.0.0.1", authenticator=auth, auth_required=True)
    starttls = Controller(Sink(a.dir), port=a.starttls_port, tls_context=ctx,
                          require_starttls=True, **common)
    implicit = Controller(Sink(a.dir), port=a.tls_port, ssl_context=ctx,
                          auth_require_tls=False, **common)
    starttls.start()
    implicit.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    starttls.stop()
    implicit.stop()


if __name__ == "__main__":
    main()
