"""A real TLS SIP exchange on loopback, run as a child process by the TLS tests.

Usage: python peer.py PORT KEYLOG CERT KEY VERSION [TLS1.2 CIPHER]

A child process so that ``OPENSSL_CONF`` (set by the test) can choose the TLS
1.3 cipher suite, which Python's ssl module cannot set.  The server and the
client are Python's ssl; the client writes the NSS key log
(``SSLContext.keylog_filename``).  The dialog: INVITE, 100 and 180 in one
record, a 200 OK cut across two records, ACK, BYE, 200 OK.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time

CALL_ID = "tls-dialog-1@127.0.0.1"


def message(start: str, cseq: str, body: str = "") -> bytes:
    head = (
        f"{start}\r\n"
        "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-tls-1\r\n"
        "From: <sips:alice@127.0.0.1>;tag=a1\r\n"
        "To: <sips:bob@127.0.0.1>" + (";tag=b1" if start.startswith("SIP/") else "") + "\r\n"
        f"Call-ID: {CALL_ID}\r\n"
        f"CSeq: {cseq}\r\n"
        "Contact: <sips:alice@127.0.0.1>\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n"
    )
    return head.encode() + body.encode()


SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
INVITE = message("INVITE sips:bob@127.0.0.1 SIP/2.0", "1 INVITE", SDP)
TRYING = message("SIP/2.0 100 Trying", "1 INVITE")
RINGING = message("SIP/2.0 180 Ringing", "1 INVITE")
OK_INVITE = message("SIP/2.0 200 OK", "1 INVITE", SDP)
ACK = message("ACK sips:bob@127.0.0.1 SIP/2.0", "1 ACK")
BYE = message("BYE sips:bob@127.0.0.1 SIP/2.0", "2 BYE")
OK_BYE = message("SIP/2.0 200 OK", "2 BYE")


def recv_until(s: ssl.SSLSocket, n: int) -> bytes:
    got = b""
    while len(got) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def main() -> None:
    port, keylog, cert, key, version = sys.argv[1:6]
    cipher = sys.argv[6] if len(sys.argv) > 6 else ""
    tls = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    cctx.keylog_filename = keylog
    for ctx in (sctx, cctx):
        ctx.minimum_version = ctx.maximum_version = tls
        if cipher:
            ctx.set_ciphers(cipher)
    lsock = socket.create_server(("127.0.0.1", int(port)))

    def serve() -> None:
        conn, _ = lsock.accept()
        with sctx.wrap_socket(conn, server_side=True) as s:
            recv_until(s, len(INVITE))
            s.sendall(TRYING + RINGING)  # two messages in one record
            time.sleep(0.05)
            s.sendall(OK_INVITE[:100])  # one message across two records
            time.sleep(0.05)
            s.sendall(OK_INVITE[100:])
            recv_until(s, len(ACK) + len(BYE))
            s.sendall(OK_BYE)
            time.sleep(0.1)

    t = threading.Thread(target=serve)
    t.start()
    with socket.create_connection(("127.0.0.1", int(port))) as raw, cctx.wrap_socket(raw) as c:
        c.sendall(INVITE)
        recv_until(c, len(TRYING) + len(RINGING) + len(OK_INVITE))
        c.sendall(ACK)
        time.sleep(0.05)
        c.sendall(BYE)
        recv_until(c, len(OK_BYE))
        print(c.cipher()[0], c.version())
    t.join()
    lsock.close()


if __name__ == "__main__":
    main()
